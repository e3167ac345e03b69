"""What the ranges in priors/ do to an answer: intervals and one-way sensitivity.

Intervals
---------
`interval_draws` redraws every number of the priors `n` times from its range (the Beta
matching of `model.synthetic.redraw_values`: a Beta on [low, high] with its mean at the
point value and concentration `BETA_CONCENTRATION`; relative risks on the log scale),
compiles the `n` networks at once (`compile_draws`, the arrays of
`model.network.compile_network` with a leading draw axis) and answers the evidence on
each of them exactly with the one engine (`StackedAnswers`: a draw of the network is
one more row of the engine's query arrays, reading its own slice of `Stack.tables`,
the engine's layout with a leading draw axis). `intervals` gives the
5%, 50% and 95% points of each cause's posterior and of `urgency` over the draws.

Sensitivity
-----------
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
import functools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import triage as T
from .analysis import analyse, apply_recalibration, level_boxes, node_states
from . import vocabulary as V
from .engine import Tables, build_tables, evaluate_many, from_states
from .evidence import SUGGESTION_CUTOFF
from .network import BISECTION_STEPS, Network, ratio_applies
from .priors import SUM_TOLERANCE, PriorsError
from .priors import Distribution, Number
from .synthetic import BETA_CONCENTRATION, marginal_prior, priors_with_values, redraw_values

# The points of the answer reported over the draws (the 5%, 50% and 95%).
INTERVAL_QUANTILES = (0.05, 0.5, 0.95)
URGENCY = "urgency"
EXPECTED_LOSS = "expected_loss"
KINDS = ("prior", "twitch", "spread", "link", "leak", "exposure", "loss")

__all__ = [
    "BETA_CONCENTRATION",
    "INTERVAL_QUANTILES",
    "OneWay",
    "Parameter",
    "Stack",
    "compile_draws",
    "interval_draws",
    "intervals",
    "one_way",
    "parameters",
    "plot_intervals",
    "plot_tornado",
    "scale_ranges",
    "sensitivity",
    "stack_networks",
    "stacked_answers",
    "with_parameter",
]


# ----------------------------------------------------------------------------------
# Many networks of one shape
# ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Stack:
    """`size` networks of the shape of `base`, their arrays with a leading axis.

    exposure_prob[e] (size, k); cause_table[c] (size, *parent shape); link[f]
    (size, n_causes, k); leak[f] (size, k); twitch[c] (size,), P(twitching | cause);
    spread[c] (size,), P(spread pattern | switch on); focal[c] (size, regions), P(region |
    focal pattern). Triage rules and losses are `base`'s.
    """

    base: Network
    exposure_prob: Mapping[str, np.ndarray]
    cause_table: Mapping[str, np.ndarray]
    link: Mapping[str, np.ndarray]
    leak: Mapping[str, np.ndarray]
    twitch: Mapping[str, np.ndarray]
    spread: Mapping[str, np.ndarray]
    focal: Mapping[str, np.ndarray]

    @property
    def size(self) -> int:
        return len(next(iter(self.leak.values())))

    @functools.cached_property
    def tables(self) -> Tables:
        """The stack in the engine's layout: a draw of the network is one more row."""
        return build_tables(self.base, self.exposure_prob, self.cause_table, self.link, self.leak, self.twitch,
                            self.spread, self.focal)

    def network(self, i: int) -> Network:
        """The network of draw `i`, as an ordinary `Network` (any engine reads it)."""
        return _network_like(
            self.base,
            exposure_prob={e: a[i] for e, a in self.exposure_prob.items()},
            cause_table={c: a[i] for c, a in self.cause_table.items()},
            link={f: a[i] for f, a in self.link.items()},
            leak={f: a[i] for f, a in self.leak.items()},
            twitch={c: a[i] for c, a in self.twitch.items()},
            spread={c: a[i] for c, a in self.spread.items()},
            focal={c: a[i] for c, a in self.focal.items()},
        )

    def __repr__(self) -> str:
        return f"Stack({self.size} networks like {self.base!r})"


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


