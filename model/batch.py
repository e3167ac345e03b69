"""Batches: one case a row (SPEC §7.10), answered by the vectorised engine.

A batch is encoded column by column (each distinct value of a column once), turned
into query arrays, and answered by `model.batched.evaluate_many`: each row's own query
(with every cause's joint) and its "no rule of level >= k holds" boxes (the same boxes
as `model.triage`; totals only) in one call per 10,000 rows. A single case takes the
same path as a batch of one row. Rows whose encoding fails, or whose evidence is
impossible, are reported in `errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import triage as T
from . import vocabulary as V
from .batched import Queries, evaluate_many, from_states
from .evidence import ALL_KEYS, _one, encode, is_label_column, is_missing, unknown_key_message

# Rows answered per engine call, their triage boxes with them: bounds the memory of the
# query arrays (the boxes multiply the rows by about 3 on the default mix, up to a few
# dozen; 20,000 rows a call peaked at 1.7 GB on a 10^5-case batch).
ROWS_PER_CALL = 10_000
# Evidence patterns (on the nodes the rules read) whose triage boxes are remembered per
# network: a bound on that memo's memory.
BOX_MEMO = 200_000
HOLDS = "holds"


@dataclass(frozen=True, repr=False)
class BatchResult:
    """Results for many cases, one row a case, indexed like the input (SPEC §7.10).

    causes : P(cause present | row's evidence), one column a cause (network order).
    triage : P(level | row's evidence), columns self_care ... emergency.
    urgency, advice : Series.
    errors : the rows that could not be taken (columns `row`, `error`).

    With ``errors="collect"`` every input row is kept: a row that failed is NaN in
    `causes`, `triage` and `urgency` and missing in `advice`, and `errors` says why
    (`ok` marks the rows answered). ``batch[i]`` (position) and ``batch.loc[label]``
    give that row's `Result`, with `explain()` and `next_questions()`: the same as
    `infer()` on the row.
    """

    causes: pd.DataFrame
    triage: pd.DataFrame
    urgency: pd.Series
    advice: pd.Series
    errors: pd.DataFrame
    network: Any = field(default=None, compare=False)
    # node states of every row (rows, exposures + findings), -1 unknown
    states: np.ndarray | None = field(default=None, compare=False)
    recalibration: Any = field(default=None, compare=False)
    set_aside: tuple[str, ...] = ()  # label columns of a sampled case set, not read

    def __len__(self) -> int:
        return len(self.causes)

    def __repr__(self) -> str:
        return f"BatchResult({len(self.causes)} cases, {len(self.errors)} errors)"

    @property
    def ok(self) -> pd.Series:
        """True for the rows that were answered (False: see `errors`)."""
        return pd.Series(self.urgency.notna().to_numpy(), index=self.urgency.index, name="ok")

    def __getitem__(self, position: int):
        """The `Result` of the row at `position` (0-based, negative from the end)."""
        if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
            raise TypeError(
                f"BatchResult[{position!r}]: give a row position (an int); use batch.loc[label] for a row label"
            )
        n = len(self.causes)
        if not -n <= position < n:
            raise IndexError(f"row position {position} is outside the batch of {n} rows")
        return self._result(int(position) % n)

    @property
    def loc(self) -> "_RowsByLabel":
        """``batch.loc[label]``: the `Result` of the row with that index label."""
        return _RowsByLabel(self)

    def _result(self, position: int):
        label = self.causes.index[position]
        if not bool(self.ok.iloc[position]):
            reason = self.errors.loc[self.errors["row"] == label, "error"]
            raise ValueError(f"row {label}: no result: {reason.iloc[0] if len(reason) else 'not answered'}")
        if self.network is None or self.states is None:
            raise ValueError("this BatchResult keeps no evidence: build it with infer() to get a row's Result")
        from .api import infer

        nodes = self.network.exposures + self.network.findings
        evidence = {n: self.network.states[n][s] for n, s in zip(nodes, self.states[position]) if s >= 0}
        return infer(evidence, network=self.network, recalibration=self.recalibration)

    def _repr_html_(self) -> str:
        from .display import batch_html

        return batch_html(self)


class _RowsByLabel:
    """The `loc` indexer of a `BatchResult`: a row label -> that row's `Result`."""

    def __init__(self, batch: BatchResult):
        self._batch = batch

    def __getitem__(self, label):
        index = self._batch.causes.index
        try:
            position = index.get_loc(label)
        except KeyError:
            raise KeyError(f"{label!r} is not a row label of this batch") from None
        if not isinstance(position, (int, np.integer)):
            raise KeyError(f"{label!r} labels more than one row of this batch; use batch[position]")
        return self._batch._result(int(position))


def _frame(evidence) -> tuple[pd.DataFrame, list | None, dict[int, str]]:
    """The batch as a DataFrame, the original rows (a list input), and the rows that are
    not dicts (position -> message: they are bad rows, not a failed batch)."""
    if isinstance(evidence, pd.DataFrame):
        return evidence, None, {}
    rows = list(evidence)
    bad = {}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            bad[i] = f"expected a dict of evidence, got {type(row).__name__}"
    clean = [row if i not in bad else {} for i, row in enumerate(rows)]
    frame = pd.DataFrame.from_records(clean, columns=list(dict.fromkeys(k for row in clean for k in row)))
    frame.index = pd.RangeIndex(len(rows))
    return frame, clean, bad


def _hashable(value: Any):
    """A dict key for a cell value: equal values share a key; a value that cannot be
    hashed gets a key of its own (it is encoded on its own)."""
    key = ("__seq__", type(value).__name__, tuple(value)) if isinstance(value, list) else value
    try:
        hash(key)
    except TypeError:
        return ("__id__", id(value))
    return key


def encode_frame(net, frame: pd.DataFrame, records: list | None = None) -> tuple[np.ndarray, dict[int, str]]:
    """Node states of every row: (rows, exposures + findings) int8, -1 unknown, and the
    bad rows (position -> the message `encode` gives for that row).

    Each distinct value of a column is encoded once; rows that set one node from two
    columns, or whose values fail, go through `encode` whole, so every row gets
    exactly the states and the message a single `encode(row, batch=True)` gives
    (`records`: the original rows, when the frame was built from a list of dicts).
    """
    order = {node: j for j, node in enumerate(net.exposures + net.findings)}
    n_rows = len(frame)
    states = np.full((n_rows, len(order)), -1, dtype=np.int8)
    setters = np.zeros((n_rows, len(order)), dtype=np.int16)
    slow = np.zeros(n_rows, dtype=bool)
    for col in frame.columns:
        values = frame[col].to_numpy(dtype=object)
        if not isinstance(col, str) or col not in ALL_KEYS:
            slow |= ~np.array([is_missing(v) for v in values], dtype=bool)
            continue
        memo: dict = {}
        for i, v in enumerate(values):
            key = _hashable(v)
            got = memo.get(key)
            if got is None:
                if is_missing(v):
                    got = memo[key] = ()
                else:
                    try:
                        got = memo[key] = tuple((order[n], net.states[n].index(s)) for n, s in _one_item(col, v))
                    except ValueError:
                        got = memo[key] = None
            if got is None:
                slow[i] = True
                continue
            for j, s in got:
                states[i, j] = s
                setters[i, j] += 1
    slow |= (setters > 1).any(axis=1)
    for exposure, through in getattr(V, "ACTS_THROUGH", {}).items():
        # an exposure said present while every exposure it acts through is absent is
        # `encode`'s error: such rows take the whole-row path to get its message
        if exposure in order and all(t in order for t in through):
            cols = [order[t] for t in through]
            slow |= (states[:, order[exposure]] == 1) & (states[:, cols] == 0).all(axis=1)
    regions = [order[r] for r in net.regions]
    slow |= (states[:, regions] == 0).all(axis=1)
    bad: dict[int, str] = {}
    if records is not None:
        slow_rows = [records[i] for i in np.flatnonzero(slow)]
    else:  # a DataFrame's empty cells are unknown: leave them out of the row
        slow_rows = frame.iloc[np.flatnonzero(slow)].to_dict(orient="records") if slow.any() else []
        slow_rows = [{k: v for k, v in row.items() if not is_missing(v)} for row in slow_rows]
    for i, row in zip(np.flatnonzero(slow), slow_rows):
        states[i] = -1
        try:
            for node, s in encode(row, batch=True).items():
                states[i, order[node]] = net.states[node].index(s)
        except ValueError as e:
            bad[int(i)] = str(e)
    return states, bad


def node_states(net, rows: Sequence[Mapping[str, str]]) -> np.ndarray:
    """Node-level evidence (node -> state name, as `encode` gives) as state rows
    (rows, exposures + findings), -1 unknown: the layout of `batched.from_states`."""
    index = net._cache.get("state_index")
    if index is None:  # node -> (column, state name -> state index)
        index = {n: (j, {s: i for i, s in enumerate(net.states[n])}) for j, n in enumerate(net.exposures + net.findings)}
        net._cache["state_index"] = index
    out = np.full((len(rows), len(index)), -1, dtype=np.int8)
    for r, row in enumerate(rows):
        for node, state in row.items():
            j, states = index[node]
            out[r, j] = states[state]
    return out


def _one_item(key: str, value: Any):
    """The node states one evidence item sets (what `encode` does for one key)."""
    return _one(key, value).items()


def _rule_nodes(net) -> list[str]:
    return sorted({node for r in T.triage_of(net).rules for conj in r.conjunctions for node, _ in conj})


def _box_overrides(net, box: Mapping[str, frozenset[int]]):
    """A box as the list of its disjoint pieces, each (finding ranges, exposure states)."""
    import itertools

    findings, exposures = [], []
    for node, cell in box.items():
        if node in net.exposure_prob:
            exposures.append([(node, s) for s in sorted(cell)])
        else:
            findings.append([(node, r) for r in T._runs(cell)])
    return [(dict(f), dict(e)) for f in itertools.product(*findings) for e in itertools.product(*exposures)]


def _level_boxes(net, base: Queries, states: np.ndarray):
    """The "no rule of level >= k holds" boxes of every row, k = routine..emergency, as
    queries that also force the causes of level >= k absent (SPEC §7.6).

    Returns the queries, the row and level index (0: routine) each belongs to, and
    `holds` (rows, 3): a rule of level >= k already holds on the row's observed nodes.
    """
    tri = T.triage_of(net)
    order = {node: j for j, node in enumerate(net.exposures + net.findings)}
    f_index = {f: j for j, f in enumerate(net.findings)}
    e_index = {e: j for j, e in enumerate(net.exposures)}
    holds = np.zeros((len(states), len(T.LEVELS) - 1), dtype=bool)
    pieces, q_rows, q_level = [], [], []
    for k in range(1, len(T.LEVELS)):
        conjunctions = [c for r in tri.rules if r.level >= k for c in r.conjunctions]
        # rows that agree on the nodes these rules read share their boxes
        nodes = sorted({node for conj in conjunctions for node, _ in conj})
        on_nodes = states[:, [order[n] for n in nodes]]
        if len(states) == 1:  # one case (infer): nothing to share, skip the sort
            keys, rows_of, bounds = on_nodes, np.zeros(1, dtype=np.int64), np.array([0, 1])
        else:
            keys, inverse = np.unique(on_nodes, axis=0, return_inverse=True)
            inverse = inverse.ravel()
            rows_of = np.argsort(inverse, kind="stable")
            bounds = np.searchsorted(inverse[rows_of], np.arange(len(keys) + 1))
        memo = net._cache.setdefault(("boxes", k), {})
        # many patterns leave the same conjunctions open (most values of a node fail its
        # atoms alike): the Shannon expansion is done once per such set
        by_live = net._cache.setdefault(("boxes_of_live", k), {})
        for g, key in enumerate(keys):
            key_t = tuple(key.tolist())
            got = memo.get(key_t)
            if got is None:
                observed = {n: int(s) for n, s in zip(nodes, key_t) if s >= 0}
                live = T.live_conjunctions(conjunctions, observed)
                if live is None:  # a rule already holds on the observed nodes
                    got = HOLDS
                else:
                    got = by_live.get(live)
                    if got is None:
                        got = [p for box in T._expand(net, list(live), {}) for p in _box_overrides(net, box)]
                        if len(by_live) < BOX_MEMO:
                            by_live[live] = got
                if len(memo) < BOX_MEMO:
                    memo[key_t] = got
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
        for node, (a, b) in ranges.items():
            lo[part, f_index[node]] = a
            hi[part, f_index[node]] = b
        for node, s in fixed.items():
            exposure[part, e_index[node]] = s
        start += size
    levels = np.array([[net.cause_level[c] for c in net.causes]])
    absent = levels >= (level[:, None] + 1)  # (boxes, n): the causes of level >= k
    return Queries(lo, hi, exposure, absent), rows_all, level, holds


def _at_least(safe: np.ndarray, holds: np.ndarray, total: np.ndarray) -> np.ndarray:
    """P(level >= k) = 1 - P(safe box, causes of level >= k absent) / P(evidence), made
    monotone in k (rounding), for rows (rows, 3)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(holds, 1.0, 1.0 - safe / total[:, None])
    return np.clip(np.minimum.accumulate(out, axis=1), 0.0, 1.0)


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
    for start in range(0, len(states), ROWS_PER_CALL):
        part = states[start : start + ROWS_PER_CALL]
        n_part = len(part)
        q = from_states(net, part)
        if triage:
            boxes, rows, level, holds = _level_boxes(net, q, part)
            both = q.concat(boxes)
        else:
            both = q
        mask = np.zeros(len(both), dtype=bool)
        mask[:n_part] = True
        total_all, joint, path = evaluate_many(net, both, joint=mask)
        total = total_all[:n_part]
        paths[start : start + n_part] = path[:n_part]
        with np.errstate(divide="ignore", invalid="ignore"):
            causes[start : start + n_part] = np.clip(joint[:n_part] / total[:, None], 0.0, 1.0)
        totals[start : start + n_part] = total
        if triage:
            safe = np.zeros(holds.shape)
            np.add.at(safe, (rows, level), total_all[n_part:])
            ok = total > 0
            ge = _at_least(safe[ok], holds[ok], total[ok])
            levels[start + np.flatnonzero(ok)] = _distribution(ge)
    return totals, causes, levels, paths


def _distribution(at_least: np.ndarray) -> np.ndarray:
    """P(level) (rows, 4) from P(level >= k) (rows, 3): `triage.distribution`, every row."""
    n = len(at_least)
    ge = np.concatenate([np.ones((n, 1)), at_least, np.zeros((n, 1))], axis=1)
    return np.clip(ge[:, :-1] - ge[:, 1:], 0.0, 1.0)


def _bad_rows_message(bad: Mapping[int, str], labels: list, columns: Mapping[Any, list[int]]) -> str:
    """One message for ``errors="raise"``: a column that is not an evidence key once (with
    its rows), then the first other bad rows; a list of allowed values is given once."""
    parts, seen_lists = [], set()
    covered = {i for rows in columns.values() for i in rows}
    for col, rows in columns.items():
        shown = ", ".join(str(labels[i]) for i in rows[:3]) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")
        parts.append(f"column {unknown_key_message(col)} (row{'s' if len(rows) > 1 else ''} {shown})")
    rest = [(i, msg) for i, msg in sorted(bad.items()) if i not in covered]
    shown_rows = rest[: max(0, 3 - len(parts))]
    for i, msg in shown_rows:
        cut = msg.find("allowed: ")
        if cut >= 0:
            if msg[cut:] in seen_lists:
                msg = msg[:cut] + "allowed: as above"
            else:
                seen_lists.add(msg[cut:])
        parts.append(f"row {labels[i]}: {msg}")
    left = len(rest) - len(shown_rows)
    more = f" (and {left} more)" if left > 0 else ""
    return f"{len(bad)} bad rows: {'; '.join(parts)}{more}"


def infer_batch(evidence: Sequence[Mapping[str, Any]] | pd.DataFrame, *, network, errors: str = "raise", recalibration=None) -> BatchResult:
    """Infer every row (SPEC §7.10): exact, vectorised, equal to `infer` row by row.

    The label columns of a sampled case set (`model.synthetic.sample_cases`: true_level,
    primary, responsible, present, present:<cause>) are set aside, not read as evidence
    (`BatchResult.set_aside` names them). With ``errors="collect"`` every row is kept,
    in the input's order and index; a failed row is NaN, and `errors` says why.
    """
    from .api import _impossible, apply_recalibration

    if errors not in ("raise", "collect"):
        raise ValueError(f"errors: {errors!r} is not one of raise, collect")
    net = network
    frame, records, not_dicts = _frame(evidence)
    labels = list(frame.index)
    set_aside = tuple(c for c in frame.columns if is_label_column(c))
    if set_aside:
        frame = frame.drop(columns=list(set_aside))
        if records is not None:
            records = [{k: v for k, v in row.items() if not is_label_column(k)} for row in records]
    # a DataFrame's column that is no evidence key is named once, with the rows it fills
    unknown_columns: dict[Any, list[int]] = {}
    if isinstance(evidence, pd.DataFrame):
        for col in frame.columns:
            if not (isinstance(col, str) and col in ALL_KEYS):
                rows = [i for i, v in enumerate(frame[col].to_numpy(dtype=object)) if not is_missing(v)]
                if rows:
                    unknown_columns[col] = rows
    states, bad = encode_frame(net, frame, records)
    bad.update(not_dicts)
    good = np.array([i for i in range(len(frame)) if i not in bad], dtype=np.int64)
    totals, causes, levels, _ = analyse_many(net, states[good])
    nodes = net.exposures + net.findings
    for i in np.flatnonzero(totals == 0):  # impossible evidence: name the conflict
        row = good[i]
        evidence_row = {n: net.states[n][s] for n, s in zip(nodes, states[row]) if s >= 0}
        bad[int(row)] = str(_impossible(net, evidence_row))
    keep = totals > 0
    good, causes, levels = good[keep], causes[keep], levels[keep]
    if bad and errors == "raise":
        raise ValueError(_bad_rows_message(bad, labels, unknown_columns))
    if recalibration is not None:
        levels = np.array([apply_recalibration(row, recalibration) for row in levels]).reshape(levels.shape)
    n_rows = len(frame)
    all_causes = np.full((n_rows, len(net.causes)), np.nan)
    all_levels = np.full((n_rows, len(T.LEVELS)), np.nan)
    all_causes[good] = causes
    all_levels[good] = levels
    advice = np.full(n_rows, None, dtype=object)
    if len(good):
        loss = levels @ T.triage_of(net).loss
        advice[good] = np.array(T.LEVELS, dtype=object)[loss.argmin(axis=1)]
    index = frame.index
    urgency = all_levels[:, 2:].sum(axis=1)  # NaN where the row failed
    kept_states = states.copy()
    failed = np.ones(n_rows, dtype=bool)
    failed[good] = False
    kept_states[failed] = -1
    return BatchResult(
        causes=pd.DataFrame(all_causes, index=index, columns=list(net.causes)),
        triage=pd.DataFrame(all_levels, index=index, columns=list(T.LEVELS)),
        urgency=pd.Series(urgency, index=index, name="urgency"),
        advice=pd.Series(advice, index=index, name="advice", dtype=object),
        errors=pd.DataFrame([(labels[i], msg) for i, msg in sorted(bad.items())], columns=["row", "error"]),
        network=net,
        states=kept_states,
        recalibration=recalibration,
        set_aside=set_aside,
    )
