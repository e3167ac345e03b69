"""Figures (matplotlib), drawn apart from the metrics in `model.validation` (docs/validation.md).

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

from .validation import CONFIDENCE, ECE_BINS, ece, reliability, reliability_intervals, supported_bins
from .evidence import close_match
from .vocabulary import TRIAGE_LEVELS

__all__ = ["plot_result", "plot_reliability", "plot_confusion", "plot_topk", "plot_tornado", "plot_network", "save"]

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
BAND_ALPHA = 0.2
DIAGONAL_STYLE = {"color": "0.5", "linestyle": "--", "linewidth": 1.0}
INTERVAL_COLUMNS = ("p05", "p50", "p95")
# Reliability diagrams: at least this many cases a bin (a bin of a handful of cases
# swings from 0 to 1), panels of this many inches, this many panels a row.
MIN_BIN_CASES = 30
PANEL_SIZE = 4.0
PANEL_COLUMNS = 2


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


def _percent(name: Any) -> float | None:
    """The share a quantile column names ("5%" -> 0.05, "p05" -> 0.05), else None."""
    text = str(name).strip()
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100.0
        if text.startswith("p") and text[1:].isdigit():
            return float(text[1:]) / 100.0
    except ValueError:
        return None
    return None


def _check_intervals(intervals: pd.DataFrame) -> pd.DataFrame:
    """The lower, middle and upper quantile columns of an interval table, as p05, p50,
    p95 (whatever their points), with their names kept in `attrs["names"]`.

    Takes the library's own table (`infer(..., intervals=N).intervals`: columns "5%",
    "50%", "95%") or one with columns p05, p50, p95.
    """
    if all(c in intervals.columns for c in INTERVAL_COLUMNS):
        names = list(INTERVAL_COLUMNS)
    else:
        quantiles = sorted((q, c) for c in intervals.columns if (q := _percent(c)) is not None)
        if len(quantiles) != 3:
            raise ValueError(
                f"intervals: missing columns {', '.join(c for c in INTERVAL_COLUMNS if c not in intervals.columns)} "
                f"(need {', '.join(INTERVAL_COLUMNS)}, or three quantile columns such as 5%, 50%, 95%)"
            )
        names = [c for _, c in quantiles]
    ends = intervals[names].astype(float)
    ends.columns = list(INTERVAL_COLUMNS)
    bad = ~((ends["p05"] <= ends["p50"]) & (ends["p50"] <= ends["p95"]))
    if bad.any():
        raise ValueError(f"intervals: {names[0]} <= {names[1]} <= {names[2]} does not hold for {', '.join(map(str, ends.index[bad]))}")
    ends.attrs = {**intervals.attrs, "names": names}
    return ends


# -- one case -------------------------------------------------------------------------


def plot_result(result, ax=None, *, top: int = 10, intervals: pd.DataFrame | None = None):
    """Horizontal bars of the `top` causes' posteriors, most probable on top.

    Bars are coloured by each cause's triage level; the title gives the advice and the
    urgency. `intervals` (a DataFrame indexed by cause, and possibly 'urgency': the
    table of `infer(..., intervals=N)`, columns "5%", "50%", "95%", or columns p05, p50,
    p95) adds a line from the lower to the upper point with a mark at the middle one for
    each cause it covers; by default `result.intervals` when the result carries one.
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
                fmt="o", color="black", markersize=3, capsize=3, linewidth=1,
                label=f"{intervals.attrs['names'][0]} to {intervals.attrs['names'][2]} (dot: {intervals.attrs['names'][1]})",
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
        a, b = (_percent(n) for n in (intervals.attrs["names"][0], intervals.attrs["names"][2]))
        width = f"{b - a:.0%} interval" if a is not None and b is not None else "interval"
        urgency += f" ({width} {lo:.1%} to {hi:.1%})"
    ax.set_title(f"advice: {result.advice}; {urgency}")
    return fig


# -- validation -----------------------------------------------------------------------


