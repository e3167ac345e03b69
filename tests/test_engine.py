"""The compiled engine, every entry point, against brute-force enumeration (with the
causes' twitch switches and latents) and the numpy reference engine
(model/reference/batched.py, on the bundled network without switches and latents:
`switch_free`, the model it computes)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.inference import engine as E
from model import load_network
from model.inference.analysis import level_boxes
from model.batch import encode_frame
from model.reference import batched as reference_batched
from model.reference.engine import switch_free
from model.reference.enumeration import arm_and_leg_alone, brute_force, random_network, random_query
from model.validation.synthetic import evidence_of, sample_cases
from model.uncertainty.draws import stack_networks

TOL = 1e-9
ENTRY_POINTS = ("single", "batch", "boxes", "draws")


def _networks(seed: int, count: int):
    """Random small networks of the product's shape, a quarter with extreme numbers."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        shape = dict(n_exposures=int(rng.integers(0, 4)), n_causes=int(rng.integers(1, 7)),
                     n_regions=int(rng.integers(1, 4)), n_binary=int(rng.integers(0, 3)), n_ordinal=int(rng.integers(0, 3)))
        yield rng, random_network(rng, extreme=i % 4 == 0, **shape)


def _box_query(rng, net) -> E.Query:
    """A query like a triage box: state ranges, exposure sets, causes forced absent."""
    q = random_query(rng, net, observe=0.5)
    findings = dict(q.findings)
    for f in net.findings:
        k = len(net.states[f])
        if k > 2 and rng.random() < 0.4:
            lo = int(rng.integers(0, k - 1))
            findings[f] = (lo, int(rng.integers(lo, k)))
    exposures = {e: tuple(sorted(set(rng.choice(len(net.states[e]), size=int(rng.integers(1, len(net.states[e]) + 1))).tolist())))
                 for e in net.exposures if rng.random() < 0.5}
    absent = frozenset(c for c in net.causes if rng.random() < 0.3)
    return E.Query(exposures, findings, absent)


def _check(net, query, total, joint):
    want_total, want_joint = brute_force(net, query)
    assert total == pytest.approx(want_total, rel=TOL, abs=1e-15)
    if want_total > 0:
        np.testing.assert_allclose(np.asarray(joint) / total, np.array(want_joint) / want_total, rtol=0, atol=TOL)


def _redrawn(rng, net):
    """`net` with every number redrawn (the same nodes and edges)."""
    return dataclasses.replace(
        net,
        exposure_prob={e: rng.dirichlet(np.ones(len(p))) for e, p in net.exposure_prob.items()},
        cause_table={c: rng.uniform(0.0, 1.0, size=np.shape(t)) for c, t in net.cause_table.items()},
        link={f: np.column_stack([1 - (x := rng.uniform(0, 1, len(t)) * (t[:, 0] < 1)), x]) if t.shape[1] == 2
              else rng.dirichlet(np.ones(t.shape[1]), size=len(t)) for f, t in net.link.items()},
        leak={f: rng.dirichlet(np.ones(len(p))) for f, p in net.leak.items()},
        twitch={c: rng.uniform(0.0, 1.0) for c in net.twitch},
    )


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_equals_enumeration_on_random_networks(entry):
    for rng, net in _networks(ENTRY_POINTS.index(entry) + 11, 60):
        if entry == "single":
            q = random_query(rng, net)
            a = E.evaluate(net, q)
            _check(net, q, a.total, a.joint)
        elif entry == "batch":
            queries = [random_query(rng, net) for _ in range(8)]
            rows = [E.query_rows(net, q) for q in queries]
            batch = rows[0]
            for r in rows[1:]:
                batch = batch.concat(r)
            for threads in (False, True):
                total, joint, _ = E.evaluate_many(net, batch, threads=threads)
                for i, q in enumerate(queries):
                    _check(net, q, total[i], joint[i])
        elif entry == "boxes":
            q = _box_query(rng, net)
            a = E.evaluate(net, q)
            _check(net, q, a.total, a.joint)
        else:  # draws: one row a (query, draw), each reading its own network
            nets = [net] + [_redrawn(rng, net) for _ in range(3)]
            tables = stack_networks(nets).tables
            q = random_query(rng, net)
            rows = E.query_rows(net, q).on_draws(len(nets))
            total, joint, _ = E.evaluate_many(tables, rows)
            for d, drawn in enumerate(nets):
                _check(drawn, q, total[d], joint[d])


