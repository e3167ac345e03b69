"""The engine against pgmpy's exact VariableElimination on `to_pgmpy()` (docs/model.md),
and the export against brute-force enumeration (model/reference/enumeration.py) on small random
networks, without the engine.

pgmpy takes seconds a case on this network (docs/engine.md), so the default suite runs
30 seeded cases on two processes; `pytest --runslow` runs the 300-case sweep.
"""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from model import load_network
from model.inference.analysis import analyse, analyse_many, node_states
from model.inference.engine import Query, evaluate, query_from_evidence
from model.network.evidence import encode
from model.network.export import PREMISE_NODE, switch_node, to_pgmpy
from model.reference.enumeration import brute_force, random_network, random_query
from model.validation.synthetic import evidence_of, sample_cases

TOL = 1e-9
POSITIVE_FINDINGS = ["numbness", "cramps", "stiffness", "pain", "fatigue", "sweating", "tremor", "vision", "tics", "wasting"]


def agreement_cases(n: int, seed: int) -> list[dict]:
    """Seeded evidence sets: sampled cases (about 40% of answers missing) and, every
    third case, six or more positive findings added."""
    net = load_network()
    rng = np.random.default_rng(seed)
    frame = evidence_of(sample_cases(net, n, rng=rng, missing=0.4))
    cases = []
    for i, row in enumerate(frame.to_dict(orient="records")):
        ev = dict(encode(row, batch=True))
        if i % 3 == 0:
            for f in rng.choice(POSITIVE_FINDINGS, size=int(rng.integers(6, 9)), replace=False):
                ev[str(f)] = "present"
        cases.append(ev)
    return cases


_VE = {}


def _pgmpy_posterior(evidence: dict) -> list[float]:
    if "ve" not in _VE:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            from pgmpy.inference import VariableElimination
        net = load_network()
        _VE["ve"], _VE["net"] = VariableElimination(net.to_pgmpy()), net
    ve, net = _VE["ve"], _VE["net"]
    res = ve.query(list(net.causes), evidence={**evidence, PREMISE_NODE: "present"}, joint=False, show_progress=False)
    return [float(res[c].get_value(**{c: "present"})) for c in net.causes]


def _check(cases):
    net = load_network()
    with ProcessPoolExecutor(2) as pool:
        reference = list(pool.map(_pgmpy_posterior, cases))
    # the engine three ways: one query (`evaluate`), each case with its triage boxes
    # (`analyse`, what infer() takes) and all cases as one threaded batch
    totals, batch, _, _ = analyse_many(net, node_states(net, cases))
    assert (totals > 0).all()
    worst = 0.0
    for ev, ref, row in zip(cases, reference, batch):
        a = evaluate(net, query_from_evidence(net, ev))
        single = analyse(net, ev).causes
        for got in (a.joint / a.total, single, row):
            worst = max(worst, float(np.max(np.abs(got - np.array(ref)))))
    assert worst <= TOL, worst
    return worst


def test_to_pgmpy_is_a_valid_network_with_small_tables():
    model = load_network().to_pgmpy()
    assert model.check_model()
    assert max(cpd.values.size for cpd in model.get_cpds()) <= 1 << 16
    for node in ("twitch_eyelid", "med_diuretic", "als_mnd", "numbness", "_twitching_als_mnd", "_weak_als_mnd",
                 "_weak_leak", "weak_one_limb"):
        assert model.get_cpds(node).state_names[node] == ["absent", "present"]
    # the regions read the site patterns (under the switches), weakness the weakness latents
    assert model.get_parents("_sites_als_mnd") == ["_twitching_als_mnd"]

    def reads(finding, node, prefix=None):
        prefix = prefix or f"_{finding}_"
        return any(node in model.get_parents(n) for n in model.nodes() if n == finding or n.startswith(prefix))

    assert model.get_parents("twitch_eyelid")[0].startswith("_regions_")  # through the chain of region sets
    assert reads("twitch_eyelid", "_sites_als_mnd", "_regions_") and not reads("twitch_eyelid", "_twitching_als_mnd", "_regions_")
    assert reads("weakness", "_weak_als_mnd") and reads("weak_one_limb", "_weak_als_mnd") and not reads("weakness", "als_mnd")


