"""Reference computations: small random networks and brute-force enumeration of the joint."""

from __future__ import annotations

import itertools
from types import MappingProxyType

import numpy as np

from ..inference.engine import Query
from ..network.build import Network


def random_network(
    rng: np.random.Generator,
    *,
    n_exposures: int = 3,
    n_causes: int = 5,
    n_regions: int = 2,
    n_binary: int = 2,
    n_ordinal: int = 2,
    link_density: float = 0.7,
    extreme: bool = False,
    switches: bool = True,
    latents: bool = True,
) -> Network:
    """A small network of the product's shape with random parameters.

    `extreme` draws priors near 0 and 1, links of exactly 0 and 1, zero leaks and
    P(twitching | cause) of exactly 0, near 0 and near 1. Otherwise a cause twitches
    always (1) in about a third of draws, else with a probability in (0.05, 1).
    With `latents`, a network of at most 3 causes may carry site patterns (a focal
    and a spread pattern per cause) and a weakness latent (the first ordinal finding,
    read by some binary findings as their patterns).
    """
    exposures = tuple(f"x{i}" for i in range(n_exposures))
    causes = tuple(f"c{i}" for i in range(n_causes))
    regions = tuple(f"twitch_r{i}" for i in range(n_regions))
    findings = regions + tuple(f"b{i}" for i in range(n_binary)) + tuple(f"o{i}" for i in range(n_ordinal))
    states = {}
    exposure_prob = {}
    for e in exposures:
        k = int(rng.integers(2, 4))
        states[e] = tuple(f"s{j}" for j in range(k))
        exposure_prob[e] = rng.dirichlet(np.ones(k))
    cause_parents, cause_table = {}, {}
    for c in causes:
        states[c] = ("absent", "present")
        parents = tuple(e for e in exposures if rng.random() < 0.5)
        shape = [len(states[e]) for e in parents]
        if extreme:
            table = rng.choice([1e-9, 1 - 1e-9, 0.5, 1e-6], size=shape)
        else:
            table = rng.uniform(0.01, 0.6, size=shape)
        cause_parents[c] = parents
        cause_table[c] = np.asarray(table, dtype=float)
    link, leak = {}, {}
    for f in findings:
        k = 3 if f.startswith("o") else 2
        states[f] = tuple(f"l{j}" for j in range(k))
        table = np.zeros((n_causes, k))
        table[:, 0] = 1.0
        for i in range(n_causes):
            if rng.random() < link_density:
                if extreme and rng.random() < 0.3:
                    table[i] = np.eye(k)[rng.choice([0, k - 1])]
                else:
                    table[i] = rng.dirichlet(np.ones(k))
        link[f] = table
        leak[f] = np.eye(k)[0] if extreme and rng.random() < 0.5 else rng.dirichlet([8.0] + [1.0] * (k - 1))
    # drawn last, so the draws above are those of a network without switches
    twitch = {c: 1.0 for c in causes}
    for c in causes if switches else ():  # switches=False: the same draws as before switches existed
        if extreme:
            twitch[c] = float(rng.choice([0.0, 1e-9, 1 - 1e-9, 1.0, rng.uniform(0.05, 1.0)]))
        else:
            twitch[c] = 1.0 if rng.random() < 1 / 3 else float(rng.uniform(0.05, 1.0))
    # the latents, drawn last (networks of at most 3 causes: enumeration grows as
    # (1 + 2 x (2 + regions))^causes): site patterns and a weakness latent
    spread, focal = {}, {}
    weak_finding, weak_patterns = None, ()
    if latents and n_causes <= 3:
        if rng.random() < 0.6:
            for c in causes:
                if extreme:
                    spread[c] = float(rng.choice([0.0, 1.0, rng.uniform(0, 1)]))
                    focal[c] = np.eye(n_regions)[int(rng.integers(n_regions))] if rng.random() < 0.5 else rng.dirichlet(np.ones(n_regions))
                else:
                    spread[c] = float(rng.uniform(0, 1))
                    focal[c] = rng.dirichlet(np.ones(n_regions))
        ordinals = [f for f in findings if f.startswith("o")]
        if ordinals and rng.random() < 0.6:
            weak_finding = ordinals[0]
            weak_patterns = tuple(f for f in findings if f.startswith("b") and rng.random() < 0.7)
    return Network(
        priors=None,
        causes=causes,
        exposures=exposures,
        findings=findings,
        states=MappingProxyType(states),
        exposure_prob=MappingProxyType(exposure_prob),
        cause_parents=MappingProxyType(cause_parents),
        cause_table=MappingProxyType(cause_table),
        link=MappingProxyType(link),
        leak=MappingProxyType(leak),
        twitch=MappingProxyType(twitch),
        regions=regions,
        spread=spread,
        focal=focal,
        weak_finding=weak_finding,
        weak_patterns=weak_patterns,
    )