def _bundled_queries(missing, net=None):
    net = net or load_network()
    cases = evidence_of(sample_cases(net, 1000, rng=np.random.default_rng(3), missing=missing))
    states, _ = encode_frame(net, cases)
    q = E.from_states(net, states)
    boxes, *_ = level_boxes(net, q, states)
    return net, q, q.concat(boxes)


@pytest.mark.parametrize("missing", [0.0, None], ids=["full evidence", "default mix"])
def test_compiled_engine_equals_numpy_reference_on_bundled_cases(missing):
    """1,000 sampled cases, their own queries and their triage boxes: totals to 1e-12
    relative, posteriors to 1e-12 (the bundled network without switches and latents: the
    reference's model; brute force checks the switches and latents)."""
    net, own, both = _bundled_queries(missing, switch_free(load_network()))
    mask = np.arange(len(both)) < len(own)
    total, joint, path = E.evaluate_many(net, both, joint=mask)
    ref = reference_batched.Queries(both.lo, both.hi, both.exposure, both.absent)
    ref_total, ref_joint, _ = reference_batched.evaluate_many(net, ref, joint=mask)
    np.testing.assert_allclose(total, ref_total, rtol=1e-11, atol=0)
    n = len(own)
    # the reference's extended-precision path errs up to about 1e-12 on full evidence
    # (1.1e-12 measured against the subtraction-free coverage answer; the compiled
    # engine's default path erred 2e-13 there): 5e-12 between the two
    np.testing.assert_allclose(joint[:n] / total[:n, None], ref_joint[:n] / ref_total[:n, None], rtol=0, atol=5e-12)
    assert set(np.unique(path)) >= {E.PATHS.index("telescoped"), E.PATHS.index("coverage")}


def test_batch_equals_single_and_threads_do_not_change_answers():
    net, own, both = _bundled_queries(None)
    rows = both.take(np.arange(0, len(both), 7))
    total, joint, path = E.evaluate_many(net, rows, threads=True)
    for threads in (False, 1, 3):
        other_total, other_joint, _ = E.evaluate_many(net, rows, threads=threads)
        np.testing.assert_array_equal(total, other_total)
        np.testing.assert_array_equal(joint, other_joint)
    for i in range(0, len(rows), 50):
        t, j, p = E.evaluate_many(net, rows.take([i]))
        assert t[0] == total[i] and np.array_equal(j[0], joint[i]) and p[0] == path[i]


def test_a_draw_reads_only_its_own_network():
    net = load_network()
    rng = np.random.default_rng(5)
    other = _redrawn(rng, net)
    tables = stack_networks([net, other]).tables
    states = np.full((1, len(net.exposures) + len(net.findings)), -1)  # every exposure unknown
    q = E.from_states(net, states)
    total, joint, _ = E.evaluate_many(tables, q.on_draws(2))
    for d, drawn in enumerate((net, other)):
        t, j, _ = E.evaluate_many(drawn, q)
        assert total[d] == pytest.approx(t[0], rel=1e-13)
        np.testing.assert_allclose(joint[d], j[0], rtol=1e-12, atol=0)


def test_a_draw_outside_the_tables_is_a_clear_error():
    net = load_network()
    q = E.from_states(net, np.full((1, len(net.exposures) + len(net.findings)), -1))
    with pytest.raises(ValueError, match="draw: rows read draws up to 3, but the tables hold 1"):
        E.evaluate_many(net, E.Queries(q.lo, q.hi, q.exposure, q.absent, np.array([3])))


