"""Batches: one case a row (SPEC §7.10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import triage as T
from .evidence import encode, is_missing


@dataclass(frozen=True, repr=False)
class BatchResult:
    """Results for many cases, one row a case (index: the input's row labels).

    causes : P(cause present | row's evidence), one column a cause (network order).
    triage : P(level | row's evidence), columns self_care ... emergency.
    urgency, advice : Series.
    errors : the rows that could not be taken (columns `row`, `error`).
    """

    causes: pd.DataFrame
    triage: pd.DataFrame
    urgency: pd.Series
    advice: pd.Series
    errors: pd.DataFrame

    def __len__(self) -> int:
        return len(self.causes)

    def __repr__(self) -> str:
        return f"BatchResult({len(self.causes)} cases, {len(self.errors)} errors)"


def _rows(evidence) -> tuple[list, list[Mapping[str, Any]]]:
    if isinstance(evidence, pd.DataFrame):
        records = evidence.to_dict(orient="records")
        return list(evidence.index), records
    rows = list(evidence)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ValueError(f"row {i}: expected a dict of evidence, got {type(row).__name__}")
    return list(range(len(rows))), rows


def infer_batch(evidence: Sequence[Mapping[str, Any]] | pd.DataFrame, *, network, errors: str = "raise", recalibration=None) -> BatchResult:
    """Infer every row; identical evidence sets are computed once."""
    from .api import analyse, apply_recalibration

    if errors not in ("raise", "collect"):
        raise ValueError(f"errors: {errors!r} is not one of raise, collect")
    net = network
    labels, rows = _rows(evidence)
    cache: dict = {}
    causes = np.full((len(rows), len(net.causes)), np.nan)
    levels = np.full((len(rows), len(T.LEVELS)), np.nan)
    bad = []
    for i, row in enumerate(rows):
        try:
            clean = {k: v for k, v in row.items() if not is_missing(v)}
            encoded = encode(clean, batch=True)
            if encoded not in cache:
                cache[encoded] = analyse(net, encoded)
            a = cache[encoded]
        except ValueError as e:
            bad.append((labels[i], str(e)))
            continue
        causes[i] = a.causes
        levels[i] = apply_recalibration(a.triage, recalibration)
    if bad and errors == "raise":
        shown = "; ".join(f"row {label}: {msg}" for label, msg in bad[:3])
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise ValueError(f"{len(bad)} bad rows: {shown}{more}")
    good = [i for i in range(len(rows)) if not np.isnan(causes[i, 0])]
    index = pd.Index([labels[i] for i in good])
    triage = pd.DataFrame(levels[good], index=index, columns=list(T.LEVELS))
    loss = triage.to_numpy() @ T.triage_of(net).loss
    return BatchResult(
        causes=pd.DataFrame(causes[good], index=index, columns=list(net.causes)),
        triage=triage,
        urgency=pd.Series(triage[["soon", "emergency"]].sum(axis=1), name="urgency"),
        advice=pd.Series(np.array(T.LEVELS)[loss.argmin(axis=1)] if len(good) else [], index=index, name="advice", dtype=object),
        errors=pd.DataFrame(bad, columns=["row", "error"]),
    )
