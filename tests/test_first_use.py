"""First use (issue 24, item 4): the engine is two compiled kernels, so that the first use
after install compiles only what most queries need. `kernels.evaluate_rows` answers
every row but those whose joints need `_sweep_r`, which it defers (path DEFERRED, with
the r its ladder reached) to `kernels.evaluate_rare_rows`, compiled on their first need.
Splitting the rows so changes no digit, and the kernels are called with one set of
argument types (each other set would compile them again).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numba
import numpy as np
import pytest

from model import load_network
from model.inference import engine as E
from model.inference import kernels as K

DATA = Path(__file__).parent / "data" / "tails_reference.npz"


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def tails():
    """Every 5th query of the tails' fixture (up to 10 positives, exposures unknown or
    not), joints wanted on each case's own query."""
    d = np.load(DATA)
    take = slice(None, None, 5)
    as64 = lambda a: np.ascontiguousarray(d[a][take], dtype=np.int64)  # noqa: E731
    q = E.Queries(as64("lo"), as64("hi"), as64("exposure"), np.ascontiguousarray(d["absent"][take]))
    return q, np.ascontiguousarray(d["own"][take])


def _call(kernel, net, q, want, r=None):
    """`kernel` on every row of `q` (on this thread), each starting at `r` (default 0)."""
    n_q = len(q)
    out = K.Answers(np.zeros(n_q), np.zeros((n_q, len(net.causes))), np.zeros(n_q, dtype=np.int8),
                    np.zeros(n_q, dtype=np.int64) if r is None else r.copy())
    rows = K.Rows(q.lo, q.hi, q.exposure, q.absent, q.draw, want)
    kernel(*rows, *E.network_tables(net).kernel_tables(), E.CANCELLATION_BOUND, *out)
    return out


def test_the_rare_kernel_takes_the_fields_of_the_first():
    """The engine passes both kernels `*rows, *tables, bound, *answers`."""
    assert (list(inspect.signature(K.evaluate_rare_rows.py_func).parameters)
            == list(inspect.signature(K.evaluate_rows.py_func).parameters))


def test_deferred_rows_get_the_digits_of_one_kernel(net, tails):
    """The second kernel alone, every row from the start, runs the whole ladder (the
    estimate, every pass, the joints) as the one kernel before the split did: the two
    kernels together give exactly its answers, and the first defers only some rows."""
    q, want = tails
    first = _call(K.evaluate_rows, net, q, want)
    deferred = first.path == K.DEFERRED
    assert 0 < deferred.sum() < len(q)
    assert (want[deferred]).all()  # rows without joints never need the second kernel
    whole = _call(K.evaluate_rare_rows, net, q, want)
    total, joint, path = E.evaluate_many(net, q, joint=want, threads=1)
    assert np.array_equal(total, whole.total)
    assert np.array_equal(joint, whole.joint)
    assert np.array_equal(path, whole.path)
    # ... and resuming a deferred row at the r its ladder reached is what `evaluate_many` does
    resumed = _call(K.evaluate_rare_rows, net, q.take(np.flatnonzero(deferred)), want[deferred], first.r[deferred])
    assert np.array_equal(resumed.total, whole.total[deferred])
    assert not (path == K.DEFERRED).any()


def test_rows_without_joints_stay_in_the_first_kernel(net, tails):
    """`_sweep_r` without its joints is in the first kernel: a call that wants no joints
    (a case's triage boxes, the estimate of many positives) never needs the second."""
    q, _ = tails
    first = _call(K.evaluate_rows, net, q, np.zeros(len(q), dtype=bool))
    assert not (first.path == K.DEFERRED).any()
    assert (first.r >= 2).any()


def test_one_row_and_many_call_the_kernel_with_the_same_types(net, monkeypatch):
    """A single row with `joint=True` (np.broadcast_to: a read-only array, another type to
    Numba) is passed as a writable copy: one compiled kernel serves both calls."""
    seen = []
    monkeypatch.setattr(E, "_run", lambda kernel, args: seen.append(tuple(numba.typeof(a) for a in args)))
    one = E.query_rows(net, E.Query())
    E.evaluate_many(net, one, joint=True)
    E.evaluate_many(net, one.concat(one), joint=np.array([True, False]))
    E.evaluate_many(net, one.concat(one), joint=False)
    assert len(seen) == 3 and seen[0] == seen[1] == seen[2]
