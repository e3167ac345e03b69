"""`infer()`: the public entry point (docs/model.md)."""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import questions as Q
from . import triage as T
from . import vocabulary as V
from .analysis import Analysis, Combination, analyse, analyse_evidence, apply_recalibration
from .batch import BatchResult, check_errors, infer_batch
from .evidence import Evidence, encode, with_any_of
from .network import Network, load_network
from .uncertainty import intervals as interval_table, plot_intervals, sensitivity

# Log-odds of a probability are taken on [LOGIT_FLOOR, 1 - LOGIT_FLOOR], so that a
# cause ruled out (probability 0) shows as a large finite change, not an infinity.
LOGIT_FLOOR = 1e-12


def _advise(net: Network, probs: np.ndarray) -> int:
    return int(np.argmin(T.expected_loss(net, probs)))


def _items(evidence: Evidence) -> dict[str, dict[str, str]]:
    """Group node evidence back into the user's items (location, medications, others)."""
    items: dict[str, dict[str, str]] = {}
    for group, nodes in (("location", V.REGION_NODES), ("medications", V.MEDICATION_NODES)):
        if all(n in evidence for n in nodes):
            items[group] = {n: evidence[n] for n in nodes}
    for node, state in evidence.items():
        if not any(node in nodes for nodes in items.values()):
            items[node] = {node: state}
    return items


def _describe(item: str, nodes: Mapping[str, str]) -> str:
    if item.startswith("any of "):
        return item
    if item == "location":
        return "location=" + "+".join(n.removeprefix("twitch_") for n, s in nodes.items() if s == "present")
    if item == "medications":
        meds = [n.removeprefix("med_") for n, s in nodes.items() if s == "present"]
        return "medications=" + ("+".join(meds) or "none")
    return f"{item}={nodes[item]}"


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(p, LOGIT_FLOOR, 1 - LOGIT_FLOOR)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True, repr=False)
class Result:
    """The answer for one case (docs/model.md).

    causes : P(cause present | evidence), sorted descending, for every cause.
    triage : P(true triage level | evidence) for self_care, routine, soon, emergency.
    urgency : P(level is soon or emergency | evidence).
    advice : the level that minimises expected loss (priors/triage.toml).
    advice_reason : the facts that decided the advice, in words.
    evidence : the encoded evidence (node -> state).
    intervals : with `infer(..., intervals=N, rng=...)`, the 5%, 50% and 95% points of
        each cause's posterior and of urgency over N networks redrawn from the ranges in
        priors/ (one row a cause, then `urgency`; see `model.uncertainty`); else None.
    """

    causes: pd.Series
    triage: pd.Series
    urgency: float
    advice: str
    advice_reason: str
    evidence: Evidence
    network: Network = field(compare=False)
    analysis: Analysis = field(compare=False)
    intervals: pd.DataFrame | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        top = ", ".join(f"{c}={p:.3f}" for c, p in self.causes.head(3).items())
        return f"Result({top}, ...; urgency={self.urgency:.3f}, advice={self.advice})"

    def _repr_html_(self) -> str:
        """Jupyter's display: causes as bars, triage, advice and reason, the next question."""
        from .display import result_html

        return result_html(self)

    def explain(self, *, top: int = 3) -> pd.DataFrame:
        """How much each evidence item moved the top causes and urgency.

        For each item, the change in log-odds of each target when the item is removed
        from the evidence (positive: the item raised it). Sorted by size.
        """
        net = self.network
        targets = list(self.causes.index[:top])
        idx = [net.causes.index(c) for c in targets]
        now = np.concatenate([self.analysis.causes[idx], [self.urgency]])
        rows = []
        groups = getattr(self.evidence, "any_of", ())
        items = dict(_items(self.evidence))
        rests = []
        for item, nodes in items.items():
            rests.append(Evidence({k: v for k, v in self.evidence.items() if k not in nodes}, groups))
        for g in groups:  # a yes to a group ("at least one of these signs") is an item too
            items["any of " + "+".join(g)] = {}
            rests.append(Evidence(dict(self.evidence), [h for h in groups if h != g]))
        # every evidence without one item, answered in one engine call
        _, causes_without, levels_without = analyse_evidence(net, rests)
        for (item, nodes), post, probs in zip(items.items(), causes_without, levels_without):
            without = np.concatenate([post[idx], [probs[2:].sum()]])
            change = _logit(now) - _logit(without)
            for target, c, p0, p1 in zip(targets + ["urgency"], change, without, now):
                rows.append({
                    "target": target,
                    "item": _describe(item, nodes),
                    "log_odds_change": float(c),
                    "without": float(p0),
                    "with": float(p1),
                })
        table = pd.DataFrame(rows, columns=["target", "item", "log_odds_change", "without", "with"])
        order = table["log_odds_change"].abs().sort_values(ascending=False, kind="stable").index
        return table.loc[order].reset_index(drop=True)

    def next_questions(self, k: int = 5, *, goal: str = "triage") -> pd.DataFrame:
        """The open questions (docs/model.md: the person's items, `location` and
        `medications` one question each, the review-of-systems groups one question each)
        ranked by the expected value of their answer.

        value: expected reduction of the advice's expected loss (priors/triage.toml
        units), every answer enumerated exactly; with goal="causes" `diagnostic` adds the
        expected drop of the diagnostic loss (priors/triage.toml [interview]); net_value =
        value + diagnostic - cost; ties by the expected drop in the sum of the causes'
        binary entropies. `text` is the question's words; `changes_advice` lists the
        answers that would change the advice.
        """
        return next_questions(self.network, self.evidence, self.analysis, k=k, goal=goal)

    def sensitivity(self, target: str, k: int = 10) -> pd.DataFrame:
        """The `k` parameters whose ranges move `target` (a cause, "urgency" or
        "expected_loss") most, each at both ends of its range (`model.uncertainty`)."""
        return sensitivity(self.network, self.evidence, target, k=k)

    def plot(self, ax=None, *, top: int = 10):
        """Bar chart of the top causes' posteriors (matplotlib), with intervals if any."""
        if self.intervals is not None:
            return plot_intervals(self, ax=ax, top=top)
        from .plots import plot_result

        return plot_result(self, ax=ax, top=top)


