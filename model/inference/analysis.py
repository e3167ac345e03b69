"""Analysis: everything exact that evidence implies, for one row or many (docs/engine.md; the rule table of docs/model.md).

Node-level evidence rows go to the vectorised engine (`model.inference.engine.evaluate_many`):
each row's own query (with every cause's joint) and its "no rule of level >= k holds"
boxes (the same boxes as `model.network.rules`; totals only) in one call per 10,000 rows. The
result is the cause posteriors, P(level) and the engine's path of every row. `api`
(one case, questions) and `batch` (many cases) both stand on this module.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from ..network import rules as T
from . import levels as L
from .engine import PATHS, Queries, evaluate_many, from_states
from ..network.build import Network


@dataclass(frozen=True)
class Analysis:
    """Everything exact that one evidence set implies (internal)."""

    total: float  # P(evidence, twitching)
    causes: np.ndarray  # P(cause | evidence), network order
    triage: np.ndarray  # P(level | evidence), LEVELS order
    method: str


# Rows answered per engine call, their triage boxes with them: bounds the memory of the
# query arrays (the boxes multiply the rows by about 3 on the default mix, up to a few
# dozen; 20,000 rows a call peaked at 1.7 GB on a 10^5-case batch).
ROWS_PER_CALL = 10_000


# Batches of at least this many rows show a progress bar on a terminal (stderr).
PROGRESS_FROM = 100_000


# Evidence patterns (on the nodes the rules read) whose triage boxes are remembered per
# network: a bound on that memo's memory.
BOX_MEMO = 200_000


HOLDS = "holds"



def node_states(net, rows: Sequence[Mapping[str, str]]) -> np.ndarray:
    """Node-level evidence (node -> state name, as `encode` gives) as state rows
    (rows, exposures + findings), -1 unknown: the layout of `engine.from_states`."""
    # node -> (column, state name -> state index), once per network
    index = net.derived.get("state_index", lambda: {n: (j, {s: i for i, s in enumerate(net.states[n])})
                                                    for j, n in enumerate(net.exposures + net.findings)})
    # the rows are filled as Python lists and made an array once: writing an int8
    # array one element at a time costs a numpy call an item (a case has about 60)
    unknown = [-1] * len(index)
    out = []
    for row in rows:
        filled = unknown.copy()
        for node, state in row.items():
            j, states = index[node]
            filled[j] = states[state]
        out.append(filled)
    return np.array(out, dtype=np.int8).reshape(len(rows), len(index))


def _rule_nodes(net) -> list[str]:
    return sorted({node for r in net.triage.rules for conj in r.conjunctions for node, _ in conj})


def _box_overrides(net, box: Mapping[str, frozenset[int]]):
    """A box as the list of its disjoint pieces, each (finding ranges, exposure states),
    keyed by the node's column in `Queries.lo`/`hi` and `Queries.exposure`."""
    layout = _box_layout(net)
    findings, exposures = [], []
    for node, cell in box.items():
        if node in net.exposure_prob:
            exposures.append([(layout.e_index[node], s) for s in sorted(cell)])
        else:
            findings.append([(layout.f_index[node], r) for r in T.runs(cell)])
    return [(dict(f), dict(e)) for f in itertools.product(*findings) for e in itertools.product(*exposures)]


@dataclass(frozen=True)
class _BoxLayout:
    """What `level_boxes` reads of the network on every call, derived once per network
    (kept in its derived store): a single case is one call, and rebuilding these costs
    more than the case's own boxes.

    levels : per level k = routine..emergency, (the conjunctions of the rules of level
        >= k, the nodes they read, sorted, and those nodes' columns in a state row).
    f_index, e_index : a finding's column in `Queries.lo`/`hi`, an exposure's in
        `Queries.exposure`.
    cause_levels : (1, n) the triage level of each cause, network order.
    """

    levels: tuple[tuple[list, list[str], list[int]], ...]
    f_index: dict[str, int]
    e_index: dict[str, int]
    cause_levels: np.ndarray


def _box_layout(net) -> _BoxLayout:
    # the checked rules are fetched first: a build must not ask the store for another
    # value (its lock is held while building, and is not reentrant)
    tri = net.triage

    def build() -> _BoxLayout:
        order = {node: j for j, node in enumerate(net.exposures + net.findings)}
        levels = []
        for k in range(1, len(T.LEVELS)):
            conjunctions = [c for r in tri.rules if r.level >= k for c in r.conjunctions]
            nodes = sorted({node for conj in conjunctions for node, _ in conj})
            levels.append((conjunctions, nodes, [order[n] for n in nodes]))
        return _BoxLayout(
            levels=tuple(levels),
            f_index={f: j for j, f in enumerate(net.findings)},
            e_index={e: j for j, e in enumerate(net.exposures)},
            cause_levels=np.array([[net.cause_level[c] for c in net.causes]]),
        )

    return net.derived.get("box_layout", build)