def random_query(rng: np.random.Generator, net: Network, *, observe: float = 0.6) -> Query:
    """Observe each node with probability `observe`, at a random state."""
    exposures = {e: (int(rng.integers(len(net.states[e]))),) for e in net.exposures if rng.random() < observe}
    findings = {}
    for f in net.findings:
        if rng.random() < observe:
            s = int(rng.integers(len(net.states[f])))
            findings[f] = (s, s)
    if all(findings.get(r) == (0, 0) for r in net.regions):
        findings[net.regions[0]] = (1, 1)
    return Query(exposures, findings)


# Each cause's state in the enumerations: None (absent), or present with its latents
# (t, w): t its twitch pattern (OFF: the switch is off; SPREAD: each region by its link;
# FOCAL + r: region r alone) and w its weakness latent (0: its weakness contribution is
# none; 1: it is not). The leak has a weakness latent too (its state is the config's last).
OFF, SPREAD, FOCAL = 0, 1, 2


def _cause_weights(net, x, exact):
    """Per cause, the (state, probability) pairs given the exposure states `x`
    (exposure -> state); states of probability 0 are left out."""
    out = []
    n_r = len(net.regions)
    for i, c in enumerate(net.causes):
        t = net.cause_table[c]
        p = exact(float(t[tuple(x[e] for e in net.cause_parents[c])]) if net.cause_parents[c] else float(t))
        tau = exact(float(net.twitch[c]))
        sp = exact(float(net.spread[c])) if c in net.spread else exact(1)
        focal = [exact(float(v)) for v in net.focal[c]] if c in net.spread else [exact(0)] * n_r
        pattern = {OFF: exact(1) - tau, SPREAD: tau * sp}
        for r in range(n_r):
            pattern[FOCAL + r] = tau * (exact(1) - sp) * focal[r]
        if net.weak_finding is not None:
            on = exact(float(net.link[net.weak_finding][i, 1:].sum()))
            weak = {0: exact(1) - on, 1: on}
        else:
            weak = {0: exact(1)}
        states = [(None, exact(1) - p)]
        states += [((tt, w), p * pt * pw) for tt, pt in pattern.items() for w, pw in weak.items() if pt * pw != 0]
        out.append(states)
    return out


def _leak_weights(net, exact):
    """The leak's weakness latent: (state, probability) pairs."""
    if net.weak_finding is None:
        return [(0, exact(1))]
    on = exact(float(net.leak[net.weak_finding][1:].sum()))
    return [(w, pw) for w, pw in ((0, exact(1) - on), (1, on)) if pw != 0]


