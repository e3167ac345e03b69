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

from dataclasses import dataclass

import numpy as np

from .engine import CANCELLATION_BOUND, CHUNK_ELEMENTS, Query


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
    e_states = np.array([len(net.exposure_prob[e]) for e in net.exposures])
    # exposure probabilities with one more slot, "unknown", of weight 1
    e_prob = np.ones((len(net.exposures), int(e_states.max()) + 1))
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
    out = {
        "n_states": n_states,
        "cum": cum,
        "pmf": pmf,
        "shared": np.array(shared, dtype=np.int64),
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


def _configurations(t, exposure: np.ndarray):
    """The number of configurations of each query's unknown shared exposures (Q,)."""
    shared, e_states = t["shared"], t["e_states"]
    return np.where(exposure[:, shared] < 0, e_states[shared][None, :], 1).prod(axis=1)


def _cause_probabilities(t, exposure: np.ndarray, n_x: int):
    """For queries with n_x configurations of their unknown shared exposures:
    p (Q, X, n) the cause probabilities in each configuration, w (Q, X) the
    configurations' weights, scale (Q,) the weight of the known exposures.

    Each query enumerates its own unknown shared exposures (mixed radix over the
    configuration index x), so queries with different unknowns share one array."""
    shared, e_states, e_prob = t["shared"], t["e_states"], t["e_prob"]
    n_q = len(exposure)
    state = np.where(exposure >= 0, exposure, e_states[None, :])  # unknown -> the summed slot
    scale = e_prob[np.arange(len(e_states))[None, :], state].prod(axis=1)
    unknown = exposure[:, shared] < 0  # (Q, s)
    radix = np.where(unknown, e_states[shared][None, :], 1)
    place = np.cumprod(np.concatenate([np.ones((n_q, 1), dtype=np.int64), radix[:, :-1]], axis=1), axis=1)
    x = np.arange(n_x)
    digit = (x[None, :, None] // place[:, None, :]) % radix[:, None, :]  # (Q, X, s)
    shared_state = np.where(unknown[:, None, :], digit, exposure[:, None, shared])
    w = np.where(unknown[:, None, :], e_prob[shared[None, None, :], shared_state], 1.0).prod(axis=2)
    strides = t["strides"]
    # cause-table index: the other exposures' part, then the shared exposures' part
    other = np.ones(len(e_states), dtype=bool)
    other[shared] = False
    base = state[:, other] @ strides[other] + t["offsets"][None, :]  # (Q, n)
    index = base[:, None, :] + shared_state @ strides[shared]  # (Q, X, n)
    return t["flat"][index], w, scale


def _quickscore(p, w, neg, U, L, absent, joint: bool):
    """Quickscore for queries with the same m: total (Q,), joint (Q, n) or None, kappa."""
    n_q, n_x, n = p.shape
    m = U.shape[1]
    a = np.ones((n_q, 1, n + 1))
    sign = np.ones(1)
    for j in range(m):
        a = np.concatenate([a * U[:, j, None, :], a * L[:, j, None, :]], axis=1)
        sign = np.concatenate([sign, -sign])
    a = a * neg[:, None, :]
    lv = a[..., n]  # (Q, T): the leak's factor in each term
    a = np.where(absent[:, None, :], 0.0, a[..., :n])  # (Q, T, n)
    # f[q, t, x, c] = P(cause c's factor) = 1 - p + p * a
    f = (1.0 - p)[:, None] + p[:, None] * a[:, :, None, :]
    prod = f.prod(axis=3)  # (Q, T, X)
    term = np.einsum("qtx,qx->qt", prod, w) * lv
    total = term @ sign
    size = np.abs(term).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(total != 0, size / np.abs(total), np.where(size > 0, np.inf, 1.0))
    if not joint:
        return total, None, kappa
    # products over the other causes, without dividing (a factor may be 0)
    others = np.ones_like(f)
    others[..., 1:] = np.cumprod(f[..., :-1], axis=3)
    others[..., :-1] *= np.cumprod(f[..., :0:-1], axis=3)[..., ::-1]
    present = p[:, None] * a[:, :, None, :] * others  # (Q, T, X, n)
    num = np.einsum("qtxn,qx->qtn", present, w)
    num = np.einsum("qtn,qt->qn", num, lv * sign)
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


def _coverage(p, w, neg, U, L, A, absent, joint: bool):
    """The subtraction-free coverage recursion (engine.py) for queries with the same m:
    total (Q,), joint (Q, n) or None. Every operation adds non-negative numbers."""
    n_q, n_x, n = p.shape
    m = U.shape[1]
    full = (1 << m) - 1
    n_r = n_q * n_x
    weight = np.where(absent, 0.0, neg[:, :n])  # (Q, n): a present cause's negatives
    # the observations each cause can move (identity transitions for every query are
    # skipped; a cause that moves none only rescales the state)
    identity = ((A == 0) & (L == 1) & (U == 1)).all(axis=0)  # (m, n + 1)
    bits = [np.flatnonzero(~identity[:, i]) for i in range(n + 1)]

    def rows(x):  # (Q, m, n + 1) -> (n + 1, m, R): per cause and observation, per row
        return np.ascontiguousarray(np.repeat(x.transpose(2, 1, 0), n_x, axis=2))

    Lr, Ar, Ur = rows(L), rows(A), rows(U)
    pr = np.ascontiguousarray(p.reshape(n_r, n).T)  # (n, R)
    keep = 1.0 - pr
    move = pr * np.repeat(weight.T, n_x, axis=1)  # P(present) x its negatives

    def step(state, i, transpose=False):
        if not len(bits[i]):
            return (keep[i] + move[i]) * state
        return keep[i] * state + move[i] * _apply(state, Lr[i], Ar[i], Ur[i], bits[i], transpose)

    alpha = np.zeros((1 << m, n_r))
    alpha[0] = 1.0
    alpha = np.repeat(neg[:, n], n_x) * _apply(alpha, Lr[n], Ar[n], Ur[n], bits[n])
    alphas = []
    for i in range(n):
        if joint:
            alphas.append(alpha)
        alpha = step(alpha, i)
    total = (alpha[full].reshape(n_q, n_x) * w).sum(axis=1)
    if not joint:
        return total, None
    beta = np.zeros((1 << m, n_r))
    beta[full] = 1.0
    out = np.zeros((n_q, n))
    for i in reversed(range(n)):
        moved = _apply(alphas[i], Lr[i], Ar[i], Ur[i], bits[i]) if len(bits[i]) else alphas[i]
        inner = np.einsum("sr,sr->r", moved, beta) * move[i]  # (R,)
        out[:, i] = (inner.reshape(n_q, n_x) * w).sum(axis=1)
        beta = step(beta, i, transpose=True)
    return total, out


def evaluate_many(net, q: Queries, *, joint: bool = True, method: str = "auto"):
    """P(query) and, with `joint`, P(query, cause present) for every query, exactly.

    method: "auto" (Quickscore, and the coverage recursion for the queries where it
    cancels), "coverage" (every query), "quickscore" (tests only: may cancel).
    Returns total (Q,), joint (Q, n) or None, and the path per query (Q,) (0 Quickscore,
    1 coverage, 2 impossible premise).
    """
    t = _tables(net)
    n_q, n = len(q), len(net.causes)
    total = np.zeros(n_q)
    out_joint = np.zeros((n_q, n)) if joint else None
    path = np.zeros(n_q, dtype=np.int8)
    if n_q == 0:
        return total, out_joint, path
    neg, U, L, A, m, impossible = _observations(t, q)
    path[impossible] = 2
    # one group per (number of exposure configurations, number of positives)
    key = np.stack([_configurations(t, q.exposure), m], axis=1)
    keys, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(keys) + 1))
    for g, k in enumerate(keys):
        rows = order[bounds[g] : bounds[g + 1]]
        rows = rows[~impossible[rows]]
        if not len(rows):
            continue
        n_x, n_m = int(k[0]), int(k[1])
        per_row = n_x * n * ((1 << n_m) if method != "coverage" else (n + 1) << n_m)
        step = max(1, CHUNK_ELEMENTS // per_row)
        for start in range(0, len(rows), step):
            r = rows[start : start + step]
            p, w, scale = _cause_probabilities(t, q.exposure[r], n_x)
            args = (neg[r], U[r, :n_m], L[r, :n_m])
            if method == "coverage":
                tot, num = _coverage(p, w, *args, A[r, :n_m], q.absent[r], joint)
                bad = np.zeros(len(r), dtype=bool)
            else:
                # kappa first (no joint: cheap), then the joint only where it is kept
                tot, _, kappa = _quickscore(p, w, *args, q.absent[r], False)
                bad = (n_m > 0) & (kappa > CANCELLATION_BOUND) & (method == "auto")
                num = np.zeros((len(r), n)) if joint else None
                good = np.flatnonzero(~bad)
                if joint and len(good):
                    _, num[good], _ = _quickscore(p[good], w[good], neg[r[good]], U[r[good], :n_m], L[r[good], :n_m], q.absent[r[good]], True)
                if bad.any():  # where Quickscore cancelled: the subtraction-free path
                    b = np.flatnonzero(bad)
                    c_tot, c_num = _coverage(p[b], w[b], neg[r[b]], U[r[b], :n_m], L[r[b], :n_m], A[r[b], :n_m], q.absent[r[b]], joint)
                    tot[b] = c_tot
                    if joint:
                        num[b] = c_num
            total[r] = scale * tot
            if joint:
                out_joint[r] = scale[:, None] * num
            path[r[bad]] = 1
            if method == "coverage":
                path[r] = 1
    return total, out_joint, path
