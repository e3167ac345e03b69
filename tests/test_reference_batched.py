"""The vectorised engine (`model.batched`, the path `infer()` takes) against brute-force
enumeration on small random networks, on each of its paths and both exposure layouts."""

import numpy as np
import pytest

from model.reference import batched
from model.reference import enumeration as reference
from model.reference.engine import CANCELLATION_BOUND, evaluate, switch_free
from model.reference.enumeration import brute_force, random_query

TOL = 1e-9


def random_network(rng, **shape):
    """A random network of model/reference/enumeration.py without switches or latents (the
    references' model), drawn as before switches existed."""
    return reference.random_network(rng, switches=False, latents=False, **shape)


def as_queries(net, queries) -> batched.Queries:
    """`engine.Query`s (single observed states, premise on) as one `Queries` array."""
    k = np.array([len(net.states[f]) for f in net.findings])
    lo = np.zeros((len(queries), len(net.findings)), dtype=np.int64)
    hi = np.tile(k - 1, (len(queries), 1))
    exposure = np.full((len(queries), len(net.exposures)), -1, dtype=np.int64)
    absent = np.zeros((len(queries), len(net.causes)), dtype=bool)
    for i, q in enumerate(queries):
        for f, (a, b) in q.findings.items():
            j = net.findings.index(f)
            lo[i, j], hi[i, j] = a, b
        for e, (s,) in q.exposures.items():
            exposure[i, net.exposures.index(e)] = s
        for c in q.absent:
            absent[i, net.causes.index(c)] = True
    return batched.Queries(lo, hi, exposure, absent)


def _networks(seed, count, **shape):
    rng = np.random.default_rng(seed)
    for t in range(count):
        net = random_network(rng, extreme=(t % 4 == 0), **shape)
        yield net, [random_query(rng, net, observe=rng.choice([0.3, 0.6, 0.9])) for _ in range(4)]


# precision passes of the telescoped path: float64 only; extended precision first (small
# groups, the default); float64 first and extended precision where it cancelled
PASSES = {
    "float64": {"EXTENDED_BOUND": CANCELLATION_BOUND},
    "extended_first": {},
    "float64_then_extended": {"EXTENDED_FIRST_WORK": 0},
}
REACHED = {
    "float64": {batched.TELESCOPED, batched.COVERAGE},
    "extended_first": {batched.TELESCOPED_EXTENDED},
    "float64_then_extended": {batched.TELESCOPED, batched.TELESCOPED_EXTENDED},
}


@pytest.mark.parametrize(("method", "passes", "enumerate_up_to", "count", "matrix_work"), [
    pytest.param("auto", "extended_first", 0, 300, batched.MATRIX_WORK, marks=pytest.mark.slow),  # the factored sum everywhere
    ("auto", "float64", 0, 100, batched.MATRIX_WORK),
    ("auto", "float64_then_extended", batched.ENUMERATE_UP_TO, 100, batched.MATRIX_WORK),  # the flat sum too
    ("auto", "float64", batched.ENUMERATE_UP_TO, 60, batched.MATRIX_WORK),
    ("coverage", "extended_first", 0, 100, batched.MATRIX_WORK),  # small groups: whole transition matrices
    ("coverage", "extended_first", 0, 100, 0),  # one bit update at a time
])
def test_batched_engine_equals_enumeration_on_random_networks(method, passes, enumerate_up_to, count, matrix_work, monkeypatch):
    """Random networks (a quarter with extreme numbers: priors near 0 and 1, links of 0
    and 1, no leaks) with 5 exposures shared at random, 4 queries each."""
    monkeypatch.setattr(batched, "MATRIX_WORK", matrix_work)
    for name, value in PASSES[passes].items():
        monkeypatch.setattr(batched, name, value)
    paths = []
    for net, queries in _networks(3, count, n_exposures=5, n_causes=6, n_binary=3, n_ordinal=2):
        total, joint, path = batched.evaluate_many(net, as_queries(net, queries), method=method, enumerate_up_to=enumerate_up_to)
        paths.extend(path)
        for i, q in enumerate(queries):
            ref_total, ref_joint = brute_force(net, q)
            if ref_total == 0:
                assert total[i] == 0.0
                continue
            assert total[i] == pytest.approx(ref_total, rel=TOL, abs=0)
            np.testing.assert_allclose(joint[i] / total[i], np.array(ref_joint) / ref_total, rtol=0, atol=TOL)
    if method == "auto":  # the corpus reaches the passes' paths
        assert REACHED[passes] <= set(paths)