def brute_force(net: Network, query: Query, *, exact=float) -> tuple[float, list[float]]:
    """P(query) and P(query, cause present) by enumerating exposures, causes with their
    latents (twitch pattern and weakness latent), the leak's weakness latent, and regions.

    `exact=fractions.Fraction` runs the same sum in rational arithmetic.
    """
    n = len(net.causes)
    total = exact(0)
    joint = [exact(0)] * n
    exp_states = [
        [s for s in range(len(net.states[e])) if s in query.exposures.get(e, range(len(net.states[e])))]
        for e in net.exposures
    ]
    likelihood = {}  # cause states -> P(findings | cause states): the same for every exposure state
    leak_states = _leak_weights(net, exact)
    for xs in itertools.product(*exp_states):
        px = exact(1)
        for e, s in zip(net.exposures, xs):
            px *= exact(float(net.exposure_prob[e][s]))
        weights = _cause_weights(net, dict(zip(net.exposures, xs)), exact)
        for combo in itertools.product(*weights, leak_states):
            config = tuple(st for st, _ in combo)
            if any(st is not None and c in query.absent for st, c in zip(config, net.causes)):
                continue
            w = px
            for _, ws in combo:
                w *= ws
            if w == 0:
                continue
            if config not in likelihood:
                likelihood[config] = _likelihood(net, query, config, exact)
            lik = likelihood[config]
            total += w * lik
            for i, st in enumerate(config[:n]):
                if st is not None:
                    joint[i] += w * lik
    return total, joint


def _below(net, f, i, state, k):
    """P(contribution of source i (a cause index, or None: the leak) to f <= k), given
    its state (a cause's (t, w), or the leak's w)."""
    row = net.leak[f] if i is None else net.link[f][i]
    if i is not None and state is None:
        return 1.0  # absent: no contribution
    if f in net.regions:
        if i is None:
            return float(row[: k + 1].sum())
        t = state[0]
        if t == OFF:
            return 1.0
        if t == SPREAD:
            return float(row[: k + 1].sum())
        return 1.0 if net.regions.index(f) != t - FOCAL else float(k >= 1)
    if f == net.weak_finding or f in net.weak_patterns:
        w = state if i is None else state[1]
        if w == 0:
            return 1.0
        if f == net.weak_finding:  # given its latent on: P(<= k | not none)
            return 0.0 if k == 0 else float(row[1 : k + 1].sum() / row[1:].sum())
        return float(row[: k + 1].sum())
    return float(row[: k + 1].sum())


def _cdf(net, f, config, k, exact):
    """P(finding f <= k | cause states and the leak's)."""
    if k < 0:
        return exact(0)
    if k >= len(net.states[f]) - 1:
        return exact(1)
    out = exact(_below(net, f, None, config[-1], k))
    for i, st in enumerate(config[:-1]):
        if st is not None:
            out *= exact(_below(net, f, i, st, k))
    return out


def _likelihood(net, query, config, exact):
    lik = exact(1)
    for f, (lo, hi) in query.findings.items():
        lik *= _cdf(net, f, config, hi, exact) - _cdf(net, f, config, lo - 1, exact)
    if query.premise and not any(query.findings.get(r, (0, 0))[0] >= 1 for r in net.regions):
        # P(some region present, observed ones as given) = P(obs) - P(obs, all free absent)
        free = [r for r in net.regions if r not in query.findings]
        none = lik
        for r in free:
            none *= _cdf(net, r, config, 0, exact)
        lik = lik - none
    return lik


LOSS = {
    "self_care": [0.0, 1.0, 3.0, 10.0],
    "routine": [4.0, 0.0, 1.0, 6.0],
    "soon": [40.0, 6.0, 0.0, 3.0],
    "emergency": [300.0, 100.0, 30.0, 0.0],
}
LEVELS = ("self_care", "routine", "soon", "emergency")


def with_random_triage(rng: np.random.Generator, net: Network, n_rules: int = 4) -> Network:
    """The same network with random cause levels and random red-flag rules."""
    import dataclasses

    nodes = list(net.findings) + list(net.exposures)
    rules = []
    for r in range(n_rules):
        picked = rng.choice(len(nodes), size=int(rng.integers(1, 4)), replace=False)
        atoms = {}
        for i in picked:
            node = nodes[i]
            states = list(net.states[node])
            size = int(rng.integers(1, len(states)))
            atoms[node] = [str(s) for s in rng.choice(states, size=size, replace=False)]
        rule = {"id": f"r{r}", "level": LEVELS[int(rng.integers(1, 4))], "text": f"rule {r}", "source": "estimate"}
        if len(atoms) > 1 and rng.random() < 0.5:
            rule["of"], rule["at_least"] = atoms, int(rng.integers(1, len(atoms) + 1))
        else:
            rule["all"] = atoms
        rules.append(rule)
    table = {"levels": list(LEVELS), "rule": rules, "loss": dict(LOSS), "question": {"default": {"cost": 0.01}},
             "need": {"routine": "routine", "soon": "soon", "emergency": "emergency"}}
    levels = {c: int(rng.integers(0, 4)) for c in net.causes}
    return dataclasses.replace(net, cause_level=MappingProxyType(levels), triage_table=MappingProxyType(table))


