"""The engine against pgmpy's exact VariableElimination on `to_pgmpy()` (SPEC §3, §7.13).

pgmpy takes seconds a case on this network (ENGINE-NOTES.md), so the default suite runs
30 seeded cases on two processes; `pytest --runslow` runs the 300-case sweep.
"""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from model import load_network
from model.analysis import analyse, analyse_many, node_states
from model.engine import evaluate, query_from_evidence
from model.evidence import encode
from model.export import PREMISE_NODE
from model.synthetic import evidence_of, sample_cases

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
    for node in ("twitch_eyelid", "med_diuretic", "als_mnd", "numbness"):
        assert model.get_cpds(node).state_names[node] == ["absent", "present"]


def test_engine_equals_pgmpy_on_30_cases():
    cases = agreement_cases(30, seed=1)
    assert sum(sum(s == "present" for k, s in c.items() if k not in load_network().exposures) >= 6 for c in cases) >= 8
    _check(cases)


@pytest.mark.slow
def test_engine_equals_pgmpy_on_300_cases():
    _check(agreement_cases(300, seed=2))
