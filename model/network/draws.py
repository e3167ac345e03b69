"""Networks whose numbers are redrawn within their ranges in priors/: one draw
(`perturbed_network`, `redraw_priors`) or many at once (`redraw_values`, which
`model.uncertainty.draws` and `model.learning` read too). The one definition of how a number
is redrawn lives here.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping

import numpy as np

from .build import compile_network
from .priors import Number

# The seed of the default generator of `sample_cases`, `perturbed_network` and
# `redraw_priors` when no `rng` is given: the same case set on every run. Pass your own
# `numpy.random.default_rng(seed)` for another.
DEFAULT_SEED = 0


def generator(rng) -> np.random.Generator:
    """`rng`, or a generator seeded with DEFAULT_SEED when it is None."""
    if rng is None:
        return np.random.default_rng(DEFAULT_SEED)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: {rng!r} is not a numpy Generator; pass numpy.random.default_rng(seed), or leave it out")
    return rng


def marginal_prior(net, cause: str) -> float:
    """P(cause present): its table averaged over its exposures' population distributions."""
    table = net.cause_table[cause]
    for e in reversed(net.cause_parents[cause]):
        table = table @ net.exposure_prob[e]
    return float(table)


def perturbed_network(net, rng: np.random.Generator | None = None):
    """A network whose every number is redrawn from its range in priors/ (see
    `redraw_priors`; `rng` by default seeded with DEFAULT_SEED). Compiled as any
    priors are: the redrawn P(twitching | cause) is the network's `twitch`, a region's
    link the redrawn P(site | cause, twitching)."""
    return compile_network(redraw_priors(net.priors, generator(rng)))


# The Beta's concentration (a + b) for a redrawn number: 4 puts about 90% of the mass of a
# centred draw in the middle 80% of the range.
BETA_CONCENTRATION = 4.0
# The Beta's mean is kept this far (as a share of the range) from either end: a point at an
# end of its range would make one shape parameter 0, which is no distribution.
BETA_MEAN_MARGIN = 1e-3
# A relative risk of 0 is drawn on the log scale from this floor instead.
LOG_FLOOR = 1e-300


def _draw_number(rng, number, probability: bool = True, size: int | None = None):
    """Beta on [low, high] with its mean at the point value (a relative risk: log scale).

    The Beta's shape is fixed by the point's place in the range and a concentration of
    BETA_CONCENTRATION; a collapsed range gives the point back. One value, or an array
    of `size` independent draws.
    """
    lo, hi, v = number.low, number.high, number.value
    if hi <= lo:
        return v if size is None else np.full(size, float(v))
    if not probability:
        lo, hi, v = math.log(max(lo, LOG_FLOOR)), math.log(hi), math.log(max(v, LOG_FLOOR))
    m = min(max((v - lo) / (hi - lo), BETA_MEAN_MARGIN), 1 - BETA_MEAN_MARGIN)
    draw = lo + (hi - lo) * rng.beta(m * BETA_CONCENTRATION, (1 - m) * BETA_CONCENTRATION, size)
    if size is None:
        return math.exp(draw) if not probability else draw
    return np.exp(draw) if not probability else draw


