"""The benchmark's engines agree, and batch equals single (issue #6). Nothing is timed.

`benchmarks/run.py` answers the same evidence sets with `infer()`, pgmpy's
VariableElimination on `to_pgmpy()` and (when installed, the `[bench]` extra) pyAgrum's
LazyPropagation on the BIF export. Here its own functions run on a few small seeded cases
that the reference engines answer quickly (all exposures and the location observed).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import run as bench  # noqa: E402
from model import infer, load_network  # noqa: E402

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
    # a full-evidence case does not finish in pyAgrum/pgmpy within a tiny bound
    evidence = bench.cases(net, 1, seed=5, missing=0.0)
    run = bench.run_reference("pgmpy", evidence, timeout=0.01, memory_gb=6)
    assert [o.status for o in run.outcomes] == ["timeout"]
    assert np.isnan(bench.agreement(run, np.zeros((1, len(net.causes)))))


def test_batch_equals_single(net):
    evidence = bench.cases(net, 6, seed=7) + bench.positive_cases(net, 8, 2, seed=7)
    batch = infer(evidence, network=net)
    for i, ev in enumerate(evidence):
        one = infer(ev, network=net)
        assert np.max(np.abs(batch.causes.iloc[i].to_numpy() - one.analysis.causes)) <= TOL
        assert np.max(np.abs(batch.triage.iloc[i].to_numpy() - one.triage.to_numpy())) <= TOL
        assert batch.advice.iloc[i] == one.advice
    assert np.max(np.abs(bench.run_batch(net, evidence) - bench.run_infer(net, evidence, repeat=1)[1])) <= TOL
