"""The benchmark's engines agree, batch equals single, and its helpers work (issue #6).
Nothing is timed: figures belong to `benchmarks/run.py`, not to assertions.

`benchmarks/run.py` answers the same evidence sets with `infer()`, pgmpy's
VariableElimination on `to_pgmpy()` and (when installed, the `[bench]` extra) pyAgrum's
LazyPropagation on the BIF export; it also puts the numpy reference engine
(tests/reference_batched.py) beside the compiled one on the queries `infer()` sends.
Here its own functions run on a few small seeded cases that the reference engines answer
quickly (all exposures and the location observed).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import run as bench  # noqa: E402
from model import infer, load_network  # noqa: E402
from model.analysis import analyse_many  # noqa: E402
from model.evidence import encode  # noqa: E402

TOL = 1e-9


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def small(net):
    evidence = bench.quick_cases(net, 3, seed=11)
    _, posteriors = bench.run_infer(net, evidence, repeat=1)
    return evidence, posteriors


def test_cases_are_seeded_and_valid(net):
    a, b = bench.cases(net, 5, seed=3), bench.cases(net, 5, seed=3)
    assert a == b and a != bench.cases(net, 5, seed=4)
    for k in (1, 4, 10):
        for ev in bench.positive_cases(net, k, 3, seed=3):
            assert sum(s == "present" for f, s in ev.items() if f in net.findings) == k
            infer(ev, network=net)  # possible evidence


def test_few_items_cases_know_five_to_seven_items(net):
    users = bench.few_items(net, 30, seed=3)
    assert users == bench.few_items(net, 30, seed=3) and users != bench.few_items(net, 30, seed=4)
    low, high = bench.FEW_ITEMS
    assert {len(u) for u in users} <= set(range(low, high + 1)) and len({len(u) for u in users}) > 1
    for user, nodes in zip(users, bench.few_cases(net, 30, seed=3)):
        assert set(bench.FEW_ALWAYS) <= set(user)
        assert nodes == dict(encode(user))
        # most findings and exposures stay unknown
        # (location and weakness_where are one item each but fix all their nodes; medications 5 more)
        assert len(nodes) <= len(net.regions) + len(net.weak_patterns) + high + 5 < (len(net.findings) + len(net.exposures)) // 2
        infer(nodes, network=net)


def test_pgmpy_agrees_with_infer(net, small):
    evidence, posteriors = small
    run = bench.run_reference("pgmpy", evidence, timeout=120, memory_gb=6)
    assert [o.status for o in run.outcomes] == ["ok"] * len(evidence), [o.detail for o in run.outcomes]
    assert bench.agreement(run, posteriors) <= TOL


def test_pyagrum_agrees_with_infer(net, small, tmp_path):
    pytest.importorskip("pyagrum")
    evidence, posteriors = small
    bif = bench.write_bif(net, tmp_path)
    run = bench.run_reference("pyagrum", evidence, timeout=120, memory_gb=6, bif_path=bif)
    assert [o.status for o in run.outcomes] == ["ok"] * len(evidence), [o.detail for o in run.outcomes]
    assert bench.agreement(run, posteriors) <= TOL


def test_reference_engine_timeout_is_recorded_not_raised(net):
    # a full-evidence case does not finish in pgmpy within a tiny bound
    evidence = bench.cases(net, 1, seed=5, missing=0.0)
    run = bench.run_reference("pgmpy", evidence, timeout=0.01, memory_gb=6)
    assert [o.status for o in run.outcomes] == ["timeout"]
    assert np.isnan(bench.agreement(run, np.zeros((1, len(net.causes)))))


def test_batch_equals_single(net):
    evidence = bench.cases(net, 6, seed=7) + bench.positive_cases(net, 8, 2, seed=7) + bench.few_cases(net, 4, seed=7)
    batch = infer(evidence, network=net)
    for i, ev in enumerate(evidence):
        one = infer(ev, network=net)
        assert np.max(np.abs(batch.causes.iloc[i].to_numpy() - one.analysis.causes)) <= TOL
        assert np.max(np.abs(batch.triage.iloc[i].to_numpy() - one.triage.to_numpy())) <= TOL
        assert batch.advice.iloc[i] == one.advice
    assert np.max(np.abs(bench.run_batch(net, evidence) - bench.run_infer(net, evidence, repeat=1)[1])) <= TOL


def test_infer_queries_are_the_queries_infer_sends(net):
    from model import engine as E

    evidence = bench.cases(net, 8, seed=9) + bench.few_cases(net, 4, seed=9)
    states = bench.states_of(net, evidence)
    q, mask, rows = bench.infer_queries(net, states)
    assert len(q) > len(states) and mask.sum() == len(states) and mask[: len(states)].all()
    assert len(rows) == len(q) - len(states) and set(rows) <= set(range(len(states)))
    total, joint, _ = E.evaluate_many(net, q, joint=mask)
    _, causes, _, _ = analyse_many(net, states)
    assert np.max(np.abs(joint[: len(states)] / total[: len(states), None] - causes)) <= TOL


def test_numpy_reference_agrees_with_compiled(net):
    evidence = bench.cases(net, 20, seed=13) + bench.cases(net, 6, seed=13, missing=0.0) + bench.few_cases(net, 6, seed=13)
    out = bench.compare_reference(net, bench.states_of(net, evidence), single=3, repeat=1)
    assert out["rows"] == len(evidence) and out["queries"] > out["rows"]
    assert out["same_possible"]
    assert out["posterior_diff"] <= TOL and out["box_diff"] <= TOL and out["total_rel_diff"] <= TOL
    assert sum(out["paths"].values()) == len(evidence)
    assert len(out["reference_case"]) == len(out["compiled_case"]) == 3
    assert out["reference_seconds"] > 0 and out["compiled_seconds"] > 0 and out["compiled_threads_seconds"] > 0
    assert not hasattr(net, "_cache") or "batched" not in getattr(net, "_cache")  # the reference's memo stays its own


def test_ratio_counts_timeouts_as_lower_bounds():
    ok = lambda s: bench.Outcome("ok", s)  # noqa: E731
    infer_seconds = np.array([1e-3, 1e-3, 1e-3])
    run = bench.EngineRun("pgmpy", [ok(1.0), ok(2.0), ok(3.0)])
    assert bench.ratio(run, infer_seconds, 10.0) == (2000.0, False)
    assert bench.ratio_figure(run, infer_seconds, 10.0, 500)[1] is True
    assert bench.ratio_figure(run, infer_seconds, 10.0, 3000)[1] is False
    bound = bench.EngineRun("pyagrum", [ok(1.0), bench.Outcome("timeout", 10.0), bench.Outcome("memory", 1.0)])
    value, is_bound = bench.ratio(bound, infer_seconds, 10.0)
    assert is_bound and value == pytest.approx(5500.0)
    assert bench.ratio_figure(bound, infer_seconds, 10.0, 100)[1] is True
    assert bench.ratio_figure(bound, infer_seconds, 10.0, 10_000)[1] is None  # a short lower bound decides nothing
    assert bench.ratio_figure(None, infer_seconds, 10.0, 100) == ("not run", None)
    nothing = bench.EngineRun("pyagrum", [bench.Outcome("memory", 1.0)])
    assert bench.ratio_figure(nothing, infer_seconds, 10.0, 100)[1] is None


def test_spec_table_is_one_markdown_table():
    figures = [
        bench.Figure("a", "< 1 ms", *bench.at_most(0.5e-3, 1e-3)),
        bench.Figure("b", "< 1 ms", *bench.at_most(2e-3, 1e-3)),
        bench.Figure("c", "< 2 s", *bench.at_most(float("nan"), 2.0, unit="s")),
        bench.Figure("d", "< 2 s", *bench.at_most(1.25, 2.0, unit="s")),
    ]
    lines = bench.spec_table(figures).splitlines()
    assert lines[0] == "| README.md figure | target | measured | met? |" and lines[1] == "|---|---|---|---|"
    assert lines[2:] == ["| a | < 1 ms | 0.5 ms | yes |", "| b | < 1 ms | 2 ms | **NO** |",
                         "| c | < 2 s | not measured | n/a |", "| d | < 2 s | 1.25 s | yes |"]


def test_cold_cache_is_a_fresh_folder(tmp_path):
    env = bench.cold_env(tmp_path)
    assert env["NUMBA_CACHE_DIR"] == str(tmp_path) and os.environ.get("NUMBA_CACHE_DIR") != str(tmp_path)
    seen = subprocess.run([sys.executable, "-c", "from numba.core import config; print(config.CACHE_DIR)"],
                          capture_output=True, text=True, check=True, env=env).stdout.strip()
    assert seen == str(tmp_path)


def test_process_helpers(tmp_path):
    assert len(bench.process_seconds([sys.executable, "-c", "pass"], 2)) == 2
    assert len(bench.process_seconds([sys.executable, "-c", "pass"], 1, warmup=False)) == 1
    [seconds] = bench.import_seconds(1)
    assert seconds > 0
    command = bench.cli_command()
    assert tuple(command[-len(bench.CLI_EXAMPLE):]) == bench.CLI_EXAMPLE
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0 and "eyelid_myokymia" in done.stdout, done.stderr


def test_single_case_helpers(net):
    evidence = bench.few_cases(net, 2, seed=17)
    assert len(bench.causes_only_seconds(net, evidence, repeat=1)) == 2
    assert len(bench.next_questions_seconds(net, evidence, repeat=1)) == 2
    assert len(bench.intervals_seconds(net, evidence[:1], 20, seed=17)) == 1


def test_batch_throughput_in_a_fresh_process():
    out = bench.batch_throughput(400, seed=19, timeout=300, workers=False)
    assert out["status"] == "ok", out
    assert out["n"] == 400 and out["rate"] > 0 and out["errors"] == 0 and out["peak"] > 0
    assert 0 <= out["ece"] <= 1 and 0 < out["urgent"] < 1