def _network_like(base: Network, **arrays: Mapping[str, np.ndarray]) -> Network:
    """`base` with some of its arrays replaced (a fresh cache; `base` is not changed)."""
    changes = {}
    for name, table in arrays.items():
        merged = dict(getattr(base, name))
        merged.update({k: _frozen(v) for k, v in table.items()})
        changes[name] = MappingProxyType(merged)
    return dataclasses.replace(base, **changes)


def stack_networks(networks: Sequence[Network]) -> Stack:
    """Stack networks of one shape (for example, one per parameter value)."""
    if not networks:
        raise ValueError("networks: need at least one network")
    base = networks[0]
    for i, net in enumerate(networks):
        if net.causes != base.causes or net.findings != base.findings or dict(net.cause_parents) != dict(base.cause_parents):
            raise ValueError(f"networks[{i}]: its nodes or edges differ from networks[0]; a stack needs one shape")

    def stack(name: str) -> dict[str, np.ndarray]:
        return {k: np.stack([getattr(n, name)[k] for n in networks]) for k in getattr(base, name)}

    return Stack(base, stack("exposure_prob"), stack("cause_table"), stack("link"), stack("leak"), stack("twitch"),
                 stack("spread"), stack("focal"))


def _scale_to_marginal(rr: np.ndarray, weight: np.ndarray, prior: np.ndarray, where: str) -> np.ndarray:
    """`model.network.scale_to_marginal` for a leading draw axis (the same bisection)."""
    axes = tuple(range(1, rr.ndim))
    expand = (slice(None),) + (None,) * (rr.ndim - 1)
    mean = (weight * rr).sum(axis=axes)
    if ((mean <= 0) & (prior > 0)).any():
        raise PriorsError(f"{where}: every exposure state with population share has relative risk 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(prior > 0, prior / mean, 0.0)
    table = k[expand] * rr
    capped = table.reshape(len(rr), -1).max(axis=1) > 1.0
    if not capped.any():
        return table
    rows = np.flatnonzero(capped)
    r, w, p = rr[rows], weight[rows], prior[rows]
    reachable = np.where(r > 0, w, 0.0).sum(axis=axes)
    if (p > reachable).any():
        raise PriorsError(f"{where}: the prior cannot be reached in some draw: relative risk 0 covers too much of the population")
    lo = k[rows]
    hi = 1.0 / np.where(r > 0, r, np.inf).reshape(len(rows), -1).min(axis=1)
    ex = (slice(None),) + (None,) * (r.ndim - 1)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        below = (w * np.minimum(1.0, mid[ex] * r)).sum(axis=axes) < p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    table[rows] = np.minimum(1.0, hi[ex] * r)
    return table


def compile_draws(net: Network, values: Mapping[tuple, Any]) -> Stack:
    """The networks of a sized `redraw_values(net.priors, rng, size)`, compiled at once.

    Draw i equals `compile_network(priors_with_values(net.priors, values, i))`.
    """
    priors = net.priors
    size = len(values[("leak", net.findings[0])])
    exposure_prob = {e: np.asarray(values[("exposure", e)], dtype=float) for e in net.exposures}
    cause_table = {}
    for c in net.causes:
        cause = priors.causes[c]
        parents = net.cause_parents[c]
        shape = [len(net.states[e]) for e in parents]
        table = np.ones([size] + shape)
        weight = np.ones([size] + shape)
        for axis, e in enumerate(parents):
            rr = np.stack(
                [np.broadcast_to(values[("relative_risk", c, e, s)], size) if s in cause.relative_risk[e] else np.ones(size) for s in net.states[e]],
                axis=1,
            )
            view = [size] + [1] * len(parents)
            view[axis + 1] = len(net.states[e])
            table = table * np.where(ratio_applies(parents, e, tuple(shape)), rr.reshape(view), 1.0)
            weight = weight * exposure_prob[e].reshape(view)
        prior = np.broadcast_to(np.asarray(values[("prior", c)], dtype=float), size)
        cause_table[c] = _scale_to_marginal(table, weight, prior, f"causes.toml: [{c}.relative_risk]")
    link, leak = {}, {}
    for f in net.findings:
        finding = priors.findings[f]
        k = len(net.states[f])
        table = np.zeros((size, len(net.causes), k))
        table[:, :, 0] = 1.0
        for i, c in enumerate(net.causes):
            if f in net.regions:
                # a region's link is P(site | cause, spread pattern) (sites.toml)
                key = ("spread_site", c, f.removeprefix("twitch_"))
                if key in values:
                    q = np.broadcast_to(np.asarray(values[key], dtype=float), size)
                    table[:, i, 0], table[:, i, 1] = 1.0 - q, q
            elif c in finding.links:
                table[:, i] = np.asarray(values[("link", f, c)], dtype=float)
        link[f] = table
        leak[f] = np.asarray(values[("leak", f)], dtype=float)
    twitch = {c: np.broadcast_to(np.asarray(values[("twitch", c)], dtype=float), size).copy() for c in net.causes}
    spread = {c: np.broadcast_to(np.asarray(values[("spread", c)], dtype=float), size).copy() for c in net.spread}
    focal = {}
    for c in net.spread:
        drawn = np.broadcast_to(np.asarray(values[("focal", c)], dtype=float), (size, len(priors.sites[c].focal)))
        shares = np.zeros((size, len(net.regions)))
        for j, r in enumerate(priors.sites[c].focal):
            shares[:, net.regions.index(f"twitch_{r}")] = drawn[:, j]
        focal[c] = shares
    return Stack(net, exposure_prob, cause_table, link, leak, twitch, spread, focal)


@dataclass(frozen=True)
class StackedAnswers:
    """Exact answers on every network of a stack, with their linear parts.

    total (D,) P(evidence, twitching); joint (D, n) P(cause, evidence, twitching);
    safe (D, 3) P(evidence, twitching, level < k) for k = routine, soon, emergency (NaN
    where a rule of level >= k holds on the evidence, so P(level >= k) is 1); causes
    (D, n) posteriors; triage (D, 4); urgency (D,).
    """

    total: np.ndarray
    joint: np.ndarray
    safe: np.ndarray
    causes: np.ndarray
    triage: np.ndarray
    urgency: np.ndarray


def _triage_from(total: np.ndarray, safe: np.ndarray) -> np.ndarray:
    """As `api.analyse`: P(level >= k) = 1 - safe / total, made monotone, then P(level)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        at_least = np.where(np.isnan(safe), 1.0, 1.0 - safe / total[:, None])
    at_least = np.clip(np.minimum.accumulate(at_least, axis=1), 0.0, 1.0)
    ones, zeros = np.ones((len(total), 1)), np.zeros((len(total), 1))
    ge = np.concatenate([ones, at_least, zeros], axis=1)
    return np.clip(ge[:, :-1] - ge[:, 1:], 0.0, 1.0)


def stacked_answers(stack: Stack, evidence: Mapping[str, str]) -> StackedAnswers:
    """`analysis.analyse` on every network of the stack (node-level evidence): the
    evidence's query and its triage boxes on every draw, in one call of the engine."""
    net = stack.base
    states = node_states(net, [evidence])
    query = from_states(net, states)
    boxes, _, level, holds = level_boxes(net, query, states)
    both = query.concat(boxes)
    per_draw = len(both)
    rows = both.on_draws(stack.size)
    mask = np.zeros(len(rows), dtype=bool)
    mask[::per_draw] = True  # each draw's own query: the joints
    total_all, joint, _ = evaluate_many(stack.tables, rows, joint=mask)
    total_all = total_all.reshape(stack.size, per_draw)
    total = total_all[:, 0]
    joint = joint[::per_draw]
    bad = np.flatnonzero(~(total > 0))
    if len(bad):
        analyse(stack.network(int(bad[0])), evidence)  # raises the engine's own error
        raise ValueError(f"evidence is impossible under draw {int(bad[0])}")
    safe = np.zeros((stack.size, len(T.LEVELS) - 1))
    for k in range(len(T.LEVELS) - 1):
        safe[:, k] = total_all[:, 1:][:, level == k].sum(axis=1)
    safe[:, holds[0]] = np.nan
    causes = np.clip(joint / total[:, None], 0.0, 1.0)
    triage = _triage_from(total, safe)
    return StackedAnswers(total, joint, safe, causes, triage, triage[:, 2:].sum(axis=1))


# ----------------------------------------------------------------------------------
# Intervals
# ----------------------------------------------------------------------------------


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a numpy.random.Generator (for example numpy.random.default_rng(0)), got {rng!r}")
    return rng


def _check_draws(n: Any, key: str = "intervals") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{key}: expected a whole number of draws >= 1, got {n!r}")
    return int(n)


def draw_stack(net: Network, n: int, rng: np.random.Generator) -> tuple[Stack, dict]:
    """`n` networks redrawn from the ranges of `net.priors`, compiled at once.

    Returns the stack and the drawn values (`priors_with_values(net.priors, values, i)`
    is draw i's priors).
    """
    values = redraw_values(net.priors, _check_rng(rng), size=_check_draws(n, "n"))
    return compile_draws(net, values), values


def interval_draws(
    net: Network,
    evidence: Mapping[str, str],
    n: int,
    rng: np.random.Generator,
    *,
    recalibration: Callable[[float], float] | None = None,
) -> pd.DataFrame:
    """The answer on each of `n` redrawn networks: one row a draw, one column a cause
    (network order), then `urgency`. `evidence` is node-level (`net.encode(...)`)."""
    stack, _ = draw_stack(net, n, rng)
    answers = stacked_answers(stack, evidence)
    urgency = answers.urgency
    if recalibration is not None:
        urgency = np.array([apply_recalibration(t, recalibration)[2:].sum() for t in answers.triage])
    frame = pd.DataFrame(answers.causes, columns=list(net.causes))
    frame[URGENCY] = urgency
    frame.index.name = "draw"
    return frame


def quantile_table(draws: pd.DataFrame) -> pd.DataFrame:
    """The INTERVAL_QUANTILES points of each column of `draws` (one row a column)."""
    q = draws.quantile(list(INTERVAL_QUANTILES)).T
    q.columns = [f"{x:.0%}" for x in INTERVAL_QUANTILES]
    q.attrs["draws"] = len(draws)
    return q


def intervals(
    net: Network,
    evidence: Mapping[str, str],
    n: int,
    rng: np.random.Generator,
    *,
    recalibration: Callable[[float], float] | None = None,
) -> pd.DataFrame:
    """5%, 50% and 95% points of every cause's posterior and of urgency over `n` draws.

    One row a cause (network order) and `urgency`; columns "5%", "50%", "95%".
    """
    return quantile_table(interval_draws(net, evidence, n, rng, recalibration=recalibration))


def scale_ranges(priors, factor: float):
    """Priors whose every range is scaled about its point by `factor` (0 collapses them).

    A probability's ends are clipped to [0, 1], a relative risk's range is scaled on the
    log scale. `priors` is not changed.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor >= 0 or not np.isfinite(factor):
        raise ValueError(f"factor: expected a finite number >= 0, got {factor!r}")

    def num(x: Number, probability: bool = True) -> Number:
        if probability:
            low = min(max(x.value - factor * (x.value - x.low), 0.0), x.value)
            high = max(min(x.value + factor * (x.high - x.value), 1.0), x.value)
        elif x.value > 0 and x.low > 0:
            low = x.value * (x.low / x.value) ** factor
            high = x.value * (x.high / x.value) ** factor
        else:
            low = high = x.value
        return dataclasses.replace(x, low=low, high=high)

    def dist(d: Distribution) -> Distribution:
        nums = [num(Number(v, lo, hi, d.source)) for v, lo, hi in zip(d.values, d.low, d.high)]
        return dataclasses.replace(d, low=tuple(x.low for x in nums), high=tuple(x.high for x in nums))

    exposures = {k: dataclasses.replace(e, distribution=tuple(num(x) for x in e.distribution)) for k, e in priors.exposures.items()}
    causes = {
        k: dataclasses.replace(
            c,
            twitch=num(c.twitch),
            prior=num(c.prior),
            relative_risk={e: {s: num(x, False) for s, x in by.items()} for e, by in c.relative_risk.items()},
        )
        for k, c in priors.causes.items()
    }
    findings = {k: dataclasses.replace(f, leak=dist(f.leak), links={c: dist(v) for c, v in f.links.items()}) for k, f in priors.findings.items()}
    sites = {
        k: dataclasses.replace(
            x,
            spread=num(x.spread),
            focal={r: num(v) for r, v in x.focal.items()},
            spread_sites={r: num(v) for r, v in x.spread_sites.items()},
        )
        for k, x in priors.sites.items()
    }
    return dataclasses.replace(priors, exposures=exposures, causes=causes, findings=findings, sites=sites)


# ----------------------------------------------------------------------------------
# Sensitivity
# ----------------------------------------------------------------------------------


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
    loss = T.triage_of(net).loss
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
        return _network_like(net, cause_table={p.cause: np.minimum(table, 1.0)})
    if p.kind == "twitch":
        return _network_like(net, twitch={p.cause: np.asarray(float(theta))})
    if p.kind == "spread":
        return _network_like(net, spread={p.cause: np.asarray(float(theta))})
    if p.kind == "link":
        i = net.causes.index(p.cause)
        table = np.array(net.link[p.node])
        table[i] = _set_row(table[i], p.state, theta)
        return _network_like(net, link={p.node: table})
    if p.kind == "leak":
        return _network_like(net, leak={p.node: _set_row(net.leak[p.node], p.state, theta)})
    if p.kind == "exposure":
        return _network_like(net, exposure_prob={p.node: _set_row(net.exposure_prob[p.node], p.state, theta)})
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
        triage = _triage_from(total, safe)
        loss = np.broadcast_to(T.triage_of(self.network).loss, (len(thetas), 4, 4)).copy()
        if p.kind == "loss":
            loss[:, T.LEVELS.index(p.node), p.state] = thetas
        expected = np.einsum("dt,dta->da", triage, loss)
        frame = pd.DataFrame(np.clip(joint / total[:, None], 0.0, 1.0), columns=list(self.network.causes), index=pd.Index(thetas, name=p.name))
        frame[URGENCY] = triage[:, 2:].sum(axis=1)
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
    rule_nodes = {node for r in T.triage_of(net).rules for conj in r.conjunctions for node, _ in conj}
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


# ----------------------------------------------------------------------------------
# Display (matplotlib is imported only here)
# ----------------------------------------------------------------------------------


def plot_tornado(table: pd.DataFrame, ax=None):
    """Tornado plot of a `sensitivity` table: one bar a parameter, from its value at the
    low end to its value at the high end, around the point answer."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(table) + 1.2))
    rows = table.iloc[::-1]
    y = np.arange(len(rows))
    point = table.attrs.get("point")
    base = point if point is not None else 0.0
    for yi, (_, r) in zip(y, rows.iterrows()):
        ax.barh(yi, r["at_low"] - base, left=base, color="tab:blue", alpha=0.8, label="parameter at low end" if yi == y[-1] else None)
        ax.barh(yi, r["at_high"] - base, left=base, color="tab:orange", alpha=0.8, label="parameter at high end" if yi == y[-1] else None)
    if point is not None:
        ax.axvline(point, color="black", lw=1)
    ax.set_yticks(y, rows["parameter"])
    ax.set_xlabel(table.attrs.get("target", "target"))
    ax.set_title(f"One-way sensitivity of {table.attrs.get('target', 'the target')}")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_intervals(result, ax=None, *, top: int = 10):
    """Bar chart of the top causes' posteriors, with their 5-95% intervals if computed."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * top + 1.2))
    causes = result.causes.head(top).iloc[::-1]
    y = np.arange(len(causes))
    ax.barh(y, causes.to_numpy(), color="tab:blue", alpha=0.8)
    table = getattr(result, "intervals", None)
    if table is not None:
        lo_col, _, hi_col = table.columns
        lo = table.loc[causes.index, lo_col].to_numpy()
        hi = table.loc[causes.index, hi_col].to_numpy()
        err = np.vstack([np.clip(causes.to_numpy() - lo, 0, None), np.clip(hi - causes.to_numpy(), 0, None)])
        ax.errorbar(causes.to_numpy(), y, xerr=err, fmt="none", ecolor="black", capsize=3, label=f"{lo_col}-{hi_col} over redrawn priors")
        ax.legend(loc="lower right", fontsize="small")
    ax.set_yticks(y, causes.index)
    ax.set_xlabel("P(present | evidence)")
    ax.set_xlim(0, 1)
    return ax
