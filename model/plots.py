"""Figures (matplotlib), drawn apart from the metrics in `model.validation` (SPEC §4).

Every function draws into the axes it is given, or into a new figure, and returns the
matplotlib `Figure`. matplotlib is imported inside the functions, so `import model`
(and the command line) never loads it. Figures made here are pyplot figures: close
them when done (`save` does), or long runs collect them.

Only presentation lives here (sizes, colours, dpi); every number a figure shows
comes from its input or from `model.validation`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .validation import ECE_BINS, ece, reliability
from .vocabulary import TRIAGE_LEVELS

__all__ = ["plot_result", "plot_reliability", "plot_confusion", "plot_topk", "plot_tornado", "save"]

# Presentation constants.
SAVE_DPI = 150
LEVEL_COLOURS = {
    "self_care": "#4daf4a",
    "routine": "#377eb8",
    "soon": "#ff7f00",
    "emergency": "#e41a1c",
}
UNDER_TRIAGE_EDGE = "#e41a1c"
TOPK_COLOURS = {"top1": "#377eb8", "top3": "#a6cee3"}
TORNADO_COLOURS = {"low": "#6a3d9a", "high": "#ff7f00"}
TWIN_COUNTS_HEIGHT = 0.25  # share of a given axes the count bars may fill
TWIN_COUNTS_FLOOR = 0.5  # lower end of their log axis
COUNT_ALPHA = 0.35
DIAGONAL_STYLE = {"color": "0.5", "linestyle": "--", "linewidth": 1.0}
INTERVAL_COLUMNS = ("p05", "p50", "p95")


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _figure(ax, figsize):
    """The figure of `ax`, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _level_name(level: Any) -> str:
    """A triage level given as its index in TRIAGE_LEVELS or as its name."""
    if isinstance(level, str):
        if level not in TRIAGE_LEVELS:
            raise ValueError(f"{level!r} is not a triage level; one of {', '.join(TRIAGE_LEVELS)}")
        return level
    return TRIAGE_LEVELS[int(level)]


def _check_intervals(intervals: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in INTERVAL_COLUMNS if c not in intervals.columns]
    if missing:
        raise ValueError(f"intervals: missing columns {', '.join(missing)} (need {', '.join(INTERVAL_COLUMNS)})")
    ends = intervals[list(INTERVAL_COLUMNS)].astype(float)
    bad = ~((ends["p05"] <= ends["p50"]) & (ends["p50"] <= ends["p95"]))
    if bad.any():
        raise ValueError(f"intervals: p05 <= p50 <= p95 does not hold for {', '.join(map(str, ends.index[bad]))}")
    return intervals


# -- one case -------------------------------------------------------------------------


def plot_result(result, ax=None, *, top: int = 10, intervals: pd.DataFrame | None = None):
    """Horizontal bars of the `top` causes' posteriors, most probable on top.

    Bars are coloured by each cause's triage level; the title gives the advice and the
    urgency. `intervals` (a DataFrame indexed by cause, and possibly 'urgency', with
    columns p05, p50, p95) adds a line from p05 to p95 with a mark at p50 for each
    cause it covers; by default `result.intervals` when the result carries one.
    """
    if top < 1:
        raise ValueError(f"top: {top} must be at least 1")
    if intervals is None:
        intervals = getattr(result, "intervals", None)
    if intervals is not None:
        intervals = _check_intervals(intervals)

    causes = result.causes.head(top)
    levels = [_level_name(result.network.cause_level[c]) for c in causes.index]
    y = np.arange(len(causes))
    fig, ax = _figure(ax, figsize=(7.0, 0.35 * len(causes) + 1.6))

    ax.barh(y, causes.to_numpy(dtype=float), color=[LEVEL_COLOURS[lv] for lv in levels], label="posterior")
    spread = None
    if intervals is not None:
        covered = [i for i, c in enumerate(causes.index) if c in intervals.index]
        if covered:
            rows = intervals.loc[causes.index[covered], list(INTERVAL_COLUMNS)].to_numpy(dtype=float)
            p05, p50, p95 = rows.T
            spread = ax.errorbar(
                p50, y[covered], xerr=np.vstack([p50 - p05, p95 - p50]),
                fmt="o", color="black", markersize=3, capsize=3, linewidth=1, label="p05 to p95 (dot: p50)",
            )

    ax.set_yticks(y, labels=list(causes.index))
    ax.invert_yaxis()  # the most probable cause on top
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("P(cause present | evidence)")

    from matplotlib.patches import Patch

    shown = [lv for lv in TRIAGE_LEVELS if lv in levels]
    handles = [Patch(color=LEVEL_COLOURS[lv], label=lv) for lv in shown]
    if spread is not None:
        handles.append(spread)
    ax.legend(handles=handles, title="cause's triage level", loc="lower right", fontsize="small")

    urgency = f"urgency {result.urgency:.1%}"
    if intervals is not None and "urgency" in intervals.index:
        lo, hi = intervals.loc["urgency", "p05"], intervals.loc["urgency", "p95"]
        urgency += f" (90% interval {lo:.1%} to {hi:.1%})"
    ax.set_title(f"advice: {result.advice}; {urgency}")
    return fig


