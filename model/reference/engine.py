"""Exact inference for the twitch network's shape.

Given the exposures, the causes are independent and every finding is a noisy-MAX of
the causes' contributions. An observation "finding f is in states [lo, hi]" then splits
into two kinds:

* lo == 0 ("negative"): every contribution must be <= hi. That is a product over the
  causes, so it folds into each cause's weight: linear in the number of findings.
* lo > 0 ("positive"): every contribution <= hi *and* at least one >= lo. The second
  part couples the causes.

Two exact ways to sum the positive observations out:

1. Quickscore (Heckerman 1989): write each positive observation as a difference of two
   products (all <= hi minus all < lo) and expand: 2^m signed terms, each a product
   over causes. Fast and vectorised, but the signed sum can cancel (docs/engine.md):
   we measure kappa = sum |terms| / |result| and trust the result only while
   kappa * eps stays far below the 1e-9 the product promises.
2. A coverage recursion with no subtraction at all: walk the causes one by one keeping,
   for every subset S of the positive observations, the probability mass in which
   exactly S already has a contribution in [lo, hi] (and nothing exceeds hi). Each cause
   is a product of 2x2 non-negative transitions, one per observation. Cost is m times
   Quickscore's, but every operation adds non-negative numbers, so float64 keeps its
   digits whatever the cancellation would have been. Used when kappa is too large.

Unobserved exposures are summed out exactly: an exposure with one child folds into that
cause's probability; exposures shared by several causes are enumerated over their
allowed states (a batch dimension of both methods).

The premise of the product, "twitching in at least one region" (docs/model.md), is one more
positive observation: the OR of the regions that are not observed.

This reference predates the causes' twitch switches (issue #18) and latents (issue 23:
site patterns, the weakness latent): it models networks in which every P(twitching |
cause) is 1 and no cause has a site pattern or a weakness latent (`switch_free`), and
refuses others. The compiled engine is checked against it on such networks, and against
brute force and pgmpy with switches and latents.
"""

from __future__ import annotations

from dataclasses import dataclass


import numpy as np

from ..inference.engine import Query  # the query as the product describes it; the sums below are this reference's own

def memo(net) -> dict:
    """What this reference derives from a network (kept in the network's derived store)."""
    if any(float(t) != 1.0 for t in net.twitch.values()) or net.spread or net.focal or net.weak_finding is not None:
        raise ValueError("the numpy references model networks without switches or latents: pass switch_free(net)")
    return net.derived.get("reference", dict)


def switch_free(net):
    """`net` with every cause twitching whenever present (P(twitching | cause) = 1) and
    without the latents (no site pattern: each region by its link alone; no weakness
    latent: the weakness patterns read the causes, with their links and leaks, as any
    finding): the twitch regions read the causes themselves, the model these references
    compute."""
    import dataclasses

    return dataclasses.replace(net, twitch={c: 1.0 for c in net.causes}, spread={}, focal={},
                               weak_finding=None, weak_patterns=())


# Quickscore's relative error is about kappa * (n_causes + m) * eps ~ kappa * 1e-14.
# Above this kappa the coverage recursion answers instead, so errors stay below ~1e-10.
CANCELLATION_BOUND = 1e4
# Quickscore's (terms x exposure configurations x causes) work array is cut in chunks of
# at most this many elements over the exposure configurations.
CHUNK_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class Answer:
    """total = P(query), joint[i] = P(query, cause i present); `method` says which path."""

    total: float
    joint: np.ndarray
    kappa: float
    method: str


