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
itself. Summed inside its cause (`model.kernels`), the latents keep the causes
independent given the exposures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from . import vocabulary as V
from .evidence import Evidence, encode
from .priors import PriorsError, Priors, freeze, load_priors
from .triage import triage_of


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

    def __post_init__(self) -> None:
        # Nothing observable changes after construction: arrays are read-only copies,
        # mappings are read-only views, the triage table is frozen all the way down.
        # Values derived from the fields (the engine's tables, the checked triage rules)
        # are memoised by the module that derives them, keyed by this object (weakly):
        # `dataclasses.replace(net, cause_table=...)` is a new object with no memo.
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

    def __repr__(self) -> str:
        return (
            f"Network({len(self.exposures)} exposures -> {len(self.causes)} causes -> "
            f"{len(self.findings)} findings, priors={str(self.priors.folder)!r})"
        )


# Bisection steps for the scale of a capped cause table: 200 halvings pass float64's range.
BISECTION_STEPS = 200


def scale_to_marginal(rr: np.ndarray, weight: np.ndarray, prior: float, where: str | None = None) -> np.ndarray:
    """min(1, k * rr) with k such that sum(weight * min(1, k * rr)) == prior: a cause's
    table from its relative risks and its prior (`weight`: the exposure states' population
    shares). A prior no table can reach is a PriorsError naming `where`; with `where`
    None (the fit's steps, which may ask for one) the nearest table instead: all 0, or 1
    wherever the relative risk is not 0."""
    mean = float((weight * rr).sum())
    if prior <= 0.0:
        return np.zeros_like(rr)
    if mean <= 0.0:
        if where is None:
            return np.zeros_like(rr)
        raise PriorsError(f"{where}: every exposure state with population share has relative risk 0")
    k = prior / mean
    if (k * rr).max() <= 1.0:
        return k * rr
    reachable = float(weight[rr > 0].sum())
    if prior >= reachable:
        if where is None or prior == reachable:
            return np.where(rr > 0, 1.0, 0.0)
        raise PriorsError(f"{where}: the prior {prior} cannot be reached: relative risk 0 covers too much of the population")
    lo, hi = k, 1.0 / rr[rr > 0].min()
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if float((weight * np.minimum(1.0, mid * rr)).sum()) < prior:
            lo = mid
        else:
            hi = mid
    return np.minimum(1.0, hi * rr)


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


def compile_network(priors: Priors) -> Network:
    """Compile checked priors into the network's arrays."""
    exposure_prob = {
        e: _frozen([n.value for n in x.distribution]) for e, x in priors.exposures.items()
    }
    cause_parents, cause_table = {}, {}
    for name in V.CAUSES:
        cause = priors.causes[name]
        parents = tuple(e for e in V.EXPOSURES if e in cause.relative_risk)
        # P(c | x) = min(1, k * prod_e RR_e(x_e)), with k chosen so that the marginal over
        # the exposures' population distributions equals the prior. Without the cap k
        # is prior / prod_e E[RR_e]; with it, the marginal is increasing in k and k is
        # found by bisection.
        table = np.ones([len(priors.exposures[e].states) for e in parents])
        weight = np.ones_like(table)
        for axis, e in enumerate(parents):
            states = priors.exposures[e].states
            rr = np.array([cause.relative_risk[e][s].value if s in cause.relative_risk[e] else 1.0 for s in states])
            shape = [1] * len(parents)
            shape[axis] = len(states)
            table = table * np.where(ratio_applies(parents, e, table.shape), rr.reshape(shape), 1.0)
            weight = weight * exposure_prob[e].reshape(shape)
        table = scale_to_marginal(table, weight, cause.prior.value, f"causes.toml: [{name}.relative_risk]")
        cause_parents[name] = parents
        cause_table[name] = _frozen(table)

    link, leak = {}, {}
    for name in V.FINDINGS:
        finding = priors.findings[name]
        k = len(finding.states)
        table = np.zeros((len(V.CAUSES), k))
        table[:, 0] = 1.0
        for i, c in enumerate(V.CAUSES):
            if name in V.REGION_NODES:
                # a region's link is P(region | cause, spread pattern) (sites.toml); the
                # switch carries P(twitching | cause), the pattern focal or spread
                x = priors.sites[c].spread_sites.get(name.removeprefix("twitch_"))
                if x is not None:
                    table[i] = (1.0 - x.value, x.value)
            elif c in finding.links:
                table[i] = finding.links[c].values
        link[name] = _frozen(table)
        leak[name] = _frozen(finding.leak.values)

    states = {n: V.node_states(n) for n in V.EXPOSURES + V.CAUSES + V.FINDINGS}
    net = Network(
        priors=priors,
        causes=V.CAUSES,
        exposures=V.EXPOSURES,
        findings=V.FINDINGS,
        states=MappingProxyType(states),
        exposure_prob=MappingProxyType(exposure_prob),
        cause_parents=MappingProxyType(cause_parents),
        cause_table=MappingProxyType(cause_table),
        link=MappingProxyType(link),
        leak=MappingProxyType(leak),
        twitch=MappingProxyType({c: priors.causes[c].twitch.value for c in V.CAUSES}),
        spread={c: priors.sites[c].spread.value for c in V.CAUSES},
        focal={c: [priors.sites[c].focal[r].value if r in priors.sites[c].focal else 0.0 for r in V.REGIONS]
               for c in V.CAUSES},
        weak_finding="weakness",
        weak_patterns=V.WEAKNESS_WHERE_NODES,
        cause_level=MappingProxyType({c: V.TRIAGE_LEVELS.index(priors.causes[c].triage) for c in V.CAUSES}),
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
