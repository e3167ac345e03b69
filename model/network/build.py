"""The compiled network: one immutable object built from priors/, read by every engine.

Three layers: exposures (roots with population distributions) -> causes (binary,
P(present | exposures) from relative risks) -> findings (noisy-OR / noisy-MAX with a
leak). Every finding is stored the same way, as a noisy-MAX link: for each cause a
probability per state of the cause's *contribution* when the cause is present (an
absent cause contributes the lowest state), plus a leak distribution. The finding's
state is the largest contribution. A binary finding is the two-state case (noisy-OR).

The twitch regions read a latent switch per cause, "the cause is making the person
twitch", present with P(twitching | cause) (`twitch`) when the cause is present, so the
sites of one cause's twitching travel together (a cause that twitches in a quarter of
the people who have it pays that quarter once, not once per region). Given the switch,
the cause's twitching follows its site pattern (sites.toml, docs/model.md): focal (one
region, by its shares) or spread (each region by its link), so that the sources' share
of people twitching in two or more places holds. The weakness finding carries a second
latent per cause, "its weakness contribution is not none", which the weakness patterns
(`weakness_where`) read: no pattern without weakness. Other findings read the cause
itself. Summed inside its cause (`model.inference.kernels`), the latents keep the causes
independent given the exposures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from . import vocabulary as V
from .derived import Derived
from .evidence import Evidence, encode
from .priors import PriorsError, Priors, freeze, load_priors
from .rules import Triage, triage_of


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)  # a copy; keeps 0-d tables 0-d
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Network:
    """The twitch network compiled from a priors folder.

    Attributes
    ----------
    causes, exposures, findings : tuple of node names, in a fixed order.
    states : node name -> its states, in order.
    exposure_prob : exposure -> P(state), shape (n_states,).
    cause_parents : cause -> the exposures it depends on.
    cause_table : cause -> P(present | parents), shape = the parents' state counts.
    link : finding -> P(contribution = state | cause present), shape (n_causes, n_states);
        a cause with no link has all its mass on the lowest state. For a twitch region
        the cause must also be twitching: the link is P(site | cause, twitching).
    leak : finding -> P(leak contribution = state), shape (n_states,).
    twitch : cause -> P(twitching | cause present), a 0-d array: the cause's switch.
    spread, focal : cause -> P(spread pattern | switch on) (0-d) and P(region | focal
        pattern) (one entry a region): where a twitching cause twitches (sites.toml). A
        region's link is then P(region | cause, spread pattern). A cause left out of
        `spread` twitches by the spread pattern alone.
    weak_finding, weak_patterns : the finding whose contribution is a cause's weakness
        latent ("its weakness contribution is not none") and the findings that read that
        latent instead of the cause (where the weakness is: no pattern without weakness);
        a pattern's link is P(pattern | cause, weak), its leak P(pattern | leak weak).
    """

    priors: Priors
    causes: tuple[str, ...]
    exposures: tuple[str, ...]
    findings: tuple[str, ...]
    states: Mapping[str, tuple[str, ...]]
    exposure_prob: Mapping[str, np.ndarray]
    cause_parents: Mapping[str, tuple[str, ...]]
    cause_table: Mapping[str, np.ndarray]
    link: Mapping[str, np.ndarray]
    leak: Mapping[str, np.ndarray]
    twitch: Mapping[str, np.ndarray]
    regions: tuple[str, ...] = V.REGION_NODES
    spread: Mapping[str, np.ndarray] = field(default_factory=dict)
    focal: Mapping[str, np.ndarray] = field(default_factory=dict)
    weak_finding: str | None = None
    weak_patterns: tuple[str, ...] = ()
    cause_level: Mapping[str, int] = field(default_factory=dict)  # cause -> index in TRIAGE_LEVELS
    triage_table: Mapping[str, Any] = field(default_factory=dict)  # triage.toml as read
    # Values derived from the fields (the engine's tables, the checked triage rules, the
    # triage boxes seen): built lazily by the modules that need them, kept here
    # (`model.network.derived`). `dataclasses.replace(net, ...)` starts an empty store.
    derived: Derived = field(default_factory=Derived, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Nothing observable changes after construction: arrays are read-only copies,
        # mappings are read-only views, the triage table is frozen all the way down.
        def arrays(m):
            return MappingProxyType({k: _frozen(v) for k, v in m.items()})

        def view(m):
            return MappingProxyType(dict(m))

        set_ = object.__setattr__
        set_(self, "causes", tuple(self.causes))
        set_(self, "exposures", tuple(self.exposures))
        set_(self, "findings", tuple(self.findings))
        set_(self, "regions", tuple(self.regions))
        set_(self, "states", view({k: tuple(v) for k, v in self.states.items()}))
        set_(self, "exposure_prob", arrays(self.exposure_prob))
        set_(self, "cause_parents", view({k: tuple(v) for k, v in self.cause_parents.items()}))
        set_(self, "cause_table", arrays(self.cause_table))
        set_(self, "link", arrays(self.link))
        set_(self, "leak", arrays(self.leak))
        set_(self, "twitch", arrays(self.twitch))
        set_(self, "spread", arrays(self.spread))
        set_(self, "focal", arrays(self.focal))
        set_(self, "weak_patterns", tuple(self.weak_patterns))
        set_(self, "cause_level", view(self.cause_level))
        set_(self, "triage_table", MappingProxyType(freeze(dict(self.triage_table))))

    def encode(self, evidence: Mapping[str, Any]) -> "Evidence":
        """Turn user evidence (the evidence keys and states of docs/model.md) into node states."""
        return encode(evidence)

    def to_pgmpy(self):
        """A `pgmpy.models.DiscreteBayesianNetwork` with the same joint distribution."""
        from .export import to_pgmpy

        return to_pgmpy(self)

    @property
    def triage(self) -> "Triage":
        """The checked triage rules, losses and questions of triage.toml (built once)."""
        return triage_of(self)

    def clear_derived(self) -> None:
        """Drop every value derived from this network (each is rebuilt on next use)."""
        self.derived.clear()

    def __reduce__(self):
        # The read-only views do not pickle: a network pickles as its fields, as plain
        # dicts, and is rebuilt (and re-frozen) by its constructor; the derived store is
        # left behind and rebuilt lazily where the network lands.
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        state = {k: _thawed(v) for k, v in state.items()}
        return (_rebuild, (state,))

    def __repr__(self) -> str:
        return (
            f"Network({len(self.exposures)} exposures -> {len(self.causes)} causes -> "
            f"{len(self.findings)} findings, priors={str(self.priors.folder)!r})"
        )


def _thawed(value: Any) -> Any:
    """A read-only view as a plain dict (recursively), for pickling."""
    if isinstance(value, MappingProxyType):
        return {k: _thawed(v) for k, v in value.items()}
    return value


def _rebuild(state: Mapping[str, Any]) -> Network:
    return Network(**state)


# Bisection steps for the scale of a capped cause table: 200 halvings pass float64's range.
BISECTION_STEPS = 200


def scale_to_marginal(rr: np.ndarray, weight: np.ndarray, prior, where: str | None = None) -> np.ndarray:
    """min(1, k * rr) with k such that sum(weight * min(1, k * rr)) == prior: a cause's
    table from its relative risks and its prior (`weight`: the exposure states'
    population shares).

    rr, weight : (draws, *parent shape); prior : (draws,). One table a draw, found at
    once (the point network is the one-draw case). A prior no table can reach is a
    PriorsError naming `where`; with `where` None (the fit's steps, which may ask for
    one) the nearest table instead: all 0, or 1 wherever the relative risk is not 0.
    """
    rr, weight = np.asarray(rr, dtype=float), np.asarray(weight, dtype=float)
    prior = np.broadcast_to(np.asarray(prior, dtype=float), len(rr))
    axes = tuple(range(1, rr.ndim))
    ex = (slice(None),) + (None,) * (rr.ndim - 1)  # a per-draw value against a table
    mean = (weight * rr).sum(axis=axes)
    if where is not None and ((mean <= 0) & (prior > 0)).any():
        raise PriorsError(f"{where}: every exposure state with population share has relative risk 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where((prior > 0) & (mean > 0), prior / mean, 0.0)
    table = k[ex] * rr
    capped = table.reshape(len(rr), -1).max(axis=1) > 1.0
    if not capped.any():
        return table
    rows = np.flatnonzero(capped)
    r, w, p = rr[rows], weight[rows], prior[rows]
    reachable = np.where(r > 0, w, 0.0).sum(axis=axes)
    if where is not None and (p > reachable).any():
        raise PriorsError(f"{where}: the prior cannot be reached: relative risk 0 covers too much of the population")
    full = p >= reachable  # (the fit's lenient case) 1 wherever the relative risk is not 0
    lo = k[rows]
    hi = 1.0 / np.where(r > 0, r, np.inf).reshape(len(rows), -1).min(axis=1)
    sub = (slice(None),) + (None,) * (r.ndim - 1)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        below = (w * np.minimum(1.0, mid[sub] * r)).sum(axis=axes) < p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    table[rows] = np.where(full[sub], (r > 0).astype(float), np.minimum(1.0, hi[sub] * r))
    return table


def ratio_applies(parents: tuple[str, ...], exposure: str, shape) -> np.ndarray:
    """Where `exposure`'s relative risk applies in a cause table over `parents` (shape:
    the parents' state counts): everywhere, but for an exposure that acts only through
    others (docs/model.md, `vocabulary.ACTS_THROUGH`) only where one of them is present;
    elsewhere it changes nothing."""
    through = V.ACTS_THROUGH.get(exposure)
    if through is None:
        return np.ones(shape, dtype=bool)
    mask = np.zeros(shape, dtype=bool)
    for other in through:
        if other in parents:
            index = [slice(None)] * len(parents)
            index[parents.index(other)] = slice(1, None)  # any state but the first (absent)
            mask[tuple(index)] = True
    return mask


def point_values(priors: Priors) -> dict[tuple, np.ndarray]:
    """Every number of `priors` at its point value, in the keys of `draws.redraw_values`
    with a leading axis of one draw: the point network is the one-draw case."""
    one = lambda x: np.array([float(x.value)])  # noqa: E731
    dist = lambda d: np.array([d.values], dtype=float)  # noqa: E731
    out: dict[tuple, np.ndarray] = {}
    for name, e in priors.exposures.items():
        out[("exposure", name)] = np.array([[n.value for n in e.distribution]], dtype=float)
    for name, c in priors.causes.items():
        for e, by in c.relative_risk.items():
            for s, x in by.items():
                out[("relative_risk", name, e, s)] = one(x)
        out[("twitch", name)] = one(c.twitch)
        out[("prior", name)] = one(c.prior)
    for name, f in priors.findings.items():
        out[("leak", name)] = dist(f.leak)
        for k, v in f.links.items():
            out[("link", name, k)] = dist(v)
    for name, site in priors.sites.items():
        out[("spread", name)] = one(site.spread)
        for r, x in site.spread_sites.items():
            out[("spread_site", name, r)] = one(x)
        out[("focal", name)] = np.array([[x.value for x in site.focal.values()]], dtype=float)
    return out


def compile_arrays(priors: Priors, values: Mapping[tuple, Any]) -> dict[str, dict[str, np.ndarray]]:
    """The network's arrays for `values` (`point_values`, or a sized
    `draws.redraw_values`), each with a leading draw axis: the one compiler.

    Returns the fields exposure_prob, cause_table, link, leak, twitch, spread, focal
    (name -> array (draws, ...)).
    """
    size = len(values[("leak", V.FINDINGS[0])])
    states = {n: V.node_states(n) for n in V.EXPOSURES}
    exposure_prob = {e: np.asarray(values[("exposure", e)], dtype=float).reshape(size, -1) for e in V.EXPOSURES}
    cause_table = {}
    for c in V.CAUSES:
        cause = priors.causes[c]
        parents = cause_parents_of(priors, c)
        shape = [len(states[e]) for e in parents]
        # P(c | x) = min(1, k * prod_e RR_e(x_e)), with k chosen so that the marginal over
        # the exposures' population distributions equals the prior (`scale_to_marginal`).
        table = np.ones([size] + shape)
        weight = np.ones([size] + shape)
        for axis, e in enumerate(parents):
            rr = np.stack([np.broadcast_to(np.asarray(values[("relative_risk", c, e, s)], dtype=float), size)
                           if s in cause.relative_risk[e] else np.ones(size) for s in states[e]], axis=1)
            view = [size] + [1] * len(parents)
            view[axis + 1] = len(states[e])
            table = table * np.where(ratio_applies(parents, e, tuple(shape)), rr.reshape(view), 1.0)
            weight = weight * exposure_prob[e].reshape(view)
        prior = np.broadcast_to(np.asarray(values[("prior", c)], dtype=float), size)
        cause_table[c] = scale_to_marginal(table, weight, prior, f"causes.toml: [{c}.relative_risk]")
    link, leak = {}, {}
    for f in V.FINDINGS:
        finding = priors.findings[f]
        table = np.zeros((size, len(V.CAUSES), len(finding.states)))
        table[:, :, 0] = 1.0
        for i, c in enumerate(V.CAUSES):
            if f in V.REGION_NODES:
                # a region's link is P(region | cause, spread pattern) (sites.toml); the
                # switch carries P(twitching | cause), the pattern focal or spread
                key = ("spread_site", c, f.removeprefix("twitch_"))
                if key in values:
                    q = np.broadcast_to(np.asarray(values[key], dtype=float), size)
                    table[:, i, 0], table[:, i, 1] = 1.0 - q, q
            elif c in finding.links:
                table[:, i] = np.asarray(values[("link", f, c)], dtype=float).reshape(size, -1)
        link[f] = table
        leak[f] = np.asarray(values[("leak", f)], dtype=float).reshape(size, -1)
    per_draw = lambda key: np.broadcast_to(np.asarray(values[key], dtype=float), size).copy()  # noqa: E731
    twitch = {c: per_draw(("twitch", c)) for c in V.CAUSES}
    spread = {c: per_draw(("spread", c)) for c in V.CAUSES}
    focal = {}
    for c in V.CAUSES:
        sites = list(priors.sites[c].focal)
        drawn = np.broadcast_to(np.asarray(values[("focal", c)], dtype=float), (size, len(sites)))
        shares = np.zeros((size, len(V.REGION_NODES)))
        for j, r in enumerate(sites):
            shares[:, V.REGION_NODES.index(f"twitch_{r}")] = drawn[:, j]
        focal[c] = shares
    return {"exposure_prob": exposure_prob, "cause_table": cause_table, "link": link, "leak": leak,
            "twitch": twitch, "spread": spread, "focal": focal}


def cause_parents_of(priors: Priors, cause: str) -> tuple[str, ...]:
    """The exposures a cause depends on (those with a relative risk), in network order."""
    return tuple(e for e in V.EXPOSURES if e in priors.causes[cause].relative_risk)


def compile_network(priors: Priors) -> Network:
    """Compile checked priors into the network's arrays: the one-draw case of
    `compile_arrays` at the point values."""
    arrays = compile_arrays(priors, point_values(priors))
    first = {field_: {k: v[0] for k, v in table.items()} for field_, table in arrays.items()}
    net = Network(
        priors=priors,
        causes=V.CAUSES,
        exposures=V.EXPOSURES,
        findings=V.FINDINGS,
        states={n: V.node_states(n) for n in V.EXPOSURES + V.CAUSES + V.FINDINGS},
        cause_parents={c: cause_parents_of(priors, c) for c in V.CAUSES},
        **first,
        weak_finding="weakness",
        weak_patterns=V.WEAKNESS_WHERE_NODES,
        cause_level={c: V.TRIAGE_LEVELS.index(priors.causes[c].triage) for c in V.CAUSES},
        triage_table=priors.triage,
    )
    # Check triage.toml now, so a bad rule fails the load, not the first infer().
    triage_of(net)
    return net


_DEFAULT: dict[str, Network] = {}


def load_network(priors: str | Path | None = None) -> Network:
    """Load and compile a priors folder (the bundled priors by default, compiled once)."""
    if priors is None:
        if "default" not in _DEFAULT:
            _DEFAULT["default"] = compile_network(load_priors(None))
        return _DEFAULT["default"]
    return compile_network(load_priors(priors))
