"""The compiled kernels: every exact sum of the engine, one query at a time (Numba).

All compiled code lives in this module, so that porting the engine (to a GPU, to C)
is porting this file. `model.inference.engine` lays the network and the queries out as the
arrays read here; nothing else calls these functions.

The sum for one query (see `model.inference.engine` for the model):

* Given the exposures the causes are independent; each finding is a noisy-MAX of the
  causes' contributions and a leak. A negative observation (finding <= hi) is a product
  over the causes; it folds into each cause's weight `neg`.
* A positive observation j (lo <= finding <= hi) needs one contribution in [lo, hi]
  and none above hi. Per cause: U = P(contribution <= hi), L = P(< lo), A = U - L
  (summed from the pmf, never subtracted). The premise "twitching somewhere" is one
  more positive: the OR of the regions not observed.
* The positives are split in two. The r rarest are carried as a coverage state: a
  vector over the 2^r subsets of them already covered, moved by each cause with a
  subtraction-free 2x2 step per positive (0 -> 0: L, 0 -> 1: A, 1 -> 1: U). The other
  m - r are expanded as Quickscore's 2^(m-r) signed terms (each positive = "all <= hi"
  minus "all < lo"), each term a non-negative number. The signed sum cancels by
  kappa = sum |terms| / |sum|; float64 keeps about 16 - log10(bound) digits while kappa
  stays under the bound. r = m is the coverage recursion: no subtraction at all. Every
  step adds non-negative numbers, so links of exactly 0 or 1 need no special case.
* Choosing r (`_query`): r = 1 (the telescoped sum) for most queries. With many
  positives, the same sum on one averaged exposure configuration (a chain of n causes)
  estimates each r's kappa for almost nothing, and the exact pass starts at the first r
  the estimate accepts; if its own kappa still passes the bound, r grows by one.
* Three passes, one per size of the coverage state, the same chain in each: `_sweep1`
  (r = 1: two numbers, the configurations vectorised), `_sweep2` (r = 2: four numbers in
  registers) and `_sweep_r` (any r: a cause's step folded into its 3^r nonzero entries,
  or applied column by column where that is cheaper; causes that move none of the r
  positives carried as a scale). `_pass` picks one.
* Unknown exposures: those feeding one cause are summed into its table (an "unknown"
  slot per axis, built by `model.inference.engine`); the shared ones are summed in factors: hub
  exposures enumerated, and given them each factor (its exposures, its causes) summed
  over its own configurations, the coverage state passing from factor to factor (the
  `Chain` of a query).
* Latents (`_columns`): a present cause is a mixture of branches over its twitch
  pattern (switch off, spread, focal on one region) and its weakness latent; each
  branch is a column with its own weight and U, L, A (the `Columns` of a query). Per
  signed term a pass folds a cause's columns into one step's coefficients, so the
  branches cost the inner loops nothing.
* Joints P(query, cause present) by forward-backward over the same chain: the state
  before the cause, the adjoint after it, and the cause's "present" step between.
* A query can read any draw of the network: every table has a leading draw axis.
* The arrays travel as named tuples (`Tables`, `Rows`, `Answers`, `Columns`, `Chain`).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

# The arrays pass as named tuples (Numba compiles them as records of typed fields), so
# a kernel reads `tables.cum`, not the 17th of 30 positional arguments.
# The network in the kernels' layout (`model.inference.engine.Tables` documents each field).
Tables = namedtuple("Tables", "flat offsets strides e_prob e_states cum pmf n_states regions log_quiet twitch spread "
                              "focal weak_on group region_pos hubs fx_ptr fx_idx fc_ptr fc_idx")
# The queries (`model.inference.engine.Queries`), and which rows want their joints.
Rows = namedtuple("Rows", "lo hi exposure absent draw want_joint")
# The answers, written per row: P(query), P(query, cause present), path code, r used.
Answers = namedtuple("Answers", "total joint path r")
# One query's causes as branch columns (`_columns`): weight with the negatives folded in
# (bw), cause c's columns cs[c]..cs[c + 1] - 1, and U, L, A on each positive.
Columns = namedtuple("Columns", "bw cs U L A")
# One query's chain of causes over the unknown exposures: P (each cause's probability in
# each hub and factor configuration: hub h, factor f, configuration y, its i-th cause at
# P[h * block + p_off[f] + i * n_y[f] + y]), the hub weights, each factor's causes, its
# configurations' count (n_y), weights (y_w from y_off[f]) and P offset (p_off).
Chain = namedtuple("Chain", "P n_hub hub_w fc_ptr fc_idx n_y y_off y_w p_off block")

# Path codes (`model.inference.engine.PATHS` names them).
COVERAGE, TELESCOPED, MIXED, IMPOSSIBLE = 0, 1, 2, 3
# Queries with at least this many positives choose r by an estimate first (`_query`).
ESTIMATE_FROM = 5
# ... the estimate's kappa must be this far inside the bound.
ESTIMATE_MARGIN = 1.0


@njit(cache=True)
def _term_weights(neg, U, L, sgn, k, k_low):
    """Each signed term's weight of every branch column, as the product of two tables: the
    first k_low expanded positives (rows of `low`) and the others (rows of `high`).
    Bit i of a term set means positive sgn[i] enters with L ("all < lo", sign -),
    clear with U ("all <= hi", sign +); both tables together hold 2^(k/2 + 1) rows,
    not 2^k, and a term's weight is one product a column."""
    n_col = neg.shape[0]
    low = np.empty((1 << k_low, n_col))
    high = np.empty((1 << (k - k_low), n_col))
    low[0, :] = neg
    high[0, :] = 1.0
    for i in range(k):
        table = low if i < k_low else high
        half = 1 << (i if i < k_low else i - k_low)
        j = sgn[i]
        for t in range(half):
            for col in range(n_col):
                v = table[t, col]
                table[t + half, col] = v * L[j, col]
                table[t, col] = v * U[j, col]
    return low, high


