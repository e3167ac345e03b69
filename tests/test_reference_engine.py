"""The exact engine against brute-force enumeration on small random networks."""

from fractions import Fraction

import numpy as np
import pytest

from model.reference import enumeration as reference
from model.reference.engine import CANCELLATION_BOUND, Query, evaluate
from model.reference.enumeration import brute_force, random_query

TOL = 1e-9


def random_network(rng, **shape):
    """A random network of model/reference/enumeration.py without switches or latents (the
    references' model), drawn as before switches existed."""
    return reference.random_network(rng, switches=False, latents=False, **shape)


def _check(net, query, method):
    total, joint = brute_force(net, query)
    answer = evaluate(net, query, method=method)
    if total == 0:
        assert answer.total == 0.0
        return answer
    assert answer.total == pytest.approx(total, rel=TOL, abs=0)
    np.testing.assert_allclose(answer.joint / answer.total, np.array(joint) / total, rtol=0, atol=TOL)
    return answer


@pytest.mark.parametrize("method", ["auto", "coverage"])
def test_engine_equals_enumeration_on_300_random_networks(method):
    rng = np.random.default_rng(7)
    for t in range(300):
        net = random_network(rng, extreme=(t % 4 == 0))
        _check(net, random_query(rng, net), method)


def test_coverage_path_keeps_digits_where_quickscore_cancels():
    rng = np.random.default_rng(11)
    cancelled = 0
    for _ in range(200):
        net = random_network(rng, n_causes=6, n_binary=4, n_ordinal=2, extreme=True)
        query = random_query(rng, net, observe=0.9)
        quick = evaluate(net, query, method="quickscore")
        if quick.kappa > CANCELLATION_BOUND:
            cancelled += 1
            assert _check(net, query, "auto").method == "coverage"
    assert cancelled >= 5, "the corpus must contain cases where Quickscore cancels"


def test_rational_enumeration_on_extreme_numbers():
    rng = np.random.default_rng(3)
    for _ in range(20):
        net = random_network(rng, n_causes=4, n_exposures=2, extreme=True)
        query = random_query(rng, net, observe=0.9)
        total, joint = brute_force(net, query, exact=Fraction)
        answer = evaluate(net, query)
        assert np.isfinite(answer.joint).all() and np.isfinite(answer.total)
        if total == 0:
            assert answer.total == 0.0
            continue
        assert answer.total == pytest.approx(float(total), rel=TOL)
        np.testing.assert_allclose(answer.joint / answer.total, [float(j / total) for j in joint], atol=TOL)


def test_forced_absent_causes_and_exposure_sets():
    rng = np.random.default_rng(5)
    for _ in range(50):
        net = random_network(rng)
        q = random_query(rng, net)
        e = net.exposures[0]
        k = len(net.states[e])
        q = Query({**q.exposures, e: tuple(range(k - 1))}, q.findings, frozenset(net.causes[:2]))
        answer = _check(net, q, "auto")
        assert (answer.joint[:2] == 0).all()
