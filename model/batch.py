"""Batches: one case a row (docs/model.md), answered by the vectorised engine.

A batch is encoded column by column (each distinct value of a column once) into node
state rows and answered by `model.inference.analysis.analyse_many`, the path a single case takes
too. Rows whose encoding fails, or whose evidence is impossible, are reported in
`errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .network import rules as T
from .network import vocabulary as V
from .inference import levels as L
from .inference.analysis import analyse_many, apply_recalibration, impossible_error
from .network.evidence import ALL_KEYS, item_states, encode, is_label_column, is_missing, unknown_key_message


@dataclass(frozen=True, repr=False)
class BatchResult:
    """Results for many cases, one row a case, indexed like the input (docs/model.md).

    causes : P(cause present | row's evidence), one column a cause (network order).
    triage : P(level | row's evidence), columns self_care ... emergency.
    urgency, advice : Series.
    errors : the rows that could not be taken (columns `row`, `error`).

    With ``errors="collect"`` every input row is kept: a row that failed is NaN in
    `causes`, `triage`, `urgency` and `advice`, and `errors` says why (`ok` marks the
    rows answered). An empty input (an empty DataFrame, ``[]``) gives an empty
    BatchResult: no rows, every column. `to_frame()` puts it all in one table.
    ``batch[i]`` (position) and ``batch.loc[label]`` give that row's `Result`, with
    `explain()` and `next_questions()`: the same as `infer()` on the row.
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
    # evidence (node -> state) -> that row's `Result`: `infer`, given by the caller that
    # builds the batch (the batch layer sits below the one that builds a Result)
    row_result: Callable | None = field(default=None, compare=False, repr=False)

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

    def to_frame(self) -> pd.DataFrame:
        """One table, one row a case, indexed like the input: a column a cause (its
        posterior; the names of `causes`), a column a triage level (`triage`), `urgency`,
        `advice`, and `error` (why the row failed; NaN where it was answered). This is
        what `twitchdx infer --input` writes."""
        reasons = np.full(len(self.causes), np.nan, dtype=object)
        failed = np.flatnonzero(~self.ok.to_numpy())
        if len(failed) == len(self.errors):  # `errors` lists the failed rows in their order
            reasons[failed] = self.errors["error"].to_numpy(dtype=object)
        else:
            by_label = dict(zip(self.errors["row"], self.errors["error"]))
            reasons[failed] = [by_label.get(label, "not answered") for label in self.causes.index[failed]]
        error = pd.Series(reasons, index=self.causes.index, name="error", dtype=object)
        parts = [self.causes, self.triage, self.urgency, self.advice, error]
        names = [c for part in parts for c in (part.columns if isinstance(part, pd.DataFrame) else [part.name])]
        if len(set(names)) < len(names):  # a cause named like a level or a column: say so
            raise ValueError(f"to_frame: the columns {sorted({n for n in names if names.count(n) > 1})} would repeat")
        return pd.concat(parts, axis=1)

    @property
    def loc(self) -> "_RowsByLabel":
        """``batch.loc[label]``: the `Result` of the row with that index label."""
        return _RowsByLabel(self)

    def _result(self, position: int):
        label = self.causes.index[position]
        if not bool(self.ok.iloc[position]):
            reason = self.errors.loc[self.errors["row"] == label, "error"]
            raise ValueError(f"row {label}: no result: {reason.iloc[0] if len(reason) else 'not answered'}")
        if self.network is None or self.states is None or self.row_result is None:
            raise ValueError("this BatchResult keeps no evidence: build it with infer() to get a row's Result")
        nodes = self.network.exposures + self.network.findings
        evidence = {n: self.network.states[n][s] for n, s in zip(nodes, self.states[position]) if s >= 0}
        return self.row_result(evidence, network=self.network, recalibration=self.recalibration)

    def _repr_html_(self) -> str:
        from .presentation.display import batch_html

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


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list]:
    """codes (rows,) and the distinct values of a column: code -1 is a missing cell
    (`is_missing`). `pandas.factorize` where every cell hashes (one pass in C); a
    column holding lists (locations, medications) keys them with `_hashable`."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells
        memo: dict = {}
        uniques = []
        codes = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(values):
            if is_missing(v):
                codes[i] = -1
                continue
            key = _hashable(v)
            got = memo.get(key)
            if got is None:
                got = memo[key] = len(uniques)
                uniques.append(v)
            codes[i] = got
        return codes, uniques
    uniques = list(uniques)
    missing = [u for u, v in enumerate(uniques) if is_missing(v)]  # pandas keeps some (pd.NaT in objects)
    if missing:
        remap = np.arange(len(uniques))
        remap[missing] = -1
        codes = np.where(codes >= 0, remap[codes], -1)
    return np.asarray(codes, dtype=np.int64), uniques


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
        codes, uniques = _factorize(values)
        # each distinct value once: the node states it sets, or None (the row's own
        # message comes from the whole-row path)
        encoded = []
        for v in uniques:
            try:
                encoded.append(tuple((order[n], net.states[n].index(s)) for n, s in _one_item(col, v)))
            except ValueError:
                encoded.append(None)
        known = codes >= 0
        failed = np.array([e is None for e in encoded] + [False], dtype=bool)  # last: missing
        slow |= failed[codes]
        for j in sorted({j for e in encoded if e for j, _ in e}):
            # the state each distinct value sets on node j (-1: it does not), by code
            by_code = np.full(len(uniques) + 1, -1, dtype=np.int8)
            for u, e in enumerate(encoded):
                for jj, state in e or ():
                    if jj == j:
                        by_code[u] = state
            got = by_code[codes]
            sets = known & (got >= 0)
            states[sets, j] = got[sets]
            setters[:, j] += sets
    slow |= (setters > 1).any(axis=1)
    for exposure, through in V.REQUIRES.items():
        # a node said present while every node it needs is in its first state (an
        # exposure acting through others, a weakness pattern with weakness none) is
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


def _one_item(key: str, value: Any):
    """The node states one evidence item sets (what `encode` does for one key)."""
    return item_states(key, value).items()


def count(n: int, noun: str) -> str:
    """`n` and the noun, plural when n is not 1: "1 bad row", "2 bad rows", "10,000 rows"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


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
    return f"{count(len(bad), 'bad row')}: {'; '.join(parts)}{more}"


ERRORS = ("raise", "collect")


def check_errors(errors: Any, *, batch: bool) -> None:
    """The one `errors` vocabulary of `infer`: "raise" or "collect" for a batch; a single
    case (a dict) takes only "raise" (there is no row to keep a failure in)."""
    if not isinstance(errors, str) or errors not in ERRORS:
        raise ValueError(f"errors: {errors!r} is not one of raise, collect")
    if errors == "collect" and not batch:
        raise ValueError(
            "errors: 'collect' is for a batch (a list of dicts or a DataFrame); a single case "
            "raises its ValueError: pass [case] to collect its failure"
        )


def infer_batch(
    evidence: Sequence[Mapping[str, Any]] | pd.DataFrame, *, network, errors: str = "raise", recalibration=None, row_result=None
) -> BatchResult:
    """Infer every row (docs/model.md): exact, vectorised, equal to `infer` row by row.

    The label columns of a sampled case set (`model.validation.synthetic.sample_cases`: true_level,
    primary, responsible, present, present:<cause>) are set aside, not read as evidence
    (`BatchResult.set_aside` names them). With ``errors="collect"`` every row is kept,
    in the input's order and index; a failed row is NaN, and `errors` says why. An empty
    input gives an empty BatchResult (no rows, every column).
    """
    check_errors(errors, batch=True)
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
        bad[int(row)] = str(impossible_error(net, evidence_row))
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
    advice = np.full(n_rows, np.nan, dtype=object)  # NaN where the row failed
    if len(good):
        advice[good] = np.array(L.LEVELS, dtype=object)[L.advise(net, levels)]
    index = frame.index
    urgency = L.urgency(all_levels)  # NaN where the row failed
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
        row_result=row_result,
    )
