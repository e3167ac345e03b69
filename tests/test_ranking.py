"""The value of a question (model/advice/ranking.py, issue 24 item 3): `rank_questions`
answers every answer of every open question in one batched engine call; here each answer
is answered on its own, by `infer` on the evidence with that answer added, and the
values are rebuilt from those answers weighted by P(answer). The two agree to 1e-12."""

import numpy as np
import pytest

from model import infer, load_network
from model.advice.ranking import rank_questions
from model.api import result_of
from model.network.evidence import Evidence
from model.inference import levels as L
from model.network import questions as Q
from model.synthetic import evidence_of, sample_cases

TOLERANCE = 1e-12
SEED = 2024
# 200 cases with --full (a few minutes: each answer is its own `infer` call); the quick
# suite checks the first 20 of the same cases
CASES, CASES_DEFAULT = 200, 20


def binary_entropy(p):
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p), 0.0)).sum())


def one_case(net, nodes):
    """`infer` on node-level evidence; where infer refuses the input as a person's answers
    (a sampled case says it did not stop drinking and leaves its drinking unknown, and the
    answer "none or moderate" then contradicts the stop), the Result infer builds from
    node-level evidence (`result_of`, the same engine call); None when the model gives
    the evidence probability 0."""
    try:
        return infer(nodes, network=net)
    except ValueError:
        try:
            return result_of(net, Evidence(nodes))
        except ValueError as e:
            assert "impossible" in str(e), e
            return None


def by_full_cases(net, now, q, price):
    """The value of question `q` from one `infer` a possible answer: (advice value,
    diagnostic value, entropy drop, P(answer) by label)."""
    loss_now = L.expected_loss(net, now.analysis.triage)
    advice_now = int(np.argmin(loss_now))
    after_loss = after_h = 0.0
    probs, changes = {}, False
    for label, nodes in Q.outcomes(net, q, now.evidence):
        r = one_case(net, {**dict(now.evidence), **nodes})
        if r is None:  # an answer that cannot be: probability 0
            probs[label] = 0.0
            continue
        p = r.analysis.total / now.analysis.total
        probs[label] = p
        loss = L.expected_loss(net, r.analysis.triage)
        after_loss += p * loss.min()
        after_h += p * binary_entropy(r.analysis.causes)
        changes |= int(np.argmin(loss)) != advice_now
    drop = binary_entropy(now.analysis.causes) - after_h
    value = max(float(loss_now.min()) - after_loss, 0.0) if changes else 0.0
    return value, max(price * drop, 0.0), drop, probs


def cases(n):
    net = load_network()
    frame = evidence_of(sample_cases(net, CASES, rng=np.random.default_rng(SEED)))
    return net, [row.dropna().to_dict() for _, row in frame.head(n).iterrows()]


def check(net, evidence):
    now = infer(evidence, network=net)
    price = Q.settings(net).diagnostic_price
    table = rank_questions(net, now.evidence, now.analysis, goal="causes").set_index("question")
    questions = net.triage.questions
    # every open question is ranked (the person's items and the groups)
    assert len(table) > 0
    for key, row in table.iterrows():
        value, diagnostic, drop, probs = by_full_cases(net, now, questions[key], price)
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-9), (key, probs)
        assert abs(row["value"] - value) <= TOLERANCE, (key, row["value"], value)
        assert abs(row["diagnostic"] - diagnostic) <= TOLERANCE, (key, row["diagnostic"], diagnostic)
        assert abs(row["entropy_drop"] - drop) <= TOLERANCE, (key, row["entropy_drop"], drop)
        assert row["net_value"] == pytest.approx(row["value"] + row["diagnostic"] - questions[key].cost, abs=TOLERANCE)
        shown = {label: p for label, p in probs.items() if label in row["answers"]}
        assert set(row["answers"]) == set(probs), key
        for label, p in shown.items():
            assert row["answers"][label] == pytest.approx(p, abs=1e-6), (key, label)
    return len(table)


def test_rank_questions_agrees_with_one_infer_per_answer():
    net, evidences = cases(CASES_DEFAULT)
    assert sum(check(net, e) for e in evidences) > 0


@pytest.mark.slow
def test_rank_questions_agrees_with_one_infer_per_answer_on_200_cases():
    net, evidences = cases(CASES)
    assert len(evidences) == CASES
    assert sum(check(net, e) for e in evidences) > 0
