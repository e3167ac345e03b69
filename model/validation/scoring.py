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

from ..network.evidence import is_missing, says_yes
from ..interactive.interview import Interview
from ..network.build import Network
from ..network.questions import GOALS, RED_FLAGS
from .metrics import CONFIDENCE, binomial_interval
from ..network.vocabulary import TRIAGE_LEVELS
from .workers import forked_map

ACCEPTABLE = "the true level or one level more cautious"
# The reported upper quantile of questions asked per interview (`questions_p90`).
QUESTIONS_QUANTILE = 0.9

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


def knows(q, answers: dict[str, Any]) -> Any:
    """A person's answer to question `q` from what they know (`answers`, user keys):
    the screen yes when a red flag is present, no only when every one is known absent;
    a group its signs present when every one is known, none, or don't know."""
    if q.key == "red_flags":
        flags = [f for f in RED_FLAGS if f in answers]
        if any(answers[f] for f in flags):
            return "yes"
        return "no" if len(flags) == len(RED_FLAGS) else None
    if q.key == "red_flag_which":
        return [f for f in RED_FLAGS if answers.get(f)]
    if q.group:
        yes = {m for m in q.nodes if m in answers and says_yes(m, answers[m])}
        known = [m for m in q.nodes if m in answers]
        if yes:
            return [m for m in q.nodes if m in yes] if len(known) == len(q.nodes) else "any"
        return "none" if len(known) == len(q.nodes) else None
    return answers.get(q.key)


def interview_one(net: Network, start: dict[str, Any], answers: dict[str, Any], goal: str = "causes") -> dict[str, Any]:
    """Interview one person who knows `answers` (user keys) and said `start` first."""
    iv = Interview(start, network=net, goal=goal)
    while (q := iv.next_question()) is not None:
        iv.answer(q.key, knows(q, answers))
    causes = iv.result.causes.index
    return {"questions": len(iv.asked), "asked": ";".join(k for k, _ in iv.asked), "advice": iv.result.advice,
            "urgency": iv.result.urgency, "top3": ";".join(causes[:3])}


CHUNK = 25  # interviews a worker takes at a time: small, as one takes 0.1-1 s


def _interview_rows(work: tuple, index: list) -> list[dict]:
    net, start, full, goal = work
    return [interview_one(net, _answers(start.loc[i]), _answers(full.loc[i]), goal) for i in index]


def interview_cases(net: Network, start: pd.DataFrame, full: pd.DataFrame, *, workers: int = 1, progress: bool = False,
                    goal: str = "causes") -> pd.DataFrame:
    """Interview every case: `start` the evidence each reported (user keys, empty values
    unknown), `full` every answer it would give. One row a case: questions asked, the
    keys asked in order, the advice reached, its urgency and the top three causes."""
    if goal not in GOALS:
        raise ValueError(f"goal: {goal!r} is not a goal; allowed: {', '.join(GOALS)}")
    index = list(start.index)
    chunks = [index[i : i + CHUNK] for i in range(0, len(index), CHUNK)]
    parts = forked_map(_interview_rows, chunks, (net, start, full, goal), workers=workers, progress=progress, desc="interviews", total=len(index))
    return pd.DataFrame([row for part in parts for row in part], index=start.index)


# The interview against full information (docs/validation.md): name -> (words, the
# cases it is a share of, the cases counted). `ref` is the reference level (the advice
# of infer() on everything the person could answer, or the true level), `a` the
# interview's advice, both as indices.
AGAINST = {
    "self_care_when_soon": ("soon or more advised self_care", lambda ref: ref >= 2, lambda ref, a: a == 0),
    "below_soon_when_soon": ("soon or more advised below soon", lambda ref: ref >= 2, lambda ref, a: a < 2),
    "self_care_kept": ("self_care kept at self_care", lambda ref: ref == 0, lambda ref, a: a == 0),
    "exact_level": ("the same level", lambda ref: ref >= 0, lambda ref, a: a == ref),
}


def _share(k: int, n: int, level: float) -> dict[str, Any]:
    low, high = binomial_interval(k, n, level=level)
    return {"share": k / n if n else np.nan, "low": low, "high": high, "count": k, "of": n}


def full_information_figures(truth, full_advice, interviewed: pd.DataFrame, *, full_top1=None, primary=None,
                             responsible=None, level: float = CONFIDENCE, quantile: float = QUESTIONS_QUANTILE) -> dict[str, Any]:
    """The interview scored against full information and against the true level, side by
    side, each share with its exact interval at `level` (docs/validation.md):

    * against full information (the advice of `infer()` on everything the person could
      answer, `full_advice`): soon or more advised self_care (must be 0), advised below
      soon (at most 1%), self_care kept, exact level, and top-1 / top-3 (the cause
      full information ranks first is the interview's first / in its top three);
    * against the true level (`truth`): the same figures, top-1 / top-3 by the sampled
      causes (`responsible`: the first is one of them; `primary` in the top three);
    * silent: the truly soon or emergency cases that full information advises below
      soon (a serious cause with no sign any question can reveal), counted apart;
    * questions: mean and 90th percentile.
    """
    t, f, a = _levels(truth), _levels(full_advice), _levels(interviewed["advice"])
    out: dict[str, Any] = {"full": {}, "truth": {}}
    for name, (words, among, hit) in AGAINST.items():
        for side, ref in (("full", f), ("truth", t)):
            base = among(ref)
            out[side][name] = {"meaning": words, **_share(int(hit(ref, a)[base].sum()), int(base.sum()), level)}
    top3 = interviewed["top3"].str.split(";")
    if full_top1 is not None:
        first = np.array([x[0] for x in top3])
        ref = np.asarray(full_top1)
        out["full"]["top1"] = {"meaning": "the cause ranked first", **_share(int((first == ref).sum()), len(ref), level)}
        out["full"]["top3"] = {"meaning": "that cause in the top three", **_share(int(sum(r in x for r, x in zip(ref, top3))), len(ref), level)}
    if primary is not None:
        has = np.array([isinstance(p, str) and bool(p) for p in primary])
        k1 = sum(x[0] in str(r).split(";") for x, r, h in zip(top3, responsible, has) if h)
        k3 = sum(p in x for x, p, h in zip(top3, primary, has) if h)
        out["truth"]["top1"] = {"meaning": "the cause ranked first", **_share(int(k1), int(has.sum()), level)}
        out["truth"]["top3"] = {"meaning": "that cause in the top three", **_share(int(k3), int(has.sum()), level)}
    urgent = t >= 2
    out["silent"] = {"meaning": "truly soon or emergency, below soon told everything", **_share(int((urgent & (f < 2)).sum()), int(urgent.sum()), level)}
    q = interviewed["questions"]
    out["questions_mean"] = float(q.mean()) if len(q) else np.nan
    out["questions_p90"] = float(q.quantile(quantile)) if len(q) else np.nan
    return out
