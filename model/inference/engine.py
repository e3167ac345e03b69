"""The one exact engine: the network and the queries as arrays, answered by the compiled
kernels of `model.inference.kernels`.

The model. Three layers: exposures (roots) -> causes (binary, independent given the
exposures) -> findings (noisy-OR / noisy-MAX of the causes' contributions, plus a leak);
the twitch regions read each cause through its switch (on with P(twitching | cause)
when the cause is present; `model.network.build`), summed inside the cause's own step.
A query observes a state range per finding, a state (or nothing) per exposure, may force
causes absent (the triage boxes do: the rule table of docs/model.md), and always carries the premise of the
product: twitching in at least one region (the premise: docs/model.md). The engine returns P(query) and
P(query, cause present) for every cause, exactly: `model.inference.kernels` says how.

The layout, built once per network (`network_tables`) or per stack of drawn networks
(`build_tables`: intervals and sensitivity), every table with a leading draw axis:

* `flat`: every cause table P(cause | its exposures) with one more "unknown" slot on
  each axis, where that exposure is summed out over its population distribution;
  `offsets` and `strides` index it.
* `e_prob`: the exposures' distributions, with the "unknown" slot of weight 1.
* `cum`, `pmf`: per finding, cause (last row: the leak) and state, P(contribution <= s)
  and P(contribution = s); for a twitch region, given the cause's switch is on.
* `twitch`: per cause, P(switch on | cause present) (`Network.twitch`).
* How the unknown exposures that feed several causes are summed (`factor_layout`): the hub
  exposures enumerated, and given them the other shared exposures in independent
  factors, each with its own causes (for the bundled network: age and sex, then 5
  factors).

A query is a row of `Queries`: `lo`, `hi` per finding, `exposure` (-1 unknown), the
causes forced `absent`, and the `draw` of the network it reads.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Mapping

import numba
import numpy as np

from . import kernels as K
# factor (kappa = sum |terms| / |sum|). Rounding then errs by about kappa x (causes +
# positives) x 2.2e-16: below 1e-11 of P(query), so posteriors keep 1e-11. Measured on
# 81,892 bundled queries against the subtraction-free answer: 1e3 erred at most 2.3e-13,
# 1e4 up to 2.2e-12 (docs/engine.md).
CANCELLATION_BOUND = 1e3
# A call with fewer queries than this runs on the calling thread: handing rows to the
# thread pool costs more than a single case's query and its triage boxes ...
PARALLEL_FROM = 64
# ... unless a row is heavy: its cost grows about 2x a positive finding and about 2x an
# unknown exposure (up to the 3,204 cause-configurations of all of them unknown, about
# 2^12), so a row whose positives plus min(unknown exposures, 12) reach PARALLEL_WORK
# takes milliseconds, far above the hand-over's tens of microseconds, and a single
# case's rows then share the machine's threads (6 positives with every exposure unknown;
# never on full evidence, whose chains are short).
PARALLEL_WORK = 18
UNKNOWN_EXPOSURES_CAP = 12
# Rows in parallel: the compiled kernel releases the GIL, so a pool of Python threads
# (NUMBA_NUM_THREADS of them: the machine's cores unless set) runs it on chunks of
# rows at once. One compiled kernel instead of a serial and a Numba-parallel one halves
# the first use's compile, needs no process-wide threading layer, and survives os.fork
# (a child makes its own pool). Each thread gets CHUNKS_PER_THREAD chunks on average,
# handed out as threads free up: row costs differ 1000-fold, and a static split would
# leave one thread with the slow rows.
CHUNKS_PER_THREAD = 4
_POOL: dict = {}  # (process id, threads) -> ThreadPoolExecutor
_POOL_LOCK = threading.Lock()
# A kernel's first call in a process loads it from Numba's on-disk cache (about 0.3 s);
# with an empty cache (the first use after install) it compiles: about 25 s for the
# first kernel (`kernels.evaluate_rows`, which every query calls), and about 25 s more
# for the second (`kernels.evaluate_rare_rows`) when a query first needs it (a case's
# own query whose positive findings cancel enough to need `_sweep_r`). Measured
# with an empty cache on 2 idle cores: `infer({"location": "eyelid"})` 24-26 s in all
# (44.6 s with one kernel), the second kernel 21-24 s. A first call still running after
# this many seconds is compiling: say so on stderr.
COMPILE_NOTICE_AFTER = 1.5
COMPILE_NOTICE = ("twitchdx: compiling the exact engine for this machine (the first use after install "
                  "takes about 25 s; later runs load it from the cache)\n")
RARE_COMPILE_NOTICE = ("twitchdx: compiling the exact engine's pass for queries with many positive findings "
                       "(once after install, about 25 s more; later runs load it from the cache)\n")
_LOADED: set = set()
_COMPILING = threading.Lock()
_ANNOUNCED: set = set()  # the notices said
# The path codes of `evaluate_many`, by name.
PATHS = ("coverage", "telescoped", "mixed", "impossible")


@dataclass(frozen=True, eq=False)
class Tables:
    """The network (or `draws` networks of one shape) in the kernels' layout."""

    flat: np.ndarray  # (D, size)
    offsets: np.ndarray  # (n,)
    strides: np.ndarray  # (E, n)
    e_prob: np.ndarray  # (D, E, max states + 1)
    e_states: np.ndarray  # (E,)
    cum: np.ndarray  # (D, F, n + 1, max states)
    pmf: np.ndarray  # (D, F, n + 1, max states)
    n_states: np.ndarray  # (F,)
    regions: np.ndarray  # finding indices of the twitch regions
    log_quiet: np.ndarray  # (D, regions, n + 1): log P(no contribution to the region | switch on)
    twitch: np.ndarray  # (D, n + 1): P(switch on | cause present); the leak's is 1
    spread: np.ndarray  # (D, n + 1): P(spread pattern | switch on); the leak's is 1
    focal: np.ndarray  # (D, n + 1, regions): P(region | focal pattern)
    weak_on: np.ndarray  # (D, n + 1): P(weakness contribution is not none | cause present)
    group: np.ndarray  # (F,): how a finding reads a cause (kernels.COMMON, REGION, WEAK)
    region_pos: np.ndarray  # (F,): a region's index among the regions, -1 for other findings
    hubs: np.ndarray  # exposure indices enumerated first
    fx_ptr: np.ndarray  # factor f's exposures: fx_idx[fx_ptr[f]:fx_ptr[f + 1]]
    fx_idx: np.ndarray
    fc_ptr: np.ndarray  # factor f's causes: fc_idx[fc_ptr[f]:fc_ptr[f + 1]]
    fc_idx: np.ndarray
    op_ptr: np.ndarray  # factor f's elimination order: ops op_ptr[f]:op_ptr[f + 1] (`factor_programs`)
    op_kind: np.ndarray  # kernels.STEP, EXPAND or SUM
    op_arg: np.ndarray  # STEP: the cause's position in its factor; EXPAND, SUM: the exposure

    @property
    def draws(self) -> int:
        return self.flat.shape[0]

    def kernel_tables(self) -> "K.Tables":
        """These tables as the kernels' named tuple (same arrays, same field names)."""
        return K.Tables(*(getattr(self, name) for name in K.Tables._fields))


