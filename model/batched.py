"""The exact engine of `model.engine`, vectorised over many queries at once.

`model.engine.evaluate` answers one query; this module answers thousands in a few numpy
calls, with the same mathematics (see engine.py's docstring):

* Queries are arrays, one row a query: an allowed state range (lo, hi) per finding, an
  observed state or -1 per exposure, and the causes forced absent.
* The exposure layer: an exposure that feeds a single cause and is unknown is summed
  into that cause's table once (an extra "unknown" slot on its axis); the unknown
  exposures that feed several causes are enumerated. Queries are grouped by which of
  those are unknown, so that in a group every query shares one grid of configurations.
* Within a group, queries are grouped again by their number m of positive observations
  and answered by Quickscore over (queries x 2^m terms x configurations x causes).
* Quickscore can cancel: every query whose ratio kappa = sum |terms| / |result| passes
  `engine.CANCELLATION_BOUND` is answered again by the subtraction-free coverage
  recursion of engine.py, vectorised the same way. The answer is exact either way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .engine import CANCELLATION_BOUND, CHUNK_ELEMENTS, Query


# The path that answered each query (`evaluate_many`'s codes; api.PATHS names them).
QUICKSCORE, COVERAGE, IMPOSSIBLE, HYBRID = 0, 1, 2, 3


@dataclass(frozen=True)
class Queries:
    """Many queries as arrays (one row a query); premise (twitching somewhere) always on.

    lo, hi : (Q, F) allowed state range of each finding (net.findings order);
        unconstrained is (0, n_states - 1).
    exposure : (Q, E) observed state of each exposure (net.exposures order), -1 unknown.
    absent : (Q, n) causes forced absent.
    """

    lo: np.ndarray
    hi: np.ndarray
    exposure: np.ndarray
    absent: np.ndarray

    def __len__(self) -> int:
        return len(self.lo)

    def take(self, rows) -> "Queries":
        return Queries(self.lo[rows], self.hi[rows], self.exposure[rows], self.absent[rows])

    def concat(self, other: "Queries") -> "Queries":
        return Queries(*(np.concatenate([a, b]) for a, b in zip(
            (self.lo, self.hi, self.exposure, self.absent), (other.lo, other.hi, other.exposure, other.absent))))

    def query(self, net, i: int) -> Query:
        """Row i as an `engine.Query` (for the one-at-a-time path)."""
        k = _tables(net)["n_states"]
        findings = {
            f: (int(self.lo[i, j]), int(self.hi[i, j]))
            for j, f in enumerate(net.findings)
            if self.lo[i, j] > 0 or self.hi[i, j] < k[j] - 1
        }
        exposures = {e: (int(s),) for e, s in zip(net.exposures, self.exposure[i]) if s >= 0}
        absent = frozenset(c for c, a in zip(net.causes, self.absent[i]) if a)
        return Query(exposures, findings, absent)


def from_states(net, states: np.ndarray) -> Queries:
    """Queries observing node states: `states` is (Q, exposures + findings) in the order
    net.exposures then net.findings, -1 for unknown."""
    t = _tables(net)
    n_exp = len(net.exposures)
    exposure = states[:, :n_exp].astype(np.int64)
    obs = states[:, n_exp:].astype(np.int64)
    known = obs >= 0
    lo = np.where(known, obs, 0)
    hi = np.where(known, obs, t["n_states"][None, :] - 1)
    return Queries(lo, hi, exposure, np.zeros((len(states), len(net.causes)), dtype=bool))


def _tables(net) -> dict:
    """The network's arrays in the layout this module reads (built once per network)."""
    cached = net._cache.get("batched")
    if cached is not None:
        return cached
    n = len(net.causes)
    n_states = np.array([len(net.states[f]) for f in net.findings])
    kmax = int(n_states.max())
    # pmf[f, c, s] = P(contribution of cause c (row n: the leak) to finding f = s);
    # cum[f, c, s] = P(contribution <= s)
    pmf = np.zeros((len(net.findings), n + 1, kmax))
    cum = np.ones((len(net.findings), n + 1, kmax))
    for j, f in enumerate(net.findings):
        table = np.vstack([net.link[f], net.leak[f]])
        pmf[j, :, : n_states[j]] = table
        cum[j, :, : n_states[j]] = np.cumsum(table, axis=1)
        cum[j, :, n_states[j] - 1] = 1.0  # exactly, whatever the rounding of the sum
    children = {e: sum(e in net.cause_parents[c] for c in net.causes) for e in net.exposures}
    shared = [i for i, e in enumerate(net.exposures) if children[e] >= 2]
    e_states = np.array([len(net.exposure_prob[e]) for e in net.exposures], dtype=np.int64)
    # exposure probabilities with one more slot, "unknown", of weight 1
    e_prob = np.ones((len(net.exposures), int(e_states.max(initial=0)) + 1))
    for i, e in enumerate(net.exposures):
        e_prob[i, : e_states[i]] = net.exposure_prob[e]
        e_prob[i, e_states[i]] = 1.0
    # every cause table with an extra "unknown" slot on each axis, where the exposure is
    # summed out over its population distribution; all tables flat in one array
    flat, offsets = [], []
    strides = np.zeros((len(net.exposures), n), dtype=np.int64)
    size = 0
    for c_i, c in enumerate(net.causes):
        table = np.asarray(net.cause_table[c], dtype=float)
        parents = net.cause_parents[c]
        for axis, e in enumerate(parents):
            marginal = np.tensordot(table, net.exposure_prob[e], axes=([axis], [0]))
            table = np.concatenate([table, np.expand_dims(marginal, axis)], axis=axis)
        stride = 1
        for axis in reversed(range(len(parents))):
            strides[net.exposures.index(parents[axis]), c_i] = stride
            stride *= table.shape[axis]
        offsets.append(size)
        flat.append(table.ravel())
        size += table.size
    regions = np.array([net.findings.index(r) for r in net.regions])
    hubs, factors = _factors(net, shared, e_states)
    out = {
        "n_states": n_states,
        "cum": cum,
        "pmf": pmf,
        "shared": np.array(shared, dtype=np.int64),
        "unshared": np.array([i for i in range(len(net.exposures)) if i not in shared], dtype=np.int64),
        "hubs": np.array(hubs, dtype=np.int64),
        "factors": [(np.array(ex, dtype=np.int64), np.array(causes, dtype=np.int64)) for ex, causes in factors],
        "e_states": e_states,
        "e_prob": e_prob,
        "flat": np.concatenate(flat),
        "offsets": np.array(offsets, dtype=np.int64),
        "strides": strides,
        "regions": regions,
    }
    net._cache["batched"] = out
    return out