# -- validation -----------------------------------------------------------------------


def plot_reliability(
    curves: Mapping[str, tuple[Any, Any]],
    ax=None,
    *,
    title: str | None = None,
    n_bins: int = ECE_BINS,
    strategy: str = "uniform",
    counts: bool = True,
):
    """Reliability diagram: per bin, observed frequency against mean predicted probability.

    curves : label -> (y_true, p), one line each; the points are
        `validation.reliability(y_true, p, n_bins=n_bins, strategy=strategy)` and the
        legend gives each curve's ECE (`validation.ece`, same bins).
    counts : show the number of predictions in each bin (log scale): in a panel below
        in a new figure; on a twin axis, as faint bars along the bottom, in a given `ax`.
    """
    if not curves:
        raise ValueError("curves: give at least one label -> (y_true, p)")
    plt = _pyplot()
    hist_ax, twin = None, False
    if ax is None:
        if counts:
            fig, (ax, hist_ax) = plt.subplots(
                2, 1, figsize=(5.5, 6.5), sharex=True, layout="constrained",
                gridspec_kw={"height_ratios": (4, 1)},
            )
        else:
            fig, ax = plt.subplots(figsize=(5.5, 5.5), layout="constrained")
    else:
        fig = ax.figure
        if counts:
            # an axes we do not own keeps its place: the counts go on a twin axis, as
            # faint bars along the bottom, behind the curves
            hist_ax, twin = ax.twinx(), True
            hist_ax.set_zorder(ax.get_zorder() - 1)
            ax.patch.set_visible(False)

    ax.plot([0.0, 1.0], [0.0, 1.0], label="perfect calibration", **DIAGONAL_STYLE)
    width = 0.8 / (n_bins * len(curves))
    tallest = 1.0
    for k, (label, (y, p)) in enumerate(curves.items()):
        mean_p, freq, count = reliability(y, p, n_bins=n_bins, strategy=strategy)
        error = ece(y, p, n_bins=n_bins, strategy=strategy)
        (line,) = ax.plot(mean_p, freq, marker="o", markersize=4, label=f"{label} (ECE {error:.3f})")
        if hist_ax is not None:
            offset = (k - (len(curves) - 1) / 2) * width
            hist_ax.bar(
                mean_p + offset, count, width=width, color=line.get_color(),
                alpha=COUNT_ALPHA if twin else 1.0, label=str(label),
            )
            tallest = max(tallest, float(count.max()))

    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("observed frequency")
    ax.legend(loc="upper left", fontsize="small")
    if title is not None:
        ax.set_title(title)
    if hist_ax is None or twin:
        ax.set_xlabel("mean predicted probability")
    else:
        hist_ax.set_xlabel("mean predicted probability")
        ax.tick_params(labelbottom=False)
    if hist_ax is not None:
        hist_ax.set_yscale("log")
        hist_ax.set_ylabel("predictions")
    if twin:  # the tallest bar reaches TWIN_COUNTS_HEIGHT of the axes
        lo = TWIN_COUNTS_FLOOR
        hist_ax.set_ylim(lo, lo * (tallest / lo) ** (1.0 / TWIN_COUNTS_HEIGHT))
        hist_ax.set_yticks([10.0**k for k in range(int(np.log10(tallest)) + 1)])
        hist_ax.minorticks_off()
    return fig


def plot_confusion(confusion: Mapping[str, Any], ax=None):
    """The triage confusion matrix of `validation.triage_confusion` as an annotated heat map.

    Rows: true level; columns: advice. Each cell shows its count; its colour is the
    share of its row (the cases of that true level). Under-triage cells (advice below
    the true level) are outlined; the title gives the under- and over-triage rates.
    """
    matrix = np.asarray(confusion["matrix"], dtype=int)
    levels = list(confusion["levels"])
    n = len(levels)
    if matrix.shape != (n, n):
        raise ValueError(f"confusion: matrix of shape {matrix.shape} does not match {n} levels")
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)

    fig, ax = _figure(ax, figsize=(5.5, 5.0))
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, label="share of the true level", shrink=0.8)

    from matplotlib.patches import Rectangle

    for i in range(n):
        for j in range(n):
            ax.text(
                j, i, str(matrix[i, j]), ha="center", va="center",
                color="white" if share[i, j] > 0.5 else "black", gid=f"count-{i}-{j}",
            )
            if j < i:
                ax.add_patch(Rectangle(
                    (j - 0.5, i - 0.5), 1.0, 1.0, fill=False, edgecolor=UNDER_TRIAGE_EDGE,
                    linewidth=2.0, hatch="//", alpha=0.6, gid=f"under-{i}-{j}",
                ))

    ax.set_xticks(range(n), labels=levels, rotation=30, ha="right")
    ax.set_yticks(range(n), labels=levels)
    ax.set_xlabel("advice (hatched: under-triage, advice below the true level)")
    ax.set_ylabel("true level")
    title = f"under-triage {confusion['under_triage']:.1%}, over-triage {confusion['over_triage']:.1%}"
    if "urgent_under_triaged" in confusion and "urgent_cases" in confusion:
        title += f"\nurgent cases under-triaged: {confusion['urgent_under_triaged']} of {confusion['urgent_cases']}"
    ax.set_title(title)
    return fig


