"""The exact engine of `model.inference.engine`, vectorised over many queries at once: the path
`infer()` takes, for one case (its query and its triage boxes in one call) or a batch.

The mathematics is engine.py's; what differs is how the work is laid out:

* Queries are arrays, one row a query: an allowed state range (lo, hi) per finding, an
  observed state or -1 per exposure, and the causes forced absent.
* The exposure layer. An exposure that feeds a single cause and is unknown is summed
  into that cause's table once (an extra "unknown" slot on its axis). The unknown
  exposures that feed several causes are summed in factors: the hubs (for the bundled
  network age and sex, chosen by `model.inference.engine.factor_layout`, the one layout both engines use) are enumerated, and given them the other
  shared exposures fall apart into independent components, each summed over its own
  configurations with its own causes. With every exposure unknown that is 6 x (12 + 2
  x 2 + 64 x 8 + 2 x 3) cause-configurations instead of 1,536 x 25. Groups with few
  configurations enumerate them in one factor instead (fewer numpy calls).
* The positives. Quickscore's 2^m signed terms cancel when a positive is rare (a
  twitching region has a base rate near 1/500). `_telescoped` writes the rarest
  positive's difference of products as a sum of non-negative terms and expands only the
  other m - 1, so its kappa = sum |terms| / |result| is smaller by about that rarity.
  Where kappa still passes `engine.CANCELLATION_BOUND` (most cases with every node
  observed: kappa 1e4-1e6), the same sums in extended precision (`np.longdouble`)
  answer up to `EXTENDED_BOUND`, and past that the subtraction-free coverage recursion,
  factor by factor. The answer is exact either way.
* Queries are grouped by their numbers of configurations and of positives, so that in a
  group every array has one shape.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..inference.engine import factor_layout
from .engine import CANCELLATION_BOUND, CHUNK_ELEMENTS, memo as _memo


# Groups whose unknown shared exposures have at most this many configurations enumerate
# them in one factor: the factored sum saves work only on larger grids, and each factor
# costs a few dozen numpy calls (what a single case pays for).
ENUMERATE_UP_TO = 4
# A factor whose exposures have at most this many configurations in all is enumerated
# whole in every query, unknown or not (configurations a query rules out weigh 0).
PAD_UP_TO = 2
# The coverage recursion moves its state by whole transition matrices while (rows x 4^m)
# stays within this: one matrix product a cause beats m bit updates only while small.
MATRIX_WORK = 1 << 17

# The telescoped sums again in extended precision (x87 80-bit `np.longdouble` on x86-64:
# eps 1.1e-19 against float64's 2.2e-16) keep the same error bound up to a kappa larger
# by the ratio of the two machine epsilons (about 2e7 on x86-64). Where `longdouble` is
# float64 (some ARM builds) the ratio is 1 and there is no second pass.
EXTENDED = np.longdouble
EXTENDED_BOUND = CANCELLATION_BOUND * float(np.finfo(np.float64).eps / np.finfo(EXTENDED).eps)
# Groups with at most this much work (rows x terms x configurations x causes) start in
# extended precision: their time goes to numpy calls, not arithmetic, so the wider type
# costs nothing there and saves the float64 pass for the queries that would cancel.
EXTENDED_FIRST_WORK = 1 << 14

# The path that answered each query (`evaluate_many`'s codes; api.PATHS names them).
QUICKSCORE, COVERAGE, IMPOSSIBLE, TELESCOPED, TELESCOPED_EXTENDED = 0, 1, 2, 3, 4


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
    cached = _memo(net).get("batched")
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
    hubs, factors = factor_layout(net, shared, e_states)
    out = {
        "padded": np.array([int(np.prod(e_states[ex])) <= PAD_UP_TO for ex, _ in factors]),
        "n_states": n_states,
        "cum": cum,
        "pmf": pmf,
        "shared": np.array(shared, dtype=np.int64),
        "unshared": np.array([i for i in range(len(net.exposures)) if i not in shared], dtype=np.int64),
        # two layouts of the sum over the unknown shared exposures: (hubs, factors)
        "factored": (np.array(hubs, dtype=np.int64),
                     [(np.array(ex, dtype=np.int64), np.array(causes, dtype=np.int64)) for ex, causes in factors]),
        "enumerated": (np.array(shared, dtype=np.int64), [(np.zeros(0, dtype=np.int64), np.arange(n))]),
        "full_sizes": np.array([int(np.prod(e_states[ex])) for ex, _ in factors], dtype=np.int64),
        "e_states": e_states,
        "e_prob": e_prob,
        "flat": np.concatenate(flat),
        "offsets": np.array(offsets, dtype=np.int64),
        "strides": strides,
        "regions": regions,
    }
    _memo(net)["batched"] = out
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


def _radix(exposure: np.ndarray, which: np.ndarray, e_states: np.ndarray) -> np.ndarray:
    """The number of configurations of each query's unknown exposures among `which`."""
    return np.where(exposure[:, which] < 0, e_states[which][None, :], 1).prod(axis=1)