def test_extended_precision_answers_where_float64_cancels(monkeypatch):
    """Queries whose float64 telescoped sums cancel past the bound are answered in
    extended precision within 1e-9 of enumeration (small random networks with extreme
    numbers), without the coverage recursion."""
    monkeypatch.setattr(batched, "EXTENDED_FIRST_WORK", 0)  # float64 first, as big groups do
    rng = np.random.default_rng(12)
    extended = 0
    for _ in range(300):
        net = random_network(rng, n_causes=7, n_binary=5, n_ordinal=2, extreme=True)
        query = random_query(rng, net, observe=0.9)
        total, joint, path = batched.evaluate_many(net, as_queries(net, [query]))
        if path[0] != batched.TELESCOPED_EXTENDED:
            continue
        extended += 1
        ref_total, ref_joint = brute_force(net, query)
        assert total[0] == pytest.approx(ref_total, rel=TOL, abs=0)
        np.testing.assert_allclose(joint[0] / total[0], np.array(ref_joint) / ref_total, rtol=0, atol=TOL)
    assert extended >= 5, "the corpus must contain queries float64 cancels on and extended precision answers"


def test_extended_precision_equals_coverage_on_bundled_full_evidence():
    """On the bundled network with every node observed, most cases cancel in float64
    (kappa up to 1e6 after telescoping); the path infer() takes agrees with the
    subtraction-free coverage recursion to 1e-9 on each of them."""
    from model.inference.analysis import node_states
    from model.network.evidence import encode
    from model.network.build import load_network
    from model.validation.synthetic import evidence_of, sample_cases

    net = switch_free(load_network())
    frame = evidence_of(sample_cases(net, 40, rng=np.random.default_rng(5), missing=0.0))
    q = batched.from_states(net, node_states(net, [encode(r, batch=True) for r in frame.to_dict(orient="records")]))
    total, joint, path = batched.evaluate_many(net, q)
    ref_total, ref_joint, _ = batched.evaluate_many(net, q, method="coverage")
    assert (path == batched.TELESCOPED_EXTENDED).sum() >= 10
    np.testing.assert_allclose(total, ref_total, rtol=1e-9, atol=0)
    np.testing.assert_allclose(joint / total[:, None], ref_joint / ref_total[:, None], rtol=0, atol=TOL)


def test_telescoped_path_keeps_digits_where_quickscore_cancels():
    """Queries on which plain Quickscore cancels past the bound are answered by the
    telescoped path (or the coverage recursion) within 1e-9 of enumeration."""
    rng = np.random.default_rng(11)
    telescoped = 0
    for _ in range(200):
        net = random_network(rng, n_causes=6, n_binary=4, n_ordinal=2, extreme=True)
        query = random_query(rng, net, observe=0.9)
        if evaluate(net, query, method="quickscore").kappa <= CANCELLATION_BOUND:
            continue
        total, joint, path = batched.evaluate_many(net, as_queries(net, [query]))
        ref_total, ref_joint = brute_force(net, query)
        if ref_total == 0:
            assert total[0] == 0.0
            continue
        assert total[0] == pytest.approx(ref_total, rel=TOL, abs=0)
        np.testing.assert_allclose(joint[0] / total[0], np.array(ref_joint) / ref_total, rtol=0, atol=TOL)
        telescoped += path[0] in (batched.TELESCOPED, batched.TELESCOPED_EXTENDED)
    assert telescoped >= 5, "the corpus must contain cases Quickscore cancels on and the telescoped path answers"


def test_the_joint_mask_leaves_totals_unchanged():
    net, queries = next(_networks(5, 1, n_exposures=4, n_causes=5))
    q = as_queries(net, queries)
    full_total, full_joint, _ = batched.evaluate_many(net, q)
    mask = np.array([True, False, True, False])
    total, joint, _ = batched.evaluate_many(net, q, joint=mask)
    np.testing.assert_array_equal(total, full_total)
    np.testing.assert_array_equal(joint[mask], full_joint[mask])
    assert not joint[~mask].any()


def test_the_bundled_network_sums_age_and_sex_first():
    """The factored layout the engine picks for the bundled network: age and sex are the
    hubs, and every shared exposure sits in exactly one factor."""
    from model.network.build import load_network

    net = switch_free(load_network())
    hubs, factors = batched._tables(net)["factored"]
    assert sorted(net.exposures[h] for h in hubs) == ["age", "sex"]
    placed = [e for ex, _ in factors for e in ex] + list(hubs)
    assert sorted(placed) == sorted(batched._tables(net)["shared"])
    assert sorted(c for _, causes in factors for c in causes) == list(range(len(net.causes)))
