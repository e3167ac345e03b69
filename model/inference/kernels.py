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
* Choosing r (`_first_r`): r = 1 (the telescoped sum) for most queries. With many
  positives, one pass of the same sum on one averaged exposure configuration (a chain
  of n causes) at r = m - SIGNED_AT_MOST gives every larger r's kappa (`_cheapest_r`),
  and the exact pass starts at the first r it accepts; if its own kappa still passes
  the bound, r grows by one. A positive no cause can cover answers 0 at once.
* Three passes, the same chain in each: `_sweep1` (r = 1: two numbers, the
  configurations vectorised), `_sweep2` (r = 2: four numbers in registers) and
  `_sweep_r` (any r; r = 2 too where the factors' elimination programs save steps).
  `_sweep_r` steps a cause on the bits of the positives it moves only (`_moved_bits`:
  on the others its step is the identity), from its folded 3^s entries or column by
  column, whichever is cheaper; causes that move none of the r positives ride as a
  scale; and it sums its signed terms and hub configurations side by side as lanes (the
  innermost axis of its tables: the same steps, different weights and probabilities),
  so its loops vectorise. `_pass` picks one.
* Unknown exposures: those feeding one cause are summed into its table (an "unknown"
  slot per axis, built by `model.inference.engine`); the shared ones are summed in factors: hub
  exposures enumerated, and given them each factor (its exposures, its causes) summed
  over its own configurations, the coverage state passing from factor to factor (the
  `Chain` of a query). `_sweep1` and `_sweep2` step every cause in every configuration
  of its factor; `_sweep_r` sums a factor by its elimination program (`Program`,
  `_factor_forward`): an exposure enters the table when its first cause steps and is
  summed out after its last, so a cause steps once per configuration of the exposures
  in the table (44 steps instead of 512 for the bundled network's six-exposure factor).
* Latents (`_columns`): a present cause is a mixture of branches over its twitch
  pattern (switch off, spread, focal on one region) and its weakness latent; each
  branch is a column with its own weight and U, L, A (the `Columns` of a query). Per
  signed term a pass folds a cause's columns into one step's coefficients, so the
  branches cost the inner loops nothing.
* Joints P(query, cause present) by forward-backward over the same chain: the state
  before the cause, the adjoint after it, and the cause's "present" step between.
* A query can read any draw of the network: every table has a leading draw axis.
* Two entry points, so that the first use after install compiles less:
  `evaluate_rows` answers every row but those whose joints need `_sweep_r`, and
  `evaluate_rare_rows` those, compiled on their first need (the comment above them).
* The arrays travel as named tuples (`Tables`, `Rows`, `Answers`, `Columns`, `Chain`,
  `Program`, `Steps`).
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
                              "focal weak_on group region_pos hubs fx_ptr fx_idx fc_ptr fc_idx op_ptr op_kind op_arg")
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
Chain = namedtuple("Chain", "P n_hub hub_w fc_ptr fc_idx n_y y_off y_w p_off block prog")
# A query's elimination program of each factor (`_program`; `model.inference.engine.factor_programs`
# gives the order): factor f's ops are ptr[f] .. ptr[f + 1] - 1. Each op has a kind
# (STEP, EXPAND, SUM), an argument (STEP: the cause's position in its factor; EXPAND,
# SUM: the exposure's number of states), the table's columns after it (n_col: the
# configurations of the exposures entered and not yet summed), a stride (EXPAND: the
# new exposure's, the columns before it; SUM: the summed exposure's) and an offset
# into `col_y` (STEP: each column's configuration index y in P) and `w` (EXPAND: the
# exposure's probabilities).
Program = namedtuple("Program", "ptr kind arg n_col stride off col_y w")

# The compiled functions. The first use after install compiles them (an empty Numba
# cache): `model.inference.engine` announces it, and these choices cut it (with the two
# kernels: `evaluate_rows`; with one kernel it took 44.6 s, now about 25 s):
# - `_internal`: called from compiled code only, so neither a CPython wrapper (unboxing
#   every argument: the named tuples of arrays) nor a C wrapper is compiled for it;
#   each wrapper was also linked into, and optimized again with, every caller.
# - `_inlined`: the function's body is copied into its callers' (Numba IR, before
#   typing), for small functions and those with one or two callers: Numba optimizes a
#   callee's code again within each caller, so every level of calls removed is a
#   whole re-optimization of all below it less.
# - A literal argument (`True`, `False`, `1`) compiles one more copy of the callee for
#   that value: calls pass run-time values instead.
# - None, where it is passed, is a type: Numba drops the branches on `x is None` of an
#   argument before typing them, so `_sweep_r(joint=None)`, `_factor_forward(keep=None)`
#   and `_step_r(adjoint=None)` are copies without the joints' code, which the first
#   kernel (`evaluate_rows`) never runs; the second compiles the copies with it.
_internal = njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
_inlined = njit(cache=True, inline="always")
_called_from_python = njit(cache=True)  # (a test calls it)

# `_sweep_r` sums its signed terms and hub configurations side by side as lanes, at most
# this many (coverage states x lanes) a chunk: a table column of 4,096 float64 (32 KB)
# stays within a core's cache while the lanes give the loops length. (An engine
# setting, not a probability.)
LANE_STATES = 4096
# r = 2 takes `_sweep_r` (elimination, lanes) instead of `_sweep2` (every
# configuration, four numbers in registers) where the factors' elimination programs
# need this many times fewer steps than summing every configuration (`_pass`).
ELIMINATION_GAIN = 2
# Path codes (`model.inference.engine.PATHS` names them); DEFERRED: left by
# `evaluate_rows` for `evaluate_rare_rows`, never an answer's.
COVERAGE, TELESCOPED, MIXED, IMPOSSIBLE, DEFERRED = 0, 1, 2, 3, 4
# The ops of a factor's elimination program (`Program`).
STEP, EXPAND, SUM = 0, 1, 2
# Queries with at least this many positives choose r by an estimate first (`_first_r`).
ESTIMATE_FROM = 5
# ... the estimate's kappa must be this far inside the bound.
ESTIMATE_MARGIN = 1.0
# ... and it starts with at most this many positives signed (r = m - SIGNED_AT_MOST):
# on 1,914 queries of the bundled network with 2-10 positives and the exposures
# unknown (the benchmark's several-regions and growth sets), the bound never held with
# more than 6 signed (2^6 terms, each cancelling ~10x). (An engine setting.)
SIGNED_AT_MOST = 6


@_internal
def _term_weights(neg, U, L, sgn, k, k_low):
    """Each signed term's weight of every branch column, as the product of two tables: the
    first k_low expanded positives (rows of `low`) and the others (rows of `high`).
    Bit i of a term set means positive sgn[i] enters with L ("all < lo", sign -),
    clear with U ("all <= hi", sign +); both tables together hold 2^(k/2 + 1) rows,
    not 2^k, and a term's weight is one product a column."""
    n_col = neg.shape[0]
    low = np.empty((1 << k_low, n_col))
    high = np.empty((1 << (k - k_low), n_col))
    # (a loop, not `low[0, :] = neg`: that one's shape check compiles string formatting, 2 s)
    for col in range(n_col):
        low[0, col] = neg[col]
        high[0, col] = 1.0
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


@_inlined
def _parity_sign(t):
    sign = 1.0
    while t:
        sign = -sign
        t &= t - 1
    return sign


@_internal
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
    P, n_hub, hub_w, fc_ptr, fc_idx, n_y, y_off, y_w, p_off, block, _prog = chain
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


@_inlined
def _step2(K, c, x0, x1, x2, x3):
    """Cause c's present step on two positives (bit 0, bit 1): z = K x, K upper
    triangular with nine entries (the Kronecker product of the two 2x2 coverage steps,
    or a mixture of two: the switch's branches)."""
    return (K[0, c] * x0,
            K[1, c] * x0 + K[2, c] * x1,
            K[3, c] * x0 + K[4, c] * x2,
            K[5, c] * x0 + K[6, c] * x1 + K[7, c] * x2 + K[8, c] * x3)


@_inlined
def _adjoint2(K, c, g0, g1, g2, g3):
    """The adjoint of `_step2`: K^T g."""
    return (K[0, c] * g0 + K[1, c] * g1 + K[3, c] * g2 + K[5, c] * g3,
            K[2, c] * g1 + K[6, c] * g3,
            K[4, c] * g2 + K[7, c] * g3,
            K[8, c] * g3)


@_inlined
def _advance2(K, be, moves, c, p, x0, x1, x2, x3):
    """The state after cause c, present with probability p: (1 - p) x + p K x, or a
    number times x for a cause that does not move the two positives."""
    q = 1.0 - p
    if moves:
        z0, z1, z2, z3 = _step2(K, c, x0, x1, x2, x3)
        return q * x0 + p * z0, q * x1 + p * z1, q * x2 + p * z2, q * x3 + p * z3
    g = q + p * be[c]
    return g * x0, g * x1, g * x2, g * x3


@_internal
def _sweep2(j0, j1, sgn, k, cols, chain, want, joint, alpha, before):
    """`_sweep` for r = 2 (the next most common case): the four coverage states in
    registers. alpha (4, factors + 1) and before (4, causes of the largest factor).
    Per term, each cause's present step is one 4x4 matrix K (`_step2`), its branches'
    weights times their coverage steps, summed."""
    bw, cs, U, L, A = cols
    P, n_hub, hub_w, fc_ptr, fc_idx, n_y, y_off, y_w, p_off, block, _prog = chain
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




@_internal
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


@_internal
def _step_r(c, V, Z, n_cfg, nl, adjoint, steps, cs, cov, L, A, U, spare):
    """Z <- cause c's present step applied to V (its transpose unless `adjoint` is None:
    a type, not a value, so each is compiled apart, without the other's branches): V[st,
    cfg, lane] is coverage state st in exposure configuration cfg (the first n_cfg) of
    lane (the first nl: a signed term and a hub configuration, `_sweep_r`), each lane
    with its own step (the term's weights). On the bits of the positives c moves only
    (`_moved_bits`: on the others its step is the identity): from its 3^s folded
    entries (s: the bits it moves) for each of the 2^(r - s) states of the other bits,
    or column by column (s 2x2 steps each) where that is cheaper. The innermost loops
    run over the lanes, so they vectorise."""
    folded, K, n_mv, mv, inner, outer, src, dst, wts = steps
    size = V.shape[0]
    s = n_mv[c]
    for st in range(size):
        for cfg in range(n_cfg):
            for lane in range(nl):
                Z[st, cfg, lane] = 0.0
    if folded[c]:
        n_p = 1
        for _ in range(s):
            n_p *= 3
        for o in range(size >> s):
            base = outer[c, o]
            for e in range(n_p):
                if adjoint is None:
                    to, fr = base + inner[c, dst[e]], base + inner[c, src[e]]
                else:
                    to, fr = base + inner[c, src[e]], base + inner[c, dst[e]]
                for cfg in range(n_cfg):
                    for lane in range(nl):
                        Z[to, cfg, lane] += K[c, e, lane] * V[fr, cfg, lane]
        return
    for col in range(cs[c], cs[c + 1]):
        for st in range(size):
            for cfg in range(n_cfg):
                for lane in range(nl):
                    spare[st, cfg, lane] = V[st, cfg, lane]
        for i in range(s):
            jj = mv[c, i]
            j = cov[jj]
            lo_w, in_w, up_w = L[j, col], A[j, col], U[j, col]
            bit = 1 << jj
            for st in range(size):
                if st & bit == 0:
                    hi_st = st | bit
                    for cfg in range(n_cfg):
                        for lane in range(nl):
                            x0 = spare[st, cfg, lane]
                            x1 = spare[hi_st, cfg, lane]
                            if adjoint is None:
                                spare[st, cfg, lane] = lo_w * x0
                                spare[hi_st, cfg, lane] = in_w * x0 + up_w * x1
                            else:
                                spare[st, cfg, lane] = lo_w * x0 + in_w * x1
                                spare[hi_st, cfg, lane] = up_w * x1
        for st in range(size):
            for cfg in range(n_cfg):
                for lane in range(nl):
                    Z[st, cfg, lane] += wts[col, lane] * spare[st, cfg, lane]


# One query's causes as coverage steps in `_sweep_r` (`_moved_bits`): whether a cause's
# step is folded, its folded entries K (cause, 3^s, lane), how many of the r positives it
# moves (n_mv) and which (mv), where each subset of those bits (inner) and each state of
# the other bits (outer) sits in the state vector, the pairs of the folded entries
# (src, dst: `_pairs`), and each lane's term's weight of each column (wts: column, lane).
Steps = namedtuple("Steps", "folded K n_mv mv inner outer src dst wts")


@_called_from_python
def _moved_bits(r, cov, cols, lanes):
    """Which of the r coverage positives (`cov`) each cause moves, and its `Steps`
    layout. A cause moves positive j when some column of it has L != 1, U != 1 or
    A != 0 there; on the others its step is exactly the identity (times 1, plus 0), so
    leaving them out changes no digit, and a step costs 2^(r - s) 3^s for s moved bits
    instead of 3^r: the rarest positives, which the coverage state holds, are moved by
    few causes (tics by 1 of 25, vision by 4, sweating by 8)."""
    bw, cs, U, L, A = cols
    n1 = cs.shape[0] - 1
    size = 1 << r
    n_mv = np.zeros(n1, dtype=np.int64)
    mv = np.zeros((n1, max(r, 1)), dtype=np.int64)
    inner = np.zeros((n1, size), dtype=np.int64)
    outer = np.zeros((n1, size), dtype=np.int64)
    folded = np.zeros(n1, dtype=np.bool_)
    for c in range(n1):
        mask = 0
        for jj in range(r):
            j = cov[jj]
            for col in range(cs[c], cs[c + 1]):
                if A[j, col] != 0.0 or L[j, col] != 1.0 or U[j, col] != 1.0:
                    mv[c, n_mv[c]] = jj
                    n_mv[c] += 1
                    mask |= 1 << jj
                    break
        s = n_mv[c]
        for sub in range(1 << s):  # a subset of c's bits, as global bits
            g = 0
            for i in range(s):
                if sub >> i & 1:
                    g |= 1 << mv[c, i]
            inner[c, sub] = g
        o = 0
        for st in range(size):  # the states with c's bits clear, in order
            if st & mask == 0:
                outer[c, o] = st
                o += 1
        # folded: 3^s entries once a term a column, then 2^(r - s) 3^s a step; column by
        # column: about 2^(r + 1) (copy, add) + s 2^(r - 1) 3 a column a step. Fold
        # where the folded step is no dearer.
        n_p = 1
        for _ in range(s):
            n_p *= 3
        folded[c] = s > 0 and (size >> s) * n_p <= (cs[c + 1] - cs[c]) * (2 * size + s * (size // 2) * 3)
    # folded entries and pairs for the most bits a folded cause moves, not for all r:
    # 3^r of them would cost more to allocate than a large r's whole pass
    s_fold = np.int64(0)  # not `0`: a literal would compile one more copy of _pairs
    for c in range(n1):
        if folded[c]:
            s_fold = max(s_fold, n_mv[c])
    src, dst = _pairs(s_fold)
    # (K and wts are written a chunk of lanes at a time before they are read: np.empty)
    return Steps(folded, np.empty((n1, src.shape[0], lanes)), n_mv, mv, inner, outer, src, dst,
                 np.empty((bw.shape[0], lanes)))


@_internal
def _sweep_r(r, cov, sgn, k, cols, chain, want, joint, terms):
    """One pass with r positives (`cov`) in the coverage state and the other k (`sgn`)
    expanded as signed terms (any r; the r = 1 and r = 2 passes are faster for those).
    Returns the signed sum and the sum of |terms|; adds each cause's joint
    P(query, present) to `joint` when `want` (`joint` None: a copy compiled without the
    joints), and writes each term's value (before its sign) to `terms` when it has room
    for them (the estimate: `_cheapest_r`).

    Per term, each cause's present step is its branch columns' coverage steps weighted
    and summed, on the bits of the positives it moves only (`_moved_bits`; s of them).
    It is folded once a term into its 3^s nonzero entries (`_pairs`) where that is
    cheaper than applying the columns one by one (s 2^(r - 1) 2x2 steps each): for few
    moved bits, or a cause with many branches. A cause that moves none of the r
    positives is a number in the term (its branches' weights, summed): the table carries
    those as a scale beside the vectors (state = scale x vector), one multiply each
    instead of 2^r.

    Lanes. The signed terms and the hub configurations are independent sums with the
    same steps in the same order (a term changes the causes' weights, a hub
    configuration their probabilities), so they are summed side by side: lane
    (term, hub) is the innermost axis of every table, and a step's loops run over the
    lanes. LANE_STATES bounds a chunk's (coverage states x lanes); terms beyond it run
    in the next chunk.

    Factors by their elimination programs (`_factor_forward`); joints by
    forward-backward within each factor (`_factor_backward`): P(query, c present)
    replaces c's step (1 - p) I + p K by p K."""
    bw, cs, U, L, A = cols
    n_hub, hub_w, fc_ptr, block, prog = chain.n_hub, chain.hub_w, chain.fc_ptr, chain.block, chain.prog
    n1 = cs.shape[0] - 1  # the causes and the leak
    n = n1 - 1
    n_f_all = fc_ptr.shape[0] - 1
    size = 1 << r
    full = size - 1
    n_terms = 1 << k
    per_chunk = max(1, min(n_terms, LANE_STATES // (size * n_hub)))  # terms a chunk
    n_lanes = per_chunk * n_hub
    steps = _moved_bits(r, cov, cols, n_lanes)
    # True as a run-time value for `_factor_forward`'s `keep`: a literal would compile one
    # more copy of it
    yes = r >= 0
    folded, K, n_mv, mv, wts = steps.folded, steps.K, steps.n_mv, steps.mv, steps.wts
    moves = n_mv > 0
    k_low = k // 2
    low, high = _term_weights(bw, U, L, sgn, k, k_low)
    be = np.zeros((n1, n_lanes))
    # a factor's table: a state vector a column (a configuration of the exposures in the
    # table), then the lanes innermost
    c_max = 1
    s_max = 1  # the most ops of a factor (the forward's snapshots for the joints)
    for f in range(n_f_all):
        s_max = max(s_max, prog.ptr[f + 1] - prog.ptr[f] + 1)
        for o in range(prog.ptr[f], prog.ptr[f + 1]):
            c_max = max(c_max, prog.n_col[o])
    hub_of = np.empty(n_lanes, dtype=np.int64)  # lane -> its hub configuration's offset in P
    for lane in range(n_lanes):
        hub_of[lane] = (lane % n_hub) * block
    # (np.empty: every table below is written before it is read, and zeroing them, up to
    # megabytes a pass, cost more than a small query's whole pass)
    alphas = np.empty((n_f_all + 1, size, n_lanes))  # the state entering each factor (and the end)
    beta = np.empty((size, n_lanes))  # the adjoint leaving the current factor
    w_lane = np.zeros(n_lanes)  # a lane's weight in the joints: its hub's weight and term's sign
    X = np.empty((size, c_max, n_lanes))  # the forward table
    sc = np.empty((c_max, n_lanes))  # ... and its columns' scales (the non-moving causes' numbers, the weights)
    Z = np.empty((size, c_max, n_lanes))
    spare = np.empty((size, c_max, n_lanes))
    pv = np.empty((c_max, n_lanes))  # a cause's probability in each column and lane
    # the tables below only for a pass with joints (`_factor_backward` reads its sizes
    # from G)
    snap = np.empty((s_max if want else 1, size, c_max if want else 1, n_lanes))  # the forward table before each op that moves it
    fs = np.empty((s_max if want else 1, c_max if want else 1, n_lanes))  # the scales before each STEP
    slot = np.zeros(s_max, dtype=np.int64)  # snap's slot before each op
    G = np.empty((size if want else 1, c_max if want else 1, n_lanes))  # the adjoint table
    gs = np.empty((c_max if want else 1, n_lanes))  # ... and its scales
    dot = np.empty((c_max, n_lanes))
    e0 = np.zeros((size, 1, n_lanes))
    e0[0, 0, :] = 1.0
    z0 = np.zeros((size, 1, n_lanes))
    total = 0.0
    magnitude = 0.0
    # each folded column's Kronecker product on its cause's bits (it does not depend on
    # the term), once a pass: a term's folded step is then its columns' products times
    # the term's weights, one multiply-add a lane
    kr_at = np.zeros(bw.shape[0] + 1, dtype=np.int64)
    for c in range(n1):
        for col in range(cs[c], cs[c + 1]):
            kr_at[col + 1] = kr_at[col] + (3 ** n_mv[c] if folded[c] else 0)
    kr = np.empty(kr_at[-1])
    for c in range(n1):
        if not folded[c]:
            continue
        for col in range(cs[c], cs[c + 1]):
            at = kr_at[col]
            kr[at] = 1.0  # digit by digit: 0 stays uncovered (L), 1 becomes covered (A), 2 stays (U)
            span = 1
            for i in range(n_mv[c]):
                j = cov[mv[c, i]]
                lo_w, in_w, up_w = L[j, col], A[j, col], U[j, col]
                for e in range(span):
                    v = kr[at + e]
                    kr[at + e] = v * lo_w
                    kr[at + span + e] = v * in_w
                    kr[at + 2 * span + e] = v * up_w
                span *= 3
    for t0 in range(0, n_terms, per_chunk):
        n_t = min(per_chunk, n_terms - t0)
        nl = n_t * n_hub
        # each lane's term: the columns' weights (wts), the causes' weights (be) and
        # folded steps (K); a term's lanes (one per hub configuration) hold the same
        for ti in range(n_t):
            t = t0 + ti
            t_low = t & ((1 << k_low) - 1)
            t_high = t >> k_low
            for col in range(bw.shape[0]):
                w = low[t_low, col] * high[t_high, col]
                for h in range(n_hub):
                    wts[col, ti * n_hub + h] = w
        for c in range(n1):
            for lane in range(nl):
                be[c, lane] = 0.0
            for col in range(cs[c], cs[c + 1]):
                for lane in range(nl):
                    be[c, lane] += wts[col, lane]
            if folded[c]:
                n_e = 3 ** n_mv[c]
                for e in range(n_e):
                    for lane in range(nl):
                        K[c, e, lane] = 0.0
                for col in range(cs[c], cs[c + 1]):
                    at = kr_at[col]
                    for e in range(n_e):
                        ke = kr[at + e]
                        for lane in range(nl):
                            K[c, e, lane] += ke * wts[col, lane]
        for ti in range(n_t):
            lane0 = ti * n_hub
            t = t0 + ti
            sign = _parity_sign(t)
            for h in range(n_hub):
                w_lane[lane0 + h] = hub_w[h] * sign
        # forward
        if moves[n]:  # the leak: always present
            _step_r(n, e0, z0, e0.shape[1], nl, None, steps, cs, cov, L, A, U, spare)
            for st in range(size):
                for lane in range(nl):
                    alphas[0, st, lane] = z0[st, 0, lane]
        else:
            alphas[0, :, :] = 0.0
            for lane in range(nl):
                alphas[0, 0, lane] = be[n, lane]
        for f in range(n_f_all):
            _factor_forward(f, alphas[f], alphas[f + 1], nl, None, chain, hub_of, steps, moves, be, cs, cov, L, A, U,
                            X, sc, Z, spare, pv, snap, fs, slot)
        for ti in range(n_t):
            term = 0.0
            for h in range(n_hub):
                term += hub_w[h] * alphas[n_f_all, full, ti * n_hub + h]
            total += _parity_sign(t0 + ti) * term
            magnitude += term
            if terms.shape[0] > 0:
                terms[t0 + ti] = term
        # (`joint` None: this copy is compiled without the joints, its callers never want
        # them; Numba prunes the branch before typing it, so `_factor_backward` is not
        # compiled with it: the first kernel's compile, `evaluate_rows`)
        if joint is not None:
            if want:
                beta[:, :] = 0.0
                beta[full, :] = 1.0
                for f in range(n_f_all - 1, -1, -1):
                    # forward again, keeping the tables backward needs, then backward
                    _factor_forward(f, alphas[f], alphas[f + 1], nl, yes, chain, hub_of, steps, moves, be, cs, cov,
                                    L, A, U, X, sc, Z, spare, pv, snap, fs, slot)
                    _factor_backward(f, beta, nl, w_lane, joint, chain, hub_of, steps, moves, be, cs, cov, L, A, U,
                                     G, gs, Z, spare, pv, snap, fs, slot, dot)
    return total, magnitude


@_internal
def _factor_forward(f, alpha, out, nl, keep, chain, hub_of, steps, moves, be, cs, cov, L, A, U, X, sc, Z, spare, pv,
                    snap, fs, slot):
    """`_sweep_r`'s states through factor f, lane by lane (nl lanes): alpha in, out out,
    by the factor's elimination program (`Program`). The table X holds a state vector
    per column and lane, sc a scale (the state is sc x X): a cause steps each column
    with its probability there, or (moving none of the coverage positives) multiplies
    the scales; EXPAND copies the columns once per state of the exposure, each scale
    times its probability; SUM adds the columns of the exposure's states (scales
    applied) into one. Unless `keep` is None, the table before each op that changes it
    (snap, its slot per op in `slot`) and the scales before each STEP (fs) are kept for
    `_factor_backward` (None: a copy compiled without that, the first kernel's)."""
    P, n_y, p_off, fc_ptr, fc_idx, prog = chain.P, chain.n_y, chain.p_off, chain.fc_ptr, chain.fc_idx, chain.prog
    size = X.shape[0]
    start = fc_ptr[f]
    ny = n_y[f]
    for st in range(size):
        for lane in range(nl):
            X[st, 0, lane] = alpha[st, lane]
    for lane in range(nl):
        sc[0, lane] = 1.0
    cols = np.int64(1)  # not `1`: a literal would compile one more copy of _step_r
    kk = 0
    if keep is not None:
        for st in range(size):
            for lane in range(nl):
                snap[0, st, 0, lane] = alpha[st, lane]
    first = prog.ptr[f]
    for o in range(first, prog.ptr[f + 1]):
        kind = prog.kind[o]
        if keep is not None:
            slot[o - first] = kk
        if kind == STEP:
            i = prog.arg[o]
            c = fc_idx[start + i]
            row = p_off[f] + i * ny
            off = prog.off[o]
            for cfg in range(cols):
                at = row + prog.col_y[off + cfg]
                for lane in range(nl):
                    pv[cfg, lane] = P[hub_of[lane] + at]
            if keep is not None:
                for cfg in range(cols):
                    for lane in range(nl):
                        fs[o - first, cfg, lane] = sc[cfg, lane]
            if moves[c]:
                _step_r(c, X, Z, cols, nl, None, steps, cs, cov, L, A, U, spare)
                for st in range(size):
                    for cfg in range(cols):
                        for lane in range(nl):
                            p = pv[cfg, lane]
                            X[st, cfg, lane] = (1.0 - p) * X[st, cfg, lane] + p * Z[st, cfg, lane]
            else:
                for cfg in range(cols):
                    for lane in range(nl):
                        p = pv[cfg, lane]
                        sc[cfg, lane] *= 1.0 - p + p * be[c, lane]
                continue  # X unchanged: no new snapshot
        elif kind == EXPAND:
            n_s = prog.arg[o]
            off = prog.off[o]
            for s_ in range(n_s - 1, -1, -1):  # the state 0 copy last: it overwrites the source
                w = prog.w[off + s_]
                at = s_ * cols
                for st in range(size):
                    for cfg in range(cols):
                        for lane in range(nl):
                            X[st, at + cfg, lane] = X[st, cfg, lane]
                for cfg in range(cols):
                    for lane in range(nl):
                        sc[at + cfg, lane] = sc[cfg, lane] * w
            cols *= n_s
        else:  # SUM
            n_s = prog.arg[o]
            stride = prog.stride[o]
            new = cols // n_s
            for j in range(new):
                low = j % stride
                src = low + (j - low) * n_s
                for st in range(size):
                    for lane in range(nl):
                        Z[st, j, lane] = 0.0
                for s_ in range(n_s):
                    at = src + s_ * stride
                    for st in range(size):
                        for lane in range(nl):
                            Z[st, j, lane] += sc[at, lane] * X[st, at, lane]
            for st in range(size):
                for cfg in range(new):
                    for lane in range(nl):
                        X[st, cfg, lane] = Z[st, cfg, lane]
            for cfg in range(new):
                for lane in range(nl):
                    sc[cfg, lane] = 1.0
            cols = new
        kk += 1
        if keep is not None:
            for st in range(size):
                for cfg in range(cols):
                    for lane in range(nl):
                        snap[kk, st, cfg, lane] = X[st, cfg, lane]
    for st in range(size):  # the program ends with every exposure summed: one column
        for lane in range(nl):
            out[st, lane] = sc[0, lane] * X[st, 0, lane]


@_internal
def _factor_backward(f, beta, nl, w_lane, joint, chain, hub_of, steps, moves, be, cs, cov, L, A, U, G, gs, Z, spare,
                     pv, snap, fs, slot, dot):
    """The adjoint of `_factor_forward` (run keeping its tables just before): beta, the
    adjoint leaving factor f (per lane), becomes the adjoint entering it, and each cause's
    P(query, present) is added to `joint`, each lane's share times w_lane (its hub
    configuration's weight and its term's sign). Walking the program backward: a STEP's
    joint is p <G, K X> (moving) or p b <G, X> (a number), with X the table before it
    and the scales of both; SUM's adjoint copies a column to each of its exposure's
    states; EXPAND's adds them up, each times its probability."""
    P, n_y, p_off, fc_ptr, fc_idx, prog = chain.P, chain.n_y, chain.p_off, chain.fc_ptr, chain.fc_idx, chain.prog
    size = G.shape[0]
    start = fc_ptr[f]
    ny = n_y[f]
    for st in range(size):
        for lane in range(nl):
            G[st, 0, lane] = beta[st, lane]
    for lane in range(nl):
        gs[0, lane] = 1.0
    cols = np.int64(1)  # not `1`: a literal would compile one more copy of _step_r
    first = prog.ptr[f]
    fresh = False  # whether dot = <G, the snapshot> per column and lane is current
    # (not None: the transpose; a run-time value, a literal would compile one more copy)
    adjoint = nl >= 0
    for o in range(prog.ptr[f + 1] - 1, first - 1, -1):
        kind = prog.kind[o]
        if kind == STEP:
            i = prog.arg[o]
            c = fc_idx[start + i]
            row = p_off[f] + i * ny
            off = prog.off[o]
            before = snap[slot[o - first]]
            for cfg in range(cols):
                at = row + prog.col_y[off + cfg]
                for lane in range(nl):
                    pv[cfg, lane] = P[hub_of[lane] + at]
            if moves[c]:
                _step_r(c, G, Z, cols, nl, adjoint, steps, cs, cov, L, A, U, spare)
                for cfg in range(cols):
                    for lane in range(nl):
                        dot[cfg, lane] = 0.0
                for st in range(size):
                    for cfg in range(cols):
                        for lane in range(nl):
                            dot[cfg, lane] += Z[st, cfg, lane] * before[st, cfg, lane]
                acc = 0.0
                for cfg in range(cols):
                    for lane in range(nl):
                        acc += w_lane[lane] * pv[cfg, lane] * dot[cfg, lane] * fs[o - first, cfg, lane] * gs[cfg, lane]
                joint[c] += acc
                for st in range(size):
                    for cfg in range(cols):
                        for lane in range(nl):
                            p = pv[cfg, lane]
                            G[st, cfg, lane] = (1.0 - p) * G[st, cfg, lane] + p * Z[st, cfg, lane]
                fresh = False
            else:
                if not fresh:
                    for cfg in range(cols):
                        for lane in range(nl):
                            dot[cfg, lane] = 0.0
                    for st in range(size):
                        for cfg in range(cols):
                            for lane in range(nl):
                                dot[cfg, lane] += G[st, cfg, lane] * before[st, cfg, lane]
                    fresh = True
                acc = 0.0
                for cfg in range(cols):
                    for lane in range(nl):
                        p = pv[cfg, lane]
                        b_ = be[c, lane]
                        acc += w_lane[lane] * p * b_ * dot[cfg, lane] * fs[o - first, cfg, lane] * gs[cfg, lane]
                        gs[cfg, lane] *= 1.0 - p + p * b_
                joint[c] += acc
        elif kind == SUM:  # forward: X[j] = sum over s of sc x X[src + s stride]; scales 1
            n_s = prog.arg[o]
            stride = prog.stride[o]
            new = cols * n_s
            for j in range(cols):
                low = j % stride
                src = low + (j - low) * n_s
                for s_ in range(n_s):
                    at = src + s_ * stride
                    for st in range(size):
                        for lane in range(nl):
                            Z[st, at, lane] = G[st, j, lane]
                    for lane in range(nl):
                        dot[at, lane] = gs[j, lane]  # (dot as scratch for the scales)
            for st in range(size):
                for cfg in range(new):
                    for lane in range(nl):
                        G[st, cfg, lane] = Z[st, cfg, lane]
            for cfg in range(new):
                for lane in range(nl):
                    gs[cfg, lane] = dot[cfg, lane]
            cols = new
            fresh = False
        else:  # EXPAND: forward copied column cfg to cfg + s cols, scale times w[s]
            n_s = prog.arg[o]
            off = prog.off[o]
            old = cols // n_s
            for cfg in range(old):
                for st in range(size):
                    for lane in range(nl):
                        Z[st, cfg, lane] = 0.0
                for s_ in range(n_s):
                    at = s_ * old + cfg
                    w = prog.w[off + s_]
                    for st in range(size):
                        for lane in range(nl):
                            Z[st, cfg, lane] += w * gs[at, lane] * G[st, at, lane]
            for st in range(size):
                for cfg in range(old):
                    for lane in range(nl):
                        G[st, cfg, lane] = Z[st, cfg, lane]
            for cfg in range(old):
                for lane in range(nl):
                    gs[cfg, lane] = 1.0
            cols = old
            fresh = False
    for st in range(size):
        for lane in range(nl):
            beta[st, lane] = gs[0, lane] * G[st, 0, lane]


@_inlined
def _lanes_at_2(chain):
    """Whether r = 2 takes `_sweep_r` (elimination, lanes) rather than `_sweep2` (every
    configuration, four numbers in registers): where the factors' elimination programs
    need ELIMINATION_GAIN times fewer steps (shared exposures unknown), the lanes are
    faster: measured 1.7 against 5.2 ms on a 9-positive query with every exposure
    unknown, 0.7 against 1.4 ms without joints."""
    fc_ptr, n_y, prog = chain.fc_ptr, chain.n_y, chain.prog
    n_factors = fc_ptr.shape[0] - 1
    enumerated = 0
    for f in range(n_factors):
        enumerated += n_y[f] * (fc_ptr[f + 1] - fc_ptr[f])
    programmed = 0
    for o in range(prog.ptr[n_factors]):
        if prog.kind[o] == STEP:
            programmed += prog.n_col[o]
    return programmed * ELIMINATION_GAIN <= enumerated


@_inlined
def _takes_sweep_r(r, chain):
    """Whether `_pass` at r takes `_sweep_r` (r = 2 where `_lanes_at_2`, and r = 3 on),
    not `_sweep1` or `_sweep2`."""
    return not (r == 1 or (r == 2 and not _lanes_at_2(chain)))


@_inlined
def _pass(r, order, m, cols, chain, want, joint, joint_r):
    """One exact pass with the r rarest positives (order[:r]) in the coverage state and
    the other m - r as signed terms: the signed sum and the sum of |terms|. joint_r:
    `joint` for `_sweep_r` too, or None (`_sweep_r` compiled without its joints:
    `_query` defers the rows that would need them)."""
    fc_ptr = chain.fc_ptr
    n_y = chain.n_y
    n_factors = fc_ptr.shape[0] - 1
    n_max = 1
    y_max = 1
    for f in range(n_factors):
        n_max = max(n_max, fc_ptr[f + 1] - fc_ptr[f])
        y_max = max(y_max, n_y[f])
    if not _takes_sweep_r(r, chain):
        if r == 1:
            return _sweep1(order[0], order[1:m], m - 1, cols, chain, want, joint, np.empty(n_factors + 1),
                           np.empty(n_factors + 1), np.empty((n_max + 1, y_max)), np.empty((n_max + 1, y_max)))
        return _sweep2(order[0], order[1], order[2:m], m - 2, cols, chain, want, joint,
                       np.empty((4, n_factors + 1)), np.empty((4, n_max)))
    return _sweep_r(r, order[:r], order[r:m], m - r, cols, chain, want, joint_r, np.empty(0))


@_internal
def _cheapest_r(terms, total, r_low, m, bound):
    """The smallest r >= r_low whose signed terms cancel by at most `bound`, from the
    terms of one pass at r_low (`terms[t]`: bit i of t set when positive order[r_low + i]
    enters with L). Moving the next j positives into the coverage state turns them
    from signed into covered: a term of that split is, by inclusion-exclusion over
    those j, sum over u of (-1)^|u| times the r_low term of t' and u together. So one
    pass gives every r's kappa. Those sums subtract, but only to estimate: their
    rounding is about 1e-16 of the r_low terms, far below the magnitudes compared with
    the bound; the exact pass still checks its own kappa."""
    k = m - r_low
    if total == 0.0:
        return m
    for j in range(k + 1):
        magnitude = 0.0
        for t_high in range(1 << (k - j)):
            inner = 0.0
            for u in range(1 << j):
                inner += _parity_sign(u) * terms[(t_high << j) | u]
            magnitude += abs(inner)
        if magnitude / abs(total) <= bound:
            return r_low + j
    return m


@_internal
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


@_internal
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



@_internal
def _program(q, rows, tables, n_y):
    """Query q's elimination `Program` of each factor: the layout's order
    (`tables.op_ptr` ...) with the exposures known in q left out, the table's columns
    after each op, and where each column's configuration sits in P (whose index y runs
    over the factor's unknown exposures in the layout's order, the first fastest).

    The table's columns are the configurations of the exposures entered and not yet
    summed, the first entered fastest: EXPAND appends one (stride: the columns before
    it), SUM removes one from wherever it sits (the later ones' strides shrink)."""
    exposure, d = rows.exposure, rows.draw[q]
    op_ptr, op_kind, op_arg = tables.op_ptr, tables.op_kind, tables.op_arg
    fx_ptr, fx_idx, e_states, e_prob = tables.fx_ptr, tables.fx_idx, tables.e_states, tables.e_prob
    n_factors = op_ptr.shape[0] - 1
    n_ops = op_ptr[n_factors]
    y_max = 1
    for f in range(n_factors):
        y_max = max(y_max, n_y[f])
    ptr = np.zeros(n_factors + 1, dtype=np.int64)
    kind = np.zeros(n_ops, dtype=np.int64)
    arg = np.zeros(n_ops, dtype=np.int64)
    n_col = np.ones(n_ops, dtype=np.int64)
    stride = np.zeros(n_ops, dtype=np.int64)
    off = np.zeros(n_ops, dtype=np.int64)
    col_y = np.zeros(n_ops * y_max + 1, dtype=np.int64)
    w = np.ones(n_ops * y_max + 1)
    n_e = e_states.shape[0]
    y_stride = np.zeros(n_e, dtype=np.int64)  # an unknown exposure's stride in P's y
    live = np.zeros(n_e, dtype=np.int64)  # the exposures in the table, first entered first
    live_stride = np.zeros(n_e, dtype=np.int64)
    o = 0
    used = 0
    for f in range(n_factors):
        ys = 1
        for i in range(fx_ptr[f], fx_ptr[f + 1]):
            e = fx_idx[i]
            if exposure[q, e] < 0:
                y_stride[e] = ys
                ys *= e_states[e]
        n_live = 0
        cols = 1
        for src in range(op_ptr[f], op_ptr[f + 1]):
            a = op_arg[src]
            if op_kind[src] == STEP:
                kind[o] = STEP
                arg[o] = a
                off[o] = used
                for col in range(cols):
                    y = 0
                    for li in range(n_live):
                        e = live[li]
                        y += (col // live_stride[li]) % e_states[e] * y_stride[e]
                    col_y[used + col] = y
                used += cols
            else:
                if exposure[q, a] >= 0:
                    continue  # known: its row is already in P
                k = e_states[a]
                kind[o] = op_kind[src]
                arg[o] = k
                if op_kind[src] == EXPAND:
                    stride[o] = cols
                    off[o] = used
                    for st in range(k):
                        w[used + st] = e_prob[d, a, st]
                    used += k
                    live[n_live] = a
                    live_stride[n_live] = cols
                    n_live += 1
                    cols *= k
                else:
                    at = 0
                    while live[at] != a:
                        at += 1
                    stride[o] = live_stride[at]
                    for li in range(at, n_live - 1):
                        live[li] = live[li + 1]
                        live_stride[li] = live_stride[li + 1] // k
                    n_live -= 1
                    cols //= k
            n_col[o] = cols
            o += 1
        ptr[f + 1] = o
    return Program(ptr, kind, arg, n_col, stride, off, col_y, w)


@_internal
def _count_positives(q, rows, tables):
    """Query q's positives (the premise included when no region is observed present),
    and whether the premise is one of them; -1 when every region is observed absent
    (the premise cannot hold)."""
    lo, hi, n_states, regions = rows.lo, rows.hi, tables.n_states, tables.regions
    n_f = lo.shape[1]
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
            return -1, premise
        m += 1
    return m, premise


@_inlined
def _prepare(q, rows, tables, m, premise):
    """Query q laid out for the passes: the known exposures' probability (`scale`), its
    causes as branch columns (`Columns`), its chain over the unknown exposures (`Chain`),
    the positives rarest first (`order`) and each cause's marginal probability given the
    known exposures (`p_mean`, the estimate's one averaged configuration)."""
    lo, hi, exposure, absent, draw, want_joint = rows
    (flat, offsets, strides, e_prob, e_states, cum, pmf, n_states, regions, log_quiet, twitch, spread, focal,
     weak_on, group, region_pos, hubs, fx_ptr, fx_idx, fc_ptr, fc_idx, op_ptr, op_kind, op_arg) = tables
    n = offsets.shape[0]
    n_e = exposure.shape[1]
    d = draw[q]
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
    cols = Columns(bw, cs, U, L, A)
    # (the factors' causes copied: the tables are read-only, a type of their own to Numba,
    # and the estimate's chain must have this one's types or the passes compile twice)
    chain = Chain(P, n_hub, hub_w, fc_ptr.copy(), fc_idx.copy(), n_y, y_off, y_w, p_off, block,
                  _program(q, rows, tables, n_y))
    p_mean = np.empty(n)
    for c in range(n):
        p_mean[c] = flat[d, base[c]]
    return scale, cols, chain, order, p_mean


@_inlined
def _impossible(q, out):
    """Query q's answer: 0 exactly."""
    out.total[q] = 0.0
    out.path[q] = IMPOSSIBLE
    out.r[q] = 0


@_inlined
def _uncoverable(m, A):
    """Whether some positive has no branch of any cause (nor the leak) that can cover
    it: P(query) is then 0 exactly (a triage box can ask that). Its signed terms cancel
    exactly, so kappa is infinite at every r and the ladder would climb to the full
    coverage recursion only to find 0: `_query` answers it at once."""
    for j in range(m):
        coverable = False
        for col in range(A.shape[1]):
            if A[j, col] > 0.0:
                coverable = True
                break
        if not coverable:
            return True
    return False


@_inlined
def _kappa(total, magnitude):
    """How much a pass's signed terms cancel: sum |terms| / |sum|."""
    if total != 0.0:
        return magnitude / abs(total)
    return math.inf if magnitude > 0.0 else 1.0


@_inlined
def _finish(q, out, scale, total, joint, want, r, m):
    """Query q's answer from its last pass (at r): P(query), the joints, the path."""
    out.total[q] = scale * total
    if want:
        for c in range(joint.shape[0] - 1):
            out.joint[q, c] = scale * joint[c]
    out.r[q] = r
    if r >= m:
        out.path[q] = COVERAGE
    elif r == 1:
        out.path[q] = TELESCOPED
    else:
        out.path[q] = MIXED


@_inlined
def _first_r(m, order, cols, p_mean, bound, joint_r):
    """The r a query's ladder starts at. (joint_r: the caller's `_pass`'s, None or
    `joint`, so that a kernel holds one copy of `_sweep_r`; the estimate wants no joints.)

    The cheapest r whose signed terms cancel by at most `bound`. Each try costs about
    as much as the last, so the ladder r = 1, 2, ... costs a multiple of the answer;
    instead r starts where the same sum on one averaged exposure configuration (each
    cause at its marginal probability: a chain of n causes, not of every hub and
    factor configuration) stops cancelling, ESTIMATE_MARGIN inside the bound: one
    pass of that chain with at most SIGNED_AT_MOST positives signed gives every larger
    r's kappa (`_cheapest_r`). (Passes with more signed cost the most, 2^(m - r)
    terms, and measured never pass the bound; a larger r than needed stays exact, it
    only cancels less.) The exact pass still checks its own kappa and grows r if it
    must: on 1,914 queries of 2-10 positives it never had to."""
    r = 1 if m > 0 else 0
    if m < ESTIMATE_FROM:
        return r
    n = p_mean.shape[0]
    r = max(r, m - SIGNED_AT_MOST)
    ends = np.array([0, n])
    one = np.ones(1)
    no_joints = n < 0  # False as a run-time value (a literal False would compile the passes again)
    ones = np.ones(n, dtype=np.int64)
    steps = Program(ends, np.zeros(n, dtype=np.int64), np.arange(n), ones, np.zeros(n, dtype=np.int64),
                    np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64), one)  # n causes, one column
    mean_chain = Chain(p_mean, np.int64(1), one, ends, np.arange(n), np.ones(1, dtype=np.int64),
                       np.array([0, 1]), one, ends, np.int64(n), steps)
    # one pass at r, every larger r's kappa from its terms (`_cheapest_r`)
    terms = np.zeros(1 << (m - r))
    est_total, _ = _sweep_r(r, order[:r], order[r:m], m - r, cols, mean_chain, no_joints, joint_r, terms)
    return _cheapest_r(terms, est_total, r, m, bound / ESTIMATE_MARGIN)


@_inlined
def _query(q, rows, tables, bound, out):
    """Answer query q: P(query) into out.total[q], P(query, cause present) into
    out.joint[q] (when want_joint[q]), the path and r used. A query whose joints need
    `_sweep_r` is left to `_query_rare` (`evaluate_rare_rows`): path DEFERRED, and in
    out.r[q] the r its ladder has reached (0: not started)."""
    m, premise = _count_positives(q, rows, tables)
    if m < 0:
        _impossible(q, out)
        return
    want = rows.want_joint[q]
    # (a query is deferred only once its ladder reaches a `_sweep_r` pass with joints:
    # many with 5 or more positives end at r = 1 or take `_sweep2`, and answering them
    # here keeps the second kernel from compiling for them; a deferred one is laid out
    # again by `_query_rare`, about 10 us)
    scale, cols, chain, order, p_mean = _prepare(q, rows, tables, m, premise)
    if _uncoverable(m, cols.A):
        _impossible(q, out)
        return
    joint = np.zeros(p_mean.shape[0] + 1)
    r = _first_r(m, order, cols, p_mean, bound, None)
    while True:
        if want and _takes_sweep_r(r, chain):
            out.path[q] = DEFERRED
            out.r[q] = r
            return
        joint[:] = 0.0
        total, magnitude = _pass(r, order, m, cols, chain, want, joint, None)
        if _kappa(total, magnitude) <= bound or r >= m:
            break
        r += 1
    _finish(q, out, scale, total, joint, want, r, m)


@_inlined
def _query_rare(q, rows, tables, bound, out):
    """Answer query q that `_query` deferred, from the r its ladder reached (out.r[q];
    0: from the start): the ladder goes on with the same passes, `_sweep_r` with its
    joints now, so the answer has the same digits as one answered at once."""
    m, premise = _count_positives(q, rows, tables)
    if m < 0:
        _impossible(q, out)
        return
    scale, cols, chain, order, p_mean = _prepare(q, rows, tables, m, premise)
    if _uncoverable(m, cols.A):
        _impossible(q, out)
        return
    want = rows.want_joint[q]
    joint = np.zeros(p_mean.shape[0] + 1)
    r = out.r[q]
    if r == 0:
        r = _first_r(m, order, cols, p_mean, bound, joint)
    while True:
        joint[:] = 0.0
        total, magnitude = _pass(r, order, m, cols, chain, want, joint, joint)
        if _kappa(total, magnitude) <= bound or r >= m:
            break
        r += 1
    _finish(q, out, scale, total, joint, want, r, m)


# The entry points take the named tuples' fields flat, in their order (the engine passes
# `*rows, *tables, bound, *answers`; a test checks the order), and rebuild the tuples
# here: Numba types a flat array argument in C, but a tuple of 21 arrays in Python, which
# cost 25 us a call, more than a single case's query. They release the GIL (nogil), so
# `model.inference.engine` runs chunks of rows on several Python threads at once: one compiled
# kernel serves one row and a million.
#
# Two kernels, so that the first use compiles only what most queries need: compiling is
# the first use's cost (an empty cache, after install), and `_sweep_r` is most of it.
# `evaluate_rows` holds every pass, `_sweep_r` without its joints (`_factor_backward`
# and the forward's snapshots); it defers the rows whose joints need `_sweep_r` (a
# case's own query with many positive findings that cancel: r = 3 and more, or r = 2
# where the elimination programs pay; its triage boxes want no joints), and
# `model.inference.engine` hands them to `evaluate_rare_rows`, compiled (or loaded from
# the cache) on their first need.


@njit(cache=True, nogil=True)
def evaluate_rows(lo, hi, exposure, absent, draw, want_joint,
                  flat, offsets, strides, e_prob, e_states, cum, pmf, n_states, regions, log_quiet, twitch, spread,
                  focal, weak_on, group, region_pos, hubs, fx_ptr, fx_idx, fc_ptr, fc_idx, op_ptr, op_kind, op_arg,
                  bound, total, joint, path, r):
    """Every query of the rows in turn (`_query`): answered, or path DEFERRED with the r
    to start at for `evaluate_rare_rows`. Each writes only its own outputs, so the
    answers do not depend on how the rows are split between threads."""
    rows = Rows(lo, hi, exposure, absent, draw, want_joint)
    tables = Tables(flat, offsets, strides, e_prob, e_states, cum, pmf, n_states, regions, log_quiet, twitch, spread,
                    focal, weak_on, group, region_pos, hubs, fx_ptr, fx_idx, fc_ptr, fc_idx, op_ptr, op_kind, op_arg)
    out = Answers(total, joint, path, r)
    for q in range(lo.shape[0]):
        _query(q, rows, tables, bound, out)


@njit(cache=True, nogil=True)
def evaluate_rare_rows(lo, hi, exposure, absent, draw, want_joint,
                       flat, offsets, strides, e_prob, e_states, cum, pmf, n_states, regions, log_quiet, twitch,
                       spread, focal, weak_on, group, region_pos, hubs, fx_ptr, fx_idx, fc_ptr, fc_idx, op_ptr,
                       op_kind, op_arg, bound, total, joint, path, r):
    """The rows `evaluate_rows` deferred (`_query_rare`), each from the r it left in r
    (0: from the start). Any row will do: `model.inference.engine.warm` loads it so, and
    once it is loaded in a process the engine hands it every row (nothing deferred)."""
    rows = Rows(lo, hi, exposure, absent, draw, want_joint)
    tables = Tables(flat, offsets, strides, e_prob, e_states, cum, pmf, n_states, regions, log_quiet, twitch, spread,
                    focal, weak_on, group, region_pos, hubs, fx_ptr, fx_idx, fc_ptr, fc_idx, op_ptr, op_kind, op_arg)
    out = Answers(total, joint, path, r)
    for q in range(lo.shape[0]):
        _query_rare(q, rows, tables, bound, out)
