"""One-way sensitivity: what each number's range in priors/ does to an answer.

Each probability of the network enters the joint distribution linearly when the other
entries of its row move with it in an affine way, so P(evidence, twitching), P(cause,
evidence, twitching) and P(evidence, twitching, no level >= k) are linear in it, and
every posterior, triage probability and `urgency` is a ratio of two linear functions.
Two exact evaluations (at the ends of the range) fix each one-way curve everywhere
(`OneWay.at`); nothing is a finite difference. The parameters varied are the network's
compiled parameters, with these rows (`parameters` lists them):

* ``prior:<cause>``: the cause's marginal P(present), its whole table P(cause |
  exposures) scaled in proportion (so relative risks stay fixed). The range is the
  prior's range in causes.toml, cut where the table's largest entry would pass 1.
  (The prior in causes.toml reaches the table through the capped k-scaling of
  `compile_network`, which is not linear; the scaled table is, and equals it wherever
  no entry is capped.)
* ``twitch:<cause>``: P(twitching | cause present), the chance of the cause's switch
  (`Network.twitch`) that every twitch region's link of the cause waits on; its
  complement P(not twitching | cause) moves with it. The range is the twitch range in
  causes.toml.
* ``spread:<cause>``: P(spread pattern | cause twitching) (`Network.spread`); the focal
  pattern takes the rest, its shares fixed. The range is sites.toml's.
* ``link:<finding>|<cause>[=<state>]``: P(contribution = state | cause present) of a
  noisy-OR / noisy-MAX link, the other states of the row rescaled in proportion. A
  twitch region's link is P(region | cause, spread pattern), varied over its range in
  sites.toml; P(twitching | cause) is the ``twitch`` row. (The weakness link stays
  linear with its latent: W on has probability 1 - P(none), and its conditional
  distribution times that is the row itself.)
* ``leak:<finding>[=<state>]``: the same for the leak.
* ``exposure:<exposure>=<state>``: a population share, the other states rescaled.
* ``loss:<true level>-><advised level>``: an entry of the loss matrix. Losses do not
  enter posteriors or `urgency` (their swing there is 0); they move `expected_loss`, the
  expected loss of the advised level, min over advice a of sum_t P(t | e) loss[t, a].
  triage.toml gives no ranges: each entry gets the range docs/sources.md gives an estimate,
  [v/2, 2v].

The state varied in a row is every state above the lowest (the lowest is the "no
contribution" state that absorbs the rest). Relative risks are not varied: they reach
the table through the cap, not linearly. Sensitivity describes the model's own answer,
without a recalibration map.
"""


from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..network import rules as T
from ..inference import levels as L
from ..network import vocabulary as V
from ..network.evidence import SUGGESTION_CUTOFF
from ..network.build import Network
from ..network.priors import SUM_TOLERANCE
from ..network.draws import marginal_prior

# The points of the answer reported over the draws (the 5%, 50% and 95%).
from .draws import EXPECTED_LOSS, KINDS, URGENCY, network_like, stack_networks, stacked_answers
__all__ = ["Parameter", "OneWay", "parameters", "with_parameter", "one_way", "sensitivity"]


@dataclass(frozen=True)
class Parameter:
    """One compiled parameter of the network and its range (see the module docstring).

    name : e.g. "prior:als_mnd", "twitch:als_mnd", "link:weakness|als_mnd=marked",
        "leak:numbness", "exposure:caffeine=high", "loss:soon->self_care".
    kind : one of KINDS. node, cause, state : where it sits (cause is None for a leak,
        an exposure or a loss; for a loss node is the true level, state the advice).
    """

    name: str
    kind: str
    node: str
    cause: str | None
    state: int
    value: float
    low: float
    high: float


def _state_suffix(net: Network, node: str, j: int) -> str:
    states = net.states[node]
    return "" if states == V.BINARY_STATES else f"={states[j]}"