def _holds(net, rule, config):
    def atom(node, states):
        return net.states[node][config[node]] in states

    ok = all(atom(n, s) for n, s in rule.get("all", {}).items())
    if "of" in rule:
        ok = ok and sum(atom(n, s) for n, s in rule["of"].items()) >= rule["at_least"]
    return ok


def brute_force_triage(net: Network, query: Query) -> np.ndarray:
    """P(true level | query) by enumerating exposures, causes, their switches and every
    finding's state."""
    probs = np.zeros(4)
    n = len(net.causes)
    exp_states = [list(query.exposures.get(e, range(len(net.states[e])))) for e in net.exposures]
    find_states = [
        list(range(query.findings[f][0], query.findings[f][1] + 1)) if f in query.findings else list(range(len(net.states[f])))
        for f in net.findings
    ]
    rules = net.triage_table["rule"]
    for xs in itertools.product(*exp_states):
        px = float(np.prod([net.exposure_prob[e][s] for e, s in zip(net.exposures, xs)]))
        x = dict(zip(net.exposures, xs))
        weights = _cause_weights(net, x, float)
        for combo in itertools.product(*weights, _leak_weights(net, float)):
            config = tuple(st for st, _ in combo)
            w = px * float(np.prod([ws for _, ws in combo]))
            if w == 0:
                continue
            base = max([0] + [net.cause_level[c] for c, s in zip(net.causes, config) if s is not None])
            for fs in itertools.product(*find_states):
                full = {**x, **dict(zip(net.findings, fs))}
                if query.premise and not any(full[r] >= 1 for r in net.regions):
                    continue
                lik = 1.0
                for f, s in zip(net.findings, fs):
                    lik *= float(_cdf(net, f, config, s, float) - _cdf(net, f, config, s - 1, float))
                level = max([base] + [LEVELS.index(r["level"]) for r in rules if _holds(net, r, full)])
                probs[level] += w * lik
    return probs / probs.sum()


def arm_and_leg_alone(net, cause) -> tuple[float, float]:
    """P(arm and leg twitch | `cause` present, every other cause absent), exactly from
    the cause's switch (tau), its site pattern (spread with P = sp: each region by its
    link; focal: one region by its share) and the regions' leaks; and the same figure
    were the regions independent given the switch (the model before the patterns)."""
    i = net.causes.index(cause)
    arm, leg = net.regions.index("twitch_arm"), net.regions.index("twitch_leg")
    tau, sp = float(net.twitch[cause]), float(net.spread[cause])
    f_arm, f_leg = float(net.focal[cause][arm]), float(net.focal[cause][leg])
    s_arm, s_leg = float(net.link["twitch_arm"][i, 1]), float(net.link["twitch_leg"][i, 1])
    l_arm, l_leg = float(net.leak["twitch_arm"][1]), float(net.leak["twitch_leg"][1])
    both_spread = (1 - (1 - s_arm) * (1 - l_arm)) * (1 - (1 - s_leg) * (1 - l_leg))
    # focal: the one region twitches, the other only from its leak
    both_focal = f_arm * l_leg + f_leg * l_arm + (1 - f_arm - f_leg) * l_arm * l_leg
    off = l_arm * l_leg
    want = tau * (sp * both_spread + (1 - sp) * both_focal) + (1 - tau) * off
    return want, tau * both_spread + (1 - tau) * off