def _observations(t, q: Queries):
    """neg (Q, n+1): the negative observations' weight per cause (last: the leak);
    U, L, A (Q, M, n+1): each positive observation's P(contribution <= hi), P(< lo) and
    P(lo <= contribution <= hi) (summed, not subtracted), padded to M; m (Q,): the
    number of positive observations; impossible (Q,) bool."""
    n_q, n_f = q.lo.shape
    cum = t["cum"]
    full = q.hi == t["n_states"][None, :] - 1
    f_idx = np.arange(n_f)[None, :]
    upper = cum[f_idx, :, q.hi]  # (Q, F, n+1)
    negative = (q.lo == 0) & ~full
    neg = np.where(negative[..., None], upper, 1.0).prod(axis=1)
    positive = q.lo > 0
    # the premise: if no region is positive, "twitching in a region not observed"
    reg = t["regions"]
    premise = ~positive[:, reg].any(axis=1)
    free = (q.lo[:, reg] == 0) & full[:, reg]
    impossible = premise & ~free.any(axis=1)
    m = positive.sum(axis=1) + premise
    n_m = int(m.max()) if n_q else 0
    U = np.ones((n_q, n_m, neg.shape[1]))
    L = np.zeros((n_q, n_m, neg.shape[1]))
    A = np.ones((n_q, n_m, neg.shape[1]))
    # the j-th positive of each row goes to slot j: rank the positives within a row
    rows, cols = np.nonzero(positive)
    slot = np.cumsum(positive, axis=1)[rows, cols] - 1
    U[rows, slot] = upper[rows, cols]
    L[rows, slot] = cum[cols, :, q.lo[rows, cols] - 1]
    s = np.arange(cum.shape[2])
    inside = (s[None, :] >= q.lo[rows, cols, None]) & (s[None, :] <= q.hi[rows, cols, None])  # (K, S)
    A[rows, slot] = (t["pmf"][cols] * inside[:, None, :]).sum(axis=2)
    prem_rows = np.flatnonzero(premise)
    prem_slot = m[prem_rows] - 1
    U[prem_rows, prem_slot] = 1.0
    with np.errstate(divide="ignore"):
        log_none = np.where(free[..., None], np.log(cum[reg[None, :], :, 0]), 0.0).sum(axis=1)[prem_rows]
    L[prem_rows, prem_slot] = np.exp(log_none)
    A[prem_rows, prem_slot] = -np.expm1(log_none)  # 1 - P(no twitch), keeping its digits
    return neg, U, L, A, m, impossible