def _cause_probabilities(net, query: Query):
    """P(cause present | exposure configuration) over the shared unobserved exposures.

    Returns p (X, n_causes), w (X,) the configurations' probabilities, and the scalar
    factor from fixed and folded exposures.
    """
    key = tuple(sorted(query.exposures.items()))
    cached = memo(net).get(("p", key))
    if cached is not None:
        return cached
    children = memo(net).get("children")
    if children is None:
        children = {e: sum(e in net.cause_parents[c] for c in net.causes) for e in net.exposures}
        memo(net)["children"] = children
    scale = 1.0
    weights, fixed, shared = {}, {}, []
    for e in net.exposures:
        prob = net.exposure_prob[e]
        allowed = query.exposures.get(e)
        w = prob.copy()
        if allowed is not None:
            mask = np.zeros(len(prob), dtype=bool)
            mask[list(allowed)] = True
            w[~mask] = 0.0
        weights[e] = w
        nonzero = np.flatnonzero(w)
        if len(nonzero) == 0:
            scale = 0.0
        elif len(nonzero) == 1:
            fixed[e] = int(nonzero[0])
            scale *= float(w[nonzero[0]])
        elif children[e] >= 2:
            shared.append(e)
        else:
            scale *= float(w.sum())
    # the grid of shared exposures, over their allowed states
    allowed_states = [np.flatnonzero(weights[e]) for e in shared]
    grids = np.meshgrid(*allowed_states, indexing="ij") if shared else []
    index = {e: g.ravel() for e, g in zip(shared, grids)}
    n_config = int(np.prod([len(a) for a in allowed_states])) if shared else 1
    wx = np.ones(n_config)
    for e in shared:
        wx = wx * weights[e][index[e]]
    p = np.empty((n_config, len(net.causes)))
    for i, c in enumerate(net.causes):
        table = net.cause_table[c]
        parents = net.cause_parents[c]
        for axis in reversed(range(len(parents))):  # fold the exposures this cause alone reads
            e = parents[axis]
            if e not in fixed and e not in index:
                table = np.tensordot(table, weights[e] / weights[e].sum(), axes=([axis], [0]))
        at = tuple(fixed[e] if e in fixed else index[e] for e in parents if e in fixed or e in index)
        p[:, i] = table[at] if at else float(table)
    out = (p, wx, scale)
    if len(memo(net)) < 4096:
        memo(net)[("p", key)] = out
    return out


def _observations(net, query: Query):
    """Per-cause weights of the negative observations and the positive observations.

    Returns neg (n,), leak_neg, and arrays of the positive observations: for each, per
    cause, U = P(contribution <= hi), L = P(contribution < lo), A = P(lo <= contribution
    <= hi); the same for the leak.
    """
    n = len(net.causes)
    neg = np.ones(n)
    leak_neg = 1.0
    pos = []  # (U, L, A) each of shape (n + 1,): causes then the leak
    region_present = False
    for f, (lo, hi) in query.findings.items():
        link, leak = net.link[f], net.leak[f]
        k = link.shape[1]
        if lo == 0 and hi == k - 1:
            continue
        if f in net.regions and lo > 0:
            region_present = True
        table = np.vstack([link, leak])
        upper = np.ones(n + 1) if hi == k - 1 else table[:, : hi + 1].sum(axis=1)
        if lo == 0:
            neg *= upper[:n]
            leak_neg *= upper[n]
        else:
            pos.append((upper, table[:, :lo].sum(axis=1), table[:, lo : hi + 1].sum(axis=1)))
    if query.premise and not region_present:
        free = [r for r in net.regions if query.findings.get(r, (0, 1)) == (0, 1)]
        if free:
            none = np.vstack([np.vstack([net.link[r], net.leak[r]])[:, 0] for r in free])
            with np.errstate(divide="ignore"):
                log_none = np.log(none).sum(axis=0)
            # A = 1 - prod(P(no twitch)), without losing digits when it is small
            pos.append((np.ones(n + 1), np.exp(log_none), -np.expm1(log_none)))
        else:  # every region observed absent: the premise cannot hold
            return neg, 0.0, []
    return neg, leak_neg, pos


