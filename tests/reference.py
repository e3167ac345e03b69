"""Reference computations for the tests: small random networks and brute-force enumeration."""

from __future__ import annotations

import itertools
from types import MappingProxyType

import numpy as np

from model.engine import Query
from model.network import Network


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
) -> Network:
    """A small network of the product's shape with random parameters.

    `extreme` draws priors near 0 and 1, links of exactly 0 and 1, zero leaks and
    P(twitching | cause) of exactly 0, near 0 and near 1. Otherwise a cause twitches
    always (1) in about a third of draws, else with a probability in (0.05, 1).
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


# Each cause's state in the enumerations: absent, present and not making the person
# twitch (its switch off), present and twitching (its switch on).
ABSENT, PRESENT, TWITCHING = 0, 1, 2


def _cause_weights(net, x, exact):
    """Per cause, P(absent), P(present, switch off), P(present, switch on) given the
    exposure states `x` (exposure -> state)."""
    out = []
    for c in net.causes:
        t = net.cause_table[c]
        p = exact(float(t[tuple(x[e] for e in net.cause_parents[c])]) if net.cause_parents[c] else float(t))
        tau = exact(float(net.twitch[c]))
        out.append((exact(1) - p, p * (exact(1) - tau), p * tau))
    return out


def brute_force(net: Network, query: Query, *, exact=float) -> tuple[float, list[float]]:
    """P(query) and P(query, cause present) by enumerating exposures, causes, the causes'
    switches (a present cause is making the person twitch with P(twitching | cause); only
    then do its region links apply) and regions.

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
    for xs in itertools.product(*exp_states):
        px = exact(1)
        for e, s in zip(net.exposures, xs):
            px *= exact(float(net.exposure_prob[e][s]))
        weights = _cause_weights(net, dict(zip(net.exposures, xs)), exact)
        for config in itertools.product((ABSENT, PRESENT, TWITCHING), repeat=n):
            if any(s != ABSENT and c in query.absent for s, c in zip(config, net.causes)):
                continue
            w = px
            for s, ws in zip(config, weights):
                w *= ws[s]
            if w == 0:
                continue
            if config not in likelihood:
                likelihood[config] = _likelihood(net, query, config, exact)
            lik = likelihood[config]
            total += w * lik
            for i, s in enumerate(config):
                if s != ABSENT:
                    joint[i] += w * lik
    return total, joint


def _acts(net, f, state):
    """Whether a cause in `state` acts on finding f: a region needs its switch on."""
    return state == TWITCHING if f in net.regions else state != ABSENT


def _cdf(net, f, config, k, exact):
    """P(finding f <= k | cause states)."""
    if k < 0:
        return exact(0)
    if k >= len(net.states[f]) - 1:
        return exact(1)
    out = exact(float(net.leak[f][: k + 1].sum()))
    for i, s in enumerate(config):
        if _acts(net, f, s):
            out *= exact(float(net.link[f][i, : k + 1].sum()))
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
        for config in itertools.product((ABSENT, PRESENT, TWITCHING), repeat=n):
            w = px * float(np.prod([ws[s] for s, ws in zip(config, weights)]))
            if w == 0:
                continue
            base = max([0] + [net.cause_level[c] for c, s in zip(net.causes, config) if s != ABSENT])
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
