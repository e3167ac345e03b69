"""Synthetic cases drawn from the network object (docs/validation.md).

Cases are drawn exactly from P(exposures, causes, findings | twitching somewhere),
vectorised over cases.

Each present cause i is one twitch *source*: its switch ("i is making the person
twitch") is on with P(twitching | i) = tau_i (`net.twitch`), and given the switch each
region fires with P(site | i, twitching) (`net.link[region][i, 1]`), so the source
produces some twitch with t_i = tau_i (1 - prod_r (1 - s_ir)). The leak's region links
are sources of their own, one a region, each firing with its leak l_r. The steps:

1. Exposures from their population distributions, then the causes given them, by a
   rejection scheme that keeps every step exact while accepting most draws: the union
   bound P(twitch | c) <= L + sum_i c_i t_i (L: the leak's chance of some twitch) is a
   mixture we can draw from directly (pick the leak or a cause i with weight
   t_i p_i(x), force that cause present, draw the rest), and a final
   accept-with-probability P(twitch | c) / (L + sum_i c_i t_i) makes it exact.
2. The sources (each present cause, then each leak link) fire conditioned on at least
   one firing, one after another: P(source k fires | none before) =
   pi_k / (1 - prod_{j >= k} (1 - pi_j)). A cause that fired has its switch on and its
   regions drawn the same way, conditioned on at least one; a cause that did not has
   its switch on with P(on | no region) = tau_i prod_r (1 - s_ir) / (1 - t_i) and
   fires no region. The causes that fired are the case's *responsible* causes:
   present, switch on, and at least one region link fired.
3. Other findings read the cause itself, not its switch: each present cause and the
   leak draw a contribution; the state is the largest.

Worlds the model does not know: `perturbed_network` redraws every parameter from its
range; `misreport` flips reported answers; `correlation` couples exposures (stress with
short sleep, heavy drinking with smoking, poor diet with fluid loss) by a Gaussian
copula that keeps each exposure's own distribution.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from ..network import rules as T
from ..network import vocabulary as V
from ..network.evidence import is_label_column
from ..network.draws import generator, marginal_prior
from .settings import load_settings


# Exposure pairs coupled in the `correlation` world: risks that travel together.
CORRELATED_PAIRS = (("stress", "sleep"), ("alcohol_intake", "smoking"), ("diet", "fluid_loss"), ("stress", "caffeine"))


def _categorical(rng, probs: np.ndarray, u: np.ndarray | None = None, size: int = 0) -> np.ndarray:
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0
    u = rng.random(size) if u is None else u
    return np.searchsorted(cdf, u, side="right").clip(0, len(probs) - 1)


def _exposures(net, rng, size: int, correlation: float) -> dict[str, np.ndarray]:
    uniforms = {e: rng.random(size) for e in net.exposures}
    if correlation:
        from scipy.stats import norm

        for a, b in CORRELATED_PAIRS:
            if a in uniforms and b in uniforms:
                za, zb = norm.ppf(uniforms[a]), norm.ppf(uniforms[b])
                uniforms[b] = norm.cdf(correlation * za + math.sqrt(1 - correlation**2) * zb)
    x = {e: _categorical(rng, net.exposure_prob[e], uniforms[e]) for e in net.exposures}
    for e, through in V.ACTS_THROUGH.items():
        # docs/model.md: with none of the exposures it acts through, this one is inert in
        # the network (and `infer()` rejects it said as present); a person taking none
        # of the listed medicines has started none of them, so it is drawn absent there
        none = ~np.any([x[t] > 0 for t in through], axis=0)
        x[e] = np.where(none, 0, x[e])
    return x


def _cause_probs(net, x: Mapping[str, np.ndarray]) -> np.ndarray:
    size = len(next(iter(x.values())))
    p = np.empty((size, len(net.causes)))
    for i, c in enumerate(net.causes):
        table = net.cause_table[c]
        parents = net.cause_parents[c]
        p[:, i] = table[tuple(x[e] for e in parents)] if parents else float(table)
    return p


def _twitch_links(net) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The twitch sources: tau[cause] = P(switch on | cause present), site[cause, region]
    = P(region | cause, spread pattern), leak[region] = the leak's chance of the region."""
    tau = np.array([float(net.twitch[c]) for c in net.causes])
    site = np.array([[net.link[r][i, 1] for r in net.regions] for i in range(len(net.causes))])
    leak = np.array([net.leak[r][1] for r in net.regions])
    return tau, site, leak


