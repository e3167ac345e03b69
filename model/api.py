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
from .analysis import Analysis, analyse, analyse_many, apply_recalibration, node_states
from .batch import BatchResult, check_errors, infer_batch
from .evidence import Evidence, encode
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
        for item, nodes in _items(self.evidence).items():
            rest = {k: v for k, v in self.evidence.items() if k not in nodes}
            other = analyse(net, rest)
            without = np.concatenate([other.causes[idx], [other.triage[2:].sum()]])
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

    def next_questions(self, k: int = 5) -> pd.DataFrame:
        """The open questions (docs/model.md: the person's items, `location` and
        `medications` one question each) ranked by the expected value of their answer.

        value: expected reduction of the advice's expected loss (priors/triage.toml
        units), every answer enumerated exactly; net_value = value - cost; ties by the
        expected drop in the sum of the causes' binary entropies. `text` is the
        question's words; `changes_advice` lists the answers that would change the advice.
        """
        return next_questions(self.network, self.evidence, self.analysis, k=k)

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


def rank_questions(net: Network, evidence: Evidence, now: Analysis, keys=None) -> pd.DataFrame:
    """Every open question (or those of `keys`) with the expected value of its answer.

    value: expected reduction of the advice's expected loss (priors/triage.toml units),
    every answer enumerated exactly (a set question: every subset); net_value = value -
    cost; ties by the expected drop in the sum of the causes' binary entropies.
    """
    loss_now = T.expected_loss(net, now.triage)
    advice_now = int(np.argmin(loss_now))
    h_now = _entropy(now.causes)
    # the red-flag screen is the interview's first question; here its three flags are
    # ranked one by one
    asked = [q for q in open_questions(net, evidence) if (q.key != Q.SCREEN if keys is None else q.key in keys)]
    # every answer to every question, answered in one call of the vectorised engine
    trials = [(q, label, nodes) for q in asked for label, nodes in Q.outcomes(net, q, evidence)]
    totals, causes, levels, _ = analyse_many(net, node_states(net, [{**evidence, **nodes} for _, _, nodes in trials]))
    answered: dict[str, list] = {}
    for (q, label, _), total, post, probs in zip(trials, totals, causes, levels):
        answered.setdefault(q.key, []).append((label, total / now.total, post, probs))
    rows = []
    for q in asked:
        after_loss, after_h, changes = 0.0, 0.0, []
        for label, p, post, probs in answered.get(q.key, []):
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
        rows.append({
            "question": q.key,
            "text": q.text,
            "value": value,
            "cost": q.cost,
            "net_value": value - q.cost,
            "entropy_drop": h_now - after_h,
            "answers": {label: round(float(p), 6) for label, p, _, _ in answered.get(q.key, [])},
            "changes_advice": "; ".join(changes),
        })
    columns = ["question", "text", "value", "cost", "net_value", "entropy_drop", "answers", "changes_advice"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["net_value", "entropy_drop"], ascending=False, kind="stable").reset_index(drop=True)


def next_questions(net: Network, evidence: Evidence, now: Analysis, *, k: int = 5) -> pd.DataFrame:
    return rank_questions(net, evidence, now).head(k).reset_index(drop=True)


def _reason(net: Network, evidence: Evidence, analysis: Analysis, advice: int) -> str:
    level = T.LEVELS[advice]
    held = [r for r in T.rules_holding(net, {n: net.states[n].index(s) for n, s in evidence.items()}) if r.level >= advice]
    parts = []
    if held and advice > 0:
        top = max(held, key=lambda r: r.level)
        parts.append(f"{top.text} (at least {T.LEVELS[top.level]})")
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
        (one case a row, empty values unknown).
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
    result = _result(net, encode(evidence), recalibration)
    if intervals is None:
        return result

    table = interval_table(net, result.evidence, intervals, rng, recalibration=recalibration)
    ordered = table.loc[list(result.causes.index) + ["urgency"]]
    ordered.attrs = dict(table.attrs)  # the number of draws
    return dataclasses.replace(result, intervals=ordered)