@dataclass(frozen=True)
class Queries:
    """Many queries as arrays (one row a query); the premise is always on.

    lo, hi : (Q, F) allowed state range of each finding (network order); unconstrained
        is (0, n_states - 1).
    exposure : (Q, E) observed state of each exposure (network order), -1 unknown.
    absent : (Q, n) causes forced absent.
    draw : (Q,) which network of the tables each row reads (0 for a single network).
    """

    lo: np.ndarray
    hi: np.ndarray
    exposure: np.ndarray
    absent: np.ndarray
    draw: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.draw is None:
            object.__setattr__(self, "draw", np.zeros(len(self.lo), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.lo)

    def take(self, rows) -> "Queries":
        return Queries(self.lo[rows], self.hi[rows], self.exposure[rows], self.absent[rows], self.draw[rows])

    def concat(self, other: "Queries") -> "Queries":
        return Queries(*(np.concatenate([a, b]) for a, b in zip(
            (self.lo, self.hi, self.exposure, self.absent, self.draw),
            (other.lo, other.hi, other.exposure, other.absent, other.draw))))

    def on_draws(self, draws: int) -> "Queries":
        """Every row once on each of `draws` networks (draw-major)."""
        n = len(self)
        rows = np.tile(np.arange(n), draws)
        out = self.take(rows)
        return Queries(out.lo, out.hi, out.exposure, out.absent, np.repeat(np.arange(draws, dtype=np.int64), n))


@dataclass(frozen=True)
class Query:
    """One query by name: exposure -> allowed states, finding -> (lo, hi), the causes
    forced absent. (`evaluate` answers it; tests and references describe queries so.)"""

    exposures: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    findings: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    premise: bool = True


@dataclass(frozen=True)
class Answer:
    """total = P(query), joint[i] = P(query, cause i present); `method` names the path."""

    total: float
    joint: np.ndarray
    method: str


def query_from_evidence(net, evidence: Mapping[str, str]) -> Query:
    """The query that observes each node of `evidence` (node -> state name)."""
    exposures, findings = {}, {}
    for node, state in evidence.items():
        i = net.states[node].index(state)
        if node in net.exposure_prob:
            exposures[node] = (i,)
        else:
            findings[node] = (i, i)
    return Query(exposures, findings)


# ----------------------------------------------------------------------------------
# The layout
# ----------------------------------------------------------------------------------


def factor_layout(net, shared: list[int], e_states: np.ndarray) -> tuple[list[int], list[tuple[list[int], list[int]]]]:
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
            groups.setdefault(root(mine[0]), ([], []))[1].append(i)
        for e in rest:  # a shared exposure has readers, so its component has causes
            groups[root(e)][0].append(e)
        factors = [([], alone)] * bool(alone) + [(sorted(ex), causes) for ex, causes in groups.values()]
        cost = int(np.prod([e_states[h] for h in hubs])) * sum(
            int(np.prod([e_states[e] for e in ex])) * len(causes) for ex, causes in factors)
        return cost, factors

    candidates = [()] + [(h,) for h in shared] + list(itertools.combinations(shared, 2))
    best = min(candidates, key=lambda hubs: split(hubs)[0])
    return list(best), split(best)[1]


def factor_programs(net, factors: list[tuple[list[int], list[int]]], e_states: np.ndarray):
    """Each factor's elimination order: the order in which its causes step and its
    exposures enter (EXPAND: the states are carried side by side, each weighted by its
    probability) and leave (SUM: added up, once no cause left reads them).

    A factor's configurations all summed one by one cost (its configurations) x (its
    causes) steps a term: 64 x 8 = 512 for the bundled network's exercise, alcohol,
    diet, fluid loss, kidney disease and diuretic factor with every exposure unknown,
    though each of its causes reads one to four of the six. Carried as a table over the
    exposures still read, a cause steps once for each configuration of the exposures
    entered so far: about 90 steps for that factor. The order is greedy: next, the cause
    whose step keeps the table smallest (ties: the one that lets most exposures leave,
    then the factor's order). Exposures known in a query are left out of its program
    (`kernels._prepare`), so one order serves every query.

    Returns op_ptr (factors + 1), op_kind and op_arg (a STEP's cause position in its
    factor, an EXPAND's or SUM's exposure index)."""
    reads = [{j for j, e in enumerate(net.exposures) if e in net.cause_parents[c]} for c in net.causes]
    kinds: list[int] = []
    args: list[int] = []
    ptr = [0]
    for exposures, causes in factors:
        own = set(exposures)
        live: list[int] = []
        left = list(range(len(causes)))
        while left:
            i = min(left, key=lambda i, causes=causes, own=own, live=live, left=left: _step_cost(
                i, reads, causes, own, live, left, e_states))
            for e in sorted(reads[causes[i]] & own):
                if e not in live:
                    live.append(e)
                    kinds.append(K.EXPAND)
                    args.append(e)
            kinds.append(K.STEP)
            args.append(i)
            left.remove(i)
            for e in list(live):
                if not any(e in reads[causes[j]] for j in left):
                    live.remove(e)
                    kinds.append(K.SUM)
                    args.append(e)
        ptr.append(len(kinds))
    as_index = lambda x: np.ascontiguousarray(x, dtype=np.int64)  # noqa: E731
    return as_index(ptr), as_index(kinds), as_index(args)


def _step_cost(i, reads, causes, own, live, left, e_states):
    """`factor_programs`' greedy key for stepping cause position i next: the table's size
    (configurations of the exposures in it once i's have entered), then minus the
    exposures that could then leave, then the factor's order."""
    mine = reads[causes[i]] & own
    table = int(np.prod([e_states[e] for e in set(live) | mine]))
    after = [e for e in set(live) | mine if not any(e in reads[causes[j]] for j in left if j != i)]
    return table, -len(after), i


def build_tables(net, exposure_prob: Mapping[str, np.ndarray], cause_table: Mapping[str, np.ndarray],
                 link: Mapping[str, np.ndarray], leak: Mapping[str, np.ndarray],
                 twitch: Mapping[str, np.ndarray], spread: Mapping[str, np.ndarray] | None = None,
                 focal: Mapping[str, np.ndarray] | None = None) -> Tables:
    """The kernels' layout of networks of `net`'s shape whose arrays (the `Network`
    fields of those names) carry a leading draw axis of one common size D. `spread` and
    `focal` left out are `net`'s own, the same in every draw."""
    causes, exposures, findings = net.causes, net.exposures, net.findings
    n = len(causes)
    draws = len(next(iter(leak.values())))
    e_states = np.array([len(net.states[e]) for e in exposures], dtype=np.int64)
    n_states = np.array([len(net.states[f]) for f in findings], dtype=np.int64)
    kmax = int(n_states.max())
    pmf = np.zeros((draws, len(findings), n + 1, kmax))
    cum = np.ones((draws, len(findings), n + 1, kmax))
    group = np.full(len(findings), K.COMMON, dtype=np.int64)
    region_pos = np.full(len(findings), -1, dtype=np.int64)
    for i, r in enumerate(net.regions):
        group[findings.index(r)] = K.REGION
        region_pos[findings.index(r)] = i
    weak_on = np.zeros((draws, n + 1))
    if net.weak_finding is not None:
        for f in (net.weak_finding,) + tuple(net.weak_patterns):
            group[findings.index(f)] = K.WEAK
        weak = np.concatenate([np.asarray(link[net.weak_finding], dtype=float),
                               np.asarray(leak[net.weak_finding], dtype=float)[:, None, :]], axis=1)
        weak_on = weak[..., 1:].sum(axis=-1)  # P(not none), summed: no 1 - P(none) rounding
    for j, f in enumerate(findings):
        table = np.concatenate([np.asarray(link[f], dtype=float), np.asarray(leak[f], dtype=float)[:, None, :]], axis=1)
        if f == net.weak_finding:
            # the weakness finding given its latent W on: P(state | not none). Where W is
            # never on the row is unused (its branch weighs 0): any distribution will do.
            on = weak_on[..., None]
            table = np.divide(table, on, out=np.zeros_like(table), where=on > 0)
            table[..., 0] = 0.0
            table[..., 1] = np.where(on[..., 0] > 0, table[..., 1], 1.0)
        pmf[:, j, :, : n_states[j]] = table
        cum[:, j, :, : n_states[j]] = np.cumsum(table, axis=2)
        cum[:, j, :, n_states[j] - 1] = 1.0  # exactly, whatever the rounding of the sum
    switch = np.ones((draws, n + 1))
    for c_i, c in enumerate(causes):
        switch[:, c_i] = np.broadcast_to(np.asarray(twitch[c], dtype=float), (draws,))
    spread = net.spread if spread is None else spread
    focal = net.focal if focal is None else focal
    spread_t = np.ones((draws, n + 1))
    focal_t = np.zeros((draws, n + 1, len(net.regions)))
    for c_i, c in enumerate(causes):
        if c in spread:
            spread_t[:, c_i] = np.broadcast_to(np.asarray(spread[c], dtype=float), (draws,))
            focal_t[:, c_i] = np.broadcast_to(np.asarray(focal[c], dtype=float), (draws, len(net.regions)))
    e_prob = np.ones((draws, len(exposures), int(e_states.max(initial=0)) + 1))
    for i, e in enumerate(exposures):
        e_prob[:, i, : e_states[i]] = exposure_prob[e]
    flat, offsets = [], []
    strides = np.zeros((len(exposures), n), dtype=np.int64)
    size = 0
    for c_i, c in enumerate(causes):
        table = np.asarray(cause_table[c], dtype=float).reshape((draws,) + tuple(len(net.states[e]) for e in net.cause_parents[c]))
        parents = net.cause_parents[c]
        for axis, e in enumerate(parents):
            # the "unknown" slot: the exposure summed out over its distribution (per draw)
            view = [draws] + [1] * len(parents)
            view[axis + 1] = len(net.states[e])
            prob = np.asarray(exposure_prob[e], dtype=float).reshape(view)
            marginal = (table[(slice(None),) * (axis + 1) + (slice(0, view[axis + 1]),)] * prob).sum(axis=axis + 1, keepdims=True)
            table = np.concatenate([table, marginal], axis=axis + 1)
        stride = 1
        for axis in reversed(range(len(parents))):
            strides[exposures.index(parents[axis]), c_i] = stride
            stride *= table.shape[axis + 1]
        offsets.append(size)
        flat.append(table.reshape(draws, -1))
        size += flat[-1].shape[1]
    children = {e: sum(e in net.cause_parents[c] for c in causes) for e in exposures}
    shared = [i for i, e in enumerate(exposures) if children[e] >= 2]
    hubs, factors = factor_layout(net, shared, e_states)
    op_ptr, op_kind, op_arg = factor_programs(net, factors, e_states)
    as_index = lambda x: np.ascontiguousarray(x, dtype=np.int64)  # noqa: E731
    return Tables(
        flat=np.ascontiguousarray(np.concatenate(flat, axis=1)),
        offsets=as_index(offsets),
        strides=as_index(strides),
        e_prob=e_prob,
        e_states=e_states,
        cum=cum,
        pmf=pmf,
        n_states=n_states,
        regions=as_index([findings.index(r) for r in net.regions]),
        log_quiet=_log_quiet(cum, [findings.index(r) for r in net.regions]),
        twitch=switch,
        spread=spread_t,
        focal=focal_t,
        weak_on=np.ascontiguousarray(weak_on),
        group=group,
        region_pos=region_pos,
        hubs=as_index(hubs),
        fx_ptr=as_index(np.cumsum([0] + [len(ex) for ex, _ in factors])),
        fx_idx=as_index([e for ex, _ in factors for e in ex]),
        fc_ptr=as_index(np.cumsum([0] + [len(cs) for _, cs in factors])),
        fc_idx=as_index([c for _, cs in factors for c in cs]),
        op_ptr=op_ptr,
        op_kind=op_kind,
        op_arg=op_arg,
    )


def _log_quiet(cum: np.ndarray, regions: list[int]) -> np.ndarray:
    """log P(contribution = none) of every cause and the leak to each region (-inf where
    0): the premise "twitching somewhere" sums them over the regions not observed."""
    quiet = cum[:, regions][..., 0]  # (D, regions, n + 1)
    with np.errstate(divide="ignore"):
        return np.ascontiguousarray(np.log(quiet))


def network_tables(net) -> Tables:
    """`net` in the kernels' layout (one draw), built once per network (kept in its
    derived store)."""

    def build() -> Tables:
        one = lambda m: {k: np.asarray(v)[None] for k, v in m.items()}  # noqa: E731
        return build_tables(net, one(net.exposure_prob), one(net.cause_table), one(net.link), one(net.leak), one(net.twitch))

    return net.derived.get("tables", build)


def from_states(net, states: np.ndarray) -> Queries:
    """Queries observing node states: `states` is (Q, exposures + findings) in the order
    net.exposures then net.findings, -1 for unknown."""
    n_exp = len(net.exposures)
    n_states = network_tables(net).n_states
    exposure = states[:, :n_exp].astype(np.int64)
    obs = states[:, n_exp:].astype(np.int64)
    known = obs >= 0
    lo = np.where(known, obs, 0)
    hi = np.where(known, obs, n_states[None, :] - 1)
    return Queries(lo, hi, exposure, np.zeros((len(states), len(net.causes)), dtype=bool))


# ----------------------------------------------------------------------------------
# Answers
# ----------------------------------------------------------------------------------


def evaluate_many(net_or_tables, q: Queries, *, joint=True, bound: float = CANCELLATION_BOUND,
                  threads: bool | int | None = None):
    """P(query) and P(query, cause present) of every row of `q`, exactly.

    net_or_tables : a `Network` or `Tables` (for several draws: `q.draw` picks one).
    joint : whether to compute the joints: a bool, or one per row (a (Q,) mask).
    threads : run the rows on several threads: True for NUMBA_NUM_THREADS (the machine's
        cores unless set), a number for that many, False for the calling thread alone
        (default: True from PARALLEL_FROM rows, or from 2 rows when one is heavy:
        PARALLEL_WORK).
    Returns total (Q,), joint (Q, n) (0 where not asked; None if no row asked) and the
    path code of each row (PATHS).
    """
    return _evaluate(net_or_tables, q, joint, bound, threads, K.evaluate_rows)


def _evaluate(net_or_tables, q: Queries, joint, bound: float, threads, kernel):
    """`evaluate_many` with `kernel` first (`kernels.evaluate_rows`; `warm` also calls
    `kernels.evaluate_rare_rows` so), then `kernels.evaluate_rare_rows` on the rows it
    deferred."""
    if isinstance(net_or_tables, Tables):
        t = net_or_tables
        tables = t.kernel_tables()
    else:
        t = network_tables(net_or_tables)
        # the kernels' tuple of a network's tables, made once per network (a single case
        # is one call: rebuilding it reads 22 attributes every time)
        tables = net_or_tables.derived.get("kernel_tables", t.kernel_tables)
    n_q, n = len(q), len(t.offsets)
    # (writable: a read-only array is another type to Numba, and the kernels would compile
    # once more for it; np.broadcast_to gives one, contiguous for a single row)
    if (isinstance(joint, np.ndarray) and joint.dtype == np.bool_ and joint.shape == (n_q,)
            and joint.flags.c_contiguous and joint.flags.writeable):
        want = joint  # already the kernel's mask (`row_queries` gives one): no conversions
    else:
        want = np.array(np.broadcast_to(np.asarray(joint, dtype=bool), (n_q,)))
    total = np.zeros(n_q)
    out_joint = np.zeros((n_q, n))
    path = np.zeros(n_q, dtype=np.int8)
    used = np.zeros(n_q, dtype=np.int64)
    if n_q:
        draw = np.ascontiguousarray(q.draw, dtype=np.int64)
        # with one draw every row must read draw 0: one test instead of a min and a max
        if (draw.any() if t.draws == 1 else (draw.min() < 0 or draw.max() >= t.draws)):
            raise ValueError(f"draw: rows read draws up to {int(draw.max())}, but the tables hold {t.draws}")
        if threads is None:
            threads = n_q >= PARALLEL_FROM or (n_q > 1 and _heaviest(q) >= PARALLEL_WORK)
        rows = K.Rows(np.ascontiguousarray(q.lo, dtype=np.int64), np.ascontiguousarray(q.hi, dtype=np.int64),
                      np.ascontiguousarray(q.exposure, dtype=np.int64), np.ascontiguousarray(q.absent, dtype=np.bool_),
                      draw, want)
        answers = K.Answers(total, out_joint, path, used)
        n_threads = numba.config.NUMBA_NUM_THREADS if threads is True else int(threads)
        if kernel is K.evaluate_rows and K.evaluate_rare_rows in _LOADED:
            # the second kernel is loaded in this process already: it answers every row
            # with the same passes in the same order (the same digits:
            # tests/test_first_use.py), without deferring a row and laying it out again
            # (measured on 10^5-row batches: the deferrals cost 8-20%)
            kernel = K.evaluate_rare_rows
        _dispatch(kernel, rows, tables, float(bound), answers, n_threads)
    return total, (out_joint if want.any() else None), path


def _dispatch(kernel, rows: "K.Rows", tables: "K.Tables", bound: float, answers: "K.Answers", n_threads: int) -> None:
    """`kernel` on every row, on the calling thread or in chunks on `n_threads` threads;
    each chunk then answers the rows it deferred (`_finish_deferred`) on the same
    thread, so that a heavy row (a single case's own query, spread to a chunk of its
    own) goes on at once, beside the other chunks, not after them all."""
    if n_threads <= 1:
        _run(kernel, (*rows, *tables, bound, *answers))
        _finish_deferred(rows, tables, bound, answers)
        return
    n_q = len(rows.lo)
    n_chunks = min(n_q, n_threads * CHUNKS_PER_THREAD)
    edges = np.linspace(0, n_q, n_chunks + 1).astype(np.int64)

    def chunk(i):
        part = slice(edges[i], edges[i + 1])
        mine_rows, mine = K.Rows(*(a[part] for a in rows)), K.Answers(*(a[part] for a in answers))
        _run(kernel, (*mine_rows, *tables, bound, *mine))
        _finish_deferred(mine_rows, tables, bound, mine)

    for _ in _pool(n_threads).map(chunk, range(n_chunks)):
        pass


def _finish_deferred(rows: "K.Rows", tables: "K.Tables", bound: float, answers: "K.Answers") -> None:
    """The rows whose joints need `_sweep_r` (many positives with cancellation),
    deferred by the first kernel with the r their ladder reached: the second kernel,
    compiled on its first need (the comment above `kernels.evaluate_rows` says why),
    on copies of those rows, written back (`answers` are views of the caller's arrays)."""
    deferred = np.flatnonzero(answers.path == K.DEFERRED)
    if not deferred.size:
        return
    rare = K.Answers(*(a[deferred] for a in answers))
    _run(K.evaluate_rare_rows, (*(a[deferred] for a in rows), *tables, bound, *rare))
    for a, part in zip(answers, rare):
        a[deferred] = part


def _announce(notice: str) -> None:
    """Say once a process tree that a kernel is compiling (`notice`): a forked child
    inherits `_ANNOUNCED` (and `warm` lets the parent load the kernels before forking)."""
    if notice not in _ANNOUNCED:
        _ANNOUNCED.add(notice)
        sys.stderr.write(notice)
        sys.stderr.flush()


def _heaviest(q: Queries) -> int:
    """The largest positives + min(unknown exposures, UNKNOWN_EXPOSURES_CAP) of the rows
    (PARALLEL_WORK: whether a single case's rows go to the pool)."""
    work = (q.lo > 0).sum(axis=1) + np.minimum((q.exposure < 0).sum(axis=1), UNKNOWN_EXPOSURES_CAP)
    return int(work.max())


def _pool(n_threads: int) -> ThreadPoolExecutor:
    """This process's pool of `n_threads` engine threads (made on first use, and anew in
    a forked child, which inherits no threads)."""
    key = (os.getpid(), n_threads)
    with _POOL_LOCK:
        pool = _POOL.get(key)
        if pool is None:
            _POOL.clear()  # a forked child's copy of its parent's pool has no threads
            pool = _POOL[key] = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="twitchdx-engine")
    return pool