def level_boxes(net, base: Queries, states: np.ndarray):
    """The "no rule of level >= k holds" boxes of every row, k = routine..emergency, as
    queries that also force the causes of level >= k absent (docs/model.md).

    Returns the queries, the row and level index (0: routine) each belongs to, and
    `holds` (rows, 3): a rule of level >= k already holds on the row's observed nodes.
    """
    layout = _box_layout(net)
    holds = np.zeros((len(states), len(T.LEVELS) - 1), dtype=bool)
    pieces, q_rows, q_level = [], [], []
    # one case (infer): its row as a Python list, read by column below (no array
    # indexing per level; a pattern is a tuple of Python ints either way)
    single = states[0].tolist() if len(states) == 1 else None
    for k, (conjunctions, nodes, columns) in enumerate(layout.levels, start=1):
        # rows that agree on the nodes these rules read share their boxes
        if single is not None:  # one case: nothing to share, skip the sort
            patterns = [tuple([single[c] for c in columns])]
            rows_of, bounds = np.zeros(1, dtype=np.int64), (0, 1)
        else:
            keys, inverse = np.unique(states[:, columns], axis=0, return_inverse=True)
            patterns = [tuple(key) for key in keys.tolist()]
            inverse = inverse.ravel()
            rows_of = np.argsort(inverse, kind="stable")
            bounds = np.searchsorted(inverse[rows_of], np.arange(len(keys) + 1))
        # what this derives from the network (the boxes of the evidence patterns seen)
        # is kept in its derived store, at most BOX_MEMO patterns a level
        memo = net.derived.memo(("boxes", k), BOX_MEMO)
        # many patterns leave the same conjunctions open (most values of a node fail its
        # atoms alike): the Shannon expansion is done once per such set
        by_live = net.derived.memo(("boxes_of_live", k), BOX_MEMO)
        for g, key_t in enumerate(patterns):
            got = memo.get(key_t)
            if got is None:
                observed = {n: int(s) for n, s in zip(nodes, key_t) if s >= 0}
                live = T.live_conjunctions(conjunctions, observed)
                if live is None:  # a rule already holds on the observed nodes
                    got = HOLDS
                else:
                    got = by_live.get(live)
                    if got is None:
                        got = by_live.put(live, [p for box in T.expand_boxes(net, list(live), {}) for p in _box_overrides(net, box)])
                memo.put(key_t, got)
            rows = rows_of[bounds[g] : bounds[g + 1]]
            if got is HOLDS:
                holds[rows, k - 1] = True
                continue
            for piece in got:
                pieces.append(piece)
                q_rows.append(rows)
                q_level.append(k - 1)
    if not q_rows:
        empty = np.zeros(0, dtype=np.int64)
        return base.take(empty), empty, empty, holds
    sizes = np.array([len(r) for r in q_rows])
    rows_all = np.concatenate(q_rows)
    level = np.repeat(np.array(q_level), sizes)
    lo, hi = base.lo[rows_all], base.hi[rows_all]
    exposure = base.exposure[rows_all]
    start = 0
    for (ranges, fixed), size in zip(pieces, sizes):  # each piece's rows are one slice
        part = slice(start, start + size)
        for j, (a, b) in ranges.items():
            lo[part, j] = a
            hi[part, j] = b
        for j, s in fixed.items():
            exposure[part, j] = s
        start += size
    absent = layout.cause_levels >= (level[:, None] + 1)  # (boxes, n): the causes of level >= k
    return Queries(lo, hi, exposure, absent), rows_all, level, holds


@dataclass(frozen=True)
class RowQueries:
    """What `infer` asks the engine for node-state rows: each row's own query (its
    joints wanted), then its triage boxes (totals only). The one query builder: the
    analysis, the uncertainty's draws and the benchmarks read it.

    queries : the rows' queries then the boxes'; joint : the mask of the rows' own;
    box_row, box_level : the row and level index (0: routine) of each box; holds
    (rows, 3): a rule of level >= k already holds on the row (its box is not asked).
    """

    queries: Queries
    n_rows: int
    joint: np.ndarray
    box_row: np.ndarray
    box_level: np.ndarray
    holds: np.ndarray

    def safe(self, totals: np.ndarray) -> np.ndarray:
        """P(row, no rule of level >= k holds, causes of level >= k absent) (rows, 3)
        from the totals of every query (0 where a rule of level >= k holds)."""
        safe = np.zeros((self.n_rows, len(T.LEVELS) - 1))
        np.add.at(safe, (self.box_row, self.box_level), totals[self.n_rows:])
        return safe