@njit(cache=True, inline="always")
def _parity_sign(t):
    sign = 1.0
    while t:
        sign = -sign
        t &= t - 1
    return sign


@njit(cache=True)
def _sweep1(j1, sgn, k, cols, chain, want, joint, a0s, a1s, f0, f1):
    """`_sweep` for r = 1 (the telescoped sum, most queries): the coverage state is two
    numbers (positive j1 not yet covered, covered). A factor's configurations are
    independent chains: the innermost loop runs over them (P holds them contiguous),
    so it vectorises instead of waiting on one chain's latency. f0, f1: (causes of the
    largest factor + 1, its configurations) scratch.

    Per term, each cause's present step is x1 <- ae x0 + ue x1, x0 <- le x0: its
    branches' weights times their coverage coefficients, summed (be: the weights alone,
    for a cause that does not move positive j1)."""
    bw, cs, U, L, A = cols
    P, n_hub, hub_w, fc_ptr, fc_idx, n_y, y_off, y_w, p_off, block = chain
    n1 = cs.shape[0] - 1
    n = n1 - 1
    n_f_all = fc_ptr.shape[0] - 1
    lc, ac, uc = L[j1], A[j1], U[j1]
    moves = np.empty(n + 1, dtype=np.bool_)
    for c in range(n + 1):
        moves[c] = False
        for col in range(cs[c], cs[c + 1]):
            if ac[col] != 0.0 or lc[col] != 1.0 or uc[col] != 1.0:
                moves[c] = True
    k_low = k // 2
    low, high = _term_weights(bw, U, L, sgn, k, k_low)
    le = np.empty(n + 1)
    ae = np.empty(n + 1)
    ue = np.empty(n + 1)
    be = np.empty(n + 1)
    n_y_max = f0.shape[1]
    g0 = np.empty(n_y_max)
    g1 = np.empty(n_y_max)
    total = 0.0
    magnitude = 0.0
    for t in range(1 << k):
        t_low = t & ((1 << k_low) - 1)
        t_high = t >> k_low
        for c in range(n + 1):
            l_ = a_ = u_ = b_ = 0.0
            for col in range(cs[c], cs[c + 1]):
                w = low[t_low, col] * high[t_high, col]
                l_ += w * lc[col]
                a_ += w * ac[col]
                u_ += w * uc[col]
                b_ += w
            le[c], ae[c], ue[c], be[c] = l_, a_, u_, b_
        sign = _parity_sign(t)
        term = 0.0
        for h in range(n_hub):
            a0s[0] = le[n]  # the leak: always present
            a1s[0] = ae[n]
            for f in range(n_f_all):
                start = fc_ptr[f]
                nf = fc_ptr[f + 1] - start
                ny = n_y[f]
                base = h * block + p_off[f]
                x0 = f0[0]
                x1 = f1[0]
                for y in range(ny):
                    x0[y] = a0s[f]
                    x1[y] = a1s[f]
                for i in range(nf):
                    c = fc_idx[start + i]
                    row = base + i * ny
                    if moves[c]:
                        l_, a_, u_ = le[c], ae[c], ue[c]
                        for y in range(ny):
                            p = P[row + y]
                            x1[y] = (1.0 - p) * x1[y] + p * (a_ * x0[y] + u_ * x1[y])
                            x0[y] = (1.0 - p + p * l_) * x0[y]
                    else:
                        bc = be[c]
                        for y in range(ny):
                            p = P[row + y]
                            g = 1.0 - p + p * bc
                            x0[y] *= g
                            x1[y] *= g
                o0 = 0.0
                o1 = 0.0
                for y in range(ny):
                    wy = y_w[y_off[f] + y]
                    o0 += wy * x0[y]
                    o1 += wy * x1[y]
                a0s[f + 1] = o0
                a1s[f + 1] = o1
            value = a1s[n_f_all]
            term += hub_w[h] * value
            if want and value != 0.0:
                c0 = 0.0  # the adjoint after factor f: starts at "covered"
                c1 = 1.0
                for f in range(n_f_all - 1, -1, -1):
                    start = fc_ptr[f]
                    nf = fc_ptr[f + 1] - start
                    ny = n_y[f]
                    base = h * block + p_off[f]
                    # the state before each cause: f0[i], f1[i] (over the configurations)
                    for y in range(ny):
                        f0[0, y] = a0s[f]
                        f1[0, y] = a1s[f]
                    for i in range(nf):
                        c = fc_idx[start + i]
                        row = base + i * ny
                        l_, a_, u_, b_ = le[c], ae[c], ue[c], be[c]
                        m_ = moves[c]
                        for y in range(ny):
                            p = P[row + y]
                            s0 = f0[i, y]
                            s1 = f1[i, y]
                            if m_:
                                f1[i + 1, y] = (1.0 - p) * s1 + p * (a_ * s0 + u_ * s1)
                                f0[i + 1, y] = (1.0 - p + p * l_) * s0
                            else:
                                g = 1.0 - p + p * b_
                                f0[i + 1, y] = g * s0
                                f1[i + 1, y] = g * s1
                    for y in range(ny):
                        g0[y] = c0
                        g1[y] = c1
                    w = hub_w[h] * sign
                    for i in range(nf - 1, -1, -1):
                        c = fc_idx[start + i]
                        row = base + i * ny
                        l_, a_, u_, b_ = le[c], ae[c], ue[c], be[c]
                        acc = 0.0
                        if moves[c]:
                            for y in range(ny):
                                p = P[row + y]
                                z0 = l_ * g0[y] + a_ * g1[y]
                                z1 = u_ * g1[y]
                                acc += y_w[y_off[f] + y] * p * (z0 * f0[i, y] + z1 * f1[i, y])
                                g0[y] = (1.0 - p) * g0[y] + p * z0
                                g1[y] = (1.0 - p) * g1[y] + p * z1
                        else:
                            for y in range(ny):
                                p = P[row + y]
                                acc += y_w[y_off[f] + y] * p * b_ * (g0[y] * f0[i, y] + g1[y] * f1[i, y])
                                g = 1.0 - p + p * b_
                                g0[y] *= g
                                g1[y] *= g
                        joint[c] += w * acc
                    n0 = 0.0
                    n1_ = 0.0
                    for y in range(ny):
                        wy = y_w[y_off[f] + y]
                        n0 += wy * g0[y]
                        n1_ += wy * g1[y]
                    c0 = n0
                    c1 = n1_
        total += sign * term
        magnitude += term
    return total, magnitude