def parameters(net: Network) -> list[Parameter]:
    """Every parameter `sensitivity` varies, with its range (module docstring)."""
    priors = net.priors
    out = []
    for c in net.causes:
        table = net.cause_table[c]
        value = marginal_prior(net, c)
        top = float(table.max())
        if value <= 0:
            continue
        prior = priors.causes[c].prior
        # the range of the prior, scaled from its point to this table's marginal
        low, high = value * prior.low / prior.value, value * prior.high / prior.value
        if top > 0:
            high = min(high, value / top)
        out.append(Parameter(f"prior:{c}", "prior", c, c, 1, value, min(low, value), max(high, value)))
    for c in net.causes:
        value, tw = float(net.twitch[c]), priors.causes[c].twitch
        out.append(Parameter(f"twitch:{c}", "twitch", c, c, 1, value, min(tw.low, value), max(tw.high, value)))
    for c in net.spread:
        value, sp = float(net.spread[c]), priors.sites[c].spread
        out.append(Parameter(f"spread:{c}", "spread", c, c, 1, value, min(sp.low, value), max(sp.high, value)))
    for f in net.findings:
        finding = priors.findings[f]
        for i, c in enumerate(net.causes):
            if f in net.regions:  # P(region | cause, spread pattern): sites.toml
                x = priors.sites[c].spread_sites.get(f.removeprefix("twitch_")) if c in priors.sites else None
                if x is not None:
                    value = float(net.link[f][i, 1])
                    out.append(Parameter(f"link:{f}|{c}", "link", f, c, 1, value, min(x.low, value), max(x.high, value)))
                continue
            if c not in finding.links:
                continue
            d = finding.links[c]
            for j in range(1, len(net.states[f])):
                value = float(net.link[f][i, j])
                low, high = d.low[j], d.high[j]
                out.append(Parameter(f"link:{f}|{c}{_state_suffix(net, f, j)}", "link", f, c, j, value, min(low, value), max(high, value)))
        for j in range(1, len(net.states[f])):
            value = float(net.leak[f][j])
            low, high = finding.leak.low[j], finding.leak.high[j]
            out.append(Parameter(f"leak:{f}{_state_suffix(net, f, j)}", "leak", f, None, j, value, min(low, value), max(high, value)))
    for e in net.exposures:
        dist = priors.exposures[e].distribution
        for j in range(1, len(net.states[e])):
            value = float(net.exposure_prob[e][j])
            state = net.states[e][j]
            out.append(Parameter(f"exposure:{e}={state}", "exposure", e, None, j, value, min(dist[j].low, value), max(dist[j].high, value)))
    loss = net.triage.loss
    for t, true in enumerate(T.LEVELS):
        for a, advised in enumerate(T.LEVELS):
            v = float(loss[t, a])
            if t != a:  # the range docs/sources.md gives an estimate without a sourced range
                out.append(Parameter(f"loss:{true}->{advised}", "loss", true, None, a, v, v / 2, 2 * v))
    return [p for p in out if p.high > p.low]


def _set_row(row: np.ndarray, j: int, theta: float) -> np.ndarray:
    """Entry j of a probability row set to theta, the others rescaled in proportion."""
    row = np.array(row, dtype=float)
    rest = 1.0 - row[j]
    if rest > 0:
        row *= (1.0 - theta) / rest
    else:  # the row had all its mass on j: the remainder goes to the lowest state
        row[:] = 0.0
        row[0] = 1.0 - theta
    row[j] = theta
    return row


def with_parameter(net: Network, parameter: Parameter | str, theta: float) -> Network:
    """A network equal to `net` but with one parameter set to `theta` (a new object).

    A loss is not a network parameter: use `one_way` for it.
    """
    p = _parameter(net, parameter)
    if not 0.0 <= theta <= (np.inf if p.kind == "loss" else 1.0):
        raise ValueError(f"theta: {theta!r} is not a probability for {p.name}")
    if p.kind == "prior":
        table = net.cause_table[p.cause] * (theta / p.value)
        if table.max() > 1.0 + SUM_TOLERANCE:
            raise ValueError(f"theta: {theta!r} would put an entry of {p.cause}'s table above 1 (at most {p.value / net.cause_table[p.cause].max()!r})")
        return network_like(net, cause_table={p.cause: np.minimum(table, 1.0)})
    if p.kind == "twitch":
        return network_like(net, twitch={p.cause: np.asarray(float(theta))})
    if p.kind == "spread":
        return network_like(net, spread={p.cause: np.asarray(float(theta))})
    if p.kind == "link":
        i = net.causes.index(p.cause)
        table = np.array(net.link[p.node])
        table[i] = _set_row(table[i], p.state, theta)
        return network_like(net, link={p.node: table})
    if p.kind == "leak":
        return network_like(net, leak={p.node: _set_row(net.leak[p.node], p.state, theta)})
    if p.kind == "exposure":
        return network_like(net, exposure_prob={p.node: _set_row(net.exposure_prob[p.node], p.state, theta)})
    raise ValueError(f"parameter: {p.name} is a loss, not a network parameter; its curve is one_way(...).at(theta)")


