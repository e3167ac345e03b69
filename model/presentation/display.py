"""HTML for notebooks: how a `Result` and a `BatchResult` show themselves in Jupyter.

`Result._repr_html_` and `BatchResult._repr_html_` call these, in the spirit of
pyAgrum's `showInference` and pandas' tables: a result shows its causes as bars
coloured by their triage level, the triage distribution, the advice with its reason
and the next best question; a batch shows a summary (cases answered and failed, the
advice counts, the mean urgency, the causes most often ranked first) and its first
rows. Plain HTML and inline styles only (no script, no external file), so that it
renders in JupyterLab, in a saved notebook and on GitHub alike.

Only presentation lives here; every number comes from the result.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from .plots import LEVEL_COLOURS
from ..network.vocabulary import TRIAGE_LEVELS

__all__ = ["result_html", "batch_html"]

# How many causes a Result shows as bars, and how many rows a batch shows.
TOP_CAUSES = 10
HEAD_ROWS = 5
BAR_WIDTH_PX = 220  # the width of a bar at probability 1
# the width of the triage strip, and its labels' font size
STRIP_WIDTH_PX = 420
FONT = "font-family: sans-serif; font-size: 13px;"


def _e(x: Any) -> str:
    return html.escape(str(x))


def _level_of(network, cause: str) -> str:
    return TRIAGE_LEVELS[int(network.cause_level[cause])]


def _badge(level: str) -> str:
    colour = LEVEL_COLOURS.get(level, "#777")
    return (
        f'<span style="background:{colour};color:white;padding:1px 7px;border-radius:3px;'
        f'font-weight:bold">{_e(level.replace("_", " "))}</span>'
    )


def _cause_rows(result, top: int) -> str:
    band = getattr(result, "intervals", None)
    rows = []
    for cause, p in result.causes.head(top).items():
        level = _level_of(result.network, cause)
        width = max(0.0, min(1.0, float(p))) * BAR_WIDTH_PX
        span = ""
        if band is not None and cause in band.index:
            lo, hi = band.loc[cause].iloc[0], band.loc[cause].iloc[-1]
            span = f'<td style="color:#555">{lo:.1%} to {hi:.1%}</td>'
        rows.append(
            f"<tr><td style='text-align:left;padding-right:8px'>{_e(cause)}</td>"
            f"<td style='text-align:left'><div title='{_e(level)}' style='display:inline-block;"
            f"width:{width:.1f}px;height:11px;background:{LEVEL_COLOURS[level]}'></div></td>"
            f"<td style='text-align:right;padding-left:6px'>{float(p):.1%}</td>{span}</tr>"
        )
    head = ""
    if band is not None:
        cols = list(band.columns)
        head = (
            "<tr><th></th><th></th><th style='text-align:right'>P</th>"
            f"<th style='text-align:left'>{_e(cols[0])} to {_e(cols[-1])} over "
            f"{_e(band.attrs.get('draws', '?'))} redrawn networks</th></tr>"
        )
    return f"<table style='border-collapse:collapse'>{head}{''.join(rows)}</table>"


def _triage_strip(triage: pd.Series, advice: str) -> str:
    cells = []
    for level, p in triage.items():
        p = float(p)
        width = max(p * STRIP_WIDTH_PX, 0.0)
        outline = "outline:2px solid black;" if level == advice else ""
        cells.append(
            f"<div title='{_e(level)} {p:.1%}' style='display:inline-block;width:{width:.1f}px;"
            f"height:14px;background:{LEVEL_COLOURS.get(level, '#777')};{outline}'></div>"
        )
    legend = " &nbsp; ".join(
        f"<span style='color:{LEVEL_COLOURS.get(lv, '#777')}'>&#9632;</span> {_e(lv)} {float(p):.1%}"
        for lv, p in triage.items()
    )
    return f"<div style='white-space:nowrap'>{''.join(cells)}</div><div>{legend}</div>"


def _next_question(result) -> str:
    table = result.next_questions(1)
    if not len(table):
        return "none left to ask"
    row = table.iloc[0]
    key = row.get("question", row.iloc[0])
    text = row.get("text") if "text" in table.columns else None
    value = row.get("net_value") if "net_value" in table.columns else None
    words = f"<b>{_e(key)}</b>"
    if isinstance(text, str) and text:
        words += f": {_e(text)}"
    if value is not None and np.isfinite(float(value)):
        words += f" <span style='color:#555'>(expected value of the answer minus its cost: {float(value):.3g})</span>"
    return words


def result_html(result, *, top: int = TOP_CAUSES) -> str:
    """A `Result` as HTML: causes as bars, triage, advice and reason, the next question."""
    return (
        f"<div style='{FONT}'>"
        f"<div style='margin-bottom:6px'>Advice: {_badge(result.advice)} &nbsp; "
        f"urgency P(soon or emergency) <b>{result.urgency:.1%}</b></div>"
        f"<div style='margin-bottom:6px;color:#333'>Reason: {_e(result.advice_reason)}</div>"
        f"<div><b>Causes</b>, P(present | evidence), coloured by the cause's triage level:</div>"
        f"{_cause_rows(result, top)}"
        f"<div style='margin-top:6px'><b>Triage</b>, P(level | evidence) (advice outlined):</div>"
        f"{_triage_strip(result.triage, result.advice)}"
        f"<div style='margin-top:6px'>Next question: {_next_question(result)}</div>"
        "</div>"
    )


def batch_summary(batch) -> dict[str, Any]:
    """The figures `batch_html` shows: cases, answered, failed, advice counts, mean
    urgency, and how often each cause is ranked first (answered rows only)."""
    ok = batch.ok.to_numpy()
    causes = batch.causes[ok]
    first = causes.idxmax(axis=1).value_counts() if len(causes) else pd.Series(dtype=int)
    advice = batch.advice[ok].value_counts()
    return {
        "cases": int(len(batch)),
        "answered": int(ok.sum()),
        "failed": int((~ok).sum()),
        "advice": {lv: int(advice.get(lv, 0)) for lv in TRIAGE_LEVELS},
        "mean_urgency": float(batch.urgency[ok].mean()) if ok.any() else float("nan"),
        "ranked_first": {str(c): int(k) for c, k in first.items()},
    }


def batch_html(batch, *, head: int = HEAD_ROWS) -> str:
    """A `BatchResult` as HTML: a summary and its first rows."""
    s = batch_summary(batch)
    answered = max(s["answered"], 1)
    advice = " &nbsp; ".join(
        f"{_badge(lv)} {k} ({k / answered:.0%})" for lv, k in s["advice"].items()
    )
    first = ", ".join(f"{_e(c)} {k}" for c, k in list(s["ranked_first"].items())[:5]) or "none"
    failed = f", <b>{s['failed']} failed</b> (see <code>.errors</code>)" if s["failed"] else ""
    aside = ""
    if getattr(batch, "set_aside", ()):
        aside = f"<div style='color:#555'>Label columns set aside: {_e(', '.join(batch.set_aside[:4]))}{', ...' if len(batch.set_aside) > 4 else ''}</div>"
    ok = batch.ok.to_numpy()
    values = batch.causes.to_numpy(dtype=float)
    names = np.array(batch.causes.columns, dtype=object)
    best = np.where(ok, np.argmax(np.where(np.isnan(values), -np.inf, values), axis=1) if len(values) else 0, 0)
    rows = pd.DataFrame(
        {
            "top cause": np.where(ok, names[best] if len(names) else None, None),
            "P(top cause)": np.where(ok, values[np.arange(len(values)), best] if len(values) else np.nan, np.nan),
            "urgency": batch.urgency.to_numpy(),
            "advice": batch.advice.to_numpy(dtype=object),
        },
        index=batch.causes.index,
    )
    table = rows.head(head).to_html(float_format=lambda x: f"{x:.3f}", na_rep="(failed)", border=0)
    mean = "n/a" if not np.isfinite(s["mean_urgency"]) else f"{s['mean_urgency']:.1%}"
    return (
        f"<div style='{FONT}'>"
        f"<div><b>BatchResult</b>: {s['cases']} cases, {s['answered']} answered{failed}</div>"
        f"<div>Advice: {advice}</div>"
        f"<div>Mean urgency: {mean}; ranked first most often: {first}</div>"
        f"{aside}"
        f"<div style='margin-top:4px'>First {min(head, s['cases'])} rows "
        "(<code>batch[i]</code> or <code>batch.loc[label]</code> gives a row's Result):</div>"
        f"{table}</div>"
    )