def plot_reliability(
    curves: Mapping[str, tuple[Any, Any]],
    ax=None,
    *,
    title: str | None = None,
    n_bins: int = ECE_BINS,
    strategy: str = "quantile",
    min_count: int = MIN_BIN_CASES,
    panels: bool | None = None,
    counts: bool = True,
    band: bool = True,
    level: float = CONFIDENCE,
):
    """Reliability diagram: per bin, observed frequency against mean predicted probability.

    curves : label -> (y_true, p), one line each; the points are
        `validation.reliability(y_true, p, n_bins=k, strategy=strategy, min_count=min_count)`
        and the legend gives each curve's ECE over the same bins (`validation.ece`).
    n_bins, strategy, min_count : up to `n_bins` bins of equal counts ("quantile", as
        scikit-learn's `calibration_curve`) or equal width ("uniform"), as many as the
        curve's cases support with at least `min_count` cases a bin
        (`validation.supported_bins`); tied predictions never leave a bin below it
        (neighbouring bins merge).
    panels : one panel per curve on shared axes (default: when there are several curves
        and no `ax` is given), each titled with its label; `title` heads the figure.
        False draws every curve in one axes.
    band : shade each bin's exact binomial interval of the observed frequency at
        `level` (`validation.reliability_intervals`; y_true must be 0/1): a bin of a few
        cases shows how little it says.
    counts : show the number of predictions in each bin (log scale): in a panel below
        in a new figure of one curve (each bar labelled with its count); on a twin axis,
        as faint bars along the bottom, in a given `ax`; in the legend (the bins' sizes)
        with panels.
    """
    if not curves:
        raise ValueError("curves: give at least one label -> (y_true, p)")
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise ValueError(f"min_count: {min_count!r} is not a positive whole number of cases")
    plt = _pyplot()
    if panels is None:
        panels = ax is None and len(curves) > 1
    if panels:
        if ax is not None:
            raise ValueError("panels: give no ax (the figure gets one panel per curve)")
        return _reliability_panels(curves, title=title, n_bins=n_bins, strategy=strategy, min_count=min_count,
                                   counts=counts, band=band, level=level)
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
    banded = False
    tallest = 1.0
    for k, (label, (y, p)) in enumerate(curves.items()):
        line, count, _ = _reliability_curve(ax, label, y, p, n_bins=n_bins, strategy=strategy, min_count=min_count,
                                            band=band, level=level, alpha=BAND_ALPHA if len(curves) == 1 else BAND_ALPHA / 2)
        banded |= _banded(ax, label)
        if hist_ax is not None:
            mean_p = line.get_xdata()
            offset = (k - (len(curves) - 1) / 2) * width
            drawn = hist_ax.bar(
                mean_p + offset, count, width=width, color=line.get_color(),
                alpha=COUNT_ALPHA if twin else 1.0, label=str(label),
            )
            if len(curves) == 1 and not twin:
                hist_ax.bar_label(drawn, labels=[str(int(c)) for c in count], fontsize="x-small", padding=1)
            tallest = max(tallest, float(count.max()))

    _reliability_frame(ax, banded, level)
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


def _reliability_curve(ax, label, y, p, *, n_bins, strategy, min_count, band, level, alpha):
    """One curve (and its band) in `ax`: returns its line, its bins' counts and its ECE."""
    p = np.asarray(p, dtype=float)
    bins = supported_bins(len(p), n_bins, min_count)
    kw = {"n_bins": bins, "strategy": strategy, "min_count": min_count}
    mean_p, freq, count = reliability(y, p, **kw)
    error = ece(y, p, **kw)
    (line,) = ax.plot(mean_p, freq, marker="o", markersize=4, label=f"{label} (ECE {error:.3f})", gid=f"curve:{label}")
    yv = np.asarray(y, dtype=float)
    if band and np.isin(yv, (0.0, 1.0)).all():
        lo, hi = reliability_intervals(yv, p, level=level, **kw)
        ax.fill_between(mean_p, lo, hi, color=line.get_color(), alpha=alpha, linewidth=0, gid=f"band:{label}", label="_band")
    return line, count, error


def _banded(ax, label) -> bool:
    return any(c.get_gid() == f"band:{label}" for c in ax.collections)


def _reliability_frame(ax, banded: bool, level: float, extra: str | None = None) -> None:
    """Limits, the y label and the legend (with the band's entry) of one reliability axes."""
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("observed frequency")
    handles, labels = ax.get_legend_handles_labels()
    if banded:
        from matplotlib.patches import Patch

        handles.append(Patch(color="0.5", alpha=BAND_ALPHA * 2))
        labels.append(f"{level:.0%} interval of each bin (exact binomial)")
    if extra is not None:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], linestyle="none"))
        labels.append(extra)
    ax.legend(handles, labels, loc="upper left", fontsize="small")


