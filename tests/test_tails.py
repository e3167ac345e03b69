"""The bounded tails (issue 24): the engine's faster coverage passes give the answers of
the engine before them, on 1,000 bundled cases that include the benchmark's worst.

The reference answers are saved in `tests/data/tails_reference.npz`, computed by the
engine at the commit before the change (`tests/data/make_tails_reference.py` says how):
every case's own query (P(query) and the joint of every cause) and its triage boxes
(P(query)), for the growth sets up to 10 positive findings with the exposures as sampled
and with every exposure unknown, the several-regions and 5-7-items sets, full evidence
with every exposure unknown, and the default mix.

Tolerances: P(query) to 1e-12 relative; each joint to 1e-12 of its row's P(query) (the
posterior to 1e-12). A joint far below its row's P(query) is not held to 1e-12 of
itself: both engines sum it with the same signed terms, whose rounding is bounded
relative to P(query) (kappa x (causes + positives) x 2.2e-16 of it: docs/engine.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model import load_network
from model.inference import kernels as K
from model.inference.engine import PATHS, Queries, evaluate_many

DATA = Path(__file__).parent / "data" / "tails_reference.npz"
TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def reference():
    d = np.load(DATA)
    return {k: d[k] for k in d.files}


def queries(ref, rows=slice(None)) -> Queries:
    as64 = lambda a: np.ascontiguousarray(a[rows], dtype=np.int64)  # noqa: E731
    return Queries(as64(ref["lo"]), as64(ref["hi"]), as64(ref["exposure"]), np.ascontiguousarray(ref["absent"][rows]))


def errors(ref, total, joint, rows=slice(None)):
    """Largest relative error of P(query), and of the joints relative to P(query)."""
    want = ref["total"][rows]
    ok = want > 0
    assert np.array_equal(total == 0, want == 0), "a query's possibility changed"
    e_total = float(np.max(np.abs(total[ok] - want[ok]) / want[ok], initial=0.0))
    own = ref["own"][rows]
    joint_want = ref["joint"][np.cumsum(ref["own"])[rows][own] - 1]
    scale = want[own][:, None]
    e_joint = float(np.max(np.abs(joint[own] - joint_want) / np.where(scale > 0, scale, 1.0), initial=0.0))
    return e_total, e_joint


def test_fixture_covers_the_tails(reference):
    """The saved set holds 1,000 cases, up to 10 positives with every exposure unknown."""
    assert reference["case"].max() + 1 == 1000
    positives = (reference["lo"] > 0).sum(axis=1)
    unknown = (reference["exposure"] < 0).all(axis=1)
    assert positives[unknown].max() >= 10
    assert {"multi", "few", "unknown"} <= set(reference["set_names"].tolist())


def test_agrees_with_the_engine_before(net, reference):
    """Every query of the 1,000 cases: P(query) and the joints to 1e-12."""
    q = queries(reference)
    total, joint, path = evaluate_many(net, q, joint=np.ascontiguousarray(reference["own"]))
    e_total, e_joint = errors(reference, total, joint)
    assert e_total <= TOLERANCE, e_total
    assert e_joint <= TOLERANCE, e_joint
    # the sets reach every path of the kernel, the mixed one with large coverage states
    assert {PATHS[p] for p in np.unique(path)} >= {"telescoped", "mixed", "coverage"}


def test_threads_do_not_change_the_tails(net, reference):
    """The heaviest cases answered on one thread and on two: the same numbers, exactly."""
    heavy = np.flatnonzero((reference["lo"] > 0).sum(axis=1) >= 8)
    q = queries(reference, heavy)
    own = np.ascontiguousarray(reference["own"][heavy])
    one = evaluate_many(net, q, joint=own, threads=False)
    two = evaluate_many(net, q, joint=own, threads=2)
    assert np.array_equal(one[0], two[0])
    assert np.array_equal(one[1], two[1])


@pytest.mark.full
def test_coverage_recursion_agrees_on_the_worst(net, reference):
    """The pure coverage recursion (r = m: no signed term, no subtraction; `bound` below
    1 forces it) on the cases with the most positives agrees with the saved answers."""
    positives = (reference["lo"] > 0).sum(axis=1)
    cases = np.unique(reference["case"][positives >= 9])[:12]
    rows = np.flatnonzero(np.isin(reference["case"], cases))
    q = queries(reference, rows)
    total, joint, path = evaluate_many(net, q, joint=np.ascontiguousarray(reference["own"][rows]), bound=0.5)
    assert set(np.unique(path)) <= {0, 3}  # coverage (or impossible)
    e_total, e_joint = errors(reference, total, joint, rows)
    assert e_total <= TOLERANCE, e_total
    assert e_joint <= TOLERANCE, e_joint


def test_moved_bits_partition_the_state():
    """`_moved_bits`: for each cause, its bits' subsets (inner) and the other bits'
    states (outer) add up to every coverage state exactly once."""
    rng = np.random.default_rng(3)
    r, n_col = 4, 7
    U = np.ones((r, n_col))
    L = np.ones((r, n_col))
    A = np.zeros((r, n_col))
    moved = rng.random((r, n_col)) < 0.5
    L[moved] = 0.3
    A[moved] = 0.6
    cs = np.array([0, 2, 3, 5, 7])
    steps = K._moved_bits(r, np.arange(r), K.Columns(np.ones(n_col), cs, U, L, A), 1)
    for c in range(len(cs) - 1):
        s = steps.n_mv[c]
        expect = [jj for jj in range(r) if moved[jj, cs[c]:cs[c + 1]].any()]
        assert list(steps.mv[c, :s]) == expect
        states = sorted(int(o + i) for o in steps.outer[c, : 1 << (r - s)] for i in steps.inner[c, : 1 << s])
        assert states == list(range(1 << r))