def test_engine_equals_pgmpy_on_3_cases():
    """The suite's agreement check: 3 bundled cases (the 12 heavier ones and the
    300-case sweep run with --runslow: pgmpy's own inference takes most of their time)."""
    _check(agreement_cases(3, seed=2))


@pytest.mark.slow
def test_engine_equals_pgmpy_on_12_cases():
    """12 cases, 4 of them with 6 or more positive findings (the 300-case sweep is slow;
    the full suite must stay under 10 minutes on 2 cores)."""
    cases = agreement_cases(12, seed=1)
    assert sum(sum(s == "present" for k, s in c.items() if k not in load_network().exposures) >= 6 for c in cases) >= 4
    _check(cases)


@pytest.mark.slow
def test_engine_equals_pgmpy_on_300_cases():
    _check(agreement_cases(300, seed=2))


# -- the export against brute-force enumeration, without the engine ----------------------


def _evidence(net, query: Query) -> dict:
    """`query` (single observed states) as pgmpy evidence, the premise as `_any_twitch`."""
    ev = {e: net.states[e][s] for e, (s,) in query.exposures.items()}
    for f, (lo, hi) in query.findings.items():
        assert lo == hi
        ev[f] = net.states[f][lo]
    ev.update({c: "absent" for c in query.absent})
    if query.premise:
        ev[PREMISE_NODE] = "present"
    return ev


def _pgmpy_answer(net, ve, ev) -> tuple[float, list[float] | None]:
    """P(evidence) by the chain rule of pgmpy queries, and P(cause present | evidence)."""
    total, seen = 1.0, {}
    for node, state in ev.items():
        total *= float(ve.query([node], evidence=seen or None, show_progress=False).get_value(**{node: state}))
        if total == 0.0:
            return 0.0, None
        seen[node] = state
    free = [c for c in net.causes if c not in ev]
    post = ve.query(free, evidence=ev, joint=False, show_progress=False) if free else {}
    return total, [float(post[c].get_value(**{c: "present"})) if c in post else 0.0 for c in net.causes]


def test_brute_force_equals_pgmpy_on_the_export_of_random_networks():
    """40 small random networks (a quarter extreme: priors near 0 and 1, links and
    P(twitching | cause) of 0 and 1, no leaks; those of at most 3 causes often with site
    patterns and a weakness latent), 3 queries each, some causes forced absent:
    brute-force enumeration of the switches and latents and pgmpy on `to_pgmpy` agree on
    P(evidence, twitching somewhere) and on the causes' posteriors."""
    from pgmpy.inference import VariableElimination

    rng = np.random.default_rng(18)
    compared = premise_only = 0
    for t in range(40):
        net = random_network(rng, n_causes=int(rng.integers(1, 6)), n_regions=int(rng.integers(1, 4)), extreme=t % 4 == 0)
        model = to_pgmpy(net)
        assert model.check_model()
        for c in net.causes:
            tau = float(net.twitch[c])
            assert model.get_cpds(switch_node(c)).get_values().tolist() == [[1.0, 1.0 - tau], [0.0, tau]]
        ve = VariableElimination(model)
        for _ in range(3):
            q = random_query(rng, net, observe=float(rng.choice([0.3, 0.6])))
            q = Query(q.exposures, q.findings, frozenset(c for c in net.causes if rng.random() < 0.15))
            total, joint = brute_force(net, q)
            got_total, got_post = _pgmpy_answer(net, ve, _evidence(net, q))
            if total == 0.0:
                assert got_total == pytest.approx(0.0, abs=1e-300)
                continue
            assert got_total == pytest.approx(total, rel=TOL, abs=0)
            np.testing.assert_allclose(got_post, np.array(joint) / total, rtol=0, atol=TOL)
            compared += 1
            premise_only += not any(q.findings.get(r, (0, 0))[0] >= 1 for r in net.regions)
    assert compared >= 100 and premise_only >= 30, (compared, premise_only)