def plot_topk(accuracy: Mapping[str, Any], ax=None):
    """Top-1 and top-3 accuracy bars.

    accuracy : the dict of `validation.topk_accuracy`, or world name -> such a dict
        (bars grouped by world). A value that is NaN (no case with a primary cause)
        draws no bar and is marked "n/a".
    """
    worlds = {"": accuracy} if "top1" in accuracy else dict(accuracy)
    if not worlds:
        raise ValueError("accuracy: no world to plot")
    names = list(worlds)
    x = np.arange(len(names))
    width = 0.38
    fig, ax = _figure(ax, figsize=(max(4.0, 1.6 * len(names) + 2.0), 4.0))
    for k, (key, label) in enumerate((("top1", "top-1"), ("top3", "top-3"))):
        values = np.array([float(worlds[w][key]) for w in names])
        pos = x + (k - 0.5) * width
        bars = ax.bar(pos, values, width=width, color=TOPK_COLOURS[key], label=label)
        for rect, v in zip(bars, values):
            text = "n/a" if np.isnan(v) else f"{v:.1%}"
            ax.annotate(
                text, (rect.get_x() + rect.get_width() / 2, 0.0 if np.isnan(v) else v),
                xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize="small",
            )

    def tick(name: str) -> str:
        acc = worlds[name]
        n = f"n={acc['cases']}" if "cases" in acc else ""
        if acc.get("leak_only"):
            n += f", {acc['leak_only']} leak-only"
        return "\n".join(s for s in (name, n) if s)

    ax.set_xticks(x, labels=[tick(w) for w in names])
    ax.set_ylim(0.0, 1.15)
    ax.set_yticks(np.linspace(0.0, 1.0, 6))
    ax.set_ylabel("accuracy")
    ax.set_title("cause ranking: top-1 (responsible) and top-3 (primary)")
    ax.legend(loc="upper right", ncols=2, fontsize="small")
    return fig


def plot_tornado(frame: pd.DataFrame, ax=None, *, baseline: float | None = None, title: str | None = None):
    """Tornado chart of a sensitivity table, the largest swing on top.

    frame : columns `parameter`, `low_value`, `high_value` (the answer with the
        parameter at the low and at the high end of its range).
    baseline : the answer at the base parameters; the bars start there. When not
        given, a `baseline` column of one value is used.
    """
    needed = ("parameter", "low_value", "high_value")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"frame: missing columns {', '.join(missing)} (need {', '.join(needed)})")
    if baseline is None:
        values = frame["baseline"].unique() if "baseline" in frame.columns else []
        if len(values) != 1:
            raise ValueError("baseline: give the answer at the base parameters (baseline=...)")
        baseline = values[0]
    baseline = float(baseline)

    low = frame["low_value"].to_numpy(dtype=float)
    high = frame["high_value"].to_numpy(dtype=float)
    order = np.argsort(-np.abs(high - low), kind="stable")
    names = frame["parameter"].astype(str).to_numpy()[order]
    low, high = low[order], high[order]
    y = np.arange(len(order))

    fig, ax = _figure(ax, figsize=(7.0, 0.35 * len(order) + 1.6))
    lows = ax.barh(y, low - baseline, left=baseline, color=TORNADO_COLOURS["low"], label="parameter at its low end")
    highs = ax.barh(y, high - baseline, left=baseline, color=TORNADO_COLOURS["high"], label="parameter at its high end")
    for a, b in zip(lows, highs):  # both ends on one side: the shorter bar in front
        (a if abs(a.get_width()) < abs(b.get_width()) else b).set_zorder(a.get_zorder() + 0.5)
    ax.axvline(baseline, color="black", linewidth=1.0)
    ax.set_yticks(y, labels=list(names))
    ax.invert_yaxis()  # the largest swing on top
    ax.set_xlabel(f"answer (baseline {baseline:.4g})")
    ax.legend(loc="lower right", fontsize="small")
    if title is not None:
        ax.set_title(title)
    return fig


# -- output ---------------------------------------------------------------------------


def save(fig, path, *, dpi: int = SAVE_DPI) -> Path:
    """Write `fig` as a PNG at `dpi` (parent folders made as needed) and close it."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, format="png")
    finally:
        _pyplot().close(fig)
    return path
