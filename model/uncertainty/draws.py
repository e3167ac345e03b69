"""Intervals: what the ranges in priors/ do to an answer.

`interval_draws` redraws every number of the priors `n` times from its range (the Beta
matching of `model.network.draws.redraw_values`: a Beta on [low, high] with its mean at the
point value and concentration `BETA_CONCENTRATION`; relative risks on the log scale),
compiles the `n` networks at once (`compile_draws`, the arrays of
`model.network.build.compile_network` with a leading draw axis) and answers the evidence on
each of them exactly with the one engine (`StackedAnswers`: a draw of the network is
one more row of the engine's query arrays, reading its own slice of `Stack.tables`,
the engine's layout with a leading draw axis). `intervals` gives the
5%, 50% and 95% points of each cause's posterior and of `urgency` over the draws.
"""


from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..inference import levels as L
from ..inference.analysis import analyse, apply_recalibration, node_states, row_queries
from ..inference.engine import Tables, build_tables, evaluate_many
from ..network.build import Network, compile_arrays
from ..network.priors import Distribution, Number
from ..network.draws import redraw_values

# The points of the answer reported over the draws (the 5%, 50% and 95%).
INTERVAL_QUANTILES = (0.05, 0.5, 0.95)
URGENCY = "urgency"
EXPECTED_LOSS = "expected_loss"
KINDS = ("prior", "twitch", "spread", "link", "leak", "exposure", "loss")

__all__ = [
    "INTERVAL_QUANTILES",
    "Stack",
    "StackedAnswers",
    "compile_draws",
    "interval_draws",
    "intervals",
    "network_like",
    "quantile_table",
    "scale_ranges",
    "stack_networks",
    "stacked_answers",
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
        return network_like(
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


def network_like(base: Network, **arrays: Mapping[str, np.ndarray]) -> Network:
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


def compile_draws(net: Network, values: Mapping[tuple, Any]) -> Stack:
    """The networks of a sized `redraw_values(net.priors, rng, size)`, compiled at once.

    Draw i equals `compile_network(priors_with_values(net.priors, values, i))`.
    """
    return Stack(net, **compile_arrays(net.priors, values))


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


def stacked_answers(stack: Stack, evidence: Mapping[str, str]) -> StackedAnswers:
    """`analysis.analyse` on every network of the stack (node-level evidence): the
    evidence's query and its triage boxes on every draw, in one call of the engine."""
    net = stack.base
    asked = row_queries(net, node_states(net, [evidence]))
    per_draw = len(asked.queries)
    rows = asked.queries.on_draws(stack.size)
    total_all, joint, _ = evaluate_many(stack.tables, rows, joint=np.tile(asked.joint, stack.size))
    total_all = total_all.reshape(stack.size, per_draw)
    total = total_all[:, 0]
    joint = joint[::per_draw]
    bad = np.flatnonzero(~(total > 0))
    if len(bad):
        analyse(stack.network(int(bad[0])), evidence)  # raises the engine's own error
        raise ValueError(f"evidence is impossible under draw {int(bad[0])}")
    safe = np.stack([asked.safe(t)[0] for t in total_all])
    safe[:, asked.holds[0]] = np.nan
    causes = np.clip(joint / total[:, None], 0.0, 1.0)
    triage = L.distribution(L.at_least(safe, total))
    return StackedAnswers(total, joint, safe, causes, triage, L.urgency(triage))


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
        urgency = np.array([L.urgency(apply_recalibration(t, recalibration)) for t in answers.triage])
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