def _site_patterns(net) -> tuple[np.ndarray, np.ndarray]:
    """w[cause] = P(spread pattern | switch on) and focal[cause, region] = P(region |
    focal pattern) (`Network.spread`, `Network.focal`; a cause without them: spread)."""
    n, n_r = len(net.causes), len(net.regions)
    w = np.array([float(net.spread[c]) if c in net.spread else 1.0 for c in net.causes])
    focal = np.array([np.asarray(net.focal[c], dtype=float) if c in net.spread else np.zeros(n_r) for c in net.causes])
    return w, focal.reshape(n, n_r)


def _source_chance(tau: np.ndarray, site: np.ndarray, w: np.ndarray) -> np.ndarray:
    """t_i: P(cause i present makes some region twitch) = tau_i (1 - P(no region | on)),
    where only the spread pattern can fire none: P(no region | on) = w_i prod_r (1 - s_ir)."""
    return tau * (1.0 - w * np.prod(1.0 - site, axis=1))


def _fire_at_least_one(rng, pi: np.ndarray) -> np.ndarray:
    """Bernoulli(pi) along the last axis, conditioned on at least one firing (rows whose
    pi are all 0 fire none), exactly: one after another, P(k fires | none before) =
    pi_k / P(some of k.. fires), and unconditionally once one has fired."""
    none_from = np.cumprod((1.0 - pi)[..., ::-1], axis=-1)[..., ::-1]  # P(none of k.. fires)
    fired = np.zeros(pi.shape, dtype=bool)
    done = np.zeros(pi.shape[:-1], dtype=bool)
    u = rng.random(pi.shape)
    for k in range(pi.shape[-1]):
        some = 1.0 - none_from[..., k]
        with np.errstate(divide="ignore", invalid="ignore"):
            conditional = np.where(done | (some <= 0.0), pi[..., k], pi[..., k] / some)
        fired[..., k] = u[..., k] < np.minimum(conditional, 1.0)
        done |= fired[..., k]
    return fired


def _draw_causes(net, rng, size: int, correlation: float):
    tau, site, leak = _twitch_links(net)
    t = _source_chance(tau, site, _site_patterns(net)[0])  # t_i
    big_l = 1.0 - np.prod(1.0 - leak)  # L
    p_max = np.array([net.cause_table[c].max() for c in net.causes])
    m_max = big_l + t @ p_max
    xs, cs = [], []
    have = 0
    while have < size:
        batch = max(1024, int(1.3 * (size - have) * m_max / max(big_l + 1e-12, 1e-6)) if have == 0 else 2 * (size - have) + 1024)
        batch = min(batch, 1 << 20)
        x = _exposures(net, rng, batch, correlation)
        p = _cause_probs(net, x)
        weight = np.column_stack([np.full(batch, big_l), p * t])  # mixture: leak, causes
        m = weight.sum(axis=1)
        keep = rng.random(batch) < m / m_max
        x = {e: v[keep] for e, v in x.items()}
        p, weight, m = p[keep], weight[keep], m[keep]
        k = len(p)
        component = (rng.random(k)[:, None] > np.cumsum(weight, axis=1) / m[:, None]).sum(axis=1)
        c = rng.random(p.shape) < p
        forced = component > 0
        c[np.flatnonzero(forced), component[forced] - 1] = True
        p_twitch = 1.0 - (1.0 - big_l) * np.prod(np.where(c, 1.0 - t, 1.0), axis=1)
        ok = rng.random(k) * (big_l + c @ t) < p_twitch
        xs.append({e: v[ok] for e, v in x.items()})
        cs.append(c[ok])
        have += int(ok.sum())
    x = {e: np.concatenate([d[e] for d in xs])[:size] for e in net.exposures}
    return x, np.concatenate(cs)[:size]