@njit(cache=True, inline="always")
def _step2(K, c, x0, x1, x2, x3):
    """Cause c's present step on two positives (bit 0, bit 1): z = K x, K upper
    triangular with nine entries (the Kronecker product of the two 2x2 coverage steps,
    or a mixture of two: the switch's branches)."""
    return (K[0, c] * x0,
            K[1, c] * x0 + K[2, c] * x1,
            K[3, c] * x0 + K[4, c] * x2,
            K[5, c] * x0 + K[6, c] * x1 + K[7, c] * x2 + K[8, c] * x3)


@njit(cache=True, inline="always")
def _adjoint2(K, c, g0, g1, g2, g3):
    """The adjoint of `_step2`: K^T g."""
    return (K[0, c] * g0 + K[1, c] * g1 + K[3, c] * g2 + K[5, c] * g3,
            K[2, c] * g1 + K[6, c] * g3,
            K[4, c] * g2 + K[7, c] * g3,
            K[8, c] * g3)


@njit(cache=True, inline="always")
def _advance2(K, be, moves, c, p, x0, x1, x2, x3):
    """The state after cause c, present with probability p: (1 - p) x + p K x, or a
    number times x for a cause that does not move the two positives."""
    q = 1.0 - p
    if moves:
        z0, z1, z2, z3 = _step2(K, c, x0, x1, x2, x3)
        return q * x0 + p * z0, q * x1 + p * z1, q * x2 + p * z2, q * x3 + p * z3
    g = q + p * be[c]
    return g * x0, g * x1, g * x2, g * x3


@njit(cache=True)
def _sweep2(j0, j1, sgn, k, cols, chain, want, joint, alpha, before):
    """`_sweep` for r = 2 (the next most common case): the four coverage states in
    registers. alpha (4, factors + 1) and before (4, causes of the largest factor).
    Per term, each cause's present step is one 4x4 matrix K (`_step2`), its branches'
    weights times their coverage steps, summed."""
    bw, cs, U, L, A = cols
    P, n_hub, hub_w, fc_ptr, fc_idx, n_y, y_off, y_w, p_off, block = chain
    n1 = cs.shape[0] - 1
    n = n1 - 1
    n_f_all = fc_ptr.shape[0] - 1
    l0s, a0s, u0s = L[j0], A[j0], U[j0]
    l1s, a1s, u1s = L[j1], A[j1], U[j1]
    moves = np.empty(n + 1, dtype=np.bool_)
    for c in range(n + 1):
        moves[c] = False
        for col in range(cs[c], cs[c + 1]):
            if (a0s[col] != 0.0 or l0s[col] != 1.0 or u0s[col] != 1.0
                    or a1s[col] != 0.0 or l1s[col] != 1.0 or u1s[col] != 1.0):
                moves[c] = True
    k_low = k // 2
    low, high = _term_weights(bw, U, L, sgn, k, k_low)
    K = np.empty((9, n + 1))
    be = np.empty(n + 1)
    total = 0.0
    magnitude = 0.0
    for t in range(1 << k):
        t_low = t & ((1 << k_low) - 1)
        t_high = t >> k_low
        for c in range(n + 1):
            be[c] = 0.0
            for e in range(9):
                K[e, c] = 0.0
            for col in range(cs[c], cs[c + 1]):
                w = low[t_low, col] * high[t_high, col]
                if w == 0.0:
                    continue
                be[c] += w
                l0, a0, u0, l1, a1, u1 = l0s[col], a0s[col], u0s[col], l1s[col], a1s[col], u1s[col]
                K[0, c] += w * l1 * l0
                K[1, c] += w * l1 * a0
                K[2, c] += w * l1 * u0
                K[3, c] += w * a1 * l0
                K[4, c] += w * u1 * l0
                K[5, c] += w * a1 * a0
                K[6, c] += w * a1 * u0
                K[7, c] += w * u1 * a0
                K[8, c] += w * u1 * u0
        sign = _parity_sign(t)
        term = 0.0
        for h in range(n_hub):
            x0, x1, x2, x3 = _step2(K, n, 1.0, 0.0, 0.0, 0.0)  # the leak: always present
            alpha[0, 0], alpha[1, 0], alpha[2, 0], alpha[3, 0] = x0, x1, x2, x3
            for f in range(n_f_all):
                start = fc_ptr[f]
                nf = fc_ptr[f + 1] - start
                o0 = o1 = o2 = o3 = 0.0
                for y in range(n_y[f]):
                    x0, x1, x2, x3 = alpha[0, f], alpha[1, f], alpha[2, f], alpha[3, f]
                    base = h * block + p_off[f] + y
                    for i in range(nf):
                        c = fc_idx[start + i]
                        p = P[base + i * n_y[f]]
                        x0, x1, x2, x3 = _advance2(K, be, moves[c], c, p, x0, x1, x2, x3)
                    wy = y_w[y_off[f] + y]
                    o0 += wy * x0
                    o1 += wy * x1
                    o2 += wy * x2
                    o3 += wy * x3
                alpha[0, f + 1], alpha[1, f + 1], alpha[2, f + 1], alpha[3, f + 1] = o0, o1, o2, o3
            value = alpha[3, n_f_all]
            term += hub_w[h] * value
            if want and value != 0.0:
                c0 = c1 = c2 = 0.0  # the adjoint after factor f: starts at "all covered"
                c3 = 1.0
                for f in range(n_f_all - 1, -1, -1):
                    start = fc_ptr[f]
                    nf = fc_ptr[f + 1] - start
                    n0 = n1_ = n2 = n3 = 0.0
                    for y in range(n_y[f]):
                        base = h * block + p_off[f] + y
                        x0, x1, x2, x3 = alpha[0, f], alpha[1, f], alpha[2, f], alpha[3, f]
                        for i in range(nf):  # the state before each cause
                            before[0, i], before[1, i], before[2, i], before[3, i] = x0, x1, x2, x3
                            c = fc_idx[start + i]
                            p = P[base + i * n_y[f]]
                            x0, x1, x2, x3 = _advance2(K, be, moves[c], c, p, x0, x1, x2, x3)
                        wy = y_w[y_off[f] + y]
                        w = wy * hub_w[h] * sign
                        g0, g1, g2, g3 = c0, c1, c2, c3
                        for i in range(nf - 1, -1, -1):
                            c = fc_idx[start + i]
                            p = P[base + i * n_y[f]]
                            q = 1.0 - p
                            if moves[c]:
                                z0, z1, z2, z3 = _adjoint2(K, c, g0, g1, g2, g3)
                                joint[c] += w * p * (z0 * before[0, i] + z1 * before[1, i] + z2 * before[2, i] + z3 * before[3, i])
                                g0 = q * g0 + p * z0
                                g1 = q * g1 + p * z1
                                g2 = q * g2 + p * z2
                                g3 = q * g3 + p * z3
                            else:
                                pb = p * be[c]
                                joint[c] += w * pb * (g0 * before[0, i] + g1 * before[1, i] + g2 * before[2, i] + g3 * before[3, i])
                                g = q + pb
                                g0 *= g
                                g1 *= g
                                g2 *= g
                                g3 *= g
                        n0 += wy * g0
                        n1_ += wy * g1
                        n2 += wy * g2
                        n3 += wy * g3
                    c0, c1, c2, c3 = n0, n1_, n2, n3
        total += sign * term
        magnitude += term
    return total, magnitude