def redraw_values(priors, rng: np.random.Generator, size: int | None = None) -> dict[tuple, object]:
    """Every number of `priors` redrawn from its range: one draw, or `size` draws at once.

    The matching (the one definition, used by `redraw_priors`, `perturbed_network` and
    `model.uncertainty.draws`): each probability is drawn from a Beta on its range [low, high]
    whose mean is the point value and whose concentration a + b is BETA_CONCENTRATION; a
    relative risk the same on the log scale; a collapsed range (low == high) gives the
    point. The states of a distribution (an exposure's population shares, an ordinal or
    binary link, a leak) are drawn one by one and renormalised to sum to 1 (a draw that
    sums to 0 keeps the point values).

    Keys: ("exposure", name) and ("leak", finding) -> per-state values;
    ("link", finding, cause) -> per-state values (a binary link as its two states);
    ("relative_risk", cause, exposure, state), ("twitch", cause), ("prior", cause) ->
    values; the site patterns (sites.toml): ("spread", cause) -> a value,
    ("spread_site", cause, region) -> a value, ("focal", cause) -> the shares over the
    regions of `focal` (each drawn on its range, then renormalised). With `size`, each
    value has a leading axis of length `size`.
    """
    out: dict[tuple, object] = {}

    def states(numbers):
        vals = np.array([_draw_number(rng, n, size=size) for n in numbers])
        return vals if size is None else vals.T  # (size, k)

    def dist(d):
        vals = states([Number(v, lo, hi, d.source) for v, lo, hi in zip(d.values, d.low, d.high)])
        total = vals.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, vals / total, np.asarray(d.values))

    for name, e in priors.exposures.items():
        vals = states(e.distribution)
        out[("exposure", name)] = vals / vals.sum(axis=-1, keepdims=True)
    for name, c in priors.causes.items():
        for e, by in c.relative_risk.items():
            for s, x in by.items():
                out[("relative_risk", name, e, s)] = _draw_number(rng, x, False, size)
        out[("twitch", name)] = _draw_number(rng, c.twitch, size=size)
        out[("prior", name)] = _draw_number(rng, c.prior, size=size)
    for name, f in priors.findings.items():
        out[("leak", name)] = dist(f.leak)
        for k, v in f.links.items():
            out[("link", name, k)] = dist(v)
    for name, site in priors.sites.items():
        out[("spread", name)] = _draw_number(rng, site.spread, size=size)
        for r, x in site.spread_sites.items():
            out[("spread_site", name, r)] = _draw_number(rng, x, size=size)
        shares = states(list(site.focal.values()))
        total = shares.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[("focal", name)] = np.where(total > 0, shares / total, [x.value for x in site.focal.values()])
    return out


def priors_with_values(priors, values: Mapping[tuple, object], index: int | None = None):
    """`priors` with the numbers of `redraw_values` put in (draw `index` of a sized draw).

    Ranges widen to hold a value renormalised outside them; the inputs are not changed.
    """

    def at(key):
        v = values[key]
        return v if index is None else v[index]

    def num(key, x):
        v = at(key)
        return dataclasses.replace(x, value=v if index is None else float(v))

    def dist(key, d):
        vals = np.asarray(at(key))
        return dataclasses.replace(d, values=tuple(vals), low=tuple(np.minimum(d.low, vals)), high=tuple(np.maximum(d.high, vals)))

    exposures = {}
    for name, e in priors.exposures.items():
        vals = at(("exposure", name))
        exposures[name] = dataclasses.replace(
            e, distribution=tuple(dataclasses.replace(n, value=float(v), low=min(n.low, v), high=max(n.high, v)) for n, v in zip(e.distribution, vals))
        )
    causes = {}
    for name, c in priors.causes.items():
        rr = {e: {s: num(("relative_risk", name, e, s), x) for s, x in by.items()} for e, by in c.relative_risk.items()}
        causes[name] = dataclasses.replace(c, twitch=num(("twitch", name), c.twitch), prior=num(("prior", name), c.prior), relative_risk=rr)
    findings = {}
    for name, f in priors.findings.items():
        links = {k: dist(("link", name, k), v) for k, v in f.links.items()}
        findings[name] = dataclasses.replace(f, leak=dist(("leak", name), f.leak), links=links)
    sites = {}
    for name, site in priors.sites.items():
        shares = np.asarray(at(("focal", name)))
        focal = {r: dataclasses.replace(x, value=float(v), low=min(x.low, float(v)), high=max(x.high, float(v)))
                 for (r, x), v in zip(site.focal.items(), shares)}
        spread_sites = {r: num(("spread_site", name, r), x) for r, x in site.spread_sites.items()}
        sites[name] = dataclasses.replace(site, spread=num(("spread", name), site.spread), focal=focal,
                                          spread_sites=spread_sites)
    return dataclasses.replace(priors, exposures=exposures, causes=causes, findings=findings, sites=sites)


def redraw_priors(priors, rng: np.random.Generator | None = None):
    """Priors with every number redrawn from its range (see `redraw_values`; `rng` by
    default seeded with DEFAULT_SEED)."""
    return priors_with_values(priors, redraw_values(priors, generator(rng)))