def _draw_twitches(net, rng, c: np.ndarray):
    """Region states, responsible causes and switches, given some region twitches.

    Returns regions (size, regions) bool; responsible (size, causes): the present causes
    whose switch is on and which fired at least one region; switch (size, causes): the
    causes making the person twitch (on only where present; it holds the responsible).
    """
    tau, site, leak = _twitch_links(net)
    w, focal = _site_patterns(net)
    t = _source_chance(tau, site, w)
    size, n = c.shape
    # the sources in firing order: each cause (t_i where present), then each leak link
    pi = np.concatenate([np.where(c, t[None], 0.0), np.broadcast_to(leak, (size, len(leak)))], axis=1)
    fired = _fire_at_least_one(rng, pi)
    responsible = fired[:, :n]
    # a cause that fired: its pattern given some region, then its regions: focal (one
    # region, by its shares) with P((1 - w) / (1 - w prod(1 - s))), else spread (each
    # region by its link) given at least one of them
    silent_spread = w * np.prod(1.0 - site, axis=1)  # P(on, spread, no region | on)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_focal = np.where(silent_spread < 1.0, (1.0 - w) / (1.0 - silent_spread), 0.0)
    is_focal = responsible & (rng.random(c.shape) < p_focal[None])
    spread = _fire_at_least_one(rng, np.where((responsible & ~is_focal)[:, :, None], site[None], 0.0))
    one = (rng.random(c.shape)[:, :, None] > np.cumsum(focal, axis=1)[None]).sum(axis=2)  # a focal region
    one = np.minimum(one, len(net.regions) - 1)
    pattern = spread | (is_focal[:, :, None] & (np.arange(len(net.regions))[None, None] == one[:, :, None]))
    regions = pattern.any(axis=1) | fired[:, n:]
    # a present cause that fired nothing: switch on with the spread pattern firing no
    # region, or switch off
    quiet = tau * silent_spread
    with np.errstate(divide="ignore", invalid="ignore"):
        on_if_silent = np.where(t < 1.0, quiet / (1.0 - t), 0.0)
    switch = responsible | (c & ~responsible & (rng.random(c.shape) < on_if_silent[None]))
    return regions, responsible, switch


def _draw_findings(net, rng, c: np.ndarray) -> dict[str, np.ndarray]:
    """Each present cause and the leak draw a contribution to each finding; the state is
    the largest. The weakness patterns (`Network.weak_patterns`) read the weakness
    latent: a source (a cause or the leak) whose weakness contribution is not none fires
    each pattern with its link (so no pattern without weakness)."""
    size = len(c)
    out = {}
    weak_on = np.zeros((size, c.shape[1] + 1), dtype=bool)  # per cause, then the leak
    order = [f for f in net.findings if f not in net.regions and f not in net.weak_patterns]
    for f in order + list(net.weak_patterns):
        pattern = f in net.weak_patterns
        leak = _categorical(rng, net.leak[f], size=size)
        if pattern:
            leak = np.where(weak_on[:, -1], leak, 0)
        elif f == net.weak_finding:
            weak_on[:, -1] = leak > 0
        state = leak
        for i in range(c.shape[1]):
            present = c[:, i] & weak_on[:, i] if pattern else c[:, i]
            rows = np.flatnonzero(present)
            if len(rows) and net.link[f][i, 0] < 1.0:
                drawn = _categorical(rng, net.link[f][i], size=len(rows))
                if f == net.weak_finding:
                    weak_on[rows, i] = drawn > 0
                state[rows] = np.maximum(state[rows], drawn)
        out[f] = state
    return out


def true_levels(net, nodes: Mapping[str, np.ndarray], c: np.ndarray) -> np.ndarray:
    """The true triage level of each case (docs/model.md), as an index into LEVELS."""
    levels = np.array([net.cause_level[cause] for cause in net.causes])
    level = np.where(c, levels[None], 0).max(axis=1)
    for rule in net.triage.rules:
        holds = np.zeros(len(c), dtype=bool)
        for conj in rule.conjunctions:
            ok = np.ones(len(c), dtype=bool)
            for node, allowed in conj:
                ok &= np.isin(nodes[node], list(allowed))
            holds |= ok
        level = np.where(holds, np.maximum(level, rule.level), level)
    return level


def _report(net, rng, nodes: Mapping[str, np.ndarray], missing: float, misreport: float) -> pd.DataFrame:
    """The evidence a person reports: user keys, a share of them missing."""
    size = len(next(iter(nodes.values())))
    cols: dict[str, object] = {}
    regions = np.column_stack([nodes[r] for r in V.REGION_NODES]).astype(bool)
    if misreport:
        flipped = regions ^ (rng.random(regions.shape) < misreport)
        regions = np.where(flipped.any(axis=1, keepdims=True), flipped, regions)
    names = np.array(V.REGIONS)
    cols["location"] = np.array([";".join(names[row]) for row in regions], dtype=object)
    for f in V.ORDINAL_FINDINGS:
        s = nodes[f].copy()
        if misreport:
            shift = (rng.random(size) < misreport) * rng.choice([-1, 1], size=size)
            s = np.clip(s + shift, 0, len(net.states[f]) - 1)
        cols[f] = np.array(net.states[f], dtype=object)[s]
    for f in V.BINARY_FINDINGS:
        s = nodes[f].astype(bool)
        if misreport:
            s = s ^ (rng.random(size) < misreport)
        cols[f] = s
    # where the weakness is: its named options (a pattern is reported only with some
    # weakness reported: a misreported "none" drops the patterns, as a person would)
    where = np.column_stack([nodes[f] for f in V.WEAKNESS_WHERE_NODES]).astype(bool)
    if misreport:
        where = where ^ (rng.random(where.shape) < misreport)
    where &= (cols["weakness"] != "none")[:, None]
    options = np.array(V.WEAKNESS_WHERE)
    cols["weakness_where"] = np.array([";".join(options[row]) or "none" for row in where], dtype=object)
    for e in V.CATEGORICAL_EXPOSURES:
        cols[e] = np.array(net.states[e], dtype=object)[nodes[e]]
    for e in V.BINARY_EXPOSURES:
        cols[e] = nodes[e].astype(bool)
    meds = np.column_stack([nodes[m] for m in V.MEDICATION_NODES]).astype(bool)
    med_names = np.array(V.MEDICATIONS)
    cols["medications"] = np.array([";".join(med_names[row]) or "none" for row in meds], dtype=object)
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})
    if missing:
        frame = frame.mask(rng.random(frame.shape) < missing)
    return frame