@pytest.mark.parametrize("cause", ["exercise_fatigue", "alcohol"])
def test_a_cause_alone_twitches_arm_and_leg_together(cause):
    """Issues 18 and 23: P(arm and leg | the cause alone) follows the cause's switch and
    site pattern exactly in the engine (the cause certain, every other cause absent: arm
    and leg imply the premise): spread, both by their links; focal, one region and the
    other's leak; switch off, the leaks. Not the regions independent given the switch."""
    base = load_network()
    tau, sp = float(base.twitch[cause]), float(base.spread[cause])
    assert 0 < tau < 1 and 0 < sp < 1  # both branches of the switch and of the pattern count
    for region in ("twitch_arm", "twitch_leg"):
        assert base.focal[cause][base.regions.index(region)] > 0
    alone = dataclasses.replace(base, cause_table={c: np.full(np.shape(t), float(c == cause)) for c, t in base.cause_table.items()})
    want, independent = arm_and_leg_alone(base, cause)
    got = E.evaluate(alone, E.Query(findings={"twitch_arm": (1, 1), "twitch_leg": (1, 1)}))
    assert got.total == pytest.approx(want, rel=1e-12)
    assert abs(got.total - independent) > 1e-6  # the pattern, not independent regions
    # and on the switch-free model (no pattern, always twitching): both by their links
    free = switch_free(alone)
    got = E.evaluate(free, E.Query(findings={"twitch_arm": (1, 1), "twitch_leg": (1, 1)}))
    i = base.causes.index(cause)
    s_arm, s_leg = float(base.link["twitch_arm"][i, 1]), float(base.link["twitch_leg"][i, 1])
    l_arm, l_leg = float(base.leak["twitch_arm"][1]), float(base.leak["twitch_leg"][1])
    assert got.total == pytest.approx((1 - (1 - s_arm) * (1 - l_arm)) * (1 - (1 - s_leg) * (1 - l_leg)), rel=1e-12)


def _positive_query(rng, net) -> E.Query:
    """Every finding observed, most of them positive (the coverage state grows with
    the positives: r = 1, 2 and the general pass all run), exposures mostly unknown."""
    exposures = {e: (int(rng.integers(len(net.states[e]))),) for e in net.exposures if rng.random() < 0.3}
    findings = {}
    for f in net.findings:
        k = len(net.states[f])
        s = int(rng.integers(1, k)) if rng.random() < 0.75 else 0
        findings[f] = (s, s)
    if all(findings[r] == (0, 0) for r in net.regions):
        findings[net.regions[0]] = (1, 1)
    return E.Query(exposures, findings)


@pytest.mark.parametrize("bound", [E.CANCELLATION_BOUND, 0.5], ids=["default", "subtraction-free"])
def test_many_positives_equal_enumeration_on_every_path(bound):
    """Up to 9 positives: the default path (r chosen by the estimate, grown by kappa)
    and the subtraction-free one (bound < 1: every positive in the coverage state, the
    general pass) both equal brute force, joints included."""
    rng = np.random.default_rng(24)
    seen = set()
    for i in range(40):
        shape = dict(n_exposures=int(rng.integers(1, 4)), n_causes=int(rng.integers(2, 6)),
                     n_regions=int(rng.integers(1, 4)), n_binary=int(rng.integers(2, 5)), n_ordinal=int(rng.integers(0, 2)))
        net = random_network(rng, extreme=i % 4 == 0, **shape)
        q = _positive_query(rng, net)
        a = E.evaluate(net, q, bound=bound)
        _check(net, q, a.total, a.joint)
        seen.add(a.method)
    assert ("coverage" in seen) and (bound < 1 or "mixed" in seen or "telescoped" in seen)


def test_kernel_entry_points_take_the_named_fields_in_order():
    """The engine passes `*rows, *tables, bound, *answers`: the entry points' parameters
    must be those named tuples' fields in that order (a swap would read wrong arrays)."""
    import inspect

    from model.inference import kernels as K

    want = [*K.Rows._fields, *K.Tables._fields, "bound", *K.Answers._fields]
    assert list(inspect.signature(K.evaluate_rows.py_func).parameters) == want
    assert list(E.Tables.__dataclass_fields__)[: len(K.Tables._fields)] == list(K.Tables._fields)


def test_worst_bundled_cases_agree_with_the_subtraction_free_path():
    """Every finding observed, exposures unknown, 6-9 positives (the benchmark's tail
    cases): the default path equals the subtraction-free coverage answer to 1e-12."""
    net = load_network()
    cases = evidence_of(sample_cases(net, 200, rng=np.random.default_rng(2), missing=0.0))
    states, _ = encode_frame(net, cases)
    states[:, : len(net.exposures)] = -1
    q = E.from_states(net, states)
    m = (q.lo > 0).sum(axis=1)
    rows = q.take(np.flatnonzero((m >= 6) & (m <= 9))[:24])
    assert len(rows) >= 12
    total, joint, path = E.evaluate_many(net, rows)
    exact, exact_joint, _ = E.evaluate_many(net, rows, bound=0.5)
    assert set(path.tolist()) == {E.PATHS.index("mixed")}
    np.testing.assert_allclose(total, exact, rtol=1e-12, atol=0)
    np.testing.assert_allclose(joint / total[:, None], exact_joint / exact[:, None], rtol=0, atol=1e-12)