def _entropy(p: np.ndarray) -> float:
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p), 0.0))
    return float(h.sum())


def open_questions(net: Network, evidence: Mapping[str, str]) -> list[Q.Question]:
    """The questions still open (docs/model.md: the person's items, one question each)."""
    return [q for key, q in T.triage_of(net).questions.items() if Q.is_open(q, evidence)]


def askable(net: Network) -> list[Q.Question]:
    """The questions an interview asks after the screen: every item but the red-flag
    screen, its follow-up and the findings asked inside a group question."""
    qs = T.triage_of(net).questions
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


def score(net: Network, price: float, now_total: float, now_triage: np.ndarray, now_causes: np.ndarray, answers) -> tuple[float, float, list[str], dict, float]:
    """The value of a question from its answers (label, P(evidence, answer), causes,
    levels): the expected drop of the advice's loss (exactly 0 when no answer changes the
    advice), the expected drop of the diagnostic loss (`price` a bit of the causes' summed
    binary entropy), the answers that change the advice, each answer's probability, and
    the expected drop of the entropy itself (bits)."""
    loss_now = T.expected_loss(net, now_triage)
    advice_now = int(np.argmin(loss_now))
    after_loss, after_h, changes, probs_of = 0.0, 0.0, [], {}
    h_now = _entropy(now_causes)
    for label, total, post, probs in answers:
        p = total / now_total
        probs_of[label] = p
        if p <= 0.0:
            continue
        loss = T.expected_loss(net, probs)
        after_loss += p * loss.min()
        after_h += p * _entropy(post)
        if int(np.argmin(loss)) != advice_now:
            changes.append(f"{label} -> {T.LEVELS[int(np.argmin(loss))]}")
    # >= 0: the loss is concave in the beliefs. When no answer changes the advice it
    # is exactly 0 (the answers' beliefs average to today's, and the advice's loss is
    # linear in them): say so, rather than rank questions by rounding noise.
    value = max(float(loss_now.min()) - after_loss, 0.0) if changes else 0.0
    drop = h_now - after_h
    return value, max(price * drop, 0.0), changes, probs_of, drop