def sample_cases(
    net,
    n: int,
    *,
    rng: np.random.Generator | None = None,
    missing: float | None = None,
    misreport: float = 0.0,
    correlation: float = 0.0,
) -> pd.DataFrame:
    """Draw `n` cases from the network, conditioned on twitching somewhere.

    Returns one row a case: the reported evidence (the user's evidence keys, docs/model.md; a `missing`
    share of answers left empty, by default `missing` of the network's
    priors/validation.toml, `twitchdx validate`'s mix), then the labels: `true_level`,
    `primary` (missing when the leak alone made the twitch), `responsible` and `present`
    (';'-joined causes), and one boolean column `present:<cause>` per cause.

    The case set goes to `infer` as it is: the label columns are set aside, not read as
    evidence. `evidence_of(cases)` and `truth_of(cases)` split it.

    rng : the numpy Generator the cases come from; by default one seeded with
        DEFAULT_SEED (0), so that two calls without `rng` give the same cases.

    Examples
    --------
    >>> from model import infer, load_network
    >>> net = load_network()
    >>> cases = sample_cases(net, 100, rng=np.random.default_rng(1))
    >>> batch = infer(cases, network=net)
    >>> len(batch), bool(batch.ok.all())
    (100, True)
    """
    rng = generator(rng)
    if missing is None:
        missing = load_settings(net).missing
    for name, value in (("missing", missing), ("misreport", misreport)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name}: {value!r} is outside [0, 1]")
    if not -1.0 < correlation < 1.0:
        raise ValueError(f"correlation: {correlation!r} is outside (-1, 1)")
    if n < 0:
        raise ValueError(f"n: {n!r} is negative")
    x, c = _draw_causes(net, rng, n, correlation)
    if "alcohol_stopped" in x:
        # stopping heavy drinking is said only of heavy drinkers (docs/model.md); elsewhere the
        # exposure changes no cause, so clearing it leaves every other draw as it was
        heavy = net.states["alcohol_intake"].index("heavy")
        x["alcohol_stopped"] = np.where(x["alcohol_intake"] == heavy, x["alcohol_stopped"], 0)
    regions, responsible, _ = _draw_twitches(net, rng, c)
    nodes = dict(x)
    nodes.update({r: regions[:, j].astype(int) for j, r in enumerate(net.regions)})
    nodes.update(_draw_findings(net, rng, c))
    level = true_levels(net, nodes, c)
    frame = _report(net, rng, nodes, missing, misreport)
    # primary: the responsible cause of highest triage level, then lowest prior
    levels = np.array([net.cause_level[k] for k in net.causes])
    prior = np.array([marginal_prior(net, k) for k in net.causes])
    preference = np.lexsort((prior, -levels))  # causes, most preferred first
    first = np.argmax(responsible[:, preference], axis=1)
    best = preference[first]
    names = np.array(net.causes, dtype=object)
    frame["true_level"] = np.array(T.LEVELS, dtype=object)[level]
    frame["primary"] = np.where(responsible.any(axis=1), names[best], None)
    frame["responsible"] = [";".join(names[row]) for row in responsible]
    frame["present"] = [";".join(names[row]) for row in c]
    for i, cause in enumerate(net.causes):
        frame[f"present:{cause}"] = c[:, i]
    return frame


def truth_columns(frame: pd.DataFrame) -> list[str]:
    """The label columns of a case set: what the sampler knows, not evidence."""
    return [k for k in frame.columns if is_label_column(k)]


def evidence_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The evidence columns of a case set (what `infer` reads; it sets the others aside)."""
    return frame.drop(columns=truth_columns(frame))


def truth_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The label columns of a case set (true_level, primary, responsible, present, ...)."""
    return frame[truth_columns(frame)]
