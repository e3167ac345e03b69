"""How the advice scores against the true level, one-shot and interviewed (docs/validation.md).

The figures a clinician reads, each a share with its exact (Clopper-Pearson)
interval (95% unless the report's settings say otherwise). Advice is
*acceptable* when it is the true level or one level more cautious
(a routine case advised soon is acceptable; advised emergency, or any under-triage, is
not).

The interview is scored on cases whose every answer is known: each starts from the
answers the case reported (`start`, a share of them missing) and answers every question
from its own full row, as the person would.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .evidence import is_missing
from .interview import Interview
from .network import Network
from .questions import RED_FLAGS
from .validation import CONFIDENCE, binomial_interval
from .vocabulary import TRIAGE_LEVELS
from .workers import forked_map

ACCEPTABLE = "the true level or one level more cautious"

# name -> (description, the cases it is a share of, the cases counted); levels as indices
FIGURES = {
    "exact": ("advised the true level", lambda t: t >= 0, lambda t, a: a == t),
    "acceptable": (f"advised {ACCEPTABLE}", lambda t: t >= 0, lambda t, a: (a >= t) & (a <= t + 1)),
    "over_triage": ("advised above the true level", lambda t: t >= 0, lambda t, a: a > t),
    "routine_advised_soon_or_more": ("true routine advised soon or emergency", lambda t: t == 1, lambda t, a: a >= 2),
    "under_triage": ("advised below the true level", lambda t: t >= 0, lambda t, a: a < t),
    "self_care_advised_self_care": ("true self_care advised self_care", lambda t: t == 0, lambda t, a: a == 0),
    "urgent_advised_self_care": ("true soon or emergency advised self_care", lambda t: t >= 2, lambda t, a: a == 0),
    "urgent_advised_below_soon": ("true soon or emergency advised below soon", lambda t: t >= 2, lambda t, a: a < 2),
    "emergency_advised_below_soon": ("true emergency advised below soon", lambda t: t == 3, lambda t, a: a < 2),
}


def _levels(x) -> np.ndarray:
    return np.array([TRIAGE_LEVELS.index(v) for v in x])


def advice_figures(true_level, advice, *, level: float = CONFIDENCE) -> pd.DataFrame:
    """One row a figure of FIGURES: share, its exact interval at `level`, count and the cases it is a
    share of (`of`; the interval is NaN when there are none)."""
    t, a = _levels(true_level), _levels(advice)
    rows = []
    for name, (words, among, hit) in FIGURES.items():
        base = among(t)
        n, k = int(base.sum()), int(hit(t, a)[base].sum())
        low, high = binomial_interval(k, n, level=level)
        rows.append((name, words, k / n if n else np.nan, low, high, k, n))
    return pd.DataFrame(rows, columns=["figure", "meaning", "share", "low", "high", "count", "of"]).set_index("figure")


def _answers(row: pd.Series) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not is_missing(v)}


def interview_one(net: Network, start: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Interview one person who knows `answers` (user keys) and said `start` first."""
    iv = Interview(start, network=net)
    flags = [f for f in RED_FLAGS if f in answers]
    while (q := iv.next_question()) is not None:
        if q.key == "red_flags":
            present = any(answers[f] for f in flags)
            # "no" only when the person knows every sign of the screen is absent
            value = "yes" if present else ("no" if len(flags) == len(RED_FLAGS) else None)
        elif q.key == "red_flag_which":
            value = [f for f in flags if answers[f]]
        else:
            value = answers.get(q.key)
        iv.answer(q.key, value)
    return {"questions": len(iv.asked), "asked": ";".join(k for k, _ in iv.asked), "advice": iv.result.advice,
            "urgency": iv.result.urgency}


CHUNK = 25  # interviews a worker takes at a time: small, as one takes 0.1-1 s


def _interview_rows(work: tuple, index: list) -> list[dict]:
    net, start, full = work
    return [interview_one(net, _answers(start.loc[i]), _answers(full.loc[i])) for i in index]


def interview_cases(net: Network, start: pd.DataFrame, full: pd.DataFrame, *, workers: int = 1, progress: bool = False) -> pd.DataFrame:
    """Interview every case: `start` the evidence each reported (user keys, empty values
    unknown), `full` every answer it would give. One row a case: questions asked, the
    keys asked in order, the advice reached and its urgency."""
    index = list(start.index)
    chunks = [index[i : i + CHUNK] for i in range(0, len(index), CHUNK)]
    parts = forked_map(_interview_rows, chunks, (net, start, full), workers=workers, progress=progress, desc="interviews", total=len(index))
    return pd.DataFrame([row for part in parts for row in part], index=start.index)