def _reliability_panels(curves, *, title, n_bins, strategy, min_count, counts, band, level):
    """One panel per curve, on shared axes, in rows of up to PANEL_COLUMNS."""
    plt = _pyplot()
    ncols = min(PANEL_COLUMNS, len(curves))
    nrows = -(-len(curves) // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(PANEL_SIZE * ncols, PANEL_SIZE * nrows), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    cells = grid.ravel()
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for k, (label, (y, p)) in enumerate(curves.items()):
        ax = cells[k]
        ax.plot([0.0, 1.0], [0.0, 1.0], label="perfect calibration", **DIAGONAL_STYLE)
        ax.set_prop_cycle(color=[colours[k % len(colours)]])
        _, count, _ = _reliability_curve(ax, label, y, p, n_bins=n_bins, strategy=strategy, min_count=min_count,
                                         band=band, level=level, alpha=BAND_ALPHA)
        sizes = None
        if counts:
            a, b = int(count.min()), int(count.max())
            sizes = f"{len(count)} bins of {a:,} cases" if a == b else f"{len(count)} bins of {a:,}-{b:,} cases"
        _reliability_frame(ax, _banded(ax, label), level, sizes)
        ax.set_title(str(label))
        ax.set_xlabel("mean predicted probability")
        ax.set_gid(f"panel:{label}")
    for ax in cells[len(curves):]:
        ax.set_visible(False)
    if title is not None:
        fig.suptitle(title)
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

    frame : `Result.sensitivity(target)` as it comes (columns `parameter`, `at_low`,
        `at_high`; `attrs` `point` and `target`), or columns `parameter`, `low_value`,
        `high_value` (the answer with the parameter at the low and at the high end of
        its range).
    baseline : the answer at the base parameters; the bars start there. By default
        `frame.attrs["point"]`, or a `baseline` column of one value.
    title : by default "One-way sensitivity of <target>" when the table names its target.
    """
    if "at_low" in frame.columns and "at_high" in frame.columns:
        low_col, high_col = "at_low", "at_high"
    else:
        low_col, high_col = "low_value", "high_value"
    needed = ("parameter", low_col, high_col)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(
            f"frame: missing columns {', '.join(missing)} (need parameter, at_low, at_high as "
            "Result.sensitivity() gives, or parameter, low_value, high_value)"
        )
    if baseline is None:
        if frame.attrs.get("point") is not None:
            baseline = frame.attrs["point"]
        else:
            values = frame["baseline"].unique() if "baseline" in frame.columns else []
            if len(values) != 1:
                raise ValueError("baseline: give the answer at the base parameters (baseline=...)")
            baseline = values[0]
    baseline = float(baseline)
    if title is None and frame.attrs.get("target"):
        title = f"One-way sensitivity of {frame.attrs['target']}"

    low = frame[low_col].to_numpy(dtype=float)
    high = frame[high_col].to_numpy(dtype=float)
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
    target = frame.attrs.get("target")
    ax.set_xlabel(f"{target or 'answer'} (baseline {baseline:.4g})")
    ax.legend(loc="lower right", fontsize="small")
    if title is not None:
        ax.set_title(title)
    return fig


# -- the network ----------------------------------------------------------------------

NETWORK_LAYERS = ("exposures", "causes", "findings")
EXPOSURE_EDGE_COLOUR = "0.45"
NODE_FONT = 8
# Line widths of a link at strength 0 and 1 (the whole network, and one neighbourhood).
LINK_WIDTH = (0.3, 2.5)
FOCUS_LINK_WIDTH = (0.8, 5.0)
LINK_ALPHA = (0.08, 0.9)  # the whole network: a weak link faint, a strong one solid


def _link_row(net, finding: str, cause_index: int) -> np.ndarray:
    """P(the cause's contribution = state | the cause present, all else absent). A twitch
    region's link waits on the cause's switch: P(twitching | cause) x P(site | cause,
    twitching) above the lowest state."""
    row = np.array(net.link[finding][cause_index], dtype=float)
    if finding in net.regions:
        row[1:] *= float(net.twitch[net.causes[cause_index]])
        row[0] = 1.0 - row[1:].sum()
    return row


def _link_strength(net, finding: str, cause_index: int) -> float:
    """P(the finding is above its lowest state | the cause present, all else absent)."""
    return float(_link_row(net, finding, cause_index)[1:].sum())


def _relative_risks(net, cause: str, exposure: str) -> str:
    """The cause's relative risks by the exposure's states, from priors/ ("high x3")."""
    by = getattr(net.priors.causes.get(cause), "relative_risk", {}).get(exposure, {})
    return ", ".join(f"{s} x{x.value:.3g}" for s, x in by.items())


def _network_edges(net):
    """(exposure, cause) and (cause, finding, strength) edges of the network."""
    exposure_edges = [(e, c) for c in net.causes for e in net.cause_parents[c]]
    links = [
        (c, f, _link_strength(net, f, i))
        for f in net.findings
        for i, c in enumerate(net.causes)
        if net.link[f][i, 0] < 1.0
    ]
    return exposure_edges, links


def _order_by_neighbours(nodes, neighbours, position) -> list:
    """`nodes` sorted by the mean position of their neighbours (fewer crossings)."""
    def key(n):
        ps = [position[m] for m in neighbours.get(n, ()) if m in position]
        return (np.mean(ps) if ps else len(position), n)

    return sorted(nodes, key=key)


def plot_network(net, focus: str | None = None, ax=None):
    """The network as three layers, left to right: exposures -> causes -> findings.

    Whole network (``focus=None``): causes in the middle, ordered by triage level and
    then group, each a box coloured by its triage level; exposures and findings placed
    beside the causes they connect to. An exposure -> cause edge is grey; a cause ->
    finding link is coloured by the cause's level, and its width and opacity grow with
    its strength, P(finding | cause alone) (`net.link`; for a twitch region times the
    cause's P(twitching | cause), `net.twitch`), so the strong links stand out of the
    few hundred.

    focus : a cause, finding or exposure: draw its neighbourhood only, each edge labelled
        with its strength (a link's P(finding | cause), per state for an ordinal
        finding; an exposure's relative risks from priors/).
    Returns the matplotlib Figure.
    """
    from matplotlib.collections import LineCollection


    exposure_edges, links = _network_edges(net)
    nodes = list(net.exposures) + list(net.causes) + list(net.findings)
    if focus is not None and focus not in nodes:
        raise ValueError(f"focus: {focus!r} is not a node of the network{close_match(focus, tuple(nodes)) or ';'} allowed: a cause, finding or exposure ({', '.join(net.causes)}, ...)")
    level = {c: _level_name(net.cause_level[c]) for c in net.causes}
    group = {c: getattr(net.priors.causes.get(c), "group", "") for c in net.causes}
    group_rank = {"common": 0, "uncommon": 1, "rare": 2}

    if focus is None:
        causes = sorted(net.causes, key=lambda c: (net.cause_level[c], group_rank.get(group[c], 3), net.causes.index(c)))
        exposures, findings = list(net.exposures), list(net.findings)
    elif focus in net.causes:
        causes = [focus]
        exposures = [e for e, c in exposure_edges if c == focus]
        findings = [f for c, f, _ in links if c == focus]
    elif focus in net.findings:
        causes = sorted((c for c, f, _ in links if f == focus), key=lambda c: -_link_strength(net, focus, net.causes.index(c)))
        exposures, findings = [], [focus]
    else:
        causes = [c for e, c in exposure_edges if e == focus]
        exposures, findings = [focus], []
    exposure_edges = [(e, c) for e, c in exposure_edges if e in exposures and c in causes]
    links = [(c, f, w) for c, f, w in links if c in causes and f in findings]

    def spread(items):  # positions top to bottom, centred on 0
        n = len(items)
        return {x: (n - 1) / 2.0 - k for k, x in enumerate(items)}

    y_cause = spread(causes)
    neighbours: dict[str, list[str]] = {}
    for e, c in exposure_edges:
        neighbours.setdefault(e, []).append(c)
    for c, f, _ in links:
        neighbours.setdefault(f, []).append(c)
    rank = {c: -y for c, y in y_cause.items()}
    exposures = _order_by_neighbours(exposures, neighbours, rank)
    findings = _order_by_neighbours(findings, neighbours, rank)
    tallest = max(len(exposures), len(causes), len(findings), 1)
    scale = {  # every layer spans the same height
        "exposures": tallest / max(len(exposures), 1),
        "findings": tallest / max(len(findings), 1),
    }
    pos = {c: (1.0, y * tallest / max(len(causes), 1)) for c, y in y_cause.items()}
    pos.update({e: (0.0, y * scale["exposures"]) for e, y in spread(exposures).items()})
    pos.update({f: (2.0, y * scale["findings"]) for f, y in spread(findings).items()})

    focused = focus is not None
    height = max(3.0, 0.28 * tallest + 1.5)
    fig, ax = _figure(ax, figsize=(10.0 if not focused else 9.0, height))
    widths = FOCUS_LINK_WIDTH if focused else LINK_WIDTH
    if exposure_edges:
        segs = [(pos[e], pos[c]) for e, c in exposure_edges]
        ax.add_collection(LineCollection(segs, colors=EXPOSURE_EDGE_COLOUR, linewidths=1.2 if focused else 0.6,
                                         alpha=0.9 if focused else 0.5, zorder=1, gid="exposure-edges"))
    if links:
        segs = [(pos[c], pos[f]) for c, f, _ in links]
        strength = np.array([w for _, _, w in links])
        import matplotlib.colors as mcolors

        rgba = np.array([mcolors.to_rgba(LEVEL_COLOURS[level[c]]) for c, _, _ in links])
        if not focused:
            rgba[:, 3] = LINK_ALPHA[0] + (LINK_ALPHA[1] - LINK_ALPHA[0]) * strength
        ax.add_collection(LineCollection(segs, colors=rgba, linewidths=widths[0] + (widths[1] - widths[0]) * strength,
                                         zorder=2, gid="link-edges"))
    strength_of: dict[str, str] = {}  # a focused neighbourhood: each node's edge in words
    if focused:
        for e, c in exposure_edges:
            strength_of[e if focus == c or e != focus else c] = _relative_risks(net, c, e)
        for c, f, w in links:
            row = _link_row(net, f, net.causes.index(c))
            states = net.states[f]
            words = f"P {w:.2g}" if len(states) == 2 else ", ".join(f"{s} {p:.2g}" for s, p in zip(states[1:], row[1:]))
            strength_of[f if focus == c or f != focus else c] = words

    def name(node: str) -> str:
        return f"{node}: {strength_of[node]}" if node in strength_of else node

    box = {"boxstyle": "round,pad=0.25", "linewidth": 0.8}
    for e in exposures:
        ax.text(*pos[e], name(e), ha="right", va="center", fontsize=NODE_FONT, zorder=5, gid=f"node:{e}",
                bbox={**box, "fc": "#f0f0f0", "ec": "0.6"})
    for c in causes:
        ax.text(*pos[c], name(c), ha="center", va="center", fontsize=NODE_FONT, zorder=5, gid=f"node:{c}", color="white",
                fontweight="bold" if c == focus else "normal", bbox={**box, "fc": LEVEL_COLOURS[level[c]], "ec": "black" if c == focus else LEVEL_COLOURS[level[c]]})
    for f in findings:
        ax.text(*pos[f], name(f), ha="left", va="center", fontsize=NODE_FONT, zorder=5, gid=f"node:{f}",
                bbox={**box, "fc": "white", "ec": "0.6"})

    top = tallest / 2.0 + 0.3
    for x, name in zip((0.0, 1.0, 2.0), NETWORK_LAYERS):
        ax.text(x, top, name, ha="center", va="bottom", fontsize=NODE_FONT + 2, fontweight="bold")
    ax.set_xlim(*((-0.75, 2.75) if not focused else (-1.4, 3.6)))
    ax.set_ylim(-tallest / 2.0 - 0.6, top + 0.9)
    ax.set_axis_off()
    from matplotlib.patches import Patch

    shown = [lv for lv in TRIAGE_LEVELS if lv in {level[c] for c in causes}]
    ax.legend(handles=[Patch(color=LEVEL_COLOURS[lv], label=lv) for lv in shown], title="cause's triage level",
              loc="upper center", ncols=len(shown) or 1, fontsize="small", bbox_to_anchor=(0.5, 0.0), frameon=False)
    if focused:
        ax.set_title(f"Neighbourhood of {focus}: {len(exposure_edges)} exposure edges, {len(links)} links "
                     "(finding: P(finding | this cause alone); exposure: relative risk)", fontsize=9)
    else:
        ax.set_title(f"twitchdx network: {len(exposures)} exposures, {len(causes)} causes, {len(findings)} findings; "
                     f"{len(exposure_edges)} exposure edges, {len(links)} links (width: P(finding | cause))", fontsize=9)
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
