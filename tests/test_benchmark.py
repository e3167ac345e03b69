"""The benchmark runs end to end and its parts do what the tables say (issues 24, 27).

Nothing here is timed: figures belong to `python benchmarks/run.py`, not to assertions.
The end-to-end run uses the command's small mode on tiny sizes; the reference engines
answer a few cases that they answer quickly (every exposure and the location observed).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import cases as C
from benchmarks import cli, engines, report, single
from benchmarks.questions import interview, reply
from benchmarks.targets import TARGETS, Bound, Target
from model import Interview, infer, load_network
from model.network.evidence import encode

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-9
# Every family at its smallest; the reference engines, the cold compile and pyAgrum left out.
SMALL = ["--small", "--single-cases", "3", "--question-cases", "1", "--interviews", "1", "--growth-cases", "1",
         "--reference-rows", "12", "--batch", "300", "--runs", "1", "--cold-runs", "0", "--skip", "engines"]


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "run.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *SMALL, "--json", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    return done, path


@pytest.mark.full
def test_small_run_prints_the_table_and_saves_every_target(small_run):
    done, path = small_run
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(path.read_text())
    assert [t["what"] for t in results["targets"]] == [t.what for t in TARGETS]
    assert {t["figure"] for t in results["targets"]} == {t.figure for t in TARGETS}
    this = results["sides"]["this"]
    assert not this["errors"], this["errors"]
    figures = this["figures"]
    for row in single.ROWS:  # every single-case row with its tails
        assert {f"single.{row}.infer.{k}" for k in ("p50", "p90", "p99", "max")} <= set(figures)
        worst = this["details"]["single"][row]["worst"]
        infer(worst["evidence"])  # the slowest case is printed as evidence that runs again
    for key in ("questions.multi.p99", "interview.next.max", "batch.300.rate", "batch.300.rate_2", "batch.300.peak",
                "batch.300.peak_2", "process.cli.warm.p50", "numpy_reference.mix.max_diff", "intervals.20.p50"):
        assert key in figures, key
    batch = this["details"]["batches"]["300"]
    assert batch["status"] == "ok" and batch["n"] == 300 and batch["errors"] == 0 and 0 < batch["urgent"] < 1
    assert figures["single.batch_vs_single.max_diff"] <= TOL and figures["numpy_reference.full.max_diff"] <= TOL
    # the printed table: one row a target, as saved; the report saved beside the JSON
    lines = done.stdout.splitlines()
    for t in TARGETS:
        assert sum(line.startswith(f"| {t.what} | {t.bound.text} |") for line in lines) == 1, t.what
    assert path.with_suffix(".md").read_text().strip() == done.stdout.strip()


@pytest.mark.full
def test_compare_prints_two_saved_runs_side_by_side(small_run, capsys):
    _, path = small_run
    assert cli.main(["--compare", str(path), str(path)]) == 0
    out = capsys.readouterr().out
    assert "| figure | target | after | met? | before | met? | gain |" in out
    row = next(line for line in out.splitlines() if line.startswith(f"| {TARGETS[1].what} |"))
    assert row.endswith("| 1x |")  # the same run on both sides
    assert "|  | gain |" in out


@pytest.mark.full
def test_against_runs_each_checkout_in_its_own_process(tmp_path):
    path = tmp_path / "two.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *SMALL, "--only", "single",
                           "--against", str(ROOT), "--json", str(path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    sides = json.loads(path.read_text())["sides"]
    assert list(sides) == ["this", "against"]
    assert all(Path(s["model"]) == ROOT / "model" for s in sides.values())
    a, b = (s["details"]["single"]["few"]["posteriors"] for s in sides.values())
    assert np.array_equal(a, b)  # the same cases on both sides
    assert "| figure | target | this | met? | against | met? | gain |" in done.stdout
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--against", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode != 0 and f"--against: {tmp_path} is not a checkout" in bad.stderr


def test_bounds_print_and_check_from_one_value():
    assert Bound("<", 0.3, "ms").text == "< 0.3 ms" and Bound(">=", 500, "x").text == ">= 500x"
    assert Bound("<", 0.3, "ms").met(0.29e-3) and not Bound("<", 0.3, "ms").met(0.3e-3)
    assert Bound(">=", 100_000, "cases/s").show(12_345.6) == "12,346 cases/s"
    with pytest.raises(ValueError, match="unit: 'us' is not one of"):
        Bound("<", 1, "us")
    t = Target("ratio", "r", Bound(">=", 500, "x"), "r_bound")
    assert t.check({"r": 600.0}) == ("600x", True) and t.check({"r": 400.0}) == ("400x", False)
    assert t.check({"r": 400.0, "r_bound": 1.0}) == (">= 400x", None)  # a short lower bound decides nothing
    assert t.check({}) == ("not run", None) and t.check({"r": math.nan}) == ("not run", None)
    assert len({t.figure for t in TARGETS}) == len(TARGETS)


def test_gain_says_which_side_is_better():
    assert report.gain(1e-3, 2e-3, report.TIME) == "2x"      # this one takes half the time
    assert report.gain(2e4, 1e4, report.RATE) == "2x"        # this one answers twice the cases
    assert report.gain(None, 1.0, report.TIME) == "-" and report.gain(1.0, 1.0, report.BYTES) == ""


def test_case_sets_are_seeded_and_what_they_say(net):
    assert C.mix(net, 5, seed=3) == C.mix(net, 5, seed=3) != C.mix(net, 5, seed=4)
    for k in (1, 4, 10):
        for ev in C.positives(net, k, 3, seed=3):
            assert sum(s == "present" for f, s in ev.items() if f in net.findings) == k
    users = C.few_items(net, 30, seed=3)
    assert users == C.few_items(net, 30, seed=3) != C.few_items(net, 30, seed=4)
    low, high = C.FEW_ITEMS
    assert {len(u) for u in users} <= set(range(low, high + 1)) and len({len(u) for u in users}) > 1
    assert all(set(C.FEW_ALWAYS) <= set(u) for u in users)
    assert C.unknown(net, C.full(net, 3, seed=3)) == [{k: v for k, v in e.items() if k not in net.exposures}
                                                      for e in C.full(net, 3, seed=3)]


def test_several_regions_set_types_regions_and_a_few_positives(net):
    people = C.multi(net, 30, seed=5)
    assert people == C.multi(net, 30, seed=5) != C.multi(net, 30, seed=6)
    counts = [len(C.regions_of(p["location"])) for p in people]
    assert sorted(counts) == sorted(C.MULTI_REGIONS * 10) and counts[:3] == list(C.MULTI_REGIONS)
    for p in people:
        positives = [k for k, v in p.items() if C.is_positive(net, k, v)]
        assert set(p) == {"location", "duration", *positives}
        assert C.MULTI_POSITIVES[0] <= len(positives) <= C.MULTI_POSITIVES[1]
        encode(p)


def test_interview_answers_from_the_row(net):
    [person] = C.interviews(net, 1, seed=7)
    assert set(person["start"]) < set(person["answers"])
    run = interview(net, person["start"], person["answers"])
    assert len(run["seconds"]) == len(run["asked"]) + 1 and run["ranked"][-1]
    assert run["asked"][0] == "red_flags" and not run["ranked"][0]
    iv = Interview({"location": "eyelid"}, network=net)
    screen = iv.next_question()
    no_flags = {f: False for f in screen.nodes}
    assert reply(screen, no_flags) == "no" and reply(screen, dict(list(no_flags.items())[:2])) is None
    assert reply(screen, {**no_flags, "breathing": True}) == "yes"
    assert reply(iv.question("red_flag_which"), {**no_flags, "breathing": True}) == ["breathing"]


@pytest.mark.slow
def test_reference_engines_agree_with_infer(net, tmp_path):
    evidence = C.quick(net, 3, seed=11)
    timed = single.time_infer(net, evidence, 1, list(net.causes))
    post = np.array(timed["posteriors"])
    names = ["pgmpy"] + (["pyagrum"] if engines.installed("pyagrum") else [])
    bif = engines.write_bif(net, tmp_path)
    for name in names:
        run = engines.run_reference(name, evidence, timeout=120, memory_gb=6, bif_path=bif)
        assert [o.status for o in run.outcomes] == ["ok"] * len(evidence), [o.detail for o in run.outcomes]
        assert engines.agreement(run, post) <= TOL
        again = engines.from_json(json.loads(json.dumps(engines.as_json(run))))
        figures = engines.figures({f"{name}.mix": engines.as_json(again)},
                                  {"mix": {"seconds": timed["seconds"], "posteriors": timed["posteriors"]}}, 120)
        assert figures["engines.max_diff"] <= TOL and figures[f"engines.{name}.mix.ratio"] > 0


def test_reference_engine_timeout_is_recorded_not_raised(net):
    run = engines.run_reference("pgmpy", C.full(net, 1, seed=5), timeout=0.01, memory_gb=6)
    assert [o.status for o in run.outcomes] == ["timeout"]
    assert np.isnan(engines.agreement(run, np.zeros((1, len(net.causes)))))


def test_ratio_counts_timeouts_as_lower_bounds():
    ok = lambda s: engines.Outcome("ok", s)  # noqa: E731
    infer_seconds = np.array([1e-3, 1e-3, 1e-3])
    assert engines.ratio(engines.EngineRun("pgmpy", [ok(1.0), ok(2.0), ok(3.0)]), infer_seconds, 10.0) == (2000.0, False)
    bound = engines.EngineRun("pyagrum", [ok(1.0), engines.Outcome("timeout", 10.0), engines.Outcome("memory", 1.0)])
    value, is_bound = engines.ratio(bound, infer_seconds, 10.0)
    assert is_bound and value == pytest.approx(5500.0)