def row_queries(net, states: np.ndarray, *, triage: bool = True) -> RowQueries:
    """The queries of node-state rows (`node_states`), with their triage boxes unless
    `triage` is False."""
    q = from_states(net, states)
    if triage:
        boxes, box_row, box_level, holds = level_boxes(net, q, states)
        both = q.concat(boxes)
    else:
        both, box_row, box_level = q, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        holds = np.zeros((len(states), len(T.LEVELS) - 1), dtype=bool)
    mask = np.zeros(len(both), dtype=bool)
    mask[: len(states)] = True
    return RowQueries(both, len(states), mask, box_row, box_level, holds)


def _raw_many(net, part: np.ndarray, triage: bool):
    """One engine call for state rows: P(row) (rows,), P(row, cause) (rows, n), the path
    code of each row, and the safe masses (`RowQueries.safe`)."""
    asked = row_queries(net, part, triage=triage)
    total_all, joint, path = evaluate_many(net, asked.queries, joint=asked.joint)
    n = asked.n_rows
    return total_all[:n], joint[:n], path[:n], asked.safe(total_all)


def analyse_many(net, states: np.ndarray, *, triage: bool = True):
    """Exact posteriors (rows, n) and triage distribution (rows, 4) of node-state rows;
    also P(evidence) per row (0: impossible evidence) and the engine path of each row's
    own query (`evaluate_many`'s codes).

    The rows' own queries (with the joint of every cause) and their triage boxes (totals
    only) go to the engine in one call, so that a single case costs one call too."""
    causes = np.zeros((len(states), len(net.causes)))
    levels = np.full((len(states), len(T.LEVELS)), np.nan)
    totals = np.zeros(len(states))
    paths = np.zeros(len(states), dtype=np.int8)
    bar = tqdm(total=len(states), desc="cases", unit="case", disable=None) if len(states) >= PROGRESS_FROM else None
    for start in range(0, len(states), ROWS_PER_CALL):
        part = states[start : start + ROWS_PER_CALL]
        n_part = len(part)
        total, joint, path, safe = _raw_many(net, part, triage)
        paths[start : start + n_part] = path
        with np.errstate(divide="ignore", invalid="ignore"):
            causes[start : start + n_part] = np.clip(joint / total[:, None], 0.0, 1.0)
        totals[start : start + n_part] = total
        if triage:
            ok = total > 0
            levels[start + np.flatnonzero(ok)] = L.distribution(L.at_least(safe[ok], total[ok]))
        if bar is not None:
            bar.update(n_part)
    if bar is not None:
        bar.close()
    return totals, causes, levels, paths


# A combination of signed terms (inclusion-exclusion over "at least one of these signs")
# whose size is at most this share of the sum of the terms' sizes is rounding, not
# probability: it is 0 (a yes to the red-flag screen leaves exactly no mass below
# emergency, not 1e-17 of it).
CANCELLED = 1e-12


class Combination(tuple):
    """A signed sum of evidence rows, ((sign, evidence), ...), answered as one row by
    `analyse_evidence`: P(e1) - P(e2) - ... with the joints and the triage boxes alike
    (an answer that is the rest of a question's answers: "two or more of these signs" is
    P(e) minus P(e, none) minus P(e, exactly one of them), each exact)."""


def _terms(net, e) -> list[tuple[float, dict[str, str]]]:
    """The signed node-level rows of one evidence, a Combination or an `Evidence` whose
    groups (any_of) expand by inclusion-exclusion."""
    if isinstance(e, Combination):
        return [(sign * s, row) for sign, part in e for s, row in _terms(net, part)]
    base = e.nodes() if hasattr(e, "nodes") else dict(e)
    groups = getattr(e, "any_of", ())
    out = []
    for r in range(len(groups) + 1):
        for chosen in itertools.combinations(groups, r):
            row = dict(base)
            for g in chosen:
                row.update({n: net.states[n][0] for n in g})  # each sign's "no"
            out.append((-1.0 if r % 2 else 1.0, row))
    return out