def _factors(net, shared: list[int], e_states: np.ndarray) -> tuple[list[int], list[tuple[list[int], list[int]]]]:
    """How the unknown shared exposures are summed out: hubs and factors.

    The hub exposures are enumerated jointly; given them, the other shared exposures
    fall apart into connected components (two are connected when a cause reads both),
    each summed on its own, with the causes that read it. Causes that read no shared
    exposure but the hubs form a factor with no exposure of its own. The hubs are the
    set of at most two shared exposures that makes the work with every exposure unknown
    least: prod(hub states) x sum over factors of (its configurations x its causes).
    Returns the hubs (exposure indices) and the factors as (exposures, causes).
    """
    n = len(net.causes)
    reads = [{j for j, e in enumerate(net.exposures) if e in net.cause_parents[c]} for c in net.causes]

    def split(hubs):
        rest = [e for e in shared if e not in hubs]
        parent = {e: e for e in rest}

        def root(e):
            while parent[e] != e:
                e = parent[e]
            return e

        for r in reads:
            mine = [e for e in rest if e in r]
            for e in mine[1:]:
                parent[root(e)] = root(mine[0])
        groups: dict[int, tuple[list[int], list[int]]] = {}
        alone: list[int] = []
        for i in range(n):
            mine = [e for e in rest if e in reads[i]]
            if not mine:
                alone.append(i)
                continue
            g = groups.setdefault(root(mine[0]), ([], []))
            g[1].append(i)
        for e in rest:  # a shared exposure has readers, so its component has causes
            groups[root(e)][0].append(e)
        factors = [([], alone)] * bool(alone) + [(sorted(ex), causes) for ex, causes in groups.values()]
        cost = int(np.prod([e_states[h] for h in hubs])) * sum(
            int(np.prod([e_states[e] for e in ex])) * len(causes) for ex, causes in factors)
        return cost, factors

    candidates = [()] + [(h,) for h in shared] + list(itertools.combinations(shared, 2))
    best = min(candidates, key=lambda hubs: split(hubs)[0])
    return list(best), split(best)[1]


def _radix(exposure: np.ndarray, which: np.ndarray, e_states: np.ndarray) -> np.ndarray:
    """The number of configurations of each query's unknown exposures among `which`."""
    return np.where(exposure[:, which] < 0, e_states[which][None, :], 1).prod(axis=1)