def _enumerate(t, exposure: np.ndarray, which: np.ndarray, n_x: int):
    """Each query's configurations of its unknown exposures among `which` (mixed radix
    over the configuration index; known ones at their state): states (Q, X, |which|)
    and the configurations' weights (Q, X). A query with fewer than n_x configurations
    is padded with configurations of weight 0 (so that it can share a group)."""
    e_states, e_prob = t["e_states"], t["e_prob"]
    n_q = len(exposure)
    unknown = exposure[:, which] < 0
    radix = np.where(unknown, e_states[which][None, :], 1)
    place = np.cumprod(np.concatenate([np.ones((n_q, 1), dtype=np.int64), radix[:, :-1]], axis=1), axis=1)
    x = np.arange(n_x)
    digit = (x[None, :, None] // place[:, None, :]) % radix[:, None, :]
    states = np.where(unknown[:, None, :], digit, exposure[:, None, which])
    w = np.where(unknown[:, None, :], e_prob[which[None, None, :], states], 1.0).prod(axis=2)
    w[x[None, :] >= radix.prod(axis=1)[:, None]] = 0.0
    return states, w


def _group_sizes(t, exposure: np.ndarray) -> np.ndarray:
    """(Q, 1 + factors): the configurations of the hubs, then of each factor."""
    hubs, factors = t["factored"]
    return np.stack([_radix(exposure, hubs, t["e_states"])]
                    + [_radix(exposure, ex, t["e_states"]) for ex, _ in factors], axis=1)


def _cause_probabilities(t, exposure: np.ndarray, sizes: tuple[int, ...], layout):
    """For queries sharing their numbers of configurations `sizes` (hubs, then each
    factor of `layout`): wh (Q, H) the hub configurations' weights; per factor, p (Q, H, Y, n_f)
    the probabilities of its causes in every hub and factor configuration and w (Q, Y)
    the factor configurations' weights; scale (Q,) the weight of the known exposures."""
    e_states, e_prob, strides = t["e_states"], t["e_prob"], t["strides"]
    state = np.where(exposure >= 0, exposure, e_states[None, :])  # unknown -> the summed slot
    scale = e_prob[np.arange(len(e_states))[None, :], state].prod(axis=1)
    other = t["unshared"]
    base = state[:, other] @ strides[other] + t["offsets"][None, :]  # (Q, n)
    hubs, factors = layout
    hub_states, wh = _enumerate(t, exposure, hubs, sizes[0])
    hub_index = hub_states @ strides[hubs]  # (Q, H, n)
    parts = []
    for (ex, causes), n_y in zip(factors, sizes[1:]):
        f_states, w = _enumerate(t, exposure, ex, n_y)
        index = (base[:, None, None, causes] + hub_index[:, :, None, causes]
                 + (f_states @ strides[ex][:, causes])[:, None, :, :])
        parts.append((t["flat"][index], w))
    return wh, parts, scale


def _signed_sum(terms, sign):
    """The signed sum of each query's terms (Q, T) and its kappa = sum |terms| / |sum|
    (inf where the terms do not vanish but their sum does; 1 where both are 0)."""
    total = terms @ sign
    size = np.abs(terms).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(total != 0, size / np.abs(total), np.where(size > 0, np.inf, 1.0))
    return total, kappa


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
    total, kappa = _signed_sum(term, sign)
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


def _transitions(L, A, U) -> np.ndarray:
    """Each query's transition matrix per cause (Q, n + 1, 2^m, 2^m), new = M @ old: the
    Kronecker product of the observations' 2x2 blocks [[L, 0], [A, U]] (`_apply`'s
    moves), observation m - 1 the most significant bit of the state index."""
    n_q, m, n1 = L.shape
    out = np.ones((n_q, n1, 1, 1))
    for j in reversed(range(m)):
        block = np.zeros((n_q, n1, 2, 2))
        block[..., 0, 0], block[..., 1, 0], block[..., 1, 1] = L[:, j], A[:, j], U[:, j]
        size = out.shape[2] * 2
        out = (out[:, :, :, None, :, None] * block[:, :, None, :, None, :]).reshape(n_q, n1, size, size)
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

    # few rows and few positives: move the state by one matrix product a cause (a few
    # numpy calls) instead of one update a bit (m x 4 calls); more arithmetic, so only
    # where the state is small (a single case, next_questions)
    rows_max = n_q * n_h * max(w.shape[1] for _, w in parts)
    matrices = _transitions(L, A, U) if rows_max << (2 * m) <= MATRIX_WORK else None

    def apply(state, f, k, transpose=False):
        i = f["causes"][k]
        if matrices is None:
            return _apply(state, f["L"][k], f["A"][k], f["U"][k], bits[i], transpose)
        by_query = state.reshape(len(state), n_q, -1).transpose(1, 0, 2)  # (Q, S, rows)
        m_i = matrices[:, i].transpose(0, 2, 1) if transpose else matrices[:, i]
        return np.matmul(m_i, by_query).transpose(1, 0, 2).reshape(state.shape)

    def step(state, f, k, transpose=False):
        if not len(bits[f["causes"][k]]):
            return (f["keep"][k] + f["move"][k]) * state
        return f["keep"][k] * state + f["move"][k] * apply(state, f, k, transpose)

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
            moved = apply(before, f, k) if len(bits[i]) else before
            inner = np.einsum("sr,sr->r", moved, state) * f["move"][k]  # (Q*H*Y,)
            out[:, i] = np.einsum("qhy,qy,qh->q", inner.reshape(n_q, n_h, f["n_y"]), f["w_q"], wh)
            state = step(state, f, k, transpose=True)
        beta = narrow(state, f)
    return total, out


def evaluate_many(net, q: Queries, *, joint=True, method: str = "auto", enumerate_up_to: int = ENUMERATE_UP_TO):
    """P(query) and P(query, cause present) for every cause, for every query, exactly.

    joint: True (every query), False (totals only) or a boolean mask (Q,) of the
    queries whose joints are wanted (the others' rows of the joint are 0).
    method: "auto" (the telescoped Quickscore, in float64 or extended precision, and the
    coverage recursion for the queries where it still cancels), "coverage" (every query), "quickscore" (tests only:
    plain Quickscore, may cancel). enumerate_up_to: groups with at most this many
    configurations of unknown shared exposures enumerate them in one factor (tests pass
    0 to force the factored sum everywhere).
    Returns total (Q,), joint (Q, n) or None, and the path per query (Q,): QUICKSCORE,
    COVERAGE, IMPOSSIBLE (the premise cannot hold), TELESCOPED or TELESCOPED_EXTENDED
    (the telescoped sums in extended precision).
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
    # one group per (layout, numbers of configurations of the hubs and of each factor, m)
    raw = _group_sizes(t, q.exposure)
    configurations = raw.prod(axis=1)
    enumerated = configurations <= enumerate_up_to  # few: one factor, fewer calls
    # in the factored layout, a factor with few configurations in all is enumerated whole
    # (padded with weight 0): a little more arithmetic, far fewer groups (and calls)
    padded = raw.copy()
    padded[:, 1:] = np.where(t["padded"][None, :], t["full_sizes"][None, :], raw[:, 1:])
    sizes = np.where(enumerated[:, None], 1, padded)
    sizes[:, 0] = np.where(enumerated, configurations, sizes[:, 0])
    sizes = np.concatenate([enumerated[:, None], sizes, m[:, None]], axis=1)
    dims = tuple(int(d) + 1 for d in sizes.max(axis=0))
    keys, inverse = np.unique(np.ravel_multi_index(tuple(sizes.T), dims), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(keys) + 1))
    for g, k in enumerate(keys):
        rows = order[bounds[g] : bounds[g + 1]]
        rows = rows[~impossible[rows]]
        if not len(rows):
            continue
        one_factor, *group, n_m = (int(d) for d in np.unravel_index(k, dims))
        layout = t["factored"]
        if one_factor:
            layout, group = t["enumerated"], group[:2]
        causes_of = [causes for _, causes in layout[1]]
        # work elements per query: configurations x causes, x terms or states x causes
        per_row = group[0] * sum(y * len(c) for y, c in zip(group[1:], causes_of))
        per_row *= (1 << n_m) if method != "coverage" else (n + 1) << n_m
        step = max(1, CHUNK_ELEMENTS // per_row)
        for start in range(0, len(rows), step):
            r = rows[start : start + step]
            wh, parts, scale = _cause_probabilities(t, q.exposure[r], tuple(group), layout)
            obs = (neg[r], U[r, :n_m], L[r, :n_m], A[r, :n_m], q.absent[r])
            tot, num, path[r] = _answer(wh, parts, obs, want[r], method, causes_of)
            total[r] = scale * tot
            if num is not None:
                out_joint[r] = scale[:, None] * num
    return total, out_joint, path


def _rarest(parts, A, causes_of) -> np.ndarray:
    """Each query's positive observation least likely to be covered (by the mean cause
    probabilities): the one whose Quickscore split cancels most (Q,)."""
    n_q, _, n1 = A.shape
    p_mean = np.zeros((n_q, n1 - 1))
    for (p, _), causes in zip(parts, causes_of):
        p_mean[:, causes] = p.mean(axis=(1, 2))
    covered = np.einsum("qn,qjn->qj", p_mean, A[:, :, :-1]) + A[:, :, -1]
    return covered.argmin(axis=1)


def _exclusive(accumulate, x, reverse=False):
    """`accumulate` (np.cumprod or np.cumsum) of the terms before (after, with `reverse`)
    each, along the last axis; the empty product is 1 and the empty sum 0. Taken over
    the other terms, never as an inclusive result undone (a subtraction could lose digits)."""
    out = np.full_like(x, 1.0 if accumulate is np.cumprod else 0.0)
    if reverse:
        out[..., :-1] = accumulate(x[..., :0:-1], axis=-1)[..., ::-1]
    else:
        out[..., 1:] = accumulate(x[..., :-1], axis=-1)
    return out


def _product(arrays):
    """The product of arrays that broadcast together (1.0 for none)."""
    return functools.reduce(np.multiply, arrays, 1.0)


def _expand(parts, neg, U, L, A, causes_of):
    """The telescoped path's split of the positives: the rarest is kept, the other m - 1
    expanded as in Quickscore. Returns a (Q, T, n + 1), each term's weight per cause
    (negatives times the expanded positives' U or L; last: the leak), sign (T,), and
    the kept positive's U, L, A per cause, each (Q, n + 1)."""
    n_q, m, n1 = U.shape
    keep = _rarest(parts, A, causes_of)
    slots = np.arange(m)[None, :].repeat(n_q, axis=0)
    rest = np.sort(np.where(slots == keep[:, None], m, slots), axis=1)[:, : m - 1]
    a = np.ones((n_q, 1, n1))
    sign = np.ones(1)
    for j in range(m - 1):
        a = np.concatenate([a * np.take_along_axis(U, rest[:, j, None, None], axis=1),
                            a * np.take_along_axis(L, rest[:, j, None, None], axis=1)], axis=1)
        sign = np.concatenate([sign, -sign])
    bit = np.arange(n_q), keep
    return a * neg[:, None, :], sign, (U[bit], L[bit], A[bit])


def _telescoped_flat(wh, parts, neg, U, L, A, absent, joint: bool, causes_of):
    """`_telescoped` for the layout with one factor holding every cause and one
    configuration of its own (the hubs' configurations in `wh`): the one a single case
    with its shared exposures known takes. The same sums with fewer numpy calls: the
    leak is one more cause, present with probability 1, so there is one telescoped sum
    over n + 1 causes and no sum across factors. Same returns as `_telescoped`.

    A cause's joint: making c present replaces its factors by pa_c u_c, pa_c l_c, which
    scales the terms before c (they hold u_c) by pa_c u_c / u-factor_c and those after
    it (they hold l_c) by pa_c l_c / l-factor_c; a factor of 0 gives kappa = inf.
    """
    n = neg.shape[1] - 1
    a, sign, (ud, ld, ad) = _expand(parts, neg, U, L, A, causes_of)
    a[..., :n] = np.where(absent[:, None, :], 0.0, a[..., :n])
    p = parts[0][0][:, :, 0, :]  # (Q, H, n)
    p = np.concatenate([p, np.ones_like(p[..., :1])], axis=2)  # the leak: always present
    pa = p[:, None] * a[:, :, None, :]  # (Q, T, H, n + 1)
    idle = (1.0 - p)[:, None]
    fu = idle + pa * ud[:, None, None, :]
    fl = idle + pa * ld[:, None, None, :]
    g = _exclusive(np.cumprod, fl) * (pa * ad[:, None, None, :]) * _exclusive(np.cumprod, fu, reverse=True)
    terms = np.einsum("qthc,qh->qt", g, wh)
    total, kappa = _signed_sum(terms, sign)
    if not joint:
        return total, None, kappa
    kappa[((fu[..., :n] == 0) | (fl[..., :n] == 0)).any(axis=(1, 2, 3))] = np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        present = (g + pa * ud[:, None, None, :] / fu * _exclusive(np.cumsum, g)
                   + pa * ld[:, None, None, :] / fl * _exclusive(np.cumsum, g, reverse=True))
    num = np.einsum("qthc,qh,t->qc", present[..., :n], wh, sign)
    return total, num, kappa


def _telescoped(wh, parts, neg, U, L, A, absent, joint: bool, causes_of):
    """Quickscore with its most cancelling positive telescoped: total (Q,), joint (Q, n)
    or None, and the kappa of the signed sum that is left.

    Quickscore writes a positive observation d as (everything <= hi) - (everything
    < lo): a difference of two products over the causes that are nearly equal when d
    is rare (twitching in a region has a base rate near 1/500). The difference of two
    products is also a sum with no subtraction,

        prod_i u_i - prod_i l_i = sum_k (prod_{i<k} l_i) (u_k - l_k) (prod_{i>k} u_i),

    where u_k - l_k = P(cause k present) x its weight x A_kd is computed directly. The
    identity is used twice: over the causes of a factor in each configuration, and over
    the factors (the leak, then each factor summed over its configurations). The other
    m - 1 positives are expanded as in Quickscore into 2^(m-1) signed terms, each now
    a sum of non-negative numbers: kappa = sum |terms| / |result| never exceeds plain
    Quickscore's. A cause's joint uses the same identity with that cause present; the
    products over "every cause but i" divide one factor out, and a query where such a
    factor is exactly 0 gets kappa = inf (the coverage recursion answers it).
    """
    n_q, m = U.shape[:2]
    n = neg.shape[1] - 1
    a, sign, (ud, ld, ad) = _expand(parts, neg, U, L, A, causes_of)
    leak = a[..., n]
    # per factor: S^U, S^L (its products summed over its configurations) and their
    # difference dS, telescoped; each (Q, T, H)
    s_u, s_l, d_s = [leak * ud[:, None, n]], [leak * ld[:, None, n]], [leak * ad[:, None, n]]
    s_u[0], s_l[0], d_s[0] = (x[:, :, None] for x in (s_u[0], s_l[0], d_s[0]))
    a = np.where(absent[:, None, :], 0.0, a[..., :n])
    inner = []
    broken = np.zeros(n_q, dtype=bool)
    for (p, w), causes in zip(parts, causes_of):
        pa = p[:, None] * a[:, :, None, None, causes]  # (Q, T, H, Y, n_f): present, by weight
        idle = (1.0 - p)[:, None]
        fu = idle + pa * ud[:, None, None, None, causes]
        fl = idle + pa * ld[:, None, None, None, causes]
        d = pa * ad[:, None, None, None, causes]
        before_l, after_u = _exclusive(np.cumprod, fl), _exclusive(np.cumprod, fu, reverse=True)
        g = before_l * d * after_u  # the telescoped terms, >= 0
        s_u.append(np.einsum("qthy,qy->qth", fu.prod(axis=4), w))
        s_l.append(np.einsum("qthy,qy->qth", fl.prod(axis=4), w))
        d_s.append(np.einsum("qthy,qy->qth", g.sum(axis=4), w))
        if joint:
            broken |= ((fu == 0) | (fl == 0)).any(axis=(1, 2, 3, 4))
            inner.append((pa, fu, fl, g, after_u, w, causes))
    # across the factors (the leak first): z_f = (prod_{<f} S^L) dS_f (prod_{>f} S^U) >= 0
    k = len(s_u)
    pre_l, suf_u = [1.0] * k, [1.0] * k
    for f in range(1, k):
        pre_l[f] = pre_l[f - 1] * s_l[f - 1]
        suf_u[k - 1 - f] = suf_u[k - f] * s_u[k - f]
    z = [pre_l[f] * d_s[f] * suf_u[f] for f in range(k)]
    terms = np.einsum("qth,qh->qt", np.broadcast_to(sum(z), (n_q, len(sign), wh.shape[1])), wh)
    total, kappa = _signed_sum(terms, sign)
    if not joint:
        return total, None, kappa
    # a factor's S^U or S^L of 0 cannot be divided out below
    for f in range(1, k):
        broken |= ((s_u[f] == 0) | (s_l[f] == 0)).any(axis=(1, 2))
    kappa[broken] = np.inf
    num = np.zeros((n_q, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        for f, (pa, fu, fl, g, after_u, w, causes) in enumerate(inner, start=1):
            # the other factors: O^L = prod_{h != f} S^L, and O^U - O^L telescoped without
            # f (the z_h before f had S^U_f among their later factors, those after S^L_f)
            others_l = pre_l[f] * _product(s_l[h] for h in range(f + 1, k))
            d_others = sum(z[:f]) / s_u[f] + sum(z[f + 1 :], np.zeros_like(s_l[f])) / s_l[f]
            rest_u = _exclusive(np.cumprod, fu) * after_u  # prod over the factor's other causes
            # (prod_{i != c} u_i) - (prod_{i != c} l_i): the telescoped terms without c
            below, above = _exclusive(np.cumsum, g), _exclusive(np.cumsum, g, reverse=True)
            d_rest = below / fu + above / fl
            i_u = np.einsum("qthyc,qy->qthc", pa * ud[:, None, None, None, causes] * rest_u, w)
            d_i = np.einsum("qthyc,qy->qthc", pa * (ad[:, None, None, None, causes] * rest_u
                                                     + ld[:, None, None, None, causes] * d_rest), w)
            j_t = np.einsum("qthc,qh->qtc", i_u * d_others[..., None] + d_i * others_l[..., None], wh)
            num[:, causes] = np.einsum("qtc,t->qc", j_t, sign)
    return total, num, kappa


def _answer(wh, parts, obs, want, method, causes_of):
    """One group's queries (same configurations and positives): total, joint (0 where
    not wanted; None if none is) and the path of each row (PATH codes).

    The telescoped Quickscore answers where its kappa is within `CANCELLATION_BOUND`;
    where it is not, the same sums in extended precision answer if their kappa is within
    `EXTENDED_BOUND`; else the coverage recursion, which cannot cancel. ("quickscore":
    plain Quickscore, for tests; it may cancel.)"""
    neg, U, L, A, absent = obs
    n_r, n = len(wh), neg.shape[1] - 1
    m = U.shape[1]
    num = np.zeros((n_r, n)) if want.any() else None
    path = np.zeros(n_r, dtype=np.int8)
    tot = np.zeros(n_r)

    def take(rows, dtype=None):
        got = wh[rows], [(p[rows], w[rows]) for p, w in parts], neg[rows], U[rows], L[rows], A[rows]
        if dtype is None:
            return got
        return (got[0].astype(dtype), [(p.astype(dtype), w.astype(dtype)) for p, w in got[1]],
                *(x.astype(dtype) for x in got[2:]))

    if method == "quickscore" or m == 0:  # m == 0: one product, nothing to cancel
        tot, _, _ = _quickscore(wh, parts, neg, U, L, absent, False, causes_of)
        if num is not None:
            _, num[want], _ = _quickscore(*take(want)[:5], absent[want], True, causes_of)
        return tot, num, path
    path[:] = COVERAGE
    # one factor with every cause in order and no configurations of its own: the flat sum
    flat = len(parts) == 1 and parts[0][1].shape[1] == 1 and np.array_equal(causes_of[0], np.arange(n))
    telescoped = _telescoped_flat if flat else _telescoped
    if method == "auto":
        work = (1 << (m - 1)) * sum(p.size for p, _ in parts)  # p: (rows, H, Y, causes)
        small = work <= EXTENDED_FIRST_WORK
        passes = [(None, CANCELLATION_BOUND, TELESCOPED)]
        if EXTENDED_BOUND > CANCELLATION_BOUND:
            passes = passes[small:] + [(EXTENDED, EXTENDED_BOUND, TELESCOPED_EXTENDED)]
        for dtype, bound, code in passes:
            # a small group (a single case: its query and its boxes) goes in one call with
            # every row's joint: a second call costs more than the joints of a few rows
            split = (True, False) if not small or num is None else (None,)
            for with_joint in split:
                b = np.flatnonzero((path == COVERAGE) & ((want == with_joint) if with_joint is not None else True))
                if len(b):
                    t_tot, t_num, kappa = telescoped(*take(b, dtype), absent[b], with_joint is not False, causes_of)
                    ok = kappa <= bound
                    tot[b[ok]] = t_tot[ok]
                    if t_num is not None:
                        wanted = ok & want[b]
                        num[b[wanted]] = t_num[wanted]
                    path[b[ok]] = code
    for with_joint in (True, False):  # where it cancelled: the subtraction-free path
        b = np.flatnonzero((path == COVERAGE) & (want == with_joint))
        if len(b):
            c_tot, c_num = _coverage(*take(b), absent[b], with_joint, causes_of)
            tot[b] = c_tot
            if with_joint:
                num[b] = c_num
    return tot, num, path
