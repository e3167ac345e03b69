"""The validation's figures: reliability diagrams, the triage confusion matrix and the
cause ranking's top-k accuracy (matplotlib). Every number they show comes from
`model.validation.metrics`; sizes and colours are the presentation's (`model.presentation.plots`).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..presentation.plots import (
    BAND_ALPHA, COUNT_ALPHA, DIAGONAL_STYLE, MIN_BIN_CASES, PANEL_COLUMNS, PANEL_SIZE,
    TOPK_COLOURS, TWIN_COUNTS_FLOOR, TWIN_COUNTS_HEIGHT, UNDER_TRIAGE_EDGE, figure, pyplot,
)
from .metrics import CONFIDENCE, ECE_BINS, ece, reliability, reliability_intervals, supported_bins

__all__ = ["plot_reliability", "plot_confusion", "plot_topk"]


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
    plt = pyplot()
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
    plt = pyplot()
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

    fig, ax = figure(ax, figsize=(5.5, 5.0))
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
    fig, ax = figure(ax, figsize=(max(4.0, 1.6 * len(names) + 2.0), 4.0))
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


