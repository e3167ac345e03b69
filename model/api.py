"""`infer()`: the public entry point (docs/model.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .network import questions as Q
from .network import rules as T
from .network import vocabulary as V
from .inference import levels as L
from .inference.analysis import Analysis, analyse, analyse_evidence, apply_recalibration
from .batch import BatchResult, check_errors, infer_batch
from .network.evidence import Evidence, encode
from .network.build import Network, load_network
from .advice.ranking import next_questions
from .presentation.plots import plot_result
from .uncertainty.draws import intervals as interval_table
from .uncertainty.oneway import sensitivity

# Log-odds of a probability are taken on [LOGIT_FLOOR, 1 - LOGIT_FLOOR], so that a
# cause ruled out (probability 0) shows as a large finite change, not an infinity.
LOGIT_FLOOR = 1e-12


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


# eq=False: a Result is compared by identity. Its Series are not fields (below), and
# equality on the other fields alone (urgency, advice, reason, evidence) would call two
# Results with different posteriors equal.
@dataclass(frozen=True, repr=False, eq=False)
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
        priors/ (one row a cause, then `urgency`; see `model.uncertainty.draws`); else None.
    """

    urgency: float
    advice: str
    advice_reason: str
    evidence: Evidence
    network: Network = field(compare=False)
    analysis: Analysis = field(compare=False)
    intervals: pd.DataFrame | None = field(default=None, compare=False)

    # `causes` and `triage` are built from `analysis` when first read: two pandas Series
    # cost about as much as the exact sums of a case on full evidence, and a batch row's
    # Result or an interview step may never read them. (A cached_property writes the
    # instance's __dict__ directly, which a frozen dataclass allows.)
    @cached_property
    def causes(self) -> pd.Series:
        names, _ = _indexes(self.network)
        order = np.argsort(-self.analysis.causes, kind="stable")  # descending; ties in network order
        return pd.Series(self.analysis.causes[order], index=names[order], name="P(present | evidence)", copy=False)

    @cached_property
    def triage(self) -> pd.Series:
        _, levels = _indexes(self.network)
        return pd.Series(self.analysis.triage, index=levels, name="P(level | evidence)", copy=False)

    def __repr__(self) -> str:
        top = ", ".join(f"{c}={p:.3f}" for c, p in self.causes.head(3).items())
        return f"Result({top}, ...; urgency={self.urgency:.3f}, advice={self.advice})"

    def _repr_html_(self) -> str:
        """Jupyter's display: causes as bars, triage, advice and reason, the next question."""
        from .presentation.display import result_html

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
            without = np.concatenate([post[idx], [L.urgency(probs)]])
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
        "expected_loss") most, each at both ends of its range (`model.uncertainty.draws`)."""
        return sensitivity(self.network, self.evidence, target, k=k)

    def plot(self, ax=None, *, top: int = 10):
        """Bar chart of the top causes' posteriors (matplotlib), with intervals if any."""
        return plot_result(self, ax=ax, top=top, intervals=self.intervals)


def _reason(net: Network, evidence: Evidence, analysis: Analysis, advice: int) -> str:
    if advice == 0:  # self-care: no rule is named, so the rules are not read
        return f"P(needs a doctor) = {analysis.triage[1:].sum():.1%}, too low to outweigh the visit"
    level = T.LEVELS[advice]
    p_at_least = analysis.triage[advice:].sum()
    held = [r for r in T.rules_holding_states(net, evidence) if r.level >= advice]
    parts = []
    if held:
        top = max(held, key=lambda r: r.level)
        parts.append(f"{top.text} (at least {T.LEVELS[top.level]})")
    elif getattr(evidence, "any_of", ()) and p_at_least >= 1.0:
        signs = "; ".join(" or ".join(g) for g in evidence.any_of)
        parts.append(f"a yes to at least one of {signs} (at least {level})")
    parts.append(f"P(needs {net.triage.need[level]}) = {p_at_least:.1%}")
    return "; ".join(parts)


def _indexes(net: Network) -> tuple[pd.Index, pd.Index]:
    """The causes' and the levels' pandas indexes, built once per network (building an
    index costs more than the rest of a Result)."""
    return net.derived.get("result_indexes", lambda: (pd.Index(list(net.causes), dtype=object),
                                                      pd.Index(list(T.LEVELS), dtype=object)))


def result_of(net: Network, encoded: Evidence, recalibration=None) -> Result:
    """The `Result` of node-level evidence (`encode`'s output, groups of `Evidence.any_of`
    included): what `infer` returns for a single case."""
    return _result(net, encoded, recalibration)


def group_keys(net: Network) -> dict[str, tuple[str, ...]]:
    """The group questions `infer` takes as keys (the red-flag screen `red_flags` and the
    review-of-systems groups of priors/triage.toml): key -> member nodes."""
    return dict(_group_keys(net))


def _group_keys(net: Network) -> dict[str, tuple[str, ...]]:
    """`group_keys`, built once per network (kept in its derived store) for `infer`,
    which reads it on every case and never changes it (`group_keys` hands out copies)."""
    # the triage rules are fetched first: a build must not ask the store for another
    # value (its lock is held while building, and is not reentrant)
    questions = net.triage.questions
    return net.derived.get("group_keys", lambda: Q.group_members(questions))


def _result(net: Network, encoded: Evidence, recalibration=None) -> Result:
    a = analyse(net, encoded)
    if recalibration is not None:
        a = Analysis(a.total, a.causes, apply_recalibration(a.triage, recalibration), a.method)
    level = L.Level.of(net, a.triage)
    advice = level.advice
    return Result(
        urgency=level.urgency,
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
    recalibration : a map of urgency fitted by `model.validation.metrics` (docs/model.md); applied
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
    result = _result(net, encode(evidence, groups=_group_keys(net)), recalibration)
    if intervals is None:
        return result

    table = interval_table(net, result.evidence, intervals, rng, recalibration=recalibration)
    ordered = table.loc[list(result.causes.index) + ["urgency"]]
    ordered.attrs = dict(table.attrs)  # the number of draws
    return dataclasses.replace(result, intervals=ordered)
