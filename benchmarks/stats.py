"""Tails of a set of timings and the few formats the tables use."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

TAILS = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("max", 100.0))


def tails(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max of `seconds` (NaN for an empty set).

    >>> tails([1.0, 2.0, 3.0, 4.0])["p50"], tails([1.0, 2.0, 3.0, 4.0])["max"]
    (2.5, 4.0)
    """
    x = np.asarray(seconds, dtype=float)
    return {name: (float(np.percentile(x, q)) if len(x) else math.nan) for name, q in TAILS}


REPEAT_BUDGET = 1.0  # seconds: a call slower than this is not repeated (its time is clear enough)


def median_of(call: Callable[[], object], repeat: int, *, budget: float = REPEAT_BUDGET) -> tuple[float, object]:
    """(median seconds of `repeat` calls of `call`, the last call's value); the calls stop
    early once one has taken more than `budget` seconds."""
    times, value = [], None
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        value = call()
        times.append(time.perf_counter() - t)
        if times[-1] > budget:
            break
    return statistics.median(times), value


def ms(seconds: float) -> str:
    """Seconds as milliseconds, 3 significant digits (whole ms from 100 ms up).

    >>> ms(0.0004237), ms(0.1234), ms(float("nan"))
    ('0.424', '123', '-')
    """
    if seconds is None or math.isnan(seconds):
        return "-"
    v = 1e3 * seconds
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"