def _run(kernel, args) -> None:
    """Call `kernel`; on its first call in this process, announce a compilation that
    takes longer than COMPILE_NOTICE_AFTER (once: see `_announce`)."""
    if kernel in _LOADED:
        kernel(*args)
        return
    with _COMPILING:  # a first call compiles once, whichever thread makes it
        if kernel in _LOADED:
            kernel(*args)
            return
        notice = COMPILE_NOTICE if kernel is K.evaluate_rows else RARE_COMPILE_NOTICE
        timer = threading.Timer(COMPILE_NOTICE_AFTER, _announce, (notice,))
        timer.daemon = True
        timer.start()
        try:
            kernel(*args)
        finally:
            timer.cancel()
            _LOADED.add(kernel)


def warm(net) -> None:
    """Load (or, on the first use after install, compile) both kernels in this process,
    announcing a compilation once. Call it before forking workers (they inherit the
    loaded kernels and stay silent) and before timing anything."""
    q = query_rows(net, Query())
    for kernel in (K.evaluate_rows, K.evaluate_rare_rows):  # the second answers any row too
        if kernel not in _LOADED:
            _evaluate(net, q, False, CANCELLATION_BOUND, False, kernel)


def query_rows(net, query: Query) -> Queries:
    """A `Query` as rows whose totals and joints add up to its answer (one row per
    allowed combination of the exposures it restricts to more than one state)."""
    t = network_tables(net)
    lo = np.zeros(len(net.findings), dtype=np.int64)
    hi = t.n_states - 1
    for f, (a, b) in query.findings.items():
        j = net.findings.index(f)
        lo[j], hi[j] = a, b
    choices = []
    for e in net.exposures:
        allowed = query.exposures.get(e)
        k = len(net.states[e])
        choices.append((-1,) if allowed is None or set(allowed) == set(range(k)) else tuple(sorted(set(allowed))))
    combos = list(itertools.product(*choices))
    exposure = np.array(combos, dtype=np.int64).reshape(len(combos), len(net.exposures))
    rows = len(exposure)
    absent = np.array([[c in query.absent for c in net.causes]] * rows, dtype=bool).reshape(rows, len(net.causes))
    return Queries(np.tile(lo, (rows, 1)), np.tile(hi, (rows, 1)), exposure, absent)


def evaluate(net, query: Query, *, bound: float = CANCELLATION_BOUND) -> Answer:
    """P(query) and P(query, cause present) for one `Query` (premise on), exactly.
    (`bound` below 1 forces the subtraction-free coverage recursion.)"""
    if not query.premise:
        raise ValueError("premise: the engine answers queries that condition on twitching somewhere")
    q = query_rows(net, query)
    total, joint, path = evaluate_many(net, q, bound=bound)
    methods = {PATHS[int(p)] for p in path}
    return Answer(float(total.sum()), joint.sum(axis=0), "+".join(sorted(methods)))