def _parameter(net: Network, parameter: Parameter | str) -> Parameter:
    if isinstance(parameter, Parameter):
        return parameter
    table = {p.name: p for p in parameters(net)}
    if parameter not in table:
        close = difflib.get_close_matches(str(parameter), list(table), n=1, cutoff=SUGGESTION_CUTOFF)
        hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: parameters(net) names such as {', '.join(list(table)[:3])}"
        raise ValueError(f"parameter: {parameter!r} is not a parameter with a range{hint}")
    return table[parameter]


def _targets(net: Network) -> tuple[str, ...]:
    return tuple(net.causes) + (URGENCY, EXPECTED_LOSS)


def _check_target(net: Network, target: str) -> str:
    allowed = _targets(net)
    if target not in allowed:
        close = difflib.get_close_matches(str(target), allowed, n=1, cutoff=SUGGESTION_CUTOFF)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"target: {target!r} is not a cause, {URGENCY!r} or {EXPECTED_LOSS!r}{hint}; allowed: {', '.join(allowed)}")
    return target


@dataclass(frozen=True)
class OneWay:
    """The exact one-way curve of every answer in one parameter.

    The linear parts (total, joint, safe: see `StackedAnswers`) at the two ends of the
    range; `at(theta)` interpolates them linearly (exact: they are linear) and takes the
    ratios. For a loss entry the triage distribution is fixed and the expected loss is
    computed at theta directly.
    """

    parameter: Parameter
    network: Network = dataclasses.field(repr=False)
    total: np.ndarray  # (2,)
    joint: np.ndarray  # (2, n)
    safe: np.ndarray  # (2, 3)

    def _parts(self, theta) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self.parameter
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        if p.kind == "loss":
            ones = np.ones_like(theta)
            return self.total[0] * ones, self.joint[0][None] * ones[:, None], self.safe[0][None] * ones[:, None]
        s = (theta - p.low) / (p.high - p.low)
        lerp = lambda a: a[0] + s.reshape((-1,) + (1,) * (a.ndim - 1)) * (a[1] - a[0])  # noqa: E731
        return lerp(self.total), lerp(self.joint), lerp(self.safe)

    def at(self, theta: float | Sequence[float]) -> pd.DataFrame:
        """Every cause's posterior, `urgency`, `expected_loss` and the advice at theta.

        One row a value of theta (the index).
        """
        p = self.parameter
        thetas = np.atleast_1d(np.asarray(theta, dtype=float))
        total, joint, safe = self._parts(thetas)
        triage = L.distribution(L.at_least(safe, total))
        loss = np.broadcast_to(self.network.triage.loss, (len(thetas), 4, 4)).copy()
        if p.kind == "loss":
            loss[:, T.LEVELS.index(p.node), p.state] = thetas
        expected = L.expected_loss(self.network, triage, loss)
        frame = pd.DataFrame(np.clip(joint / total[:, None], 0.0, 1.0), columns=list(self.network.causes), index=pd.Index(thetas, name=p.name))
        frame[URGENCY] = L.urgency(triage)
        frame[EXPECTED_LOSS] = expected.min(axis=1)
        frame["advice"] = np.array(T.LEVELS, dtype=object)[expected.argmin(axis=1)]
        return frame


