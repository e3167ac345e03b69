"""Learn the model's numbers from case data (docs/fitting.md): EM with an exact E-step.

`fit(cases)` treats every number of the network as unknown with a prior from its range
in priors/ and finds the posterior mode (MAP) by EM:

* The **E-step** asks the exact engine (`model.inference.engine.evaluate_many`, joints per cause)
  for the expected count of every event a number is the probability of, batched over
  cases (one engine call a chunk of cases, never one a case). A noisy-OR/MAX link's
  count "this cause's contribution was k" follows from the cause's joint with the
  finding observed and with the finding's range opened to [0, s] (one more query a
  positive finding); a region's switch and site pattern from queries that free the
  regions observed present, on networks whose region leak is certain (no premise); a
  cause's table from queries that fix its unknown shared exposures. Cases are drawn
  given twitching somewhere (the premise), so the people who do not twitch are missing
  data too: N / P(T) - N of them are expected, and their counts are the network's
  unconditional ones less its counts given T (the truncated-data EM of Dempster, Laird
  and Rubin 1977). The log-likelihood is sum log P(case | twitching).
* The **M-step** puts a Beta (a Dirichlet for a distribution; a normal on the log scale
  for a relative risk) on each number, with its mode at the number's value and its
  weight from its range: a range [low, high] read as a 95% interval is worth
  m (1 - m) / sd^2 - 1 cases (sd = (high - low) / 4, m the range's midpoint), times
  `strength`. Cause tables (the prior and its relative risks, scaled as
  `model.network.build` scales them) are fitted numerically.

What is fitted: each cause's prior and relative risks, the links and leaks of every
finding but the weakness findings (`weakness` and `weakness_where`, whose latent the
engine's queries cannot reach: they stay at their prior), the switches P(twitching |
cause), the site patterns (spread, focal shares, spread sites) and the region leaks.
The exposures' population shares are not fitted (the case set holds twitching people
only, not the population). `write_priors` writes a fitted network as a priors folder
that `load_network` reads, every fitted number's source naming the fit's bibliography
entry (the case set, its size, the date and the settings).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
import time
import math
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats
from tqdm import tqdm

from ..network import vocabulary as V
from ..batch import encode_frame
from ..inference.engine import build_tables, evaluate_many, from_states, Queries
from ..network.evidence import ALL_KEYS, is_label_column, is_missing
from ..network.build import Network, compile_network, load_network, ratio_applies, scale_to_marginal
from ..network.priors import BIBLIOGRAPHY, FrozenDict, PriorsError, Source, default_priors_dir, freeze, load_priors
from ..network.draws import priors_with_values

FILE = "fit.toml"
# The bibliography key a fit adds: "S" and a number above any key the folder holds.
KEY_PATTERN = re.compile(r"^S(\d+)[a-z]?$")


# ----------------------------------------------------------------------------------
# Settings (priors/fit.toml)
# ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitSettings:
    """priors/fit.toml, checked."""

    strength: float
    max_iter: int
    tol: float
    chunk: int
    interval: float
    informed_share: float
    informed_cases: float
    retries: int


def load_fit_settings(folder: str | Path | None = None) -> FitSettings:
    """Read and check fit.toml from a priors folder (the bundled one by default).

    Errors name the file and the entry."""
    folder = Path(folder) if folder is not None else default_priors_dir()
    path = folder / FILE
    if not path.is_file() and folder != default_priors_dir():
        path = default_priors_dir() / FILE  # a priors folder written before fitting existed: the bundled settings
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PriorsError(f"{FILE}: missing from priors folder {folder}") from None
    except tomllib.TOMLDecodeError as e:
        raise PriorsError(f"{FILE}: not valid TOML: {e}") from None
    table = raw.get("fit")
    if not isinstance(table, dict):
        raise PriorsError(f"{FILE}: [fit]: missing table")

    def get(key, kind, low, high):
        x = table.get(key)
        where = f"{FILE}: [fit.{key}]:"
        if kind is int and (isinstance(x, bool) or not isinstance(x, int)):
            raise PriorsError(f"{where} expected a whole number, got {x!r}")
        if kind is float and (isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x)):
            raise PriorsError(f"{where} expected a number, got {x!r}")
        if not low <= x <= high:
            raise PriorsError(f"{where} {x!r} is outside [{low}, {high}]")
        return kind(x)

    return FitSettings(
        strength=get("strength", float, 0.0, 1e6),
        max_iter=get("max_iter", int, 1, 10**6),
        tol=get("tol", float, 0.0, 1.0),
        chunk=get("chunk", int, 1, 10**7),
        interval=get("interval", float, 0.5, 0.999),
        informed_share=get("informed_share", float, 0.0, 1.0),
        informed_cases=get("informed_cases", float, 0.0, 1e6),
        retries=get("retries", int, 0, 100),
    )


# ----------------------------------------------------------------------------------
# What the E-step reads from a network
# ----------------------------------------------------------------------------------

N_REGIONS = len(V.REGIONS)


@dataclass(frozen=True, eq=False)
class _Spec:
    net: Network
    n_exp: int
    common: tuple[int, ...]  # finding indices whose links and leak are fitted by window queries
    leak_only: tuple[int, ...]  # findings with a leak and no link (counted directly)
    region_idx: tuple[int, ...]  # finding indices of the regions (net.regions order)
    label_finding: int  # a leak-only finding that carries a label on the label draws
    shared: tuple[int, ...]  # exposure indices read by two or more causes
    parents: tuple[tuple[int, ...], ...]  # per cause: exposure indices of its parents
    tau: np.ndarray
    w: np.ndarray
    s: np.ndarray  # (C, 6) focal shares
    q: np.ndarray  # (C, 6) spread sites
    region_leak: np.ndarray  # (6,)
    cum: np.ndarray  # (F, C + 1, K) base network
    pmf: np.ndarray


def _spec(net: Network) -> _Spec:
    """The fit's layout of the network's numbers (once per network: its derived store)."""
    return net.derived.get(("fit", "spec"), lambda: _build_spec(net))


def _build_spec(net: Network) -> _Spec:
    findings = net.findings
    weak = {net.weak_finding, *net.weak_patterns} - {None}
    leak_only = tuple(j for j, f in enumerate(findings) if net.priors.findings[f].leak_only)
    common = tuple(j for j, f in enumerate(findings)
                   if f not in net.regions and f not in weak and j not in leak_only)
    parents = tuple(tuple(net.exposures.index(e) for e in net.cause_parents[c]) for c in net.causes)
    readers = np.zeros(len(net.exposures), dtype=int)
    for pa in parents:
        readers[list(pa)] += 1
    n = len(net.causes)
    tau = np.array([float(net.twitch[c]) for c in net.causes])
    w = np.array([float(net.spread[c]) if c in net.spread else 1.0 for c in net.causes])
    s = np.array([np.asarray(net.focal[c], dtype=float) if c in net.spread else np.zeros(N_REGIONS) for c in net.causes])
    q = np.array([[net.link[r][i, 1] for r in net.regions] for i in range(n)])
    kmax = max(len(net.states[f]) for f in findings)
    pmf = np.zeros((len(findings), n + 1, kmax))
    for j, f in enumerate(findings):
        k = len(net.states[f])
        pmf[j, :n, :k] = net.link[f]
        pmf[j, n, :k] = net.leak[f]
    cum = np.cumsum(pmf, axis=2)
    got = _Spec(
        net=net, n_exp=len(net.exposures), common=common, leak_only=leak_only,
        region_idx=tuple(findings.index(r) for r in net.regions), label_finding=leak_only[0] if leak_only else -1,
        shared=tuple(int(i) for i in np.flatnonzero(readers >= 2)), parents=parents,
        tau=tau, w=w, s=s.reshape(n, N_REGIONS), q=q.reshape(n, N_REGIONS),
        region_leak=np.array([net.leak[r][1] for r in net.regions]), cum=cum, pmf=pmf,
    )
    return got


VARIANTS = 1 + N_REGIONS  # per label slot: the network, then each region's leak made certain


def _tables(net: Network, labels: Sequence[int]):
    """The draws the E-step reads: for each label slot (none, then each labelled cause)
    the network and, for each region, the network with that region's leak certain (a
    query on it has no premise: "twitching somewhere" holds). On a label slot the
    label finding (a leak-only finding) becomes "this cause is present" exactly."""
    sp = _spec(net)
    slots = [-1, *labels]
    d = len(slots) * VARIANTS
    stack = lambda m: {k: np.repeat(np.asarray(v, dtype=float)[None], d, axis=0) for k, v in m.items()}  # noqa: E731
    link, leak = stack(net.link), stack(net.leak)
    for a, cause in enumerate(slots):
        for v in range(VARIANTS):
            k = a * VARIANTS + v
            if v:
                leak[net.regions[v - 1]][k] = (0.0, 1.0)
            if cause >= 0:
                f = net.findings[sp.label_finding]
                leak[f][k] = (1.0, 0.0)
                link[f][k, cause] = (0.0, 1.0)
    twitch = {c: np.full(d, float(net.twitch[c])) for c in net.causes}
    return build_tables(net, stack(net.exposure_prob), stack(net.cause_table), link, leak, twitch)


# ----------------------------------------------------------------------------------
# The E-step
# ----------------------------------------------------------------------------------


def _subsets(m: int):
    return range(1 << m)


def _rho(sp: _Spec, R: list[int], A: list[int], U: list[int], qmask: int, qpmask: int) -> np.ndarray:
    """Per cause: P(c fires no region of A, and of R \\ Q exactly Q' \\ Q | c present), for
    Q subset Q' of R (bit masks over R); c's firing on Q and U is free."""
    tau, w, s, q = sp.tau, sp.w, sp.s, sp.q
    D = [R[i] for i in range(len(R)) if (qpmask >> i) & 1 and not (qmask >> i) & 1]
    E = [R[i] for i in range(len(R)) if not (qpmask >> i) & 1]
    free = [R[i] for i in range(len(R)) if (qmask >> i) & 1] + U
    out = np.zeros(len(tau))
    if not D:
        out += 1.0 - tau
        out += tau * (1.0 - w) * s[:, free].sum(axis=1)
    elif len(D) == 1:
        out += tau * (1.0 - w) * s[:, D[0]]
    out += tau * w * np.prod(1.0 - q[:, A + E], axis=1) * np.prod(q[:, D], axis=1)
    return out


def _empty_stats(sp: _Spec) -> dict[str, Any]:
    net = sp.net
    n, f = len(net.causes), len(net.findings)
    kmax = sp.pmf.shape[2]
    out = {
        "cases": 0.0, "ll": 0.0,
        "present": np.zeros(n), "present_data": np.zeros(n),
        "link": np.zeros((f, n, kmax)), "link_data": np.zeros((f, n)),
        "leak": np.zeros((f, kmax)), "leak_data": np.zeros(f),
        "on": np.zeros(n), "spread": np.zeros(n), "focal": np.zeros((n, N_REGIONS)), "fired": np.zeros((n, N_REGIONS)),
        "switch_data": np.zeros(n),
        "rleak": np.zeros(N_REGIONS), "rleak_data": np.zeros(N_REGIONS),
    }
    # sums over cases of each case's score squared (the data's information about a number)
    out.update({"sq_link": np.zeros((f, n, kmax)), "sq_leak": np.zeros((f, kmax)), "sq_tau": np.zeros(n),
                "sq_w": np.zeros(n), "sq_q": np.zeros((n, N_REGIONS)), "sq_focal": np.zeros((n, N_REGIONS)),
                "sq_rleak": np.zeros(N_REGIONS), "sq_prior": np.zeros(n)})
    width = len(score_layout(net))
    out["fisher"] = np.zeros((width, width))  # sum over cases of score score^T
    out["score_sum"] = np.zeros(width)
    for i, c in enumerate(net.causes):
        out[f"sq_rr:{c}"] = np.zeros(len(_rr_masks(net, c)[0]))
        shape = tuple(len(net.states[e]) for e in net.cause_parents[c])
        out[f"n1:{c}"] = np.zeros(shape)
        out[f"nt:{c}"] = np.zeros(shape)
        out[f"pa_data:{c}"] = np.zeros((len(shape), max(shape, default=1)))
    return out


def _sc(count, trials, p):
    """The score of a probability p from expected counts: count / p - (trials - count) / (1 - p)
    (0 where p is 0 or 1: such a number does not move)."""
    p = np.asarray(p, dtype=float)
    ok = (p > 0) & (p < 1)
    safe = np.where(ok, p, 0.5)
    return np.where(ok, count / safe - (trials - count) / (1 - safe), 0.0)


def _rr_masks(net: Network, cause: str):
    """The fitted relative risks of a cause: their (exposure, state) keys and where each
    applies in the cause's table (the table's axes: the cause's parents)."""
    memo = net.derived.get(("fit", "masks"), dict)
    if cause not in memo:
        cm = _cause_model(net, net.priors, cause, 1.0)
        memo[cause] = (cm.keys, cm.masks, cm.weight)
    return memo[cause]


def score_layout(net: Network) -> dict:
    """The columns of the per-case score vectors: one a fitted number, keyed
    ("link", j, c, k), ("leak", j, k), ("rleak", r), ("tau", c), ("w", c), ("q", c, r),
    ("focal", c, r), ("prior", c), ("rr", c, k) (finding, cause, region, state and
    relative-risk indices). A binary number is its state 1."""
    memo = net.derived.get(("fit", "masks"), dict)
    if "layout" in memo:
        return memo["layout"]
    sp = _spec(net)
    keys = []
    for j in sp.common + sp.leak_only:
        f = net.findings[j]
        states = range(len(net.states[f])) if f in V.ORDINAL_FINDINGS else (1,)
        keys += [("leak", j, k) for k in states]
        for c in net.priors.findings[f].links:
            keys += [("link", j, net.causes.index(c), k) for k in states]
    keys += [("rleak", r) for r in range(N_REGIONS)]
    for ci, c in enumerate(net.causes):
        site = net.priors.sites[c]
        keys += [("prior", ci), ("tau", ci), ("w", ci)]
        keys += [("q", ci, V.REGIONS.index(r)) for r in site.spread_sites]
        keys += [("focal", ci, V.REGIONS.index(r)) for r in site.focal]
        keys += [("rr", ci, k) for k in range(len(_rr_masks(net, c)[0]))]
    memo["layout"] = {k: i for i, k in enumerate(keys)}
    return memo["layout"]


def estep_chunk(priors_or_net, states: np.ndarray, labels: np.ndarray, label_slots: Sequence[int]) -> dict[str, Any]:
    """Expected counts of a chunk of cases (node-state rows, `encode_frame`'s layout;
    `labels` the confirmed cause of each row, -1 none). One engine call.

    `priors_or_net`: a Network, or the Priors it compiles from (what a Dask worker gets)."""
    net = priors_or_net if isinstance(priors_or_net, Network) else compile_network(priors_or_net)
    sp = _spec(net)
    tables = _tables(net, label_slots)
    out = _empty_stats(sp)
    if len(states) == 0:
        return out
    states = np.asarray(states, dtype=np.int64)
    n_rows = len(states)
    n, E = len(net.causes), sp.n_exp
    slot = np.zeros(n_rows, dtype=np.int64)
    for a, c in enumerate(label_slots):
        slot[labels == c] = a + 1
    base = from_states(net, states)
    lo, hi = base.lo.copy(), base.hi.copy()
    labelled = labels >= 0
    jf = sp.label_finding
    stripped = np.zeros(n_rows)  # log P(label finding = its observed state): it leaves the query
    if labelled.any():
        obs = states[labelled, E + jf]
        pmf_f = sp.pmf[jf, n]
        stripped[labelled] = np.where(obs >= 0, np.log(np.where(obs >= 0, pmf_f[np.maximum(obs, 0)], 1.0)), 0.0)
        lo[labelled, jf] = 1
        hi[labelled, jf] = 1
    base_draw = slot * VARIANTS
    blocks = [Queries(lo, hi, base.exposure, base.absent, base_draw)]
    rows_of = [np.arange(n_rows)]
    size = n_rows

    def add(rows, lo_, hi_, exposure, draw):
        nonlocal size
        blocks.append(Queries(lo_, hi_, exposure, np.zeros((len(rows), n), dtype=bool), draw))
        rows_of.append(rows)
        start = size
        size += len(rows)
        return slice(start, size)

    # B: each positive observation of a fitted finding, its range opened to [0, s]
    common = np.array(sp.common, dtype=np.int64)
    pr, pj = np.nonzero(lo[:, common] > 0)
    pj = common[pj]
    keep = ~(labelled[pr] & (pj == jf))
    pr, pj = pr[keep], pj[keep]
    lo_b = lo[pr].copy()
    lo_b[np.arange(len(pr)), pj] = 0
    b_slice = add(pr, lo_b, hi[pr], base.exposure[pr], base_draw[pr])

    # R: the regions: free each subset Q of those observed present, on a draw with a
    # region's leak certain (no premise)
    reg = states[:, [E + j for j in sp.region_idx]]
    region_groups = []
    keys, inverse = np.unique(reg, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    for g, key in enumerate(keys):
        rows = np.flatnonzero(inverse == g)
        R = [i for i in range(N_REGIONS) if key[i] == 1]
        A = [i for i in range(N_REGIONS) if key[i] == 0]
        U = [i for i in range(N_REGIONS) if key[i] == -1]
        slices = {}
        for qmask in _subsets(len(R)):
            Q = [R[i] for i in range(len(R)) if (qmask >> i) & 1]
            if not Q and not U:
                slices[qmask] = None  # the case's own query (a region present: the premise holds)
                continue
            star = Q[0] if Q else U[0]
            lo_q, hi_q = lo[rows].copy(), hi[rows].copy()
            for r in Q:
                lo_q[:, sp.region_idx[r]] = 0
            slices[qmask] = add(rows, lo_q, hi_q, base.exposure[rows], base_draw[rows] + 1 + star)
        region_groups.append((rows, R, A, U, slices))

    # C: the cause tables: fix each cause's unknown shared exposures (every completion)
    shared = np.array(sp.shared, dtype=np.int64)
    unknown = states[:, shared] < 0
    exp_groups = []
    ukeys, uinv = np.unique(unknown, axis=0, return_inverse=True)
    uinv = uinv.ravel()
    for g, key in enumerate(ukeys):
        rows = np.flatnonzero(uinv == g)
        unk = {int(shared[i]) for i in np.flatnonzero(key)}
        sets = {}
        for ci, pa in enumerate(sp.parents):
            u = tuple(e for e in pa if e in unk)
            if u:
                sets.setdefault(u, []).append(ci)
        maximal = [u for u in sets if not any(set(u) < set(o) for o in sets)]
        done = {}
        for m in maximal:
            combos = list(itertools.product(*[range(len(net.states[net.exposures[e]])) for e in m]))
            slices = []
            for combo in combos:
                ex = base.exposure[rows].copy()
                ex[:, list(m)] = combo
                slices.append(add(rows, lo[rows], hi[rows], ex, base_draw[rows]))
            done[m] = (combos, slices)
        exp_groups.append((rows, sets, maximal, done))

    q = Queries(*(np.concatenate([getattr(b, k) for b in blocks]) for k in ("lo", "hi", "exposure", "absent", "draw")))
    total, joint, _ = evaluate_many(tables, q, joint=True)
    joint = np.asarray(joint)
    tot_a, j_a = total[:n_rows], joint[:n_rows]
    ok = tot_a > 0
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise ValueError(f"cases: row {bad} has evidence of probability 0 under the model")
    post = j_a / tot_a[:, None]
    layout = score_layout(net)
    S = np.zeros((n_rows, len(layout)))  # each case's score, one column a number
    out["cases"] = float(n_rows)
    out["ll"] = float(np.log(tot_a).sum() + stripped.sum())
    out["present"] = post.sum(axis=0)
    out["present_data"] = out["present"].copy()

    # links and leaks of the fitted findings
    pmf, cum = sp.pmf, sp.cum
    obs_f = states[:, E:]
    for j in sp.common:
        k = len(net.states[net.findings[j]])
        seen = obs_f[:, j] >= 0
        if labelled.any() and j == jf:
            seen = seen & ~labelled
        # unobserved: the link's own distribution (for the leak: each case once)
        out["link"][j, :, :k] += post[~seen].sum(axis=0)[:, None] * pmf[j, :n, :k]
        out["leak"][j, :k] += (~seen).sum() * pmf[j, n, :k]
        out["link_data"][j] += post[seen].sum(axis=0)
        out["leak_data"][j] += seen.sum()
        zero = seen & (obs_f[:, j] == 0)
        out["link"][j, :, 0] += post[zero].sum(axis=0)
        out["leak"][j, 0] += zero.sum()
        zrows = np.flatnonzero(zero)
        for state in range(k):
            hit = post[zero] if state == 0 else np.zeros_like(post[zero])
            a = _sc(hit, post[zero], pmf[j, :n, state][None])
            out["sq_link"][j, :, state] += (a ** 2).sum(axis=0)
            a_leak = _sc(float(state == 0), 1.0, pmf[j, n, state])
            out["sq_leak"][j, state] += float((a_leak ** 2) * zero.sum())
            col = layout.get(("leak", j, state))
            if col is not None:
                S[zrows, col] += a_leak
            for ci in range(n):
                col = layout.get(("link", j, ci, state))
                if col is not None:
                    S[zrows, col] += a[:, ci]
    if len(pr):
        tb, jb = total[b_slice], joint[b_slice]
        s_obs = obs_f[pr, pj]
        ta, ja = tot_a[pr], j_a[pr]
        for j in np.unique(pj):
            at = pj == j
            k = len(net.states[net.findings[j]])
            sv = s_obs[at]
            rows_cum_s = cum[j][:, sv].T  # (pairs, C + 1): P(contribution <= s)
            rows_pmf_s = pmf[j][:, sv].T
            rows_cum_prev = np.where(sv[:, None] > 0, cum[j][:, np.maximum(sv - 1, 0)].T, 0.0)
            jb_all = np.column_stack([jb[at], tb[at]])  # causes, then the leak (its "joint" is the total)
            ja_all = np.column_stack([ja[at], ta[at]])
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.where(rows_cum_s > 0, jb_all / rows_cum_s, 0.0)
                x = np.where(rows_cum_prev > 0, (ja_all - rows_pmf_s * y) / rows_cum_prev, 0.0)
            x = np.maximum(x, 0.0)
            denom = ta[at][:, None]
            for state in range(k):
                below = (state < sv)[:, None]
                equal = (state == sv)[:, None]
                mass = pmf[j][:, state][None] * np.where(below, x, np.where(equal, y, 0.0)) / denom
                out["link"][j, :, state] += mass[:, :n].sum(axis=0)
                out["leak"][j, state] += mass[:, n].sum()
                trials = np.column_stack([ja[at] / ta[at][:, None], np.ones(int(at.sum()))])
                a = _sc(mass[:, :n], trials[:, :n], pmf[j, :n, state][None])
                a_leak = _sc(mass[:, n], 1.0, pmf[j, n, state])
                out["sq_link"][j, :, state] += (a ** 2).sum(axis=0)
                out["sq_leak"][j, state] += float((a_leak ** 2).sum())
                prow = pr[at]
                col = layout.get(("leak", j, state))
                if col is not None:
                    S[prow, col] += a_leak
                for ci in range(n):
                    col = layout.get(("link", j, ci, state))
                    if col is not None:
                        S[prow, col] += a[:, ci]
    for j in sp.leak_only:  # no link: the leak is the finding
        k = len(net.states[net.findings[j]])
        seen = obs_f[:, j] >= 0
        out["leak"][j, :k] += (~seen).sum() * pmf[j, n, :k]
        for state in range(k):
            out["leak"][j, state] += (obs_f[:, j] == state).sum()
            hit = (obs_f[seen, j] == state).astype(float)
            a_leak = _sc(hit, 1.0, pmf[j, n, state])
            out["sq_leak"][j, state] += float((a_leak ** 2).sum())
            col = layout.get(("leak", j, state))
            if col is not None:
                S[np.flatnonzero(seen), col] += a_leak
        out["leak_data"][j] += seen.sum()

    # the switches, site patterns and region leaks
    tau, w, s, qq, lr = sp.tau, sp.w, sp.s, sp.q, sp.region_leak
    for rows, R, A, U, slices in region_groups:
        m = len(R)
        ta, ja = tot_a[rows], j_a[rows]
        jq = {qm: (ja if sl is None else joint[sl]) for qm, sl in slices.items()}
        tq = {qm: (ta if sl is None else total[sl]) for qm, sl in slices.items()}
        G = {}
        for qm in sorted(_subsets(m), key=lambda x: -bin(x).count("1")):
            acc = jq[qm].copy()
            for qp in _subsets(m):
                if qp != qm and (qp & qm) == qm:
                    acc -= _rho(sp, R, A, U, qm, qp)[None] * G[qp]
            r0 = _rho(sp, R, A, U, qm, qm)
            with np.errstate(divide="ignore", invalid="ignore"):
                G[qm] = np.where(r0[None] > 0, np.maximum(acc, 0.0) / r0[None], 0.0)
        focal = np.zeros((len(rows), n, N_REGIONS))
        for i, r in enumerate(R):
            focal[:, :, r] = (tau * (1 - w) * s[:, r])[None] * G[1 << i]
        for r in U:
            focal[:, :, r] = (tau * (1 - w) * s[:, r])[None] * G[0]
        quiet_a = np.prod(1 - qq[:, A], axis=1)
        spread_t = {}
        for t in _subsets(m):
            if t == 0:
                continue
            inside = [R[i] for i in range(m) if (t >> i) & 1]
            outside = [R[i] for i in range(m) if not (t >> i) & 1]
            spread_t[t] = (tau * w * quiet_a * np.prod(qq[:, inside], axis=1) * np.prod(1 - qq[:, outside], axis=1))[None] * G[t]
        quiet_ar = np.prod(1 - qq[:, A + R], axis=1)
        spread_u = (tau * w * quiet_ar * (1 - np.prod(1 - qq[:, U], axis=1)))[None] * G[0]
        fires = focal.sum(axis=2) + sum(spread_t.values(), np.zeros_like(ja)) + spread_u
        z = np.maximum(ja - fires, 0.0)  # P(case, c present, c fires no region)
        silent_p = tau * w * np.prod(1 - qq, axis=1)
        empty_p = (1 - tau) + silent_p
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.where(empty_p[None] > 0, z * ((1 - tau) / empty_p)[None], 0.0)
            silent = np.where(empty_p[None] > 0, z * (silent_p / empty_p)[None], 0.0)
        spread_all = sum(spread_t.values(), np.zeros_like(ja)) + spread_u + silent
        fired = np.zeros((len(rows), n, N_REGIONS))
        for t, mass in spread_t.items():
            for i in range(m):
                if (t >> i) & 1:
                    fired[:, :, R[i]] += mass
        some_r = sum(spread_t.values(), np.zeros_like(ja))
        for r in U:
            fired[:, :, r] = qq[:, r][None] * some_r + (tau * w * quiet_ar * qq[:, r])[None] * G[0]
        d = ta[:, None]
        on_r, pres_r, spr_r = (ja - off) / d, ja / d, spread_all / d
        foc_r, fir_r = focal / d[:, :, None], fired / d[:, :, None]
        a_tau, a_w = _sc(on_r, pres_r, tau[None]), _sc(spr_r, on_r, w[None])
        a_q = _sc(fir_r, spr_r[:, :, None], qq[None])
        a_focal = _sc(foc_r, foc_r.sum(axis=2, keepdims=True), s[None])
        out["sq_tau"] += (a_tau ** 2).sum(axis=0)
        out["sq_w"] += (a_w ** 2).sum(axis=0)
        out["sq_q"] += (a_q ** 2).sum(axis=0)
        out["sq_focal"] += (a_focal ** 2).sum(axis=0)
        for ci in range(n):
            S[rows, layout[("tau", ci)]] += a_tau[:, ci]
            S[rows, layout[("w", ci)]] += a_w[:, ci]
            for r in range(N_REGIONS):
                col = layout.get(("q", ci, r))
                if col is not None:
                    S[rows, col] += a_q[:, ci, r]
                col = layout.get(("focal", ci, r))
                if col is not None:
                    S[rows, col] += a_focal[:, ci, r]
        for r in range(N_REGIONS):
            if r in R:
                a_r = _sc(lr[r] * tq[1 << R.index(r)] / ta, 1.0, lr[r])
            elif r in U:
                a_r = _sc(lr[r] * tq[0] / ta, 1.0, lr[r])
            else:
                a_r = np.full(len(rows), float(_sc(0.0, 1.0, lr[r])))
            out["sq_rleak"][r] += float((a_r ** 2).sum())
            S[rows, layout[("rleak", r)]] += a_r
        out["on"] += ((ja - off) / d).sum(axis=0)
        out["spread"] += (spread_all / d).sum(axis=0)
        out["focal"] += (focal / d[:, :, None]).sum(axis=0)
        out["fired"] += (fired / d[:, :, None]).sum(axis=0)
        if R or A:
            out["switch_data"] += (ja / d).sum(axis=0)
        for i, r in enumerate(R):
            out["rleak"][r] += (lr[r] * tq[1 << i] / ta).sum()
        for r in U:
            out["rleak"][r] += (lr[r] * tq[0] / ta).sum()
        for r in R + A:
            out["rleak_data"][r] += len(rows)

    # the cause tables: P(c, parents | case) over each cause's parent configurations
    sh = set(sp.shared)
    for ci, c in enumerate(net.causes):
        pa = sp.parents[ci]
        dims = [len(net.states[net.exposures[e]]) for e in pa]
        s_pos = [k for k, e in enumerate(pa) if e in sh]
        p_pos = [k for k, e in enumerate(pa) if e not in sh]
        s_dims = [dims[k] for k in s_pos]
        p_dims = [dims[k] for k in p_pos]
        n_s, n_p = int(np.prod(s_dims)), int(np.prod(p_dims))
        j1 = np.zeros((n_rows, n_s))
        jt = np.zeros((n_rows, n_s))
        # rows whose shared parents of c are all known: the case's own query
        obs_s = states[:, [pa[k] for k in s_pos]] if s_pos else np.zeros((n_rows, 0), dtype=np.int64)
        for rows, sets, maximal, done in exp_groups:
            u = next((key for key, cs in sets.items() if ci in cs), ())
            if not u:
                idx = np.ravel_multi_index(tuple(obs_s[rows].T), s_dims) if s_pos else np.zeros(len(rows), dtype=np.int64)
                j1[rows, idx] = j_a[rows, ci]
                jt[rows, idx] = tot_a[rows]
                continue
            mset = next(mm for mm in maximal if set(u) <= set(mm))
            combos, slices = done[mset]
            for combo, sl in zip(combos, slices):
                full = obs_s[rows].copy()
                for e, v in zip(mset, combo):
                    if e in pa:
                        k = s_pos.index(pa.index(e))
                        full[:, k] = v
                idx = np.ravel_multi_index(tuple(full.T), s_dims)
                j1[rows, idx] += joint[sl][:, ci]
                jt[rows, idx] += total[sl]
        # the private parents: known, or by their population share
        wp = np.ones((n_rows, n_p))
        if p_pos:
            grids = np.meshgrid(*[np.arange(dd) for dd in p_dims], indexing="ij")
            for k_i, k in enumerate(p_pos):
                e = pa[k]
                o = states[:, e]
                prob = net.exposure_prob[net.exposures[e]]
                vals = grids[k_i].ravel()
                wp *= np.where(o[:, None] >= 0, (o[:, None] == vals[None]).astype(float), prob[vals][None])
        table = np.asarray(net.cause_table[c], dtype=float)
        order = s_pos + p_pos
        p_sp = np.transpose(table, order).reshape(n_s, n_p) if pa else table.reshape(1, 1)
        den1 = wp @ p_sp.T  # (rows, n_s)
        den0 = wp @ (1 - p_sp).T
        with np.errstate(divide="ignore", invalid="ignore"):
            a1 = np.where(den1 > 0, j1 / den1, 0.0) / tot_a[:, None]
            a0 = np.where(den0 > 0, np.maximum(jt - j1, 0.0) / den0, 0.0) / tot_a[:, None]
        n1 = p_sp * (a1.T @ wp)
        n0 = (1 - p_sp) * (a0.T @ wp)
        # each case's score of the prior and of each fitted relative risk (log scale)
        keys, masks, weight = _rr_masks(net, c)
        w_sp = np.transpose(weight, order).reshape(n_s, n_p) if pa else np.ones((1, 1))
        prior_c = float((w_sp * p_sp).sum())
        if prior_c > 0:
            score = ((a1 - a0) * den1).sum(axis=1) / prior_c
            out["sq_prior"][ci] += float((score ** 2).sum())
            S[:, layout[("prior", ci)]] += score
        for k_i, m in enumerate(masks):
            m_sp = np.transpose(m, order).reshape(n_s, n_p).astype(float)
            g = float((w_sp * p_sp * m_sp).sum()) / prior_c if prior_c > 0 else 0.0
            score = ((a1 - a0) * (wp @ ((m_sp - g) * p_sp).T)).sum(axis=1)
            out[f"sq_rr:{c}"][k_i] += float((score ** 2).sum())
            S[:, layout[("rr", ci, k_i)]] += score
        inv = np.argsort(order)
        shape_sp = [dims[k] for k in order]
        out[f"n1:{c}"] += np.transpose(n1.reshape(shape_sp), inv) if pa else n1.reshape(())
        out[f"nt:{c}"] += np.transpose((n1 + n0).reshape(shape_sp), inv) if pa else (n1 + n0).reshape(())
        for k, e in enumerate(pa):
            o = states[:, e]
            for v in range(dims[k]):
                out[f"pa_data:{c}"][k, v] += post[o == v, ci].sum()
    out["fisher"] = S.T @ S
    out["score_sum"] = S.sum(axis=0)
    return out


def _unconditional(net: Network) -> dict[str, Any]:
    """The counts of one person drawn from the whole population (no premise)."""
    sp = _spec(net)
    out = _empty_stats(sp)
    n = len(net.causes)
    prior = np.zeros(n)
    for ci, c in enumerate(net.causes):
        table = np.asarray(net.cause_table[c], dtype=float)
        weight = np.ones_like(table)
        for axis, e in enumerate(net.cause_parents[c]):
            shape = [1] * table.ndim
            shape[axis] = table.shape[axis]
            weight = weight * np.asarray(net.exposure_prob[e]).reshape(shape)
        out[f"n1:{c}"] = weight * table
        out[f"nt:{c}"] = weight
        prior[ci] = float((weight * table).sum())
    out["cases"] = 1.0
    out["present"] = prior
    for j in sp.common:
        out["link"][j] = prior[:, None] * sp.pmf[j, :n]
        out["leak"][j] = sp.pmf[j, n]
    for j in sp.leak_only:
        out["leak"][j] = sp.pmf[j, n]
    out["on"] = prior * sp.tau
    out["spread"] = prior * sp.tau * sp.w
    out["focal"] = (prior * sp.tau * (1 - sp.w))[:, None] * sp.s
    out["fired"] = (prior * sp.tau * sp.w)[:, None] * sp.q
    out["rleak"] = sp.region_leak.copy()
    return out


COUNT_KEYS_EXCLUDED = ("ll", "present_data", "link_data", "leak_data", "switch_data", "rleak_data")


def _add(a: dict, b: dict, weight: float = 1.0) -> dict:
    """a + weight b, key by key; the data's own tallies (what the cases observed) are
    summed only between chunks of data (weight 1), never from the completion terms."""
    out = {}
    for k in a:
        data_only = k in COUNT_KEYS_EXCLUDED or k.startswith(("pa_data", "sq_")) or k in ("fisher", "score_sum")
        out[k] = a[k] if (data_only and weight != 1.0) else a[k] + weight * b[k]
    return out


# ----------------------------------------------------------------------------------
# Priors from ranges, the M-step
# ----------------------------------------------------------------------------------


def range_count(low: float, high: float, strength: float) -> float:
    """What a probability's range is worth in cases: a range read as a 95% interval
    (sd = (high - low) / 4) around its midpoint m is the spread of a proportion of
    m (1 - m) / sd^2 - 1 cases; times `strength`. A collapsed range is worth infinitely
    many (the number is fixed)."""
    sd = (high - low) / 4.0
    if sd <= 0:
        return math.inf
    m = 0.5 * (low + high)
    return strength * max(m * (1 - m) / sd**2 - 1.0, 0.0)


def _dist_count(d, strength: float) -> float:
    counts = [range_count(lo, hi, strength) for lo, hi in zip(d.low, d.high) if hi > lo]
    return float(np.mean(counts)) if counts else math.inf


def _map(count: np.ndarray, prior_value: np.ndarray, n0: float) -> np.ndarray:
    """The mode of Dirichlet(1 + n0 v) after `count`: (count + n0 v) / (sum + n0)."""
    count = np.asarray(count, dtype=float)
    v = np.asarray(prior_value, dtype=float)
    if not math.isfinite(n0):
        return v.copy()
    total = count.sum() + n0
    if total <= 0:
        return v.copy()
    return (count + n0 * v) / total


def _log_prior_dist(p: np.ndarray, v: np.ndarray, n0: float) -> float:
    if not math.isfinite(n0) or n0 == 0:
        return 0.0
    p = np.asarray(p, dtype=float)
    mask = v > 0
    return float(n0 * (v[mask] * np.log(np.maximum(p[mask], 1e-300))).sum())


@dataclass
class _CauseModel:
    """A cause's table as (prior, relative risks): which relative risks are fitted, and
    where each applies in the table."""

    cause: str
    weight: np.ndarray  # P(parents) over the table
    fixed: np.ndarray  # product of the relative risks that are not fitted
    keys: list[tuple[str, str]]  # fitted (exposure, state)
    masks: list[np.ndarray]  # where each applies
    mu: np.ndarray  # prior mean of log RR
    prec: np.ndarray  # prior precision of log RR (strength / sd^2)


def _cause_model(net: Network, priors, cause: str, strength: float) -> _CauseModel:
    c = priors.causes[cause]
    parents = net.cause_parents[cause]
    shape = tuple(len(net.states[e]) for e in parents)
    weight = np.ones(shape)
    fixed = np.ones(shape)
    keys, masks, mu, prec = [], [], [], []
    for axis, e in enumerate(parents):
        states = net.states[e]
        view = [1] * len(shape)
        view[axis] = len(states)
        weight = weight * np.array([x.value for x in priors.exposures[e].distribution]).reshape(view)
        applies = ratio_applies(parents, e, shape)
        for k, s in enumerate(states):
            if s not in c.relative_risk.get(e, {}):
                continue
            x = c.relative_risk[e][s]
            at = np.zeros(shape, dtype=bool)
            index = [slice(None)] * len(shape)
            index[axis] = k
            at[tuple(index)] = True
            at &= applies
            if x.low > 0 and x.high > x.low and x.value > 0 and strength >= 0:
                sd = (math.log(x.high) - math.log(x.low)) / 4.0
                keys.append((e, s))
                masks.append(at)
                mu.append(math.log(x.value))
                prec.append(strength / sd**2)
            else:
                fixed = np.where(at, fixed * x.value, fixed)
    return _CauseModel(cause, weight, fixed, keys, masks, np.array(mu), np.array(prec))


def _table_of(cm: _CauseModel, prior: float, log_rr: np.ndarray) -> np.ndarray:
    rr = cm.fixed.copy()
    for m, x in zip(cm.masks, log_rr):
        rr = np.where(m, rr * math.exp(x), rr)
    return scale_to_marginal(rr[None], cm.weight[None], prior)[0]


def _cause_objective(cm, n1, n0, prior_n0, prior_v, theta):
    prior = 1.0 / (1.0 + math.exp(-theta[0]))
    log_rr = theta[1:]
    p = _table_of(cm, prior, log_rr)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.where(n1 > 0, n1 * np.log(np.maximum(p, 1e-300)), 0.0).sum()
        ll += np.where(n0 > 0, n0 * np.log(np.maximum(1 - p, 1e-300)), 0.0).sum()
    if math.isfinite(prior_n0) and prior_n0 > 0:
        ll += prior_n0 * (prior_v * math.log(prior) + (1 - prior_v) * math.log(1 - prior))
    ll += -0.5 * float((cm.prec * (log_rr - cm.mu) ** 2).sum())
    return float(ll)


# ----------------------------------------------------------------------------------
# Values: what is fitted, in `model.network.draws.redraw_values`' keys
# ----------------------------------------------------------------------------------


def values_of(priors) -> dict[tuple, Any]:
    out: dict[tuple, Any] = {}
    for name, e in priors.exposures.items():
        out[("exposure", name)] = np.array([x.value for x in e.distribution])
    for name, c in priors.causes.items():
        for e, by in c.relative_risk.items():
            for s, x in by.items():
                out[("relative_risk", name, e, s)] = x.value
        out[("twitch", name)] = c.twitch.value
        out[("prior", name)] = c.prior.value
    for name, f in priors.findings.items():
        out[("leak", name)] = np.array(f.leak.values)
        for k, d in f.links.items():
            out[("link", name, k)] = np.array(d.values)
    for name, site in priors.sites.items():
        out[("spread", name)] = site.spread.value
        for r, x in site.spread_sites.items():
            out[("spread_site", name, r)] = x.value
        out[("focal", name)] = np.array([x.value for x in site.focal.values()])
    return out


@dataclass(frozen=True)
class _Number:
    """One fitted number: its key, the state it is (for a distribution), its prior."""

    key: tuple
    state: int | None
    name: str
    kind: str
    value: float
    low: float
    high: float
    source: str


def numbers_of(priors) -> list[_Number]:
    out = []

    def add(key, state, name, kind, x, low=None, high=None):
        out.append(_Number(key, state, name, kind, float(x.value if low is None else x), float(x.low if low is None else low),
                           float(x.high if high is None else high), getattr(x, "source", "")))

    for name, c in priors.causes.items():
        out.append(_Number(("prior", name), None, f"{name}.prior", "prior", c.prior.value, c.prior.low, c.prior.high, c.prior.source))
        for e, by in c.relative_risk.items():
            for s, x in by.items():
                out.append(_Number(("relative_risk", name, e, s), None, f"{name}.relative_risk.{e}.{s}", "relative_risk",
                                   x.value, x.low, x.high, x.source))
        out.append(_Number(("twitch", name), None, f"{name}.twitch", "twitch", c.twitch.value, c.twitch.low, c.twitch.high, c.twitch.source))
    for name, f in priors.findings.items():
        states = V.node_states(name)
        dists = [(("leak", name), f.leak, f"{name}.leak", "leak")] + [
            (("link", name, k), d, f"{name}.links.{k}", "link") for k, d in f.links.items()]
        for key, d, label, kind in dists:
            for i, (v, lo, hi) in enumerate(zip(d.values, d.low, d.high)):
                if len(states) == 2 and i == 0:
                    continue  # a binary number is its present state
                suffix = "" if len(states) == 2 else f"[{states[i]}]"
                out.append(_Number(key, i, label + suffix, kind, v, lo, hi, d.source))
    for name, site in priors.sites.items():
        out.append(_Number(("spread", name), None, f"{name}.spread", "spread", site.spread.value, site.spread.low, site.spread.high, site.spread.source))
        for i, (r, x) in enumerate(site.focal.items()):
            out.append(_Number(("focal", name), i, f"{name}.focal.{r}", "focal", x.value, x.low, x.high, x.source))
        for r, x in site.spread_sites.items():
            out.append(_Number(("spread_site", name, r), None, f"{name}.spread_sites.{r}", "spread_site", x.value, x.low, x.high, x.source))
    return out


def value_at(values, number: _Number) -> float:
    v = values[number.key]
    return float(v if number.state is None else np.asarray(v)[number.state])


# ----------------------------------------------------------------------------------
# The fit
# ----------------------------------------------------------------------------------


@dataclass
class Fit:
    """The result of `fit`.

    network : the fitted network (usable everywhere a network is; its priors carry the
        fit's provenance: `write_priors` writes them).
    parameters : one row a number: its prior value and range, the fitted value and its
        interval, the change, the data's share of its weight (`informed`), whether it
        counts as informed, and whether the fit moves it at all (`fitted`).
    log_likelihood : sum over cases of log P(case | twitching somewhere), one value an
        iteration (the first: the starting network).
    log_posterior : the log-likelihood plus the log prior of the numbers (what MAP-EM
        never lowers), one value an iteration.
    converged : the last iteration raised the log posterior by less than tol per case.
    seconds_per_iteration : wall time of an iteration (all of them, averaged);
        seconds_estep, seconds_mstep : of it, the E-step (the data's counts, the premise's
        completion and the log-likelihood) and the M-step (the new numbers and their
        network), averaged over the iterations that ran each.
    """

    network: Network
    parameters: pd.DataFrame
    log_likelihood: list[float]
    log_posterior: list[float]
    converged: bool
    cases: int
    settings: dict
    seconds_per_iteration: float = 0.0
    seconds_estep: float = 0.0
    seconds_mstep: float = 0.0

    def summary(self, top: int = 10) -> str:
        """What moved most (in units of its range) and the log-likelihood trace."""
        p = self.parameters[self.parameters.fitted]
        width = (p.high - p.low).where(p.high > p.low, 1.0)
        moved = p.assign(moved=(p.change.abs() / width)).sort_values("moved", ascending=False).head(top)
        lines = [f"fitted {len(p)} numbers on {self.cases:,} cases; {int(p.informed.sum())} informed by the data "
                 f"(the rest stay near their prior); converged: {'yes' if self.converged else 'no'} "
                 f"after {len(self.log_likelihood) - 1} iterations"]
        lines.append("moved most (change / width of the range):")
        for name, row in moved.iterrows():
            lines.append(f"  {name}: {row.prior:.4g} -> {row.fitted_value:.4g} "
                         f"[{row.interval_low:.4g}, {row.interval_high:.4g}] ({row.moved:.2f} of the range)")
        lines.append("log-likelihood per iteration: " + ", ".join(f"{x:.2f}" for x in self.log_likelihood))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Fit({self.cases:,} cases, {len(self.log_likelihood) - 1} iterations, converged={self.converged}, "
                f"log-likelihood {self.log_likelihood[-1]:.3f})")


def _cases_frame(cases) -> pd.DataFrame:
    if isinstance(cases, pd.DataFrame):
        return cases
    if isinstance(cases, Mapping):
        raise ValueError("cases: expected a case set (a DataFrame or a list of dicts), got one dict; pass [case]")
    try:
        rows = list(cases)
    except TypeError:
        raise ValueError(f"cases: expected a DataFrame or a list of dicts, got {type(cases).__name__}") from None
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ValueError(f"cases: row {i} is {type(row).__name__}, not a dict of evidence")
    return pd.DataFrame.from_records(rows)


def _labels(net: Network, frame: pd.DataFrame, labels) -> np.ndarray:
    out = np.full(len(frame), -1, dtype=np.int64)
    if labels is None:
        return out
    if isinstance(labels, str):
        if labels not in frame.columns:
            raise ValueError(f"labels: {labels!r} is not a column of the cases; columns: {', '.join(map(str, frame.columns))}")
        values = list(frame[labels].to_numpy(dtype=object))
    else:
        values = list(labels)
        if len(values) != len(frame):
            raise ValueError(f"labels: {len(values)} labels for {len(frame)} cases; give one a case (empty where none is confirmed)")
    for i, v in enumerate(values):
        if is_missing(v) or v == "":
            continue
        if not isinstance(v, str) or v not in net.causes:
            raise ValueError(f"labels: row {frame.index[i]!r}: {v!r} is not a cause; allowed: {', '.join(net.causes)}")
        out[i] = net.causes.index(v)
    return out


def _encode(net: Network, cases, labels) -> tuple[np.ndarray, np.ndarray]:
    frame = _cases_frame(cases)
    if len(frame) == 0:
        raise ValueError("cases: the case set is empty; fit needs at least one case")
    lab = _labels(net, frame, labels)
    label_col = labels if isinstance(labels, str) else None
    evidence = frame[[c for c in frame.columns if not is_label_column(c) and c != label_col]]
    keys = [c for c in evidence.columns if isinstance(c, str) and c in ALL_KEYS]
    if not keys:
        shown = ", ".join(map(str, list(frame.columns)[:8])) or "none"
        raise ValueError(f"cases: no column is an evidence key of the network (columns: {shown}); "
                         f"allowed: {', '.join(sorted(ALL_KEYS))}")
    stray = [c for c in evidence.columns if c not in keys]
    if stray:
        raise ValueError(f"cases: column {stray[0]!r} is not an evidence key; allowed: {', '.join(sorted(ALL_KEYS))}")
    states, bad = encode_frame(net, evidence.reset_index(drop=True))
    if bad:
        i, msg = min(bad.items())
        raise ValueError(f"cases: {len(bad)} bad row(s); row {frame.index[i]!r}: {msg}")
    return states, lab


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(a, min(n, a + size)) for a in range(0, n, size)]


def _the(x):
    """x itself: the priors as a task's result on a Dask cluster (see `_expected`)."""
    return x


def _expected(net, states, labels, slots, chunk, client, retries):
    """The data's counts, chunk by chunk (on `client`'s workers when given), summed in
    chunk order: the same sums whichever machine ran a chunk.

    On a cluster every input is a task's (the priors a task of their own, each chunk's
    rows inside its task), never scattered data, so the scheduler can recompute any of
    them: a chunk lost with its worker, or the priors lost with every worker holding
    them, is run again, not dropped (tests/test_fit.py kills a worker mid-fit). A
    chunk that raises is run again `retries` times (fit.toml)."""
    parts = _chunks(len(states), chunk)
    if client is None:
        results = [estep_chunk(net, states[s], labels[s], slots) for s in parts]
    else:
        priors = client.submit(_the, net.priors, pure=False)
        futures = [client.submit(estep_chunk, priors, states[s], labels[s], tuple(slots), retries=retries, pure=False)
                   for s in parts]
        results = client.gather(futures)
    out = results[0]
    for r in results[1:]:
        out = _add(out, r)
    return out


def _complete(net, data, null):
    """The complete-data counts: the cases, plus the expected people who do not twitch
    (N / P(T) of the whole population, less N of the twitching population).

    The people who do not twitch enter only the counts of the numbers P(T) reads (the
    causes' tables, the switches, the site patterns, the region leaks). The links and
    leaks of the other findings are not among them, and those people's findings are all
    missing: left in, they would add counts exactly in proportion to the current values
    (N / P(T) - N people, about 60 for every case), which leave EM's fixed point where it
    is but let an iteration move these numbers only about P(T) (under 2%) of the way to
    it. So their complete data are the cases' alone (EM with those findings out of the
    complete data: still EM, the log posterior still never falls; docs/fitting.md)."""
    n = data["cases"]
    p_t = math.exp(null["ll"])
    uncond = _unconditional(net)
    total = _add(data, uncond, n / p_t)
    total = _add(total, null, -n)
    for k in total:
        if isinstance(total[k], np.ndarray) and not k.startswith(("pa_data", "sq_")) and k not in ("fisher", "score_sum"):
            total[k] = np.maximum(total[k], 0.0)
    findings = list(_spec(net).common + _spec(net).leak_only)
    for k in ("link", "leak"):
        total[k] = total[k].copy()
        total[k][findings] = data[k][findings]
    return total, n * math.log(p_t)


def _mstep(net, base_priors, values, total, strength):
    """New values (MAP) and the log prior of them."""
    new = dict(values)
    logp = 0.0
    sp = _spec(net)
    priors = base_priors
    n = len(net.causes)
    for j in sp.common + sp.leak_only:
        f = net.findings[j]
        fd = priors.findings[f]
        k = len(net.states[f])
        n0 = _dist_count(fd.leak, strength)
        v = np.array(fd.leak.values)
        new[("leak", f)] = _map(total["leak"][j, :k], v, n0)
        logp += _log_prior_dist(new[("leak", f)], v, n0)
        for c, d in fd.links.items():
            ci = net.causes.index(c)
            n0 = _dist_count(d, strength)
            v = np.array(d.values)
            new[("link", f, c)] = _map(total["link"][j, ci, :k], v, n0)
            logp += _log_prior_dist(new[("link", f, c)], v, n0)
    for r_i, r in enumerate(net.regions):
        d = priors.findings[r].leak
        n0 = _dist_count(d, strength)
        v = np.array(d.values)
        cnt = np.array([total["cases"] - total["rleak"][r_i], total["rleak"][r_i]])
        new[("leak", r)] = _map(np.maximum(cnt, 0.0), v, n0)
        logp += _log_prior_dist(new[("leak", r)], v, n0)
    for ci, c in enumerate(net.causes):
        cz = priors.causes[c]
        site = priors.sites[c]

        def beta(key, x, hits, trials):
            nonlocal logp
            n0 = range_count(x.low, x.high, strength)
            v = np.array([1 - x.value, x.value])
            p = _map(np.array([max(trials - hits, 0.0), hits]), v, n0)
            new[key] = float(p[1])
            logp += _log_prior_dist(p, v, n0)

        beta(("twitch", c), cz.twitch, total["on"][ci], total["present"][ci])
        beta(("spread", c), site.spread, total["spread"][ci], total["on"][ci])
        regions = list(site.focal)
        if regions:
            idx = [V.REGIONS.index(r) for r in regions]
            dd = _FocalDist(site)
            n0 = _dist_count(dd, strength)
            v = np.array([x.value for x in site.focal.values()])
            new[("focal", c)] = _map(total["focal"][ci, idx], v, n0)
            logp += _log_prior_dist(new[("focal", c)], v, n0)
        for r, x in site.spread_sites.items():
            beta(("spread_site", c, r), x, total["fired"][ci, V.REGIONS.index(r)], total["spread"][ci])
    # cause tables
    for ci, c in enumerate(net.causes):
        cm = _cause_model(net, priors, c, strength)
        n1 = total[f"n1:{c}"]
        n0t = np.maximum(total[f"nt:{c}"] - n1, 0.0)
        cz = priors.causes[c]
        prior_n0 = range_count(cz.prior.low, cz.prior.high, strength)
        pv = cz.prior.value
        cur = float(values[("prior", c)])
        theta0 = np.array([math.log(cur / (1 - cur))] + [math.log(values[("relative_risk", c, e, s)]) for e, s in cm.keys])
        if not math.isfinite(prior_n0):
            # a fixed prior: only the relative risks move
            f = lambda th: -_cause_objective(cm, n1, n0t, 0.0, pv, np.concatenate([theta0[:1], th]))  # noqa: E731
            x0 = theta0[1:]
        else:
            f = lambda th: -_cause_objective(cm, n1, n0t, prior_n0, pv, th)  # noqa: E731
            x0 = theta0
        if len(x0):
            start = f(x0)
            res = optimize.minimize(f, x0, method="L-BFGS-B")
            x = res.x if res.fun <= start else x0
        else:
            x = x0
        theta = np.concatenate([theta0[:1], x]) if not math.isfinite(prior_n0) else x
        new[("prior", c)] = float(1.0 / (1.0 + math.exp(-theta[0])))
        for (e, s), t in zip(cm.keys, theta[1:]):
            new[("relative_risk", c, e, s)] = float(math.exp(t))
        if math.isfinite(prior_n0) and prior_n0 > 0:
            p = new[("prior", c)]
            logp += prior_n0 * (pv * math.log(p) + (1 - pv) * math.log(1 - p))
        logp += -0.5 * float((cm.prec * (theta[1:] - cm.mu) ** 2).sum())
    return new, logp


@dataclass(frozen=True)
class _FocalDist:
    """A site's focal shares as a distribution (values, low, high) for its prior weight."""

    site: Any

    @property
    def low(self):
        return tuple(x.low for x in self.site.focal.values())

    @property
    def high(self):
        return tuple(x.high for x in self.site.focal.values())


def _log_prior(priors, values, strength) -> float:
    """The log prior of `values` (the same terms the M-step maximises)."""
    total = 0.0
    for name, f in priors.findings.items():
        if name in {"weakness", *V.WEAKNESS_WHERE_NODES}:
            continue
        total += _log_prior_dist(values[("leak", name)], np.array(f.leak.values), _dist_count(f.leak, strength))
        for k, d in f.links.items():
            total += _log_prior_dist(values[("link", name, k)], np.array(d.values), _dist_count(d, strength))
    for name, c in priors.causes.items():
        site = priors.sites[name]
        for key, x in ((("twitch", name), c.twitch), (("spread", name), site.spread),
                       *((("spread_site", name, r), x) for r, x in site.spread_sites.items())):
            p = float(values[key])
            total += _log_prior_dist(np.array([1 - p, p]), np.array([1 - x.value, x.value]), range_count(x.low, x.high, strength))
        if site.focal:
            total += _log_prior_dist(values[("focal", name)], np.array([x.value for x in site.focal.values()]),
                                     _dist_count(_FocalDist(site), strength))
        n0 = range_count(c.prior.low, c.prior.high, strength)
        if math.isfinite(n0) and n0 > 0:
            p = float(values[("prior", name)])
            total += n0 * (c.prior.value * math.log(p) + (1 - c.prior.value) * math.log(1 - p))
        for e, by in c.relative_risk.items():
            for s, x in by.items():
                if x.low > 0 and x.high > x.low and x.value > 0:
                    sd = (math.log(x.high) - math.log(x.low)) / 4.0
                    total += -0.5 * strength / sd**2 * (math.log(values[("relative_risk", name, e, s)]) - math.log(x.value)) ** 2
    return total


def _compile(base_priors, values) -> Network:
    return compile_network(priors_with_values(base_priors, values))


def fit(
    cases,
    *,
    network: Network | None = None,
    labels=None,
    strength: float | None = None,
    max_iter: int | None = None,
    tol: float | None = None,
    chunk: int | None = None,
    client=None,
    name: str = "cases",
    progress: bool | None = None,
) -> Fit:
    """Fit the network's numbers to a case set by EM (MAP; docs/fitting.md).

    cases : what `infer` takes for a batch (a DataFrame or a list of dicts; unknown
        answers summed out; a sampled case set's label columns are set aside).
    network : the starting network and the priors of its numbers (default: the bundled one).
    labels : confirmed causes: a column name of `cases`, or one entry a case (a cause
        name, present; empty where none is confirmed; the other causes stay unknown).
    strength, max_iter, tol, chunk : default from the priors folder's fit.toml.
    client : a `distributed.Client`: the E-step's chunks run on its workers (each chunk
        retried on failure `retries` times, fit.toml), summed in chunk order: the same
        answer as without it.
    name : the case set's name, for the provenance of the fitted numbers.
    progress : a progress bar per iteration (default: on a terminal).

    Nothing passed in is changed; the same input gives the same answer.
    """
    net0 = network if network is not None else load_network()
    if not isinstance(net0, Network):
        raise ValueError(f"network: expected a Network (model.load_network()), got {type(net0).__name__}")
    settings = load_fit_settings(net0.priors.folder)
    strength = settings.strength if strength is None else strength
    max_iter = settings.max_iter if max_iter is None else max_iter
    tol = settings.tol if tol is None else tol
    chunk = settings.chunk if chunk is None else chunk
    for key, x, low in (("strength", strength, 0.0), ("tol", tol, 0.0)):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < low:
            raise ValueError(f"{key}: {x!r} is not a finite number >= {low}")
    for key, x, low in (("max_iter", max_iter, 0), ("chunk", chunk, 1)):
        if isinstance(x, bool) or not isinstance(x, int) or x < low:
            raise ValueError(f"{key}: {x!r} is not a whole number >= {low}")
    states, lab = _encode(net0, cases, labels)
    slots = sorted({int(x) for x in lab if x >= 0})
    if slots and net0.priors.findings and _spec(net0).label_finding < 0:
        raise ValueError("labels: this network has no leak-only finding to carry a label")
    base_priors = net0.priors
    values = values_of(base_priors)
    net = net0
    lls, lps = [], []
    converged = False
    null_states = np.full((1, states.shape[1]), -1, dtype=np.int8)


    started = time.perf_counter()
    iterations = 0
    total = None
    bar = tqdm(total=max_iter, desc="fit (EM)", unit="iteration", disable=(not progress) if progress is not None else None)
    e_seconds, m_seconds = [], []
    try:
        for it in range(max_iter + 1):
            clock = time.perf_counter()
            data = _expected(net, states, lab, slots, chunk, client, settings.retries)
            null = estep_chunk(net, null_states, np.array([-1]), slots)
            total, norm = _complete(net, data, null)
            e_seconds.append(time.perf_counter() - clock)
            ll = data["ll"] - norm
            lp = ll + _log_prior(base_priors, values, strength)
            lls.append(ll)
            lps.append(lp)
            if it > 0:
                bar.update(1)
                bar.set_postfix(loglik=f"{ll:.2f}")
                if abs(lp - lps[-2]) <= tol * len(states):
                    converged = True
                    break
            if it == max_iter:
                break
            clock = time.perf_counter()
            values, _ = _mstep(net, base_priors, values, total, strength)
            net = _compile(base_priors, values)
            m_seconds.append(time.perf_counter() - clock)
            iterations += 1
    finally:
        bar.close()
    seconds = (time.perf_counter() - started) / max(1, len(lls))
    # the last network's values are those the last E-step read: the table is of them
    fitted_settings = {"strength": strength, "max_iter": max_iter, "tol": tol, "iterations": len(lls) - 1}
    params = _parameters(net0, net, base_priors, values, data, total, strength, settings)
    fitted_priors = _with_provenance(base_priors, values, params, name=name, cases=len(states), settings=fitted_settings)
    fitted_net = compile_network(fitted_priors)
    return Fit(fitted_net, params, lls, lps, converged, len(states), fitted_settings, seconds,
               float(np.mean(e_seconds)) if e_seconds else 0.0, float(np.mean(m_seconds)) if m_seconds else 0.0)


# ----------------------------------------------------------------------------------
# The parameters table
# ----------------------------------------------------------------------------------

WEAKNESS_FAMILY = ("weakness",) + V.WEAKNESS_WHERE_NODES


def _score_of(net: Network, c: Mapping) -> dict:
    """The log-likelihood's gradient that counts `c` give, number by number (each state
    of a distribution against the rest; a relative risk on the log scale)."""
    sp = _spec(net)
    n = len(net.causes)
    out = {
        "link": _sc(c["link"], c["link"].sum(axis=2, keepdims=True), sp.pmf[:, :n, :]),
        "leak": _sc(c["leak"], c["leak"].sum(axis=1, keepdims=True), sp.pmf[:, n, :]),
        "tau": _sc(c["on"], c["present"], sp.tau),
        "w": _sc(c["spread"], c["on"], sp.w),
        "q": _sc(c["fired"], c["spread"][:, None], sp.q),
        "focal": _sc(c["focal"], c["focal"].sum(axis=1, keepdims=True), sp.s),
        "rleak": _sc(c["rleak"], c["cases"], sp.region_leak),
        "prior": np.zeros(n),
    }
    for ci, cause in enumerate(net.causes):
        p = np.asarray(net.cause_table[cause], dtype=float)
        keys, masks, weight = _rr_masks(net, cause)
        n1 = c[f"n1:{cause}"]
        n0 = np.maximum(c[f"nt:{cause}"] - n1, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(p < 1, n1 - n0 * p / (1 - p), n1)
        prior = float((weight * p).sum())
        out["prior"][ci] = float(r.sum()) / prior if prior > 0 else 0.0
        out[f"rr:{cause}"] = np.array([float(((m - float((weight * p * m).sum()) / prior) * r).sum()) if prior > 0 else 0.0
                                       for m in masks])
    return out


def _information(net: Network, data: Mapping, total: Mapping) -> dict:
    """The data's information about each number: the sum over cases of each case's score
    squared (the empirical Fisher information), a case's score being its own counts'
    plus its share of the people who do not twitch."""
    a1, t = _score_of(net, data), _score_of(net, total)
    n = data["cases"]
    names = {"link": "sq_link", "leak": "sq_leak", "tau": "sq_tau", "w": "sq_w", "q": "sq_q", "focal": "sq_focal",
             "rleak": "sq_rleak", "prior": "sq_prior"}
    names.update({k: f"sq_{k}" for k in a1 if k.startswith("rr:")})
    out = {}
    for k, sq in names.items():
        b = (t[k] - a1[k]) / n
        out[k] = np.maximum(data[sq] + 2 * b * a1[k] + n * b**2, 0.0)
    return out


def _score_vector(net: Network, scores: Mapping) -> np.ndarray:
    """`_score_of`'s gradient as a vector in `score_layout`'s columns."""
    out = np.zeros(len(score_layout(net)))
    for key, col in score_layout(net).items():
        kind, *at = key
        if kind == "rr":
            out[col] = scores[f"rr:{net.causes[at[0]]}"][at[1]]
        else:
            out[col] = scores[kind][tuple(at)]
    return out


def observed_information(net: Network, data: Mapping, total: Mapping) -> np.ndarray:
    """The data's information matrix over `score_layout`'s numbers: the sum over cases of
    score score^T (the empirical Fisher information), a case's score being its own
    counts' gradient plus its share of the people who do not twitch."""
    a1 = _score_vector(net, _score_of(net, data))
    t = _score_vector(net, _score_of(net, total))
    n = data["cases"]
    b = (t - a1) / n
    return data["fisher"] + np.outer(data["score_sum"], b) + np.outer(b, data["score_sum"]) + n * np.outer(b, b)


def _column(net: Network, num) -> tuple | None:
    kind, key = num.kind, num.key
    if kind in ("leak", "link"):
        f = key[1]
        if f in net.regions:
            return ("rleak", net.regions.index(f))
        j = net.findings.index(f)
        return ("leak", j, num.state) if kind == "leak" else ("link", j, net.causes.index(key[2]), num.state)
    ci = net.causes.index(key[1])
    if kind == "twitch":
        return ("tau", ci)
    if kind == "spread":
        return ("w", ci)
    if kind == "spread_site":
        return ("q", ci, V.REGIONS.index(key[2]))
    if kind == "focal":
        return ("focal", ci, V.REGIONS.index(list(net.priors.sites[key[1]].focal)[num.state]))
    if kind == "prior":
        return ("prior", ci)
    keys = _rr_masks(net, key[1])[0]
    return ("rr", ci, keys.index((key[2], key[3]))) if (key[2], key[3]) in keys else None


def _parameters(net0, net, priors, values, data, total, strength, settings) -> pd.DataFrame:
    """One row a number (`Fit.parameters`). The posterior's curvature at the fitted numbers
    is the data's information matrix (`observed_information`) plus each prior's; its
    inverse gives each number's marginal variance, hence its interval (a relative risk's
    on the log scale) and the share of its prior variance the data removed (`informed_share`).
    A number is informed when that share is at least fit.toml's `informed_share` and the
    data's information is worth at least `informed_cases` cases (`data`): a probability at
    0 or 1 (P(twitching | eyelid myokymia) = 1) has no information from the data or from
    its range, and its share is then a ratio of two rounding errors."""
    z = stats.norm.ppf(0.5 + settings.interval / 2)
    layout = score_layout(net)
    info = observed_information(net, data, total)
    items = []
    for num in numbers_of(priors):
        kind, key = num.kind, num.key
        value = value_at(values, num)
        col = _column(net, num)
        fitted = col is not None and col in layout and not (kind in ("leak", "link") and key[1] in WEAKNESS_FAMILY)
        curv = math.inf
        if fitted and kind == "relative_risk":
            cm = _cause_model(net0, priors, key[1], strength)
            curv = float(cm.prec[cm.keys.index((key[2], key[3]))])
        elif fitted:
            if kind in ("leak", "link"):
                f = key[1]
                d = priors.findings[f].leak if kind == "leak" else priors.findings[f].links[key[2]]
                n0 = _dist_count(d, strength)
            elif kind == "focal":
                n0 = _dist_count(_FocalDist(priors.sites[key[1]]), strength)
            else:
                n0 = range_count(num.low, num.high, strength)
            if math.isfinite(n0):
                v, p = num.value, min(max(value, 1e-12), 1 - 1e-12)
                curv = n0 * v / p**2 + n0 * (1 - v) / (1 - p) ** 2
        fitted = fitted and math.isfinite(curv)
        items.append((num, value, layout[col] if fitted else None, curv, fitted))
    cols = [c for _, _, c, _, f in items if f]
    curvs = np.array([cv for _, _, _, cv, f in items if f])
    h = info[np.ix_(cols, cols)] + np.diag(curvs)
    h = 0.5 * (h + h.T)
    var = np.diag(np.linalg.pinv(h, hermitian=True))
    at = {c: i for i, c in enumerate(cols)}
    rows = []
    for num, value, col, curv, fitted in items:
        lo_i = hi_i = value
        got, share = 0.0, 0.0
        if fitted:
            vi = max(float(var[at[col]]), 1e-300)
            sd = math.sqrt(vi)
            got = max(1.0 / vi - curv, 0.0)  # the data's share of the marginal precision
            share = min(max(1.0 - vi * curv, 0.0), 1.0) if curv > 0 else 1.0
            if num.kind == "relative_risk":
                lo_i, hi_i = (value * math.exp(-z * sd), value * math.exp(z * sd)) if sd < 100 else (0.0, math.inf)
            else:
                lo_i, hi_i = max(0.0, value - z * sd), min(1.0, value + z * sd)
        scale = 1.0 if num.kind == "relative_risk" else value * (1 - value)
        rows.append({
            "name": num.name, "kind": num.kind, "prior": num.value, "low": num.low, "high": num.high,
            "fitted_value": value, "interval_low": lo_i, "interval_high": hi_i, "change": value - num.value,
            "data": got * scale, "prior_weight": curv * scale if math.isfinite(curv) else np.inf,
            "informed_share": share, "fitted": fitted,
            "informed": fitted and share >= settings.informed_share and got * scale >= settings.informed_cases,
        })
    return pd.DataFrame(rows).set_index("name")


# ----------------------------------------------------------------------------------
# Provenance and writing a priors folder
# ----------------------------------------------------------------------------------


def _next_key(bibliography) -> str:
    top = max((int(m.group(1)) for k in bibliography if (m := KEY_PATTERN.match(k))), default=0)
    return f"S{top + 1}"


# The method's reference (EM; its truncated-data case is how the premise is handled): a
# fit's entry has no web page of its own, so its address is the method's.
FIT_ADDRESS = "https://doi.org/10.1111/j.2517-6161.1977.tb01600.x"


def _with_provenance(priors, values, params: pd.DataFrame, *, name: str, cases: int, settings: Mapping):
    """`priors` with the fitted values, each fitted number's source naming a new
    bibliography entry for this fit, and its note saying what it was."""
    key = _next_key(priors.bibliography)
    today = _dt.date.today().isoformat()
    shown = ", ".join(f"{k} {v}" for k, v in settings.items())
    entry = Source(
        key=key,
        title=f"Fitted by twitchdx fit from the case set {name!r} ({cases:,} cases) on {today}",
        address=FIT_ADDRESS,
        supports=f"Every number whose source names {key}: the posterior mode of EM on {cases:,} cases ({shown}) from the priors before it",
        note=f"case set {name}; {cases} cases; {today}; {shown}; the address is the method's (Dempster, Laird and Rubin 1977, EM); docs/fitting.md says how",
    )
    new = priors_with_values(priors, values)
    fitted_keys = {tuple(k) for k in _fitted_keys(priors, params)}

    def src(x):
        return x.source if key in x.source else f"{key}, {x.source}" if x.source != "estimate" else f"{key}"

    def note(x, old):
        was = f"fitted ({key}); was {old}"
        return f"{was}. {x.note}" if x.note else was

    def num(k, x, old):
        if k not in fitted_keys:
            return x
        # a fitted value outside its range widens the range to hold it (as a redraw does)
        return dataclasses.replace(x, low=min(x.low, x.value), high=max(x.high, x.value), source=src(x),
                                   note=note(x, old.value))

    def dist(k, d, old):
        if k not in fitted_keys:
            return d
        return dataclasses.replace(d, source=src(d), note=note(d, list(old.values)))

    causes = {}
    for cn, c in new.causes.items():
        o = priors.causes[cn]
        rr = {e: {s: num(("relative_risk", cn, e, s), x, o.relative_risk[e][s]) for s, x in by.items()} for e, by in c.relative_risk.items()}
        causes[cn] = dataclasses.replace(c, prior=num(("prior", cn), c.prior, o.prior), twitch=num(("twitch", cn), c.twitch, o.twitch),
                                         relative_risk=rr)
    findings = {}
    for fn, f in new.findings.items():
        o = priors.findings[fn]
        links = {k: dist(("link", fn, k), d, o.links[k]) for k, d in f.links.items()}
        findings[fn] = dataclasses.replace(f, leak=dist(("leak", fn), f.leak, o.leak), links=links)
    sites = {}
    for sn, s in new.sites.items():
        o = priors.sites[sn]
        focal = {r: num(("focal", sn), x, o.focal[r]) for r, x in s.focal.items()}
        ss = {r: num(("spread_site", sn, r), x, o.spread_sites[r]) for r, x in s.spread_sites.items()}
        sites[sn] = dataclasses.replace(s, spread=num(("spread", sn), s.spread, o.spread), focal=focal, spread_sites=ss)
    bib = dict(priors.bibliography)
    bib[key] = entry
    return dataclasses.replace(new, causes=freeze(causes), findings=freeze(findings), sites=FrozenDict(sites),
                               bibliography=FrozenDict(bib))


def _fitted_keys(priors, params):
    fitted = params[params.fitted]
    out = set()
    for num in numbers_of(priors):
        if num.name in fitted.index:
            out.add(num.key)
    return out


def _toml_string(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return repr(float(x))
    if isinstance(x, str):
        return _toml_string(x)
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in x) + "]"
    if isinstance(x, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in x.items()) + " }"
    raise TypeError(f"cannot write {type(x).__name__} to TOML")


def _toml_key(k: str) -> str:
    return k if re.match(r"^[A-Za-z0-9_-]+$", k) else _toml_string(k)


def _is_leaf(x) -> bool:
    return isinstance(x, Mapping) and ("value" in x or "probabilities" in x or "source" in x)


def dumps_toml(data: Mapping, header: str = "") -> str:
    """A TOML document of nested tables whose leaves are numbers, strings, lists and
    inline tables (a number's {value, low, high, source, note})."""
    lines = [header.rstrip("\n")] if header else []

    def table(path: list[str], body: Mapping):
        plain = [(k, v) for k, v in body.items() if not isinstance(v, Mapping) or _is_leaf(v)]
        nested = [(k, v) for k, v in body.items() if isinstance(v, Mapping) and not _is_leaf(v)]
        if path and (plain or not nested):
            lines.append("")
            lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
        for k, v in plain:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in nested:
            table(path + [k], v)

    table([], data)
    return "\n".join(lines).lstrip("\n") + "\n"


def _number_table(x, probability: bool = True) -> dict:
    out = {"value": float(x.value), "low": float(x.low), "high": float(x.high), "source": x.source}
    if x.note:
        out["note"] = x.note
    return out


def _dist_table(d) -> dict:
    out = {"probabilities": [float(v) for v in d.values], "low": [float(v) for v in d.low],
           "high": [float(v) for v in d.high], "source": d.source}
    if d.note:
        out["note"] = d.note
    return out


def _binary_table(d) -> dict:
    """A binary link or leak (stored as a two-state distribution) as its number."""
    out = {"value": float(d.values[1]), "low": float(d.low[1]), "high": float(d.high[1]), "source": d.source}
    if d.note:
        out["note"] = d.note
    return out


def write_priors(network: Network, folder: str | Path) -> Path:
    """Write `network`'s numbers as a priors folder that `load_network(folder)` and the
    command line's `--priors` read; returns the folder.

    The numbers are the network's priors (a fitted network's carry their provenance:
    each fitted number's source names the fit's entry in bibliography.toml). Files with
    no fitted number (triage.toml, validation.toml, fit.toml, ...) are copied as they
    are. Refuses a folder that exists and is not empty (nothing is written then)."""
    if not isinstance(network, Network):
        raise ValueError(f"network: expected a Network, got {type(network).__name__}")
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"folder: {str(folder)!r} exists and is not an empty folder; give a new one")
    priors = network.priors
    source = Path(priors.folder)
    texts = {
        "exposures.toml": dumps_toml(_exposures_raw(priors, source), "# Exposures (written by model.learning.fit.write_priors)."),
        "causes.toml": dumps_toml(_causes_raw(priors, source), "# Causes (written by model.learning.fit.write_priors)."),
        "findings.toml": dumps_toml(_findings_raw(priors, source), "# Findings (written by model.learning.fit.write_priors)."),
        "sites.toml": dumps_toml(_sites_raw(priors, source), "# Site patterns (written by model.learning.fit.write_priors)."),
        BIBLIOGRAPHY: dumps_toml(_bibliography_raw(priors), "# Sources (written by model.learning.fit.write_priors)."),
    }
    tmp = folder.with_name(folder.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        for f in sorted(p.name for p in source.iterdir() if p.is_file() and p.name not in texts):
            shutil.copyfile(source / f, tmp / f)
        for f, text in texts.items():
            (tmp / f).write_text(text, encoding="utf-8")
        load_priors(tmp)  # refuse to leave a folder that does not load
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if folder.exists():
        folder.rmdir()
    tmp.rename(folder)
    return folder


def _raw(source: Path, file: str) -> dict:
    return tomllib.loads((source / file).read_text(encoding="utf-8"))


def _exposures_raw(priors, source: Path) -> dict:
    raw = _raw(source, "exposures.toml")
    out = {}
    for name, e in priors.exposures.items():
        t = {"states": list(e.states)}
        for k in ("note", "question_cost"):
            if k in raw.get(name, {}):
                t[k] = raw[name][k]
        t["distribution"] = {s: _number_table(x) for s, x in zip(e.states, e.distribution)}
        out[name] = t
    return out


def _causes_raw(priors, source: Path) -> dict:
    raw = _raw(source, "causes.toml")
    out = {}
    for name, c in priors.causes.items():
        t = {"group": c.group, "triage": c.triage, "presentation_share": _number_table(c.presentation_share),
             "twitch": _number_table(c.twitch), "prior": _number_table(c.prior)}
        if "note" in raw.get(name, {}):
            t["note"] = raw[name]["note"]
        if c.relative_risk:
            t["relative_risk"] = {e: {s: _number_table(x) for s, x in by.items()} for e, by in c.relative_risk.items()}
        out[name] = t
    return out


def _findings_raw(priors, source: Path) -> dict:
    raw = _raw(source, "findings.toml")
    out = {}
    for name, f in priors.findings.items():
        r = raw.get(name, {})
        binary = name not in V.ORDINAL_FINDINGS
        t = {"states": list(f.states)}
        for k in ("site", "note", "question_cost", "pattern_of", "leak_only"):
            if k in r:
                t[k] = r[k]
        t["leak"] = _binary_table(f.leak) if binary else _dist_table(f.leak)
        if not f.site:
            t["links"] = {c: (_binary_table(d) if binary else _dist_table(d)) for c, d in f.links.items()}
        out[name] = t
    return out


def _sites_raw(priors, source: Path) -> dict:
    raw = _raw(source, "sites.toml")
    out = {}
    for name, s in priors.sites.items():
        r = raw.get(name, {})
        t = {}
        if "target" in r:
            t["target"] = r["target"]
        if "note" in r:
            t["note"] = r["note"]
        t["spread"] = _number_table(s.spread)
        t["focal"] = {reg: _number_table(x) for reg, x in s.focal.items()}
        if s.spread_sites:
            t["spread_sites"] = {reg: _number_table(x) for reg, x in s.spread_sites.items()}
        out[name] = t
    return out


def _bibliography_raw(priors) -> dict:
    out = {}
    for key, s in priors.bibliography.items():
        t = {"title": s.title, "address": s.address, "supports": s.supports}
        if s.mirror:
            t["mirror"] = True
        if s.also:
            t["also"] = list(s.also)
        if s.note:
            t["note"] = s.note
        out[key] = t
    return out