@njit(cache=True)
def _pairs(r):
    """The nonzero entries of a cause's present step on r coverage positives, as pairs
    (from subset S to superset S') in Kronecker order: base-3 digit jj of pair e says
    what positive jj does: 0 stays uncovered (L), 1 becomes covered (A), 2 stays
    covered (U). 3^r of the step's 4^r entries; the others are 0."""
    n_p = 3 ** r
    src = np.zeros(n_p, dtype=np.int64)
    dst = np.zeros(n_p, dtype=np.int64)
    for e in range(n_p):
        rest = e
        for jj in range(r):
            digit = rest % 3
            rest //= 3
            if digit >= 1:
                dst[e] |= 1 << jj
            if digit == 2:
                src[e] |= 1 << jj
    return src, dst


@njit(cache=True, inline="always")
def _step_r(c, v, z, adjoint, folded, K, src, dst, wts, cs, cov, L, A, U, spare):
    """z <- cause c's present step applied to v (its transpose when `adjoint`): from its
    3^r folded entries, or column by column (r 2x2 steps each) where that is cheaper."""
    size = v.shape[0]
    z[:] = 0.0
    if folded[c]:
        if adjoint:
            for e in range(src.shape[0]):
                z[src[e]] += K[c, e] * v[dst[e]]
        else:
            for e in range(src.shape[0]):
                z[dst[e]] += K[c, e] * v[src[e]]
        return
    for col in range(cs[c], cs[c + 1]):
        w = wts[col]
        if w == 0.0:
            continue
        spare[:] = v
        for jj in range(cov.shape[0]):
            j = cov[jj]
            lo_w, in_w, up_w = L[j, col], A[j, col], U[j, col]
            bit = 1 << jj
            for st in range(size):
                if st & bit == 0:
                    x0 = spare[st]
                    x1 = spare[st | bit]
                    if adjoint:
                        spare[st] = lo_w * x0 + in_w * x1
                        spare[st | bit] = up_w * x1
                    else:
                        spare[st] = lo_w * x0
                        spare[st | bit] = in_w * x0 + up_w * x1
        for st in range(size):
            z[st] += w * spare[st]