def _quickscore(p, w, neg, leak_neg, pos):
    n = p.shape[1]
    m = len(pos)
    a = np.ones((1, n))
    lv = np.ones(1)
    sign = np.ones(1)
    for upper, lower, _ in pos:
        a = np.concatenate([a * upper[:n], a * lower[:n]])
        lv = np.concatenate([lv * upper[n], lv * lower[n]])
        sign = np.concatenate([sign, -sign])
    a = a * neg  # (T, n): the factor of a present cause in each term
    tw = lv * leak_neg
    term = np.zeros(len(a))
    num = np.zeros((len(a), n))
    step = max(1, CHUNK_ELEMENTS // (len(a) * n))
    for start in range(0, len(p), step):
        pc, wc = p[start : start + step], w[start : start + step]
        present = pc[None] * a[:, None, :]  # (T, X, n)
        f = (1.0 - pc)[None] + present
        prefix = np.cumprod(f, axis=2)
        # products over the other causes, without dividing (a factor may be 0)
        others = np.ones_like(f)
        others[..., 1:] = prefix[..., :-1]
        others[..., :-1] *= np.cumprod(f[..., ::-1], axis=2)[..., ::-1][..., 1:]
        term += prefix[..., -1] @ wc
        num += np.einsum("txn,x->tn", present * others, wc)
    term *= tw
    num *= tw[:, None]
    total = float(sign @ term)
    joint = sign @ num
    size = float(term.sum())
    kappa = size / abs(total) if total != 0 else (np.inf if size > 0 else 1.0)
    return total, joint, kappa, m


def _apply(alpha, lower, active, upper, transpose=False):
    """Apply one cause's 2x2 transitions, one per positive observation.

    alpha has shape (X, 2^m); bit j of the column index says whether observation j
    already has a contribution in [lo, hi]. Forward: bit 0 -> 0 with weight `lower`
    (contribution below lo), 0 -> 1 with `active` (in [lo, hi]); 1 -> 1 with `upper`
    (anything <= hi).
    """
    x = alpha.shape[0]
    m = len(lower)
    out = alpha.copy()
    for j in range(m):
        # view the bit j as its own axis: (X, high bits, bit j, low bits)
        v = out.reshape(x, 1 << (m - j - 1), 2, 1 << j)
        a0, a1 = v[:, :, 0, :].copy(), v[:, :, 1, :].copy()
        if transpose:
            v[:, :, 0, :] = lower[j] * a0 + active[j] * a1
            v[:, :, 1, :] = upper[j] * a1
        else:
            v[:, :, 0, :] = lower[j] * a0
            v[:, :, 1, :] = active[j] * a0 + upper[j] * a1
    return out


def _coverage(p, w, neg, leak_neg, pos):
    x, n = p.shape
    m = len(pos)
    upper = np.array([u for u, _, _ in pos])  # (m, n + 1)
    lower = np.array([l for _, l, _ in pos])
    active = np.array([a for _, _, a in pos])
    full = (1 << m) - 1
    # a cause whose every transition is the identity (no link to any positive
    # observation) or that is forced absent only rescales the state: skip the transitions
    moves = ~((active[:, :n] == 0).all(axis=0) & (lower[:, :n] == 1).all(axis=0) & (upper[:, :n] == 1).all(axis=0))
    moves &= neg != 0

    def step(state, i, transpose=False):
        pi = p[:, i : i + 1]
        if not moves[i]:
            return (1.0 - pi + pi * neg[i]) * state
        return (1.0 - pi) * state + (pi * neg[i]) * _apply(state, lower[:, i], active[:, i], upper[:, i], transpose)

    alpha = np.zeros((x, 1 << m))
    alpha[:, 0] = 1.0
    alpha = leak_neg * _apply(alpha, lower[:, n], active[:, n], upper[:, n])
    alphas = []
    for i in range(n):
        alphas.append(alpha)
        alpha = step(alpha, i)
    total = float(w @ alpha[:, full])
    beta = np.zeros((x, 1 << m))
    beta[:, full] = 1.0
    joint = np.zeros(n)
    for i in reversed(range(n)):
        if neg[i] != 0:
            moved = _apply(alphas[i], lower[:, i], active[:, i], upper[:, i]) if moves[i] else alphas[i]
            joint[i] = w @ (p[:, i] * neg[i] * (moved * beta).sum(axis=1))
        beta = step(beta, i, transpose=True)
    return total, joint


def evaluate(net, query: Query, *, method: str = "auto") -> Answer:
    """P(query) and P(query, cause present) for every cause, exactly.

    method: "auto" (Quickscore, falling back to the coverage recursion when it
    cancels), "quickscore" or "coverage" (for tests).
    """
    p, w, scale = _cause_probabilities(net, query)
    neg, leak_neg, pos = _observations(net, query)
    n = len(net.causes)
    # P(query, these causes absent): a forced-absent cause keeps only its (1 - p) branch
    for i, c in enumerate(net.causes):
        if c in query.absent:
            neg[i] = 0.0
    if scale == 0.0 or leak_neg == 0.0 and not pos:
        return Answer(0.0, np.zeros(n), 1.0, "zero")
    if method != "coverage":
        total, joint, kappa, m = _quickscore(p, w, neg, leak_neg, pos)
        if method == "quickscore" or m == 0 or kappa <= CANCELLATION_BOUND:
            return Answer(scale * total, scale * joint, kappa, "quickscore")
    else:
        kappa = float("nan")
    total, joint = _coverage(p, w, neg, leak_neg, pos)
    return Answer(scale * total, scale * joint, kappa, "coverage")