def rank_questions(net: Network, evidence: Evidence, now: Analysis, keys=None, *, goal: str = "triage") -> pd.DataFrame:
    """Every open question (or those of `keys`) with the expected value of its answer.

    value: expected reduction of the advice's expected loss (priors/triage.toml units),
    every answer enumerated exactly (a set or group question: every subset);
    diagnostic: with goal="causes", the expected drop of the diagnostic loss (the
    causes' summed binary entropy at the price of priors/triage.toml [interview]), else 0;
    net_value = value + diagnostic - cost; ties by the expected drop in the sum of the
    causes' binary entropies. Every answer of every question is answered in ONE call of
    the vectorised engine.
    """
    price = price_of(net, goal)
    pool = askable(net) if keys is None else [q for k, q in T.triage_of(net).questions.items() if k in keys]
    asked = [q for q in pool if Q.is_open(q, evidence)]
    trials = outcome_rows(net, evidence, asked)
    totals, causes, levels = analyse_evidence(net, [e for _, _, e in trials])
    answered: dict[str, list] = {}
    for (q, label, _), total, post, probs in zip(trials, totals, causes, levels):
        answered.setdefault(q.key, []).append((label, total, post, probs))
    rows = []
    for q in asked:
        value, diag, changes, probs_of, drop = score(net, price, now.total, now.triage, now.causes, answered.get(q.key, []))
        rows.append({
            "question": q.key,
            "text": q.text,
            "value": value,
            "diagnostic": diag,
            "cost": q.cost,
            "net_value": value + diag - q.cost,
            "entropy_drop": drop,
            "answers": {label: round(float(p), 6) for label, p in probs_of.items()},
            "changes_advice": "; ".join(changes),
        })
    columns = ["question", "text", "value", "diagnostic", "cost", "net_value", "entropy_drop", "answers", "changes_advice"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["net_value", "entropy_drop"], ascending=False, kind="stable").reset_index(drop=True)


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
        v, d, _, _, _ = score(net, price, totals[i], levels[i], causes[i], answers)
        net2 = v + d - costs[key2]
        if net2 > best_after[i]:
            best_after[i], best_key[i] = net2, key2
    rows = []
    for q in firsts:
        idx = [i for i, (q1, _, _) in enumerate(first_rows) if q1.key == q.key]
        answers = [(first_rows[i][1], totals[i], causes[i], levels[i]) for i in idx]
        v, d, _, probs_of, _ = score(net, price, now.total, now.triage, now.causes, answers)
        later = sum(probs_of[first_rows[i][1]] * best_after[i] for i in idx)
        likely = max(idx, key=lambda i: probs_of[first_rows[i][1]]) if idx else None
        rows.append({"question": q.key, "value": v + d, "later": later, "value2": v + d + later,
                     "cost": q.cost, "net_value2": v + d + later - q.cost,
                     "then": best_key[likely] if likely is not None else ""})
    table = pd.DataFrame(rows, columns=["question", "value", "later", "value2", "cost", "net_value2", "then"])
    return table.sort_values("net_value2", ascending=False, kind="stable").reset_index(drop=True)


def _reason(net: Network, evidence: Evidence, analysis: Analysis, advice: int) -> str:
    level = T.LEVELS[advice]
    held = [r for r in T.rules_holding(net, {n: net.states[n].index(s) for n, s in evidence.items()}) if r.level >= advice]
    parts = []
    if held and advice > 0:
        top = max(held, key=lambda r: r.level)
        parts.append(f"{top.text} (at least {T.LEVELS[top.level]})")
    elif advice > 0 and getattr(evidence, "any_of", ()) and analysis.triage[advice:].sum() >= 1.0:
        signs = "; ".join(" or ".join(g) for g in evidence.any_of)
        parts.append(f"a yes to at least one of {signs} (at least {level})")
    p_at_least = analysis.triage[advice:].sum()
    if advice > 0:
        parts.append(f"P(needs {T.triage_of(net).need[level]}) = {p_at_least:.1%}")
    else:
        parts.append(f"P(needs a doctor) = {analysis.triage[1:].sum():.1%}, too low to outweigh the visit")
    return "; ".join(parts)


_INDEXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _indexes(net: Network) -> tuple[pd.Index, pd.Index]:
    """The causes' and the levels' pandas indexes, built once per network (building an
    index costs more than the rest of a Result)."""
    got = _INDEXES.get(net)
    if got is None:
        got = _INDEXES[net] = (pd.Index(list(net.causes), dtype=object), pd.Index(list(T.LEVELS), dtype=object))
    return got