@njit(cache=True)
def _sweep_r(r, cov, sgn, k, cols, chain, want, joint):
    """One pass with r positives (`cov`) in the coverage state and the other k (`sgn`)
    expanded as signed terms (any r; the r = 1 and r = 2 passes are faster for those).
    Returns the signed sum and the sum of |terms|; adds each cause's joint
    P(query, present) to `joint` when `want`.

    Per term, each cause's present step is its branch columns' coverage steps weighted
    and summed. It is folded once a term into its 3^r nonzero entries (`_pairs`) where
    that is cheaper than applying the columns one by one (r 2^(r - 1) 2x2 steps each):
    for small r, or a cause with many branches. A cause that moves none of the r
    positives is a number in the term (its branches' weights, summed): the chain carries
    those as a scale beside the vector (state = s v), one multiply each instead of 2^r.

    Joints by forward-backward within each factor configuration: the vectors after each
    moving cause (`fwd`) and the scale before each cause (`fs`) forward, then the
    adjoint `gv` (with its scale `gs`) backward; P(query, c present) replaces c's step
    (1 - p) I + p K by p K: p <gv, K fwd> for a moving cause, p b <gv, fwd> for a
    number."""
    bw, cs, U, L, A = cols
    P, n_hub, hub_w, fc_ptr, fc_idx, n_y, y_off, y_w, p_off, block = chain
    n1 = cs.shape[0] - 1  # the causes and the leak
    n = n1 - 1
    n_f_all = fc_ptr.shape[0] - 1
    size = 1 << r
    full = size - 1
    src, dst = _pairs(r)
    n_p = src.shape[0]
    moves = np.zeros(n1, dtype=np.bool_)
    folded = np.zeros(n1, dtype=np.bool_)
    for c in range(n1):
        for col in range(cs[c], cs[c + 1]):
            for jj in range(r):
                j = cov[jj]
                if A[j, col] != 0.0 or L[j, col] != 1.0 or U[j, col] != 1.0:
                    moves[c] = True
        # folding costs 3^r a column once a term and 3^r a step; columns cost
        # 3 r 2^(r - 1) each a step: fold where the steps are cheaper folded
        folded[c] = moves[c] and n_p <= (cs[c + 1] - cs[c]) * 3 * r * (size // 2)
    k_low = k // 2
    low, high = _term_weights(bw, U, L, sgn, k, k_low)
    K = np.zeros((n1, n_p))
    kron = np.empty(n_p)
    wts = np.empty(bw.shape[0])
    be = np.empty(n1)
    n_max = 1
    for f in range(n_f_all):
        n_max = max(n_max, fc_ptr[f + 1] - fc_ptr[f])
    alphas = np.zeros((n_f_all + 1, size))  # the state entering each factor (and the end)
    beta = np.zeros(size)  # the adjoint leaving the current factor
    beta_in = np.zeros(size)  # ... and entering it (summed over its configurations)
    fwd = np.zeros((n_max + 1, size))  # fwd[kk]: the vector after kk moving causes
    fs = np.ones(n_max + 1)  # the scale before each cause
    slot = np.zeros(n_max, dtype=np.int64)  # fwd's slot before each cause
    gv = np.zeros(size)
    z = np.zeros(size)
    spare = np.zeros(size)
    e0 = np.zeros(size)
    e0[0] = 1.0
    total = 0.0
    magnitude = 0.0
    for t in range(1 << k):
        t_low = t & ((1 << k_low) - 1)
        t_high = t >> k_low
        for c in range(n1):
            be[c] = 0.0
            if folded[c]:
                K[c, :] = 0.0
            for col in range(cs[c], cs[c + 1]):
                w = low[t_low, col] * high[t_high, col]
                wts[col] = w
                if w == 0.0:
                    continue
                be[c] += w
                if folded[c]:
                    kron[0] = w  # the column's Kronecker product, digit by digit
                    span = 1
                    for jj in range(r):
                        j = cov[jj]
                        lo_w, in_w, up_w = L[j, col], A[j, col], U[j, col]
                        for e in range(span):
                            v = kron[e]
                            kron[e] = v * lo_w
                            kron[span + e] = v * in_w
                            kron[2 * span + e] = v * up_w
                        span *= 3
                    for e in range(n_p):
                        K[c, e] += kron[e]
        sign = _parity_sign(t)
        term = 0.0
        for h in range(n_hub):
            if moves[n]:  # the leak: always present
                _step_r(n, e0, alphas[0], False, folded, K, src, dst, wts, cs, cov, L, A, U, spare)
            else:
                alphas[0][:] = 0.0
                alphas[0][0] = be[n]
            for f in range(n_f_all):
                start = fc_ptr[f]
                nf = fc_ptr[f + 1] - start
                ny = n_y[f]
                out = alphas[f + 1]
                out[:] = 0.0
                for y in range(ny):
                    v = fwd[0]
                    v[:] = alphas[f]
                    s = 1.0
                    base = h * block + p_off[f] + y
                    for i in range(nf):
                        c = fc_idx[start + i]
                        p = P[base + i * ny]
                        if moves[c]:
                            _step_r(c, v, z, False, folded, K, src, dst, wts, cs, cov, L, A, U, spare)
                            q = 1.0 - p
                            for st in range(size):
                                v[st] = q * v[st] + p * z[st]
                        else:
                            s *= 1.0 - p + p * be[c]
                    wy = y_w[y_off[f] + y] * s
                    for st in range(size):
                        out[st] += wy * v[st]
            value = alphas[n_f_all][full]
            term += hub_w[h] * value
            if want and value != 0.0:
                beta[:] = 0.0
                beta[full] = 1.0
                for f in range(n_f_all - 1, -1, -1):
                    start = fc_ptr[f]
                    nf = fc_ptr[f + 1] - start
                    ny = n_y[f]
                    beta_in[:] = 0.0
                    for y in range(ny):
                        base = h * block + p_off[f] + y
                        wy = y_w[y_off[f] + y]
                        w = wy * hub_w[h] * sign
                        # forward within the configuration, keeping what backward needs
                        fwd[0][:] = alphas[f]
                        kk = 0
                        s = 1.0
                        for i in range(nf):
                            c = fc_idx[start + i]
                            p = P[base + i * ny]
                            slot[i] = kk
                            fs[i] = s
                            if moves[c]:
                                _step_r(c, fwd[kk], z, False, folded, K, src, dst, wts, cs, cov, L, A, U, spare)
                                v = fwd[kk]
                                nv = fwd[kk + 1]
                                q = 1.0 - p
                                for st in range(size):
                                    nv[st] = q * v[st] + p * z[st]
                                kk += 1
                            else:
                                s *= 1.0 - p + p * be[c]
                        gv[:] = beta
                        gs = 1.0
                        dot = 0.0
                        fresh = False  # whether dot = <gv, fwd[slot]> is current
                        for i in range(nf - 1, -1, -1):
                            c = fc_idx[start + i]
                            p = P[base + i * ny]
                            before = fwd[slot[i]]
                            if moves[c]:
                                _step_r(c, gv, z, True, folded, K, src, dst, wts, cs, cov, L, A, U, spare)
                                d = 0.0
                                for st in range(size):
                                    d += z[st] * before[st]
                                joint[c] += w * p * d * fs[i] * gs
                                q = 1.0 - p
                                for st in range(size):
                                    gv[st] = q * gv[st] + p * z[st]
                                fresh = False
                            else:
                                if not fresh:
                                    dot = 0.0
                                    for st in range(size):
                                        dot += gv[st] * before[st]
                                    fresh = True
                                joint[c] += w * p * be[c] * dot * fs[i] * gs
                                gs *= 1.0 - p + p * be[c]
                        wg = wy * gs
                        for st in range(size):
                            beta_in[st] += wg * gv[st]
                    beta[:] = beta_in
        total += sign * term
        magnitude += term
    return total, magnitude


@njit(cache=True)
def _pass(r, order, m, cols, chain, want, joint):
    """One exact pass with the r rarest positives (order[:r]) in the coverage state and
    the other m - r as signed terms: the signed sum and the sum of |terms|."""
    fc_ptr = chain.fc_ptr
    n_y = chain.n_y
    n_factors = fc_ptr.shape[0] - 1
    n_max = 1
    y_max = 1
    for f in range(n_factors):
        n_max = max(n_max, fc_ptr[f + 1] - fc_ptr[f])
        y_max = max(y_max, n_y[f])
    if r == 1:
        return _sweep1(order[0], order[1:m], m - 1, cols, chain, want, joint, np.empty(n_factors + 1),
                       np.empty(n_factors + 1), np.empty((n_max + 1, y_max)), np.empty((n_max + 1, y_max)))
    if r == 2:
        return _sweep2(order[0], order[1], order[2:m], m - 2, cols, chain, want, joint,
                       np.empty((4, n_factors + 1)), np.empty((4, n_max)))
    return _sweep_r(r, order[:r], order[r:m], m - r, cols, chain, want, joint)


@njit(cache=True)
def _order(values):
    """The indices that sort `values` ascending, ties in index order (a stable insertion
    sort: a query has a handful of positives, and np.argsort's quicksort adds seconds to
    the first compile)."""
    n = values.shape[0]
    order = np.arange(n)
    for i in range(1, n):
        j = i
        while j > 0 and values[order[j - 1]] > values[order[j]]:
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1
    return order


# How a finding reads a cause's latents (`model.inference.engine` lays out `group`).
COMMON, REGION, WEAK = 0, 1, 2


@njit(cache=True)
def _columns(q, rows, tables, m, premise):
    """Each cause's branches for query q, as columns of the signed-term weights.

    A present cause is a mixture over its latents: the twitch pattern T (0: switch off;
    1: the spread pattern, each region with its link; 2 + r: focal, region r alone) and
    the weakness latent W (0: its weakness contribution is none; 1: it is not, with the
    conditional distribution in the weakness tables). Regions read T, the weakness
    finding and its patterns read W, every other finding the cause itself. Branch
    (T, W) has probability P(T | present) P(W | present) and is a product over the
    findings, so it is a column: its weight with the negatives folded in (`bw`) and its
    U, L, A on each positive. Branches of weight 0 are dropped and branches with equal
    columns merged (adding their weights): with the location known, a focal branch on a
    region observed absent weighs 0; with W's findings unobserved, W's two branches are
    equal. Cause c's columns are cs[c] .. cs[c + 1] - 1, packed (c = n: the leak).
    """
    lo, hi, absent, d = rows.lo, rows.hi, rows.absent, rows.draw[q]
    cum, pmf, n_states, regions, log_quiet = tables.cum, tables.pmf, tables.n_states, tables.regions, tables.log_quiet
    twitch, spread, focal, weak_on = tables.twitch, tables.spread, tables.focal, tables.weak_on
    group, region_pos = tables.group, tables.region_pos
    n = absent.shape[1]
    n1 = n + 1
    n_f = lo.shape[1]
    n_r = regions.shape[0]
    n_t = 2 + n_r
    n_slots = 2 * n_t
    # per variant: negatives (product over the negative findings) and positives' U, L, A
    neg_c = np.ones(n1)
    neg_t = np.ones((n_t, n1))
    neg_w = np.ones((2, n1))
    grp = np.zeros(m, dtype=np.int64)
    vU = np.ones((m, n_t, n1))
    vL = np.ones((m, n_t, n1))
    vA = np.zeros((m, n_t, n1))
    k = 0
    for j in range(n_f):
        l_ = lo[q, j]
        h_ = hi[q, j]
        if l_ == 0 and h_ == n_states[j] - 1:
            continue
        g = group[j]
        if l_ == 0:
            for c in range(n1):
                v = cum[d, j, c, h_]
                if g == COMMON:
                    neg_c[c] *= v
                elif g == WEAK:
                    neg_w[1, c] *= v  # W off: no contribution, a factor 1
                else:
                    neg_t[1, c] *= v  # spread; off: a factor 1
                    neg_t[2 + region_pos[j], c] = 0.0  # focal here: present for sure
        else:
            grp[k] = g
            for c in range(n1):
                a_ = 0.0
                for st in range(l_, h_ + 1):
                    a_ += pmf[d, j, c, st]
                # the table's variant: common 0, spread 1, W on 1
                v = 0 if g == COMMON else 1
                vU[k, v, c] = cum[d, j, c, h_]
                vL[k, v, c] = cum[d, j, c, l_ - 1]
                vA[k, v, c] = a_
                if g == REGION:  # focal on this region: present for sure (U = 1, L = 0, A = 1)
                    t = 2 + region_pos[j]
                    vU[k, t, c] = 1.0
                    vL[k, t, c] = 0.0
                    vA[k, t, c] = 1.0
            k += 1
    if premise:
        grp[k] = REGION
        for c in range(n1):
            log_none = 0.0
            for i in range(n_r):
                j = regions[i]
                if lo[q, j] == 0 and hi[q, j] == n_states[j] - 1:
                    log_none += log_quiet[d, i, c]
                    vL[k, 2 + i, c] = 0.0  # focal on a free region covers the premise
                    vA[k, 2 + i, c] = 1.0
            vL[k, 1, c] = math.exp(log_none)
            vA[k, 1, c] = -math.expm1(log_none)  # 1 - P(no twitch), keeping its digits
    # each cause's distinct branches of weight > 0: (T, W) representatives and weights
    rep_t = np.empty((n1, n_slots), dtype=np.int64)
    rep_w = np.empty((n1, n_slots), dtype=np.int64)
    weights = np.zeros((n1, n_slots))
    nb = np.zeros(n1, dtype=np.int64)
    w_t = np.empty(n_t)
    for c in range(n1):
        if c < n and absent[q, c]:
            continue
        tw = twitch[d, c]
        sp = spread[d, c]
        w_t[0] = 1.0 - tw
        w_t[1] = tw * sp
        for i in range(n_r):
            w_t[2 + i] = tw * (1.0 - sp) * focal[d, c, i]
        won = weak_on[d, c]
        for t in range(n_t):
            for w in range(2):
                weight = w_t[t] * (won if w == 1 else 1.0 - won) * neg_c[c] * neg_t[t, c] * neg_w[w, c]
                if weight == 0.0:
                    continue
                found = -1
                for s in range(nb[c]):
                    same = True
                    for kk in range(m):
                        g = grp[kk]
                        if g == COMMON:
                            continue  # the same in every branch
                        v, u = (t, rep_t[c, s]) if g == REGION else (w, rep_w[c, s])
                        if vU[kk, v, c] != vU[kk, u, c] or vL[kk, v, c] != vL[kk, u, c] or vA[kk, v, c] != vA[kk, u, c]:
                            same = False
                            break
                    if same:
                        found = s
                        break
                if found >= 0:
                    weights[c, found] += weight
                else:
                    rep_t[c, nb[c]] = t
                    rep_w[c, nb[c]] = w
                    weights[c, nb[c]] = weight
                    nb[c] += 1
    # the columns, packed: cause c's are cs[c] .. cs[c + 1] - 1
    cs = np.zeros(n1 + 1, dtype=np.int64)
    for c in range(n1):
        cs[c + 1] = cs[c] + nb[c]
    n_col = cs[n1]
    bw = np.empty(n_col)
    U = np.empty((m, n_col))
    L = np.empty((m, n_col))
    A = np.empty((m, n_col))
    for c in range(n1):
        for s in range(nb[c]):
            col = cs[c] + s
            bw[col] = weights[c, s]
            for kk in range(m):
                g = grp[kk]
                v = 0 if g == COMMON else (rep_t[c, s] if g == REGION else rep_w[c, s])
                U[kk, col] = vU[kk, v, c]
                L[kk, col] = vL[kk, v, c]
                A[kk, col] = vA[kk, v, c]
    return bw, cs, U, L, A



@njit(cache=True)
def _query(q, rows, tables, bound, out):
    """Answer query q: P(query) into total_out[q], P(query, cause present) into
    joint_out[q] (when want_joint[q]), the path and r used."""
    lo, hi, exposure, absent, draw, want_joint = rows
    (flat, offsets, strides, e_prob, e_states, cum, pmf, n_states, regions, log_quiet, twitch, spread, focal,
     weak_on, group, region_pos, hubs, fx_ptr, fx_idx, fc_ptr, fc_idx) = tables
    total_out, joint_out, path_out, r_out = out
    n = offsets.shape[0]
    n_f = lo.shape[1]
    n_e = exposure.shape[1]
    d = draw[q]
    # ---- observations
    is_region = np.zeros(n_f, dtype=np.bool_)
    for i in range(regions.shape[0]):
        is_region[regions[i]] = True
    m = 0
    region_positive = False
    for j in range(n_f):
        if lo[q, j] > 0:
            m += 1
            if is_region[j]:
                region_positive = True
    premise = not region_positive
    free = 0
    if premise:
        for i in range(regions.shape[0]):
            j = regions[i]
            if lo[q, j] == 0 and hi[q, j] == n_states[j] - 1:
                free += 1
        if free == 0:  # every region observed absent: the premise cannot hold
            total_out[q] = 0.0
            path_out[q] = IMPOSSIBLE
            r_out[q] = 0
            return
        m += 1
    n1 = n + 1
    bw, cs, U, L, A = _columns(q, rows, tables, m, premise)
    # ---- exposures: known ones scale; unknown ones use the summed slot, and the
    # shared unknown ones (hubs, factors) move off it by their strides
    scale = 1.0
    base = offsets.copy()
    for e in range(n_e):
        s = exposure[q, e]
        if s >= 0:
            scale *= e_prob[d, e, s]
        else:
            s = e_states[e]
        for c in range(n):
            base[c] += strides[e, c] * s
    # hub configurations: weights and index shifts
    n_hub = 1
    for i in range(hubs.shape[0]):
        if exposure[q, hubs[i]] < 0:
            n_hub *= e_states[hubs[i]]
    hub_w = np.ones(n_hub)
    hub_shift = np.zeros((n_hub, n), dtype=np.int64)
    for h in range(n_hub):
        rest = h
        for i in range(hubs.shape[0]):
            e = hubs[i]
            if exposure[q, e] < 0:
                s = rest % e_states[e]
                rest //= e_states[e]
                hub_w[h] *= e_prob[d, e, s]
                for c in range(n):
                    hub_shift[h, c] += strides[e, c] * (s - e_states[e])
    # factor configurations
    n_factors = fc_ptr.shape[0] - 1
    n_y = np.ones(n_factors, dtype=np.int64)
    for f in range(n_factors):
        for i in range(fx_ptr[f], fx_ptr[f + 1]):
            e = fx_idx[i]
            if exposure[q, e] < 0:
                n_y[f] *= e_states[e]
    y_off = np.zeros(n_factors + 1, dtype=np.int64)
    p_off = np.zeros(n_factors + 1, dtype=np.int64)
    for f in range(n_factors):
        y_off[f + 1] = y_off[f] + n_y[f]
        p_off[f + 1] = p_off[f] + n_y[f] * (fc_ptr[f + 1] - fc_ptr[f])
    block = p_off[n_factors]
    shift = np.zeros(n, dtype=np.int64)
    y_w = np.ones(y_off[n_factors])
    P = np.empty(n_hub * block)
    for f in range(n_factors):
        nf = fc_ptr[f + 1] - fc_ptr[f]
        for y in range(n_y[f]):
            rest = y
            shift[:nf] = 0
            for i in range(fx_ptr[f], fx_ptr[f + 1]):
                e = fx_idx[i]
                if exposure[q, e] < 0:
                    s = rest % e_states[e]
                    rest //= e_states[e]
                    y_w[y_off[f] + y] *= e_prob[d, e, s]
                    for ii in range(nf):
                        c = fc_idx[fc_ptr[f] + ii]
                        shift[ii] += strides[e, c] * (s - e_states[e])
            for h in range(n_hub):
                for ii in range(nf):
                    c = fc_idx[fc_ptr[f] + ii]
                    P[h * block + p_off[f] + ii * n_y[f] + y] = flat[d, base[c] + hub_shift[h, c] + shift[ii]]
    # ---- the positives, rarest first (by the causes' marginal probabilities)
    covered = np.zeros(m)
    for j in range(m):
        for c in range(n1):
            pc = 1.0 if c == n else flat[d, base[c]]
            for col in range(cs[c], cs[c + 1]):
                covered[j] += pc * bw[col] * A[j, col]
    order = _order(covered)
    want = want_joint[q]
    joint = np.zeros(n + 1)
    cols = Columns(bw, cs, U, L, A)
    # (the factors' causes copied: the tables are read-only, a type of their own to Numba,
    # and the estimate's chain below must have this one's types or the passes compile twice)
    chain = Chain(P, n_hub, hub_w, fc_ptr.copy(), fc_idx.copy(), n_y, y_off, y_w, p_off, block)
    # The cheapest r whose signed terms cancel by at most `bound`. Each try costs about
    # as much as the last, so the ladder r = 1, 2, ... costs a multiple of the answer;
    # instead r starts where the same sum on one averaged exposure configuration (each
    # cause at its marginal probability: a chain of n causes, not of every hub and
    # factor configuration) stops cancelling, ESTIMATE_MARGIN inside the bound. The
    # exact pass still checks its own kappa and grows r if it must.
    r = 1 if m > 0 else 0
    if m >= ESTIMATE_FROM:
        p_mean = np.empty(n)
        for c in range(n):
            p_mean[c] = flat[d, base[c]]
        ends = np.array([0, n])
        one = np.ones(1)
        no_joints = want != want  # False, typed as `want` (a literal False would compile the passes again)
        mean_chain = Chain(p_mean, np.int64(1), one, ends, np.arange(n), np.ones(1, dtype=np.int64),
                           np.array([0, 1]), one, ends, np.int64(n))
        while r < m:
            est_total, est_mag = _pass(r, order, m, cols, mean_chain, no_joints, joint)
            if est_total != 0.0 and est_mag / abs(est_total) * ESTIMATE_MARGIN <= bound:
                break
            r += 1
        joint[:] = 0.0
    total = 0.0
    while True:
        joint[:] = 0.0
        total, magnitude = _pass(r, order, m, cols, chain, want, joint)
        if total != 0.0:
            kappa = magnitude / abs(total)
        else:
            kappa = math.inf if magnitude > 0.0 else 1.0
        if kappa <= bound or r >= m:
            break
        r += 1
    total_out[q] = scale * total
    if want:
        for c in range(n):
            joint_out[q, c] = scale * joint[c]
    r_out[q] = r
    if r >= m:
        path_out[q] = COVERAGE
    elif r == 1:
        path_out[q] = TELESCOPED
    else:
        path_out[q] = MIXED


# The entry point takes the named tuples' fields flat, in their order (the engine passes
# `*rows, *tables, bound, *answers`; a test checks the order), and rebuilds the tuples
# here: Numba types a flat array argument in C, but a tuple of 21 arrays in Python, which
# cost 25 us a call, more than a single case's query. It releases the GIL (nogil), so
# `model.inference.engine` runs chunks of rows on several Python threads at once: one compiled
# kernel serves one row and a million.


@njit(cache=True, nogil=True)
def evaluate_rows(lo, hi, exposure, absent, draw, want_joint,
                  flat, offsets, strides, e_prob, e_states, cum, pmf, n_states, regions, log_quiet, twitch, spread,
                  focal, weak_on, group, region_pos, hubs, fx_ptr, fx_idx, fc_ptr, fc_idx,
                  bound, total, joint, path, r):
    """Every query of the rows in turn; each writes only its own outputs, so the
    answers do not depend on how the rows are split between threads."""
    rows = Rows(lo, hi, exposure, absent, draw, want_joint)
    tables = Tables(flat, offsets, strides, e_prob, e_states, cum, pmf, n_states, regions, log_quiet, twitch, spread,
                    focal, weak_on, group, region_pos, hubs, fx_ptr, fx_idx, fc_ptr, fc_idx)
    out = Answers(total, joint, path, r)
    for q in range(lo.shape[0]):
        _query(q, rows, tables, bound, out)
