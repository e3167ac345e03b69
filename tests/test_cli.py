"""The command line: output, JSON, help, exit codes, export (README.md)."""

import io
import json
import subprocess
import sys

import pytest

from model.cli.main import main


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
        "twitchdx: error: --location: 'eyelids' is not a location; did you mean 'eyelid'? "
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
    (["--numbness", "maybe"], "--numbness: 'maybe' is not a yes/no answer; allowed: yes, no"),
    (["--medications", "none,stimulant"], "--medications: 'none' cannot be given with 'stimulant'; give none alone, or only the medicines taken"),
    (["--age", "sixty"], "--age: 'sixty' is not a number of years or an age band; allowed: a number of years (16-119), under_40, 40_to_60, over_60"),
    (["--duration", "3days"], "--duration: '3days' is not a number of days or a duration band; allowed: a number of days, under_1_week, 1_to_2_weeks, 2_weeks_to_3_months, over_3_months"),
    (["--age", "over60"], "--age: 'over60' is not a number of years or an age band; did you mean 'over_60'? allowed: a number of years (16-119), under_40, 40_to_60, over_60"),
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


# -- messages that name the option as typed (issue 26 item 6) ---------------------------


@pytest.mark.parametrize("argv, message", [
    (["--intervals", "-3"], "--intervals: expected a whole number of draws >= 1, got -3 (see twitchdx infer --help)"),
    (["--intervals", "many"], "--intervals: expected a whole number of draws >= 1, got many (see twitchdx infer --help)"),
    (["--seed", "1.5"], "--seed: expected a whole number, got 1.5 (see twitchdx infer --help)"),
    # the range as --help states it: "a number of years (16-119), or one of ..."
    (["--age", "-5"], "--age: -5 is not an age the model takes: a number of years (16-119), or one of under_40, 40_to_60, over_60"),
    (["--age", "120"], "--age: 120 is not an age the model takes: a number of years (16-119), or one of under_40, 40_to_60, over_60"),
    (["--age", "1e999"], "--age: 1e999 is not an age the model takes: a number of years (16-119), or one of under_40, 40_to_60, over_60"),
    (["--duration", "-5"], "--duration: -5 days is negative"),
    (["--weakness", "none", "--weakness-where", "one_limb"],
     "--weakness-where: names 'one_limb', but weakness is none; weakness_where says where the weakness is: give weakness mild or marked, or leave weakness_where out"),
    # a repeated option with two answers: which one is meant cannot be guessed
    (["--sleep", "short", "--sleep", "adequate"], "--sleep: given twice (short, then adequate); give it once"),
    (["--sleep", "short", "--sleep", "adequate", "--sleep", "short"], "--sleep: given 3 times (short, then adequate); give it once"),
    # a typo: the nearest option
    (["--caffine", "high"], "--caffine is not an option of twitchdx infer; did you mean --caffeine? (see twitchdx infer --help)"),
    (["--weakness_where", "one_limb"], "--weakness_where is not an option of twitchdx infer; did you mean --weakness-where? (see twitchdx infer --help)"),
    (["--zzz", "1"], "--zzz is not an option of twitchdx infer (see twitchdx infer --help)"),
    (["leg"], "unexpected argument 'leg': every option takes one value (a list is comma-separated: --location arm,leg) (see twitchdx infer --help)"),
])
def test_messages_name_the_option_as_typed(argv, message, capsys):
    code = main(["infer", "--location", "arm", *argv], stdout=io.StringIO())
    assert code == 2
    assert capsys.readouterr().err == f"twitchdx: error: {message}\n"


def test_the_age_range_in_messages_is_the_one_help_states(capsys):
    text = _help(["infer", "--help"], capsys)
    assert "--age VALUE age [a number of years (16-119), or one of under_40, 40_to_60, over_60]" in text
    assert main(["infer", "--location", "arm", "--age", "119.5"], stdout=io.StringIO()) == 0  # under 120
    assert main(["infer", "--location", "arm", "--age", "15"], stdout=io.StringIO()) == 2
    assert "(16-119), or one of under_40, 40_to_60, over_60" in capsys.readouterr().err


def test_the_same_answer_twice_is_taken_without_a_word(capsys):
    once, twice = io.StringIO(), io.StringIO()
    assert main(["infer", "--location", "arm", "--sleep", "short", "--json"], stdout=once) == 0
    assert main(["infer", "--location", "arm", "--sleep", "short", "--sleep", "short", "--json"], stdout=twice) == 0
    assert once.getvalue() == twice.getvalue()
    assert capsys.readouterr().err == ""


def test_a_repeated_option_is_an_error_in_every_command(capsys):
    assert main(["export", "--format", "bif", "--format", "xmlbif", "--output", "x"], stdout=io.StringIO()) == 2
    assert capsys.readouterr().err == "twitchdx: error: --format: given twice (bif, then xmlbif); give it once\n"


def test_a_misspelt_command_gets_the_nearest(capsys):
    assert main(["infr", "--location", "arm"], stdout=io.StringIO()) == 2
    assert capsys.readouterr().err == (
        "twitchdx: error: 'infr' is not a command of twitchdx; did you mean infer? "
        "(commands: infer, ask, export, validate, sweep, fit) (see twitchdx --help)\n"
    )
    assert main(["export", "--format", "bfi", "--output", "x"], stdout=io.StringIO()) == 2
    assert capsys.readouterr().err == "twitchdx: error: --format: 'bfi' is not one of bif, xmlbif; did you mean bif? (see twitchdx export --help)\n"


def test_a_typo_as_a_process_gets_the_nearest_option():
    proc = subprocess.run([sys.executable, "-m", "model", "infer", "--location", "arm", "--caffine", "high"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1] == (
        "twitchdx: error: --caffine is not an option of twitchdx infer; did you mean --caffeine? (see twitchdx infer --help)"
    )
