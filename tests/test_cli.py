"""The command line: output, JSON, help, exit codes, export (SPEC §5)."""

import io
import json
import subprocess
import sys

import pytest

from model.cli import main


def run(argv, stdin=""):
    out = io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


def test_infer_prints_ranked_causes_triage_advice_and_reasons():
    code, text = run(["infer", "--location", "eyelid", "--duration", "under_1_week", "--sleep", "short"])
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "Causes, P(present | evidence):"
    assert lines[1].split()[0] == "eyelid_myokymia"
    assert any(line.startswith("Triage: self_care") for line in lines)
    assert any(line.startswith("Advice: ") for line in lines)
    assert "Top reasons:" in lines
    assert "call emergency services" in text


def test_json_has_every_cause_and_a_triage_distribution():
    code, text = run(["infer", "--location", "arm,leg", "--duration", "120", "--json"])
    assert code == 0
    data = json.loads(text)
    assert len(data["causes"]) == 25
    assert abs(sum(data["triage"].values()) - 1) < 1e-9
    assert data["evidence"]["duration"] == "over_3_months"
    assert data["advice"] in data["triage"]


def test_help_lists_every_key_with_its_states(capsys):
    with pytest.raises(SystemExit) as info:
        main(["infer", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for fragment in ("--caffeine", "low, moderate, high", "--location", "widespread", "--medications", "--age"):
        assert fragment in text


def test_bad_input_exits_2_with_one_line_and_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "model", "infer", "--location", "eyelids"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        "twitchdx: error: location: 'eyelids' is not a location; did you mean 'eyelid'? "
        "allowed: eyelid, face, tongue, arm, leg, trunk, widespread\n"
    )


def test_export_bif_is_readable_by_pgmpy(tmp_path):
    path = tmp_path / "twitch.bif"
    code, _ = run(["export", "--format", "bif", "--output", str(path)])
    assert code == 0
    text = path.read_text()
    assert "network" in text and "variable als_mnd" in text and "_any_twitch" in text


def test_export_xmlbif(tmp_path):
    path = tmp_path / "twitch.xml"
    code, _ = run(["export", "--format", "xmlbif", "--output", str(path)])
    assert code == 0
    assert "<NAME>als_mnd</NAME>" in path.read_text()


# -- a command line that explains itself (issue 17 item 5) ------------------------------


def _help(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words


def test_help_has_examples_and_says_what_each_finding_means(capsys):
    text = _help(["infer", "--help"], capsys)
    assert "examples: twitchdx infer --location eyelid --duration under_1_week --sleep short --caffeine high" in text
    assert "--bulbar VALUE slurred speech, trouble swallowing, come on over days or more [yes or no]" in text
    assert "--hand-spasm VALUE hands or feet locking into a spasm that will not let go, fingers drawn together (tetany) [yes or no]" in text
    assert "--numbness VALUE numbness, tingling, pins and needles [yes or no]" in text
    assert "--duration VALUE how long it has gone on [a number of days, or one of under_1_week," in text
    assert "--age VALUE age [a number of years (16-119), or one of under_40, 40_to_60, over_60]" in text
    top = _help(["--help"], capsys)
    assert "examples:" in top and "twitchdx export --format bif --output twitchdx.bif" in top


@pytest.mark.parametrize("argv, message", [
    (["--numbness", "maybe"], "numbness: 'maybe' is not a yes/no answer; allowed: yes, no"),
    (["--medications", "none,stimulant"], "medications: 'none' cannot be given with 'stimulant'; give none alone, or only the medicines taken"),
    (["--age", "sixty"], "age: 'sixty' is not a number of years or an age band; allowed: a number of years (16-119), under_40, 40_to_60, over_60"),
    (["--duration", "3days"], "duration: '3days' is not a number of days or a duration band; allowed: a number of days, under_1_week, 1_to_2_weeks, 2_weeks_to_3_months, over_3_months"),
    (["--age", "over60"], "age: 'over60' is not a number of years or an age band; did you mean 'over_60'? allowed: a number of years (16-119), under_40, 40_to_60, over_60"),
])
def test_bad_values_get_the_corrected_messages(argv, message, capsys):
    code = main(["infer", "--location", "arm", *argv], stdout=io.StringIO())
    assert code == 2
    assert capsys.readouterr().err == f"twitchdx: error: {message}\n"


def test_yes_and_no_are_the_words_everywhere():
    code, text = run(["infer", "--location", "arm", "--numbness", "YES", "--cramps", "no", "--json"])
    assert code == 0
    evidence = json.loads(text)["evidence"]
    assert evidence["numbness"] is True and evidence["cramps"] is False


def test_json_evidence_is_in_the_keys_the_user_typed():
    code, text = run(["infer", "--location", "arm,leg", "--duration", "20", "--medications", "none", "--sleep", "short", "--smoking", "no", "--json"])
    assert code == 0
    assert json.loads(text)["evidence"] == {
        "location": ["arm", "leg"],
        "duration": "2_weeks_to_3_months",
        "sleep": "short",
        "smoking": False,
        "medications": [],
    }


def test_a_missing_extra_gets_a_one_line_install_hint(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the sweep extra were not installed
    code = main(["sweep", "--world", "model", "--cases", "20", "--out", str(tmp_path)], stdout=io.StringIO())
    assert code == 1
    assert capsys.readouterr().err == "twitchdx: error: twitchdx sweep needs distributed, from the sweep extra: pip install 'twitchdx[sweep]'\n"