def result_of(net: Network, encoded: Evidence, recalibration=None) -> Result:
    """The `Result` of node-level evidence (`encode`'s output, groups of `Evidence.any_of`
    included): what `infer` returns for a single case."""
    return _result(net, encoded, recalibration)


def group_keys(net: Network) -> dict[str, tuple[str, ...]]:
    """The group questions `infer` takes as keys (the red-flag screen `red_flags` and the
    review-of-systems groups of priors/triage.toml): key -> member nodes."""
    return Q.group_members(T.triage_of(net).questions)


def _result(net: Network, encoded: Evidence, recalibration=None) -> Result:
    a = analyse(net, encoded)
    if recalibration is not None:
        a = Analysis(a.total, a.causes, apply_recalibration(a.triage, recalibration), a.method)
    names, levels = _indexes(net)
    order = np.argsort(-a.causes, kind="stable")  # descending; ties in network order
    causes = pd.Series(a.causes[order], index=names[order], name="P(present | evidence)", copy=False)
    advice = _advise(net, a.triage)
    return Result(
        causes=causes,
        triage=pd.Series(a.triage, index=levels, name="P(level | evidence)", copy=False),
        urgency=float(a.triage[2:].sum()),
        advice=T.LEVELS[advice],
        advice_reason=_reason(net, encoded, a, advice),
        evidence=encoded,
        network=net,
        analysis=a,
    )


def infer(
    evidence: Mapping[str, Any] | Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    network: Network | None = None,
    recalibration: Callable[[float], float] | None = None,
    errors: str = "raise",
    intervals: int | None = None,
    rng: np.random.Generator | None = None,
) -> "Result | BatchResult":
    """Exact posteriors of every cause, the triage distribution, urgency and advice.

    Parameters
    ----------
    evidence : a dict of docs/model.md keys (one case), or a list of dicts or a DataFrame
        (one case a row, empty values unknown). A single case may also answer a group
        question (`red_flags`, the screen, and the groups of priors/triage.toml: see
        `group_keys`): "any" or "yes" (at least one of its signs, not said which: the
        engine conditions on exactly that), "none" or "no" (all absent), or the signs
        present as a list (the others absent).
    network : the network to use (default: the bundled priors).
    recalibration : a map of urgency fitted by `model.validation` (docs/model.md); applied
        only when given.
    errors : "raise" (default) or "collect", the same words for a dict, a list and a
        DataFrame; anything else is a ValueError. "raise": a bad case is a ValueError (for
        a batch, one naming the bad rows and columns: "1 bad row: row 3: location: ...").
        "collect" (a batch only; with a single dict it is a ValueError, pass ``[case]``):
        every row is kept, a failed row is NaN in causes, triage, urgency and advice,
        and `BatchResult.errors` says why.
        An empty batch (``[]``, a DataFrame with no rows) returns an empty `BatchResult`
        (no rows, every column), as pandas does with an empty frame.
    intervals : a number of draws N (single case only): `Result.intervals` then holds
        the 5%, 50% and 95% points over N networks redrawn from the ranges in priors/,
        each answered exactly. The point answer is unchanged.
    rng : the numpy Generator the draws come from (required with `intervals`).

    Examples
    --------
    >>> r = infer({"location": ["arm", "leg"], "duration": 120, "weakness": "none"})
    >>> round(float(r.triage.sum()), 9)
    1.0
    """
    batch = isinstance(evidence, (pd.DataFrame, list, tuple))
    check_errors(errors, batch=batch)
    net = network if network is not None else load_network()
    if batch:
        if intervals is not None:
            raise ValueError("intervals: only for a single case (a dict); for a batch, call infer on each case")
        return infer_batch(evidence, network=net, errors=errors, recalibration=recalibration, row_result=infer)
    result = _result(net, encode(evidence, groups=group_keys(net)), recalibration)
    if intervals is None:
        return result

    table = interval_table(net, result.evidence, intervals, rng, recalibration=recalibration)
    ordered = table.loc[list(result.causes.index) + ["urgency"]]
    ordered.attrs = dict(table.attrs)  # the number of draws
    return dataclasses.replace(result, intervals=ordered)
