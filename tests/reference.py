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
) -> Network:
    """A small network of the product's shape with random parameters.

    `extreme` draws priors near 0 and 1, links of exactly 0 and 1, and zero leaks.
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


def brute_force(net: Network, query: Query, *, exact=float) -> tuple[float, list[float]]:
    """P(query) and P(query, cause present) by enumerating exposures, causes and regions.

    `exact=fractions.Fraction` runs the same sum in rational arithmetic.
    """
    n = len(net.causes)
    total = exact(0)
    joint = [exact(0)] * n
    exp_states = [
        [s for s in range(len(net.states[e])) if s in query.exposures.get(e, range(len(net.states[e])))]
        for e in net.exposures
    ]
    for xs in itertools.product(*exp_states):
        px = exact(1)
        for e, s in zip(net.exposures, xs):
            px *= exact(float(net.exposure_prob[e][s]))
        x = dict(zip(net.exposures, xs))
        pc = []
        for c in net.causes:
            t = net.cause_table[c]
            v = float(t[tuple(x[e] for e in net.cause_parents[c])]) if net.cause_parents[c] else float(t)
            pc.append(0.0 if c in query.absent else v)
        for config in itertools.product((0, 1), repeat=n):
            w = px
            for on, p in zip(config, pc):
                w *= exact(p) if on else exact(1) - exact(p)
            if w == 0:
                continue
            lik = _likelihood(net, query, config, exact)
            total += w * lik
            for i, on in enumerate(config):
                if on:
                    joint[i] += w * lik
    return total, joint


def _cdf(net, f, config, k, exact):
    """P(finding f <= k | cause configuration)."""
    if k < 0:
        return exact(0)
    if k >= len(net.states[f]) - 1:
        return exact(1)
    out = exact(float(net.leak[f][: k + 1].sum()))
    for i, on in enumerate(config):
        if on:
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
