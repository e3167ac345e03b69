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
