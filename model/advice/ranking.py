"""The value of asking: each open question (or pair of questions) scored by the expected
change its answers make to the advice and, for the causes goal, to the ranking of the
causes, every answer enumerated exactly in one engine call (docs/model.md, "Next
questions"). `Result.next_questions` and the `Interview` read this.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..inference import levels as L
from ..inference.analysis import Analysis, Combination, analyse_evidence
from ..network import questions as Q
from ..network import rules as T
from ..network.build import Network
from ..network.evidence import Evidence, with_any_of


def _entropies(p: np.ndarray) -> np.ndarray:
    """The summed binary entropy (bits) of the cause probabilities of each row of `p`."""
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p), 0.0))
    return h.sum(axis=-1)


def open_questions(net: Network, evidence: Mapping[str, str]) -> list[Q.Question]:
    """The questions still open (docs/model.md: the person's items, one question each)."""
    return [q for key, q in net.triage.questions.items() if Q.is_open(q, evidence)]


def askable(net: Network) -> list[Q.Question]:
    """The questions an interview asks after the screen: every item but the red-flag
    screen, its follow-up and the findings asked inside a group question."""
    qs = net.triage.questions
    grouped = {n for q in qs.values() if q.group for n in q.nodes}
    return [q for k, q in qs.items() if k not in ("default", Q.SCREEN, Q.WHICH)
            and not (not q.group and len(q.nodes) == 1 and q.nodes[0] in grouped)]


def price_of(net: Network, goal: str) -> float:
    """The diagnostic loss's price per bit under `goal` (0 for "triage")."""
    return Q.settings(net).diagnostic_price if Q.check_goal(goal) == "causes" else 0.0


def after_answer(evidence: Evidence | Mapping[str, str], nodes: Mapping[str, str]) -> Evidence | None:
    """The evidence after an answer that sets `nodes`, or None when the answer cannot be
    (it says absent every sign of a group known to hold one)."""
    groups = getattr(evidence, "any_of", ())
    try:
        return with_any_of({**dict(evidence), **nodes}, [("", g) for g in groups])
    except ValueError:
        return None


def outcome_rows(net: Network, evidence, questions) -> list[tuple[Q.Question, str, Evidence]]:
    """Every possible answer of every question, as (question, label, evidence after it)."""
    out = []
    for q in questions:
        for label, nodes in Q.outcomes(net, q, evidence):
            after = after_answer(evidence, nodes)
            if after is not None:
                out.append((q, label, after))
    return out


def coarse_rows(net: Network, evidence, questions) -> list[tuple[Q.Question, str, Any]]:
    """`outcome_rows`, but a group question's answers taken as none, each sign alone, and
    "two or more" (one answer, exactly: P(e) minus the others, a `Combination`): coarser
    than every subset, so the value it gives is a lower bound on the group's value, at
    k + 2 engine rows instead of 2^k, none of them with several signs present (the
    engine's time grows with the signs present in a query)."""
    out = []
    for q in questions:
        open_nodes = [n for n in q.nodes if n not in evidence]
        if not q.group or len(open_nodes) < 3:
            out += outcome_rows(net, evidence, [q])
            continue
        none = after_answer(evidence, {n: net.states[n][0] for n in open_nodes})
        singles = [(n, after_answer(evidence, {m: net.states[m][-1 if m == n else 0] for m in open_nodes})) for n in open_nodes]
        parts = [e for e in [none] + [e for _, e in singles] if e is not None]
        if none is not None:
            out.append((q, "none", none))
        out += [(q, n, e) for n, e in singles if e is not None]
        out.append((q, "two or more", Combination(((1.0, evidence),) + tuple((-1.0, e) for e in parts))))
    return out


def _gap(loss: np.ndarray, advice: int) -> float:
    """How far the advice `advice` is from being changed: the expected loss of the best
    other advice minus its own (0 or less: another advice is as good or better)."""
    return float(np.delete(loss, advice).min() - loss[advice])


def score_all(net: Network, price: float, now_total: float, now_triage: np.ndarray, now_causes: np.ndarray,
              owner: np.ndarray, totals: np.ndarray, causes: np.ndarray, levels: np.ndarray, n: int):
    """The value of `n` questions from their answers at once: answer i (P(evidence,
    answer) `totals[i]`, its causes' and levels' probabilities) belongs to question
    `owner[i]`. Per question: the expected drop of the advice's loss (exactly 0 when no
    answer changes the advice), the expected drop of the diagnostic loss (`price` a bit
    of the causes' summed binary entropy), the expected drop of the entropy itself
    (bits), and the reach: the expected part of the way to another advice that the
    answer covers (the drop of `_gap`, where it drops; in the loss's unit), how near its
    answers come to changing the advice when none does, so that a question that changes
    it only together with others is found. Per answer: its probability and the advice it
    changes to (-1: none). Answers of probability 0 count for nothing."""
    loss_now = L.expected_loss(net, now_triage)
    advice_now = int(np.argmin(loss_now))
    gap_now = _gap(loss_now, advice_now)
    p = totals / now_total
    live = p > 0.0
    w = np.where(live, p, 0.0)
    # each answer's expected losses one row at a time, as `levels.Level.of` computes an
    # advice (a matrix product of all rows at once can differ in the last bit, and an
    # exact tie must break the same way for the ranking as for the advice it predicts)
    safe = np.where(live[:, None], levels, 0.0)
    loss = np.array([L.expected_loss(net, row) for row in safe]).reshape(len(safe), len(T.LEVELS))  # (answers, advice)
    choice = loss.argmin(axis=1)
    gap = np.delete(loss, advice_now, axis=1).min(axis=1) - loss[:, advice_now]
    after_loss = np.bincount(owner, w * loss.min(axis=1), minlength=n)
    after_h = np.bincount(owner, w * _entropies(causes), minlength=n)
    reach = np.bincount(owner, w * np.maximum(gap_now - gap, 0.0), minlength=n)
    changed = live & (choice != advice_now)
    # >= 0: the loss is concave in the beliefs. When no answer changes the advice it
    # is exactly 0 (the answers' beliefs average to today's, and the advice's loss is
    # linear in them): say so, rather than rank questions by rounding noise.
    any_change = np.bincount(owner, changed, minlength=n) > 0
    value = np.where(any_change, np.maximum(float(loss_now.min()) - after_loss, 0.0), 0.0)
    drop = _entropies(now_causes) - after_h
    return value, np.maximum(price * drop, 0.0), drop, reach, p, np.where(changed, choice, -1)


def score(net: Network, price: float, now_total: float, now_triage: np.ndarray, now_causes: np.ndarray, answers) -> tuple[float, float, list[str], dict, float, float]:
    """`score_all` of one question from its answers (label, P(evidence, answer), causes,
    levels): the value, the diagnostic value, the answers that change the advice
    ("label -> level"), each answer's probability, the entropy drop and the reach."""
    labels = [a[0] for a in answers]
    n_causes, n_levels = len(now_causes), len(now_triage)
    value, diag, drop, reach, p, change = score_all(
        net, price, now_total, now_triage, now_causes, np.zeros(len(answers), dtype=np.int64),
        np.array([a[1] for a in answers], dtype=float), np.array([a[2] for a in answers]).reshape(-1, n_causes),
        np.array([a[3] for a in answers]).reshape(-1, n_levels), 1)
    changes = [f"{label} -> {T.LEVELS[c]}" for label, c in zip(labels, change) if c >= 0]
    return float(value[0]), float(diag[0]), changes, dict(zip(labels, p.tolist())), float(drop[0]), float(reach[0])


def rank_questions(net: Network, evidence: Evidence, now: Analysis, keys=None, *, goal: str = "triage") -> pd.DataFrame:
    """Every open question (or those of `keys`) with the expected value of its answer.

    value: expected reduction of the advice's expected loss (priors/triage.toml units),
    every answer enumerated exactly (a set or group question: every subset);
    diagnostic: with goal="causes", the expected drop of the diagnostic loss (the
    causes' summed binary entropy at the price of priors/triage.toml [interview]), else 0;
    net_value = value + diagnostic - cost; ties by the expected drop in the sum of the
    causes' binary entropies; reach: how near its answers come to changing the advice
    (`score`), what the interview's look-ahead starts from. Every answer of every question is answered in ONE call of
    the vectorised engine.
    """
    price = price_of(net, goal)
    pool = askable(net) if keys is None else [q for k, q in net.triage.questions.items() if k in keys]
    asked = [q for q in pool if Q.is_open(q, evidence)]
    trials = outcome_rows(net, evidence, asked)
    totals, causes, levels = analyse_evidence(net, [e for _, _, e in trials])
    place = {q.key: i for i, q in enumerate(asked)}
    owner = np.array([place[q.key] for q, _, _ in trials], dtype=np.int64)
    value, diag, drop, reach, p, change = score_all(net, price, now.total, now.triage, now.causes, owner,
                                                    totals, causes, levels, len(asked))
    answers: list[dict] = [{} for _ in asked]
    changes: list[list[str]] = [[] for _ in asked]
    for (q, label, _), i, p_a, c in zip(trials, owner.tolist(), [round(x, 6) for x in p.tolist()], change.tolist()):
        answers[i][label] = p_a
        if c >= 0:
            changes[i].append(f"{label} -> {T.LEVELS[c]}")
    cost = np.array([q.cost for q in asked], dtype=float)
    net_value = value + diag - cost
    # by net value, then entropy drop, both descending; ties keep the questions' order
    order = np.lexsort((-drop, -net_value)) if len(asked) else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({
        "question": [asked[i].key for i in order],
        "text": [asked[i].text for i in order],
        "value": value[order],
        "diagnostic": diag[order],
        "cost": cost[order],
        "net_value": net_value[order],
        "entropy_drop": drop[order],
        "reach": reach[order],
        "answers": [answers[i] for i in order],
        "changes_advice": ["; ".join(changes[i]) for i in order],
    })


def next_questions(net: Network, evidence: Evidence, now: Analysis, *, k: int = 5, goal: str = "triage") -> pd.DataFrame:
    return rank_questions(net, evidence, now, goal=goal).head(k).reset_index(drop=True)


def lookahead(net: Network, evidence: Evidence, now: Analysis, firsts, seconds, *, goal: str, min_probability: float = 0.0) -> pd.DataFrame:
    """The two-step value of each question of `firsts`: its own value plus, after each of
    its answers, the best net value of one more question of `seconds` (0 if none is worth
    its cost), weighted by the answer's probability. Every answer pair of every question
    goes to the engine in ONE call (after one call for the first answers' probabilities).
    An answer less probable than `min_probability` is not followed by a next question
    (its share of the later value counted 0: `value2` is then a lower bound, short of the
    exact value by at most that answer's probability times the advice's expected loss).
    A group question as the next question is valued on none, each sign alone and "two
    or more" (`coarse_rows`: a lower bound on its value). One row a first question:
    `value2` (before its cost), `net_value2` = value2 - cost, and the best next question
    after its most probable answer."""
    price = price_of(net, goal)
    first_rows = outcome_rows(net, evidence, firsts)
    p_first, _, _ = analyse_evidence(net, [e for _, _, e in first_rows], triage=False)
    second_rows, second_of = [], []
    for i, (q, _, ev) in enumerate(first_rows):
        if p_first[i] < min_probability * now.total:
            continue
        nexts = [q2 for q2 in seconds if q2.key != q.key and Q.is_open(q2, ev)]
        for q2, label2, ev2 in coarse_rows(net, ev, nexts):
            second_rows.append((q2, label2, ev2))
            second_of.append(i)
    totals, causes, levels = analyse_evidence(net, [e for _, _, e in first_rows] + [e for _, _, e in second_rows])
    n1 = len(first_rows)
    # the second-step questions' answers, grouped by (first answer, next question)
    by_pair: dict[tuple[int, str], list] = {}
    for j, (i, (q2, label2, _)) in enumerate(zip(second_of, second_rows)):
        by_pair.setdefault((i, q2.key), []).append((label2, totals[n1 + j], causes[n1 + j], levels[n1 + j]))
    costs = {q.key: q.cost for q in seconds}
    best_after = np.zeros(n1)
    best_key: list[str] = [""] * n1
    for (i, key2), answers in by_pair.items():
        if not totals[i] > 0:
            continue
        v, d, _, _, _, _ = score(net, price, totals[i], levels[i], causes[i], answers)
        net2 = v + d - costs[key2]
        if net2 > best_after[i]:
            best_after[i], best_key[i] = net2, key2
    rows = []
    for q in firsts:
        idx = [i for i, (q1, _, _) in enumerate(first_rows) if q1.key == q.key]
        answers = [(first_rows[i][1], totals[i], causes[i], levels[i]) for i in idx]
        v, d, _, probs_of, _, _ = score(net, price, now.total, now.triage, now.causes, answers)
        later = sum(probs_of[first_rows[i][1]] * best_after[i] for i in idx)
        likely = max(idx, key=lambda i: probs_of[first_rows[i][1]]) if idx else None
        rows.append({"question": q.key, "value": v + d, "later": later, "value2": v + d + later,
                     "cost": q.cost, "net_value2": v + d + later - q.cost,
                     "then": best_key[likely] if likely is not None else ""})
    table = pd.DataFrame(rows, columns=["question", "value", "later", "value2", "cost", "net_value2", "then"])
    return table.sort_values("net_value2", ascending=False, kind="stable").reset_index(drop=True)