def analyse_evidence(net, evidences: Sequence, *, triage: bool = True):
    """`analyse_many` for evidence that may hold groups of which at least one sign is
    present (`Evidence.any_of`): each such row is P(e) minus P(e, the group all absent),
    and for several groups the inclusion-exclusion over their subsets, with the joints
    and the triage boxes combined likewise; a `Combination` is its signed sum. Every
    distinct row of every evidence is answered once, in ONE engine call (a chunk of
    `ROWS_PER_CALL` rows). Returns totals, causes, levels as `analyse_many` (paths
    omitted)."""
    index: dict[tuple, int] = {}
    rows, owner, sign, which = [], [], [], []
    for i, e in enumerate(evidences):
        for sg, row in _terms(net, e):
            # equal rows are answered once: an `Evidence` keeps its nodes sorted, so equal
            # rows have equal items in the same order (a row met in another order is only
            # answered twice, the same way)
            key = tuple(row.items())
            j = index.get(key)
            if j is None:
                j = index[key] = len(rows)
                rows.append(row)
            owner.append(i)
            sign.append(sg)
            which.append(j)
    states = node_states(net, rows)
    t_all = np.zeros(len(rows))
    j_all = np.zeros((len(rows), len(net.causes)))
    s_all = np.zeros((len(rows), len(T.LEVELS) - 1))
    for start in range(0, len(states), ROWS_PER_CALL):
        part = slice(start, start + ROWS_PER_CALL)
        t_all[part], j_all[part], _, s_all[part] = _raw_many(net, states[part], triage)
    owner_a, sign_a, which_a = np.array(owner, dtype=np.int64), np.array(sign), np.array(which, dtype=np.int64)
    n = len(evidences)
    total = np.zeros(n)
    joint = np.zeros((n, len(net.causes)))
    safe = np.zeros((n, len(T.LEVELS) - 1))
    size_t, size_s = np.zeros(n), np.zeros((n, len(T.LEVELS) - 1))
    t, j, sf = t_all[which_a], j_all[which_a], s_all[which_a]
    np.add.at(total, owner_a, sign_a * t)
    np.add.at(joint, owner_a, sign_a[:, None] * j)
    np.add.at(safe, owner_a, sign_a[:, None] * sf)
    np.add.at(size_t, owner_a, t)
    np.add.at(size_s, owner_a, sf)
    total = np.where(total <= CANCELLED * size_t, 0.0, total)
    safe = np.where(np.abs(safe) <= CANCELLED * size_s, 0.0, np.maximum(safe, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        causes = np.clip(joint / total[:, None], 0.0, 1.0)
    joint = np.clip(joint, 0.0, None)
    levels = np.full((n, len(T.LEVELS)), np.nan)
    if triage:
        ok = total > 0
        levels[ok] = L.distribution(L.at_least(safe[ok], total[ok]))
    return total, np.where(total[:, None] > 0, causes, 0.0), levels


def impossible_error(net: Network, evidence: Mapping[str, str]) -> ValueError:
    """Name a smallest set of evidence items that together have probability 0."""
    items = dict(evidence)
    for node in list(items):
        trial = {k: v for k, v in items.items() if k != node}
        if analyse_many(net, node_states(net, [trial]), triage=False)[0][0] == 0.0:
            items = trial
    conflict = ", ".join(f"{k}={v}" for k, v in items.items()) or "twitching (every region has probability 0)"
    return ValueError(f"evidence is impossible under the model: {conflict} cannot occur together")


def analyse(net: Network, evidence: Mapping[str, str], *, triage: bool = True) -> Analysis:
    """Exact cause posteriors and triage distribution for node-level evidence.

    The case's own query and its triage boxes go to the vectorised engine in one call
    (`analyse_many` on one row), the same path a batch takes. Evidence with groups of
    which at least one sign is present (`Evidence.any_of`) is answered exactly by
    `analyse_evidence`."""
    if getattr(evidence, "any_of", ()):
        total, causes, levels = analyse_evidence(net, [evidence], triage=triage)
        if not total[0] > 0.0:
            raise impossible_error(net, evidence.nodes())
        return Analysis(float(total[0]), causes[0], levels[0], "inclusion-exclusion")
    # one row: `analyse_many`'s arithmetic without its chunks, progress bar and buffers
    # (on full evidence they cost as much as the exact sums)
    total, joint, path, safe = _raw_many(net, node_states(net, [evidence]), triage)
    t = float(total[0])
    if not t > 0.0:
        raise impossible_error(net, evidence)
    causes = np.clip(joint[0] / t, 0.0, 1.0)
    levels = L.distribution(L.at_least(safe, total))[0] if triage else np.full(len(T.LEVELS), np.nan)
    return Analysis(t, causes, levels, PATHS[int(path[0])])


def apply_recalibration(probs: np.ndarray, recalibration: Callable[[float], float] | None) -> np.ndarray:
    """docs/validation.md: map urgency, rescale soon and emergency in proportion to match it, and
    self_care and routine in proportion to the rest. Without a map, `probs` unchanged."""
    if recalibration is None:
        return probs
    u, k = L.urgency(probs), L.URGENT
    target = float(np.clip(recalibration(u), 0.0, 1.0))
    out = np.empty(len(probs))
    # where a pair has no mass, the new mass goes to its less severe level
    out[k:] = probs[k:] * (target / u) if u > 0 else [target, 0.0]
    out[:k] = probs[:k] * ((1 - target) / (1 - u)) if u < 1 else [1 - target, 0.0]
    return out