def _one_ways(net: Network, evidence: Mapping[str, str], params: Sequence[Parameter]) -> list[OneWay]:
    """One-way curves of many parameters from one stacked evaluation (2 networks each)."""
    moving = [p for p in params if p.kind != "loss"]
    networks = [with_parameter(net, p, theta) for p in moving for theta in (p.low, p.high)]
    point = None
    out = {}
    if networks:
        a = stacked_answers(stack_networks(networks), evidence)
        for k, p in enumerate(moving):
            rows = slice(2 * k, 2 * k + 2)
            out[p.name] = OneWay(p, net, a.total[rows], a.joint[rows], a.safe[rows])
    if any(p.kind == "loss" for p in params):
        point = stacked_answers(stack_networks([net]), evidence)
        for p in params:
            if p.kind == "loss":
                out[p.name] = OneWay(p, net, np.repeat(point.total, 2), np.repeat(point.joint, 2, axis=0), np.repeat(point.safe, 2, axis=0))
    return [out[p.name] for p in params]


def one_way(net: Network, evidence: Mapping[str, str], parameter: Parameter | str) -> OneWay:
    """The exact one-way curve of every answer in `parameter` (node-level evidence)."""
    return _one_ways(net, evidence, [_parameter(net, parameter)])[0]


def _inert(net: Network, evidence: Mapping[str, str], target: str) -> Callable[[Parameter], bool]:
    """Parameters that cannot move `target` under this evidence, by the structure alone.

    A finding that is unobserved, not a twitch region (the premise reads those) and not
    read by a triage rule sums out to 1; an observed exposure's share cancels from every
    ratio; a loss moves only `expected_loss`. These get a swing of exactly 0 without an
    evaluation.
    """
    rule_nodes = {node for r in net.triage.rules for conj in r.conjunctions for node, _ in conj}
    triage_target = target in (URGENCY, EXPECTED_LOSS)

    def inert(p: Parameter) -> bool:
        if p.kind == "loss":
            return target != EXPECTED_LOSS
        if p.kind == "exposure":
            return p.node in evidence
        if p.kind in ("link", "leak"):
            read = p.node in evidence or p.node in net.regions or (triage_target and p.node in rule_nodes)
            return not read
        return False

    return inert


def sensitivity(
    net: Network,
    evidence: Mapping[str, str],
    target: str,
    *,
    k: int = 10,
    kinds: Sequence[str] = KINDS,
) -> pd.DataFrame:
    """The `k` parameters whose ranges move `target` most (node-level evidence).

    target : a cause, "urgency" or "expected_loss".
    Returns one row a parameter, largest swing first: `parameter`, `kind`, `value`,
    `low`, `high` (its range), `at_low`, `at_high` (the target with the parameter at
    each end, the others at their points), `swing` = |at_high - at_low|, and
    `advice_low`, `advice_high`. `attrs` holds `target` and `point` (the target's
    point answer). Each curve is monotone in its parameter (a ratio of linear
    functions with a positive denominator), so the ends are its extremes.
    """
    _check_target(net, target)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k: expected a whole number >= 1, got {k!r}")
    bad = [x for x in kinds if x not in KINDS]
    if bad:
        raise ValueError(f"kinds: {bad[0]!r} is not a kind; allowed: {', '.join(KINDS)}")
    params = [p for p in parameters(net) if p.kind in kinds]
    inert = _inert(net, evidence, target)
    live = [p for p in params if not inert(p)]
    curves = dict(zip([p.name for p in live], _one_ways(net, evidence, live)))
    # the point answer: any loss entry's curve at its own value leaves the network as is
    anchor = next(p for p in parameters(net) if p.kind == "loss")
    point_row = _one_ways(net, evidence, [anchor])[0].at(anchor.value)
    point = float(point_row[target].iloc[0])
    rows = []
    for p in params:
        if p.name in curves:
            ends = curves[p.name].at([p.low, p.high])
        else:  # no path from the parameter to the target: the answer does not move
            ends = pd.concat([point_row, point_row])
        lo, hi = float(ends[target].iloc[0]), float(ends[target].iloc[1])
        rows.append({
            "parameter": p.name,
            "kind": p.kind,
            "value": p.value,
            "low": p.low,
            "high": p.high,
            "at_low": lo,
            "at_high": hi,
            "swing": abs(hi - lo),
            "advice_low": ends["advice"].iloc[0],
            "advice_high": ends["advice"].iloc[1],
        })
    columns = ["parameter", "kind", "value", "low", "high", "at_low", "at_high", "swing", "advice_low", "advice_high"]
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values("swing", ascending=False, kind="stable").head(int(k)).reset_index(drop=True)
    table.attrs["target"] = target
    table.attrs["point"] = point
    return table