def _enumerate(t, exposure: np.ndarray, which: np.ndarray, n_x: int):
    """Each query's configurations of its unknown exposures among `which` (mixed radix
    over the configuration index; known ones at their state): states (Q, X, |which|)
    and the configurations' weights (Q, X)."""
    e_states, e_prob = t["e_states"], t["e_prob"]
    n_q = len(exposure)
    unknown = exposure[:, which] < 0
    radix = np.where(unknown, e_states[which][None, :], 1)
    place = np.cumprod(np.concatenate([np.ones((n_q, 1), dtype=np.int64), radix[:, :-1]], axis=1), axis=1)
    x = np.arange(n_x)
    digit = (x[None, :, None] // place[:, None, :]) % radix[:, None, :]
    states = np.where(unknown[:, None, :], digit, exposure[:, None, which])
    w = np.where(unknown[:, None, :], e_prob[which[None, None, :], states], 1.0).prod(axis=2)
    return states, w


def _group_sizes(t, exposure: np.ndarray) -> np.ndarray:
    """(Q, 1 + factors): the configurations of the hubs, then of each factor."""
    return np.stack([_radix(exposure, t["hubs"], t["e_states"])]
                    + [_radix(exposure, ex, t["e_states"]) for ex, _ in t["factors"]], axis=1)


def _cause_probabilities(t, exposure: np.ndarray, sizes: tuple[int, ...]):
    """For queries sharing their numbers of configurations `sizes` (hubs, then each
    factor): wh (Q, H) the hub configurations' weights; per factor, p (Q, H, Y, n_f)
    the probabilities of its causes in every hub and factor configuration and w (Q, Y)
    the factor configurations' weights; scale (Q,) the weight of the known exposures."""
    e_states, e_prob, strides = t["e_states"], t["e_prob"], t["strides"]
    state = np.where(exposure >= 0, exposure, e_states[None, :])  # unknown -> the summed slot
    scale = e_prob[np.arange(len(e_states))[None, :], state].prod(axis=1)
    other = t["unshared"]
    base = state[:, other] @ strides[other] + t["offsets"][None, :]  # (Q, n)
    hub_states, wh = _enumerate(t, exposure, t["hubs"], sizes[0])
    hub_index = hub_states @ strides[t["hubs"]]  # (Q, H, n)
    parts = []
    for (ex, causes), n_y in zip(t["factors"], sizes[1:]):
        f_states, w = _enumerate(t, exposure, ex, n_y)
        index = (base[:, None, None, causes] + hub_index[:, :, None, causes]
                 + (f_states @ strides[ex][:, causes])[:, None, :, :])
        parts.append((t["flat"][index], w))
    return wh, parts, scale


def _quickscore(wh, parts, neg, U, L, absent, joint: bool, causes_of):
    """Quickscore for queries with the same m and configuration sizes: total (Q,), joint
    (Q, n) or None, kappa. Each term is summed over every factor's configurations on
    its own, then over the hubs' (the factors are independent given the hubs)."""
    n_q, m = U.shape[0], U.shape[1]
    n = neg.shape[1] - 1
    a = np.ones((n_q, 1, n + 1))
    sign = np.ones(1)
    for j in range(m):
        a = np.concatenate([a * U[:, j, None, :], a * L[:, j, None, :]], axis=1)
        sign = np.concatenate([sign, -sign])
    a = a * neg[:, None, :]
    lv = a[..., n]  # (Q, T): the leak's factor in each term
    a = np.where(absent[:, None, :], 0.0, a[..., :n])  # (Q, T, n)
    f_all, sums = [], []
    for (p, w), causes in zip(parts, causes_of):
        # f[q, t, h, y, c] = cause c's factor = 1 - p + p * a
        f = (1.0 - p)[:, None] + p[:, None] * a[:, :, None, None, causes]
        f_all.append(f)
        sums.append(np.einsum("qthy,qy->qth", f.prod(axis=4), w))
    # products of the factors' sums: all, and all but one (without dividing: a sum may be 0)
    prefix = [np.ones_like(sums[0])]
    for s_ in sums:
        prefix.append(prefix[-1] * s_)
    term = np.einsum("qth,qh->qt", prefix[-1], wh) * lv
    total = term @ sign
    size = np.abs(term).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(total != 0, size / np.abs(total), np.where(size > 0, np.inf, 1.0))
    if not joint:
        return total, None, kappa
    num = np.zeros((n_q, n))
    suffix = np.ones_like(sums[0])
    for k in reversed(range(len(parts))):
        (p, w), causes, f = parts[k], causes_of[k], f_all[k]
        outside = prefix[k] * suffix * wh[:, None, :]  # (Q, T, H): the other factors
        others = np.ones_like(f)
        others[..., 1:] = np.cumprod(f[..., :-1], axis=4)
        others[..., :-1] *= np.cumprod(f[..., :0:-1], axis=4)[..., ::-1]
        present = p[:, None] * a[:, :, None, None, causes] * others  # (Q, T, H, Y, n_f)
        inner = np.einsum("qthyc,qy->qthc", present, w)
        num[:, causes] = np.einsum("qthc,qth,qt->qc", inner, outside, lv * sign)
        suffix = suffix * sums[k]
    return total, num, kappa


def _apply(alpha, lower, active, upper, bits, transpose=False):
    """One cause's 2x2 transitions, one per positive observation, for every row.

    alpha (2^m, R): bit j of the first index says whether observation j already has a
    contribution in [lo, hi]; R = queries x configurations, last so that every
    operation runs over long contiguous rows. lower/active/upper (m, R): forward, bit
    0 -> 0 with `lower`, 0 -> 1 with `active`, 1 -> 1 with `upper` (engine.py's
    `_apply`). `bits`: the observations whose transition is not the identity somewhere
    (the others are skipped).
    """
    size, n_r = alpha.shape
    out = alpha.copy()
    for j in bits:
        v = out.reshape(size >> (j + 1), 2, 1 << j, n_r)
        v0, v1 = v[:, 0], v[:, 1]
        lo, ac, up = lower[j], active[j], upper[j]
        if transpose:  # new0 = lo * a0 + ac * a1; new1 = up * a1
            v0 *= lo
            v0 += ac * v1
            v1 *= up
        else:  # new0 = lo * a0; new1 = ac * a0 + up * a1
            v1 *= up
            v1 += ac * v0
            v0 *= lo
    return out


def _coverage(wh, parts, neg, U, L, A, absent, joint: bool, causes_of):
    """The subtraction-free coverage recursion (engine.py) for queries with the same m
    and configuration sizes: total (Q,), joint (Q, n) or None. Every operation adds
    non-negative numbers.

    The state is linear in each cause's transitions, so the causes are walked factor by
    factor: the state of every (query, hub configuration) is widened over the factor's
    own configurations, moved by its causes, and summed back over them with their
    weights before the next factor. The backward pass does the same in reverse.
    """
    n_q, n_h = wh.shape
    m = U.shape[1]
    n = neg.shape[1] - 1
    full = (1 << m) - 1
    weight = np.where(absent, 0.0, neg[:, :n])  # (Q, n): a present cause's negatives
    # the observations each cause can move (identity transitions for every query are
    # skipped; a cause that moves none only rescales the state)
    identity = ((A == 0) & (L == 1) & (U == 1)).all(axis=0)  # (m, n + 1)
    bits = [np.flatnonzero(~identity[:, i]) for i in range(n + 1)]
    walk = []  # per factor: rows-per-state repeat, its weights per row, per cause arrays
    for (p, w), causes in zip(parts, causes_of):
        n_y = w.shape[1]
        reps = n_h * n_y  # rows (query, hub, factor configuration), factor fastest

        def rows(x, reps=reps, causes=causes):  # (Q, m, n+1) -> (n_f, m, R)
            return np.ascontiguousarray(np.repeat(x[:, :, causes].transpose(2, 1, 0), reps, axis=2))

        pr = np.ascontiguousarray(p.reshape(-1, len(causes)).T)  # (n_f, R)
        walk.append({
            "n_y": n_y,
            "w": np.repeat(w, n_h, axis=0),  # (Q * H, Y)
            "w_q": w,  # (Q, Y)
            "causes": causes,
            "keep": 1.0 - pr,
            "move": pr * np.repeat(weight[:, causes].T, reps, axis=1),  # P(present) x negatives
            "L": rows(L), "A": rows(A), "U": rows(U),
        })

    def step(state, f, k, transpose=False):
        i = f["causes"][k]
        if not len(bits[i]):
            return (f["keep"][k] + f["move"][k]) * state
        moved = _apply(state, f["L"][k], f["A"][k], f["U"][k], bits[i], transpose)
        return f["keep"][k] * state + f["move"][k] * moved

    def widen(state, f):  # (S, Q*H) -> (S, Q*H*Y)
        return np.repeat(state, f["n_y"], axis=1)

    def narrow(state, f):  # (S, Q*H*Y) -> (S, Q*H), summed with the factor's weights
        return np.einsum("sry,ry->sr", state.reshape(len(state), -1, f["n_y"]), f["w"])

    leak = [np.repeat(x[:, :, n].T, n_h, axis=1) for x in (L, A, U)]  # (m, Q*H)
    alpha = np.zeros((1 << m, n_q * n_h))
    alpha[0] = 1.0
    alpha = np.repeat(neg[:, n], n_h) * _apply(alpha, *leak, bits[n])
    alphas = []
    for f in walk:
        state = widen(alpha, f)
        for k in range(len(f["causes"])):
            if joint:
                alphas.append(state)
            state = step(state, f, k)
        alpha = narrow(state, f)
    total = (alpha[full].reshape(n_q, n_h) * wh).sum(axis=1)
    if not joint:
        return total, None
    beta = np.zeros((1 << m, n_q * n_h))
    beta[full] = 1.0
    out = np.zeros((n_q, n))
    for f in reversed(walk):
        state = widen(beta, f)
        for k in reversed(range(len(f["causes"]))):
            i = f["causes"][k]
            before = alphas.pop()
            moved = _apply(before, f["L"][k], f["A"][k], f["U"][k], bits[i]) if len(bits[i]) else before
            inner = np.einsum("sr,sr->r", moved, state) * f["move"][k]  # (Q*H*Y,)
            out[:, i] = np.einsum("qhy,qy,qh->q", inner.reshape(n_q, n_h, f["n_y"]), f["w_q"], wh)
            state = step(state, f, k, transpose=True)
        beta = narrow(state, f)
    return total, out


def evaluate_many(net, q: Queries, *, joint=True, method: str = "auto"):
    """P(query) and P(query, cause present) for every cause, for every query, exactly.

    joint: True (every query), False (totals only) or a boolean mask (Q,) of the
    queries whose joints are wanted (the others' rows of the joint are 0).
    method: "auto" (Quickscore, and the coverage recursion for the queries where it
    cancels), "coverage" (every query), "quickscore" (tests only: may cancel).
    Returns total (Q,), joint (Q, n) or None, and the path per query (Q,): QUICKSCORE,
    COVERAGE, IMPOSSIBLE (the premise cannot hold) or HYBRID.
    """
    t = _tables(net)
    n_q, n = len(q), len(net.causes)
    want = np.broadcast_to(np.asarray(joint, dtype=bool), (n_q,))
    total = np.zeros(n_q)
    out_joint = np.zeros((n_q, n)) if want.any() else None
    path = np.zeros(n_q, dtype=np.int8)
    if n_q == 0:
        return total, out_joint, path
    neg, U, L, A, m, impossible = _observations(t, q)
    path[impossible] = IMPOSSIBLE
    # one group per (numbers of configurations of the hubs and of each factor, m)
    sizes = np.concatenate([_group_sizes(t, q.exposure), m[:, None]], axis=1)
    dims = tuple(int(d) + 1 for d in sizes.max(axis=0))
    keys, inverse = np.unique(np.ravel_multi_index(tuple(sizes.T), dims), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(keys) + 1))
    for g, k in enumerate(keys):
        rows = order[bounds[g] : bounds[g + 1]]
        rows = rows[~impossible[rows]]
        if not len(rows):
            continue
        *group, n_m = (int(d) for d in np.unravel_index(k, dims))
        causes_of = [causes for _, causes in t["factors"]]
        # work elements per query: configurations x causes, x terms or states x causes
        per_row = group[0] * sum(y * len(c) for y, c in zip(group[1:], causes_of))
        per_row *= (1 << n_m) if method != "coverage" else (n + 1) << n_m
        step = max(1, CHUNK_ELEMENTS // per_row)
        for start in range(0, len(rows), step):
            r = rows[start : start + step]
            wh, parts, scale = _cause_probabilities(t, q.exposure[r], tuple(group))
            obs = (neg[r], U[r, :n_m], L[r, :n_m], A[r, :n_m], q.absent[r])
            tot, num, path[r] = _answer(wh, parts, obs, want[r], method, causes_of)
            total[r] = scale * tot
            if num is not None:
                out_joint[r] = scale[:, None] * num
    return total, out_joint, path


def _hybrid(wh, parts, neg, U, L, A, absent, joint: bool, causes_of):
    """Quickscore over all positive observations but one, the coverage recursion for
    that one: total (Q,), joint (Q, n) or None, and the kappa of the signed sum left.

    Most of Quickscore's cancellation comes from one rare positive (twitching in a
    region has a base rate near 1/500), so each query's positive least likely to be
    covered (by the mean cause probabilities) is kept as the recursion's one bit, and
    the other m - 1 are expanded into 2^(m-1) signed terms, each a one-bit recursion
    with those positives folded into the causes' negative weights.
    """
    n_q, m = U.shape[:2]
    n = neg.shape[1] - 1
    p_mean = np.zeros((n_q, n))
    for (p, _), causes in zip(parts, causes_of):
        p_mean[:, causes] = p.mean(axis=(1, 2))
    covered = np.einsum("qn,qjn->qj", p_mean, A[:, :, :n]) + A[:, :, n]
    keep = covered.argmin(axis=1)  # (Q,)
    slots = np.arange(m)[None, :].repeat(n_q, axis=0)
    rest = np.sort(np.where(slots == keep[:, None], m, slots), axis=1)[:, : m - 1]  # (Q, m-1)
    a = np.ones((n_q, 1, n + 1))
    sign = np.ones(1)
    for j in range(m - 1):
        u = np.take_along_axis(U, rest[:, j, None, None], axis=1)
        lo = np.take_along_axis(L, rest[:, j, None, None], axis=1)
        a = np.concatenate([a * u, a * lo], axis=1)
        sign = np.concatenate([sign, -sign])
    n_t = a.shape[1]

    def rep(x):  # one row per (query, term)
        return np.repeat(x, n_t, axis=0)

    bit = np.arange(n_q), keep
    tot, num = _coverage(
        rep(wh), [(rep(p), rep(w)) for p, w in parts], (a * neg[:, None, :]).reshape(n_q * n_t, n + 1),
        rep(U[bit][:, None]), rep(L[bit][:, None]), rep(A[bit][:, None]), rep(absent), joint, causes_of)
    tot = tot.reshape(n_q, n_t)
    total = tot @ sign
    size = np.abs(tot).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(total != 0, size / np.abs(total), np.where(size > 0, np.inf, 1.0))
    if joint:
        num = np.einsum("qtn,t->qn", num.reshape(n_q, n_t, n), sign)
    return total, num, kappa


def _answer(wh, parts, obs, want, method, causes_of):
    """One group's queries (same configurations and positives): total, joint (0 where
    not wanted; None if none is) and the path of each row (PATH codes).

    Quickscore answers where its kappa is within `CANCELLATION_BOUND`; else the hybrid
    (Quickscore over all positives but the rarest), where its own kappa is; else the
    coverage recursion, which cannot cancel."""
    neg, U, L, A, absent = obs
    n_r, n = len(wh), neg.shape[1] - 1
    m = U.shape[1]
    num = np.zeros((n_r, n)) if want.any() else None
    path = np.zeros(n_r, dtype=np.int8)

    def take(rows):
        return wh[rows], [(p[rows], w[rows]) for p, w in parts], neg[rows], U[rows], L[rows]

    if method == "coverage":
        path[:] = COVERAGE
        tot = np.zeros(n_r)
    else:
        # kappa first (no joint: cheap), then the joint only where it is kept and wanted
        tot, _, kappa = _quickscore(wh, parts, neg, U, L, absent, False, causes_of)
        if m > 0 and method == "auto":
            path[kappa > CANCELLATION_BOUND] = COVERAGE
        good = np.flatnonzero((path == QUICKSCORE) & want)
        if len(good):
            _, num[good], _ = _quickscore(*take(good), absent[good], True, causes_of)
        if m > 1 and method == "auto":
            for with_joint in (True, False):
                b = np.flatnonzero((path == COVERAGE) & (want == with_joint))
                if len(b):
                    h_tot, h_num, h_kappa = _hybrid(*take(b), A[b], absent[b], with_joint, causes_of)
                    ok = h_kappa <= CANCELLATION_BOUND
                    tot[b[ok]] = h_tot[ok]
                    if with_joint:
                        num[b[ok]] = h_num[ok]
                    path[b[ok]] = HYBRID
    for with_joint in (True, False):  # where both cancelled: the subtraction-free path
        b = np.flatnonzero((path == COVERAGE) & (want == with_joint))
        if len(b):
            c_tot, c_num = _coverage(*take(b), A[b], absent[b], with_joint, causes_of)
            tot[b] = c_tot
            if with_joint:
                num[b] = c_num
    return tot, num, path
