"""Figures of one case, a sensitivity table and the network (matplotlib); the
validation's figures (reliability, confusion, top-k) are `model.validation.plots`.

Every function draws into the axes it is given, or into a new figure, and returns the
matplotlib `Figure`. matplotlib is imported inside the functions, so `import model`
(and the command line) never loads it. Figures made here are pyplot figures: close
them when done (`save` does), or long runs collect them.

Only presentation lives here (sizes, colours, dpi); every number a figure shows
comes from its input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..network.evidence import close_match
from ..network.vocabulary import TRIAGE_LEVELS

__all__ = ["plot_result", "plot_tornado", "plot_network", "save"]

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
# Horizontal bar charts (a case's causes, a tornado): this wide, this many inches a bar,
# plus room for the axis labels and title.
BAR_CHART_WIDTH = 7.0
BAR_INCHES = 0.35
BAR_CHART_MARGIN = 1.6
# Raised this much above its pair, the shorter of two overlapping bars is drawn in front.
IN_FRONT = 0.5
# Reliability diagrams: at least this many cases a bin (a bin of a handful of cases
# swings from 0 to 1), panels of this many inches, this many panels a row.
MIN_BIN_CASES = 30
PANEL_SIZE = 4.0
PANEL_COLUMNS = 2


def pyplot():
    import matplotlib.pyplot as plt

    return plt


def figure(ax, figsize):
    """The figure of `ax`, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = pyplot().subplots(figsize=figsize, layout="constrained")
    return fig, ax


def bar_chart_size(bars: int) -> tuple[float, float]:
    """The figure size (inches) of a horizontal bar chart of `bars` bars."""
    return (BAR_CHART_WIDTH, BAR_INCHES * bars + BAR_CHART_MARGIN)


def level_name(level: Any) -> str:
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
    levels = [level_name(result.network.cause_level[c]) for c in causes.index]
    y = np.arange(len(causes))
    fig, ax = figure(ax, figsize=bar_chart_size(len(causes)))

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

    fig, ax = figure(ax, figsize=bar_chart_size(len(order)))
    lows = ax.barh(y, low - baseline, left=baseline, color=TORNADO_COLOURS["low"], label="parameter at its low end")
    highs = ax.barh(y, high - baseline, left=baseline, color=TORNADO_COLOURS["high"], label="parameter at its high end")
    for a, b in zip(lows, highs):  # both ends on one side: the shorter bar in front
        (a if abs(a.get_width()) < abs(b.get_width()) else b).set_zorder(a.get_zorder() + IN_FRONT)
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
    level = {c: level_name(net.cause_level[c]) for c in net.causes}
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
    fig, ax = figure(ax, figsize=(10.0 if not focused else 9.0, height))
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
        pyplot().close(fig)
    return path
