"""`twitchdx sweep`: the validation repeated over a grid, one independent task a cell.

A grid names values for each axis; its cells are every combination (the first axis
varies slowest). Each cell calls the cell function with the cell's values as keyword
arguments and returns a dict of scalars. The default cell is `validate_cell`, the
validation of `twitchdx validate` (`model.validation.report.validate`) with the axes

* ``world``: one of `model.validation.report.WORLDS` (the perturbed worlds),
* ``missing``: the share of answers left empty, in [0, 1],
* ``n``: the number of cases,
* ``seed``: the seed of the case set (the same seed in two cells draws the same
  random stream: common random numbers across the other axes),
* ``draw``: 0 for the network as given; d >= 1 for the network redrawn from the ranges
  in priors/ with ``numpy.random.default_rng(d)`` (`model.network.draws.perturbed_network`),
  the same network in every cell with that draw.

Every random number of a cell comes from its own values, so the table does not depend
on how many workers run it or in which order. The cells run on Dask distributed: a local
cluster by default, an existing scheduler by address, a `distributed.Client` passed in,
or serially in this process. A cell that raises is retried; if it still fails its row
says so (`status`, `error`) and the other cells complete. Wall times are kept apart
from the table (`Sweep.seconds`) so that the table is reproducible.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..network.build import load_network
from .report import WORLDS, validate
from ..network.draws import perturbed_network

# Axes of the default cell (`validate_cell`).
AXES = ("world", "missing", "n", "seed", "draw")
# A failed cell is run this many more times before it is reported.
DEFAULT_RETRIES = 1
# Figures of a validation that measure the machine, not the model: kept out of the table.
TIMING_KEYS = ("cases_per_second", "seconds")
STATUS_OK, STATUS_FAILED = "ok", "failed"

# The report's words for the metrics and axes of the default cell (other names are shown as they are).
METRIC_WORDS = {
    "top1": "top-1 accuracy",
    "top3": "top-3 accuracy",
    "urgency_ece": "urgency: calibration error (ECE)",
    "urgency_ece_equal_mass": "urgency: ECE, equal-mass bins",
    "urgency_brier": "urgency: Brier score",
    "calibration_intercept": "urgency: calibration intercept",
    "calibration_slope": "urgency: calibration slope",
    "under_triage": "under-triage rate",
    "over_triage": "over-triage rate",
    "recalibrated_ece": "urgency ECE after recalibration",
    "errors": "rows that failed",
}
AXIS_WORDS = {
    "missing": "share of answers missing",
    "n": "cases per cell",
    "seed": "seed",
    "draw": "parameter draw (0: the priors' point)",
    "world": "world",
}
# What a perfect model scores: drawn as a dashed line in the metric's panel.
REFERENCE_LINES = {
    "calibration_slope": 1.0,
    "calibration_intercept": 0.0,
    "urgency_ece": 0.0,
    "urgency_ece_equal_mass": 0.0,
    "recalibrated_ece": 0.0,
    "under_triage": 0.0,
    "over_triage": 0.0,
    "top1": 1.0,
    "top3": 1.0,
}


def words(name: str) -> str:
    """A metric's or an axis's name in words (itself when the report has none)."""
    return METRIC_WORDS.get(name, AXIS_WORDS.get(name, name))


def validate_cell(*, world: str, missing: float, n: int, seed: int, draw: int = 0, priors: str | None = None) -> dict[str, float]:
    """One cell of the default sweep: `model.validation.report.validate(...).flat()`, timings left out."""
    net = load_network(priors)
    if draw:
        net = perturbed_network(net, np.random.default_rng(draw))
    # a cell scores one-shot inference; the interview (0.1-1 s a case) is `twitchdx validate`'s
    v = validate(network=net, n=int(n), world=world, missing=float(missing), seed=int(seed), workers=1, interviews=0)
    return {k: x for k, x in v.flat().items() if k not in TIMING_KEYS}


def _whole(key: str, x: Any, low: int) -> None:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < low:
        raise ValueError(f"grid[{key!r}]: {x!r} is not a whole number >= {low}")


def check_grid(grid: Mapping[str, Sequence[Any]], *, default_cell: bool = True) -> dict[str, list]:
    """The grid as lists, checked: every axis non-empty, no value twice; for the default
    cell, the axis names and values of `validate_cell`."""
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid: expected a mapping of axis -> values, got {grid!r}")
    out = {}
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            values = [values]
        values = list(values)
        if not values:
            raise ValueError(f"grid[{key!r}]: no values")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"grid[{key!r}]: a value appears twice in {values!r}")
        out[key] = values
    if default_cell:
        unknown = [k for k in out if k not in AXES]
        if unknown:
            raise ValueError(f"grid: unknown axis {unknown[0]!r}; allowed: {', '.join(AXES)}")
        missing_axes = [k for k in ("world", "missing", "n", "seed") if k not in out]
        if missing_axes:
            raise ValueError(f"grid: missing axis {missing_axes[0]!r}; required: world, missing, n, seed (draw is optional)")
        for w in out["world"]:
            if w not in WORLDS:
                raise ValueError(f"grid['world']: {w!r} is not a world; allowed: {', '.join(WORLDS)}")
        for m in out["missing"]:
            if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0.0 <= m <= 1.0:
                raise ValueError(f"grid['missing']: {m!r} is outside [0, 1]")
        for x in out["n"]:
            _whole("n", x, 1)
        for key in ("seed", "draw"):
            for x in out.get(key, []):
                _whole(key, x, 0)
    return out


def cells(grid: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Every combination of the grid's values, one row a cell (first axis slowest)."""
    grid = check_grid(grid, default_cell=False)
    rows = list(itertools.product(*grid.values()))
    frame = pd.DataFrame(rows, columns=list(grid))
    frame.index.name = "cell"
    return frame


def _run_cell(cell: Callable[..., Mapping[str, Any]], values: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
    """Run one cell (on a worker): its metrics and its wall time. Raises on a bad result."""
    start = time.perf_counter()
    out = cell(**values)
    if not isinstance(out, Mapping):
        raise TypeError(f"the cell function returned {type(out).__name__}, not a dict of scalars")
    metrics = {}
    for k, v in out.items():
        if isinstance(v, (np.generic,)):
            v = v.item()
        if v is not None and not isinstance(v, (int, float, str, bool)):
            raise TypeError(f"the cell function returned {k}={v!r}, not a scalar")
        metrics[str(k)] = v
    return metrics, time.perf_counter() - start


@dataclass(frozen=True, repr=False)
class Sweep:
    """The results of a sweep.

    table : one row a cell (index `cell`): the grid's axes, `status` ("ok" or
        "failed"), `error` (the last error of a failed cell, else None), then the
        metrics. The same grid gives the same table on any number of workers.
    seconds : wall time of each completed cell (machine-dependent, so not in `table`).
    elapsed : wall time of the whole sweep; workers : how it ran.
    """

    table: pd.DataFrame
    seconds: pd.Series
    elapsed: float
    workers: str
    axes: tuple[str, ...] = field(default=())

    @property
    def failures(self) -> pd.DataFrame:
        """The failed cells, with their values and error."""
        return self.table.loc[self.table["status"] == STATUS_FAILED, list(self.axes) + ["error"]]

    @property
    def metrics(self) -> list[str]:
        return [c for c in self.table.columns if c not in self.axes and c not in ("status", "error")]

    @property
    def cells_per_minute(self) -> float:
        return 60.0 * len(self.table) / self.elapsed if self.elapsed > 0 else math.nan

    def summary(self, over: str = "seed") -> pd.DataFrame:
        """Mean, standard deviation and number of cells of each numeric metric over
        `over` (default: the seeds), for each combination of the other axes; failed
        cells left out. With one cell a group the standard deviation is NaN (n=1)."""
        ok = self.table[self.table["status"] == STATUS_OK]
        numeric = [m for m in self.metrics if pd.api.types.is_numeric_dtype(ok[m])]
        by = [a for a in self.axes if a != over]
        if not by:
            return ok[numeric].agg(["mean", "std", "count"])
        return ok.groupby(by, sort=False)[numeric].agg(["mean", "std", "count"])

    def constant_metrics(self) -> dict[str, Any]:
        """The numeric metrics that take one value in every completed cell (name -> value):
        the report states them once instead of plotting a flat line."""
        ok = self.table[self.table["status"] == STATUS_OK]
        out = {}
        for m in self.metrics:
            if pd.api.types.is_numeric_dtype(ok[m]) and len(ok) and ok[m].nunique(dropna=False) == 1:
                out[m] = ok[m].iloc[0]
        return out

    def to_parquet(self, path: str | Path) -> Path:
        path = Path(path)
        self.table.to_parquet(path)
        return path

    def __repr__(self) -> str:
        failed = int((self.table["status"] == STATUS_FAILED).sum())
        return f"Sweep({len(self.table)} cells, {failed} failed, {self.elapsed:.1f} s on {self.workers})"


def _gather(results: dict[int, tuple], grid_cells: pd.DataFrame, errors: dict[int, str], elapsed: float, workers: str) -> Sweep:
    rows, seconds = [], {}
    for i in grid_cells.index:
        row: dict[str, Any] = {}
        if i in results:
            metrics, secs = results[i]
            row.update(status=STATUS_OK, error=None, **metrics)
            seconds[i] = secs
        else:
            row.update(status=STATUS_FAILED, error=errors.get(i, "not run"))
        rows.append(row)
    table = pd.concat([grid_cells, pd.DataFrame(rows, index=grid_cells.index)], axis=1)
    table["error"] = table["error"].astype(object)
    return Sweep(table, pd.Series(seconds, name="seconds", dtype=float).rename_axis("cell"), elapsed, workers, tuple(grid_cells.columns))


def _message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _progress(total: int, show: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="sweep cells", unit="cell", disable=not show, file=sys.stderr)


def run_sweep(
    grid: Mapping[str, Sequence[Any]],
    *,
    cell: Callable[..., Mapping[str, Any]] | None = None,
    fixed: Mapping[str, Any] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    serial: bool = False,
    retries: int = DEFAULT_RETRIES,
    progress: bool = False,
) -> Sweep:
    """Run `cell` on every cell of `grid`; gather one table.

    Parameters
    ----------
    grid : axis -> values. For the default cell, the axes of `validate_cell`.
    cell : a function of keyword arguments (the cell's values and `fixed`) returning a
        dict of scalars; default `validate_cell`. It must be importable by the workers.
    fixed : keyword arguments passed to every cell (for example ``{"priors": path}``).
    workers : workers of the local cluster (one thread each; default: the CPU count).
    scheduler : the address of an existing Dask scheduler to use instead.
    client : an existing `distributed.Client` to use instead.
    serial : run in this process, one cell after another (no Dask).
    retries : how many more times a failed cell is run before it is reported.
    progress : show a progress bar over the cells.

    Examples
    --------
    >>> def square(*, x):
    ...     return {"y": x * x}
    >>> run_sweep({"x": [1, 2, 3]}, cell=square, serial=True).table["y"].tolist()
    [1, 4, 9]
    """
    grid = check_grid(grid, default_cell=cell is None)
    cell = validate_cell if cell is None else cell
    fixed = dict(fixed or {})
    clash = sorted(set(fixed) & set(grid))
    if clash:
        raise ValueError(f"fixed: {clash[0]!r} is also an axis of the grid")
    _whole("retries", retries, 0)
    if workers is not None:
        _whole("workers", workers, 1)
    modes = [name for name, on in (("scheduler", scheduler is not None), ("client", client is not None), ("serial", serial)) if on]
    if len(modes) > 1:
        raise ValueError(f"give one of scheduler, client, serial; got {', '.join(modes)}")
    table = cells(grid)
    tasks = {i: {**row, **fixed} for i, row in zip(table.index, table.to_dict(orient="records"))}
    start = time.perf_counter()
    if serial:
        results, errors = _run_serial(cell, tasks, retries, progress)
        return _gather(results, table, errors, time.perf_counter() - start, "serial")
    if client is not None:
        results, errors = _run_dask(client, cell, tasks, retries, progress)
        return _gather(results, table, errors, time.perf_counter() - start, _describe(client))
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as c:
            results, errors = _run_dask(c, cell, tasks, retries, progress)
            where = _describe(c)
        return _gather(results, table, errors, time.perf_counter() - start, where)
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, Client(cluster) as c:
        results, errors = _run_dask(c, cell, tasks, retries, progress)
    return _gather(results, table, errors, time.perf_counter() - start, f"local cluster of {n} workers")


def _describe(client) -> str:
    n = len(client.scheduler_info().get("workers", {}))
    return f"Dask scheduler {client.scheduler.address} ({n} workers)"


def _run_serial(cell, tasks, retries, progress):
    results, errors = {}, {}
    with _progress(len(tasks), progress) as bar:
        for i, values in tasks.items():
            for _ in range(retries + 1):
                try:
                    results[i] = _run_cell(cell, values)
                    errors.pop(i, None)
                    break
                except Exception as e:  # a cell's failure is reported, not raised
                    errors[i] = _message(e)
            bar.update()
    return results, errors


def _run_dask(client, cell, tasks, retries, progress):
    from distributed import as_completed

    futures = {client.submit(_run_cell, cell, values, key=f"sweep-cell-{i}-{_token(cell, values)}", retries=retries, pure=False): i for i, values in tasks.items()}
    results, errors = {}, {}
    with _progress(len(futures), progress) as bar:
        for future in as_completed(futures):
            i = futures[future]
            if future.status == "finished":
                results[i] = future.result()
            else:
                exc = future.exception()
                errors[i] = _message(exc) if exc is not None else f"task {future.status}"
            bar.update()
    for future in futures:
        future.release()
    return results, errors


def _token(cell, values) -> str:
    from dask.base import tokenize

    return tokenize(getattr(cell, "__module__", ""), getattr(cell, "__qualname__", repr(cell)), sorted(values.items(), key=lambda kv: kv[0]))


# ----------------------------------------------------------------------------------
# The report: sweep.parquet, summary.md and figures
# ----------------------------------------------------------------------------------


def write_sweep_report(folder: str | Path, sweep: Sweep) -> Path:
    """Write `sweep.parquet` (the table), `seconds.csv`, `summary.md` and one PNG per
    axis with more than one numeric value (each metric's mean over the seeds, one line a
    world). Returns the path of summary.md."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sweep.to_parquet(folder / "sweep.parquet")
    sweep.seconds.to_csv(folder / "seconds.csv")
    figures = _figures(folder, sweep)
    lines = [
        "# twitchdx sweep",
        "",
        f"{len(sweep.table)} cells on {sweep.workers} in {sweep.elapsed:.1f} s ({sweep.cells_per_minute:.1f} cells a minute).",
        "",
        "## Grid",
        "",
    ]
    for a in sweep.axes:
        values = list(dict.fromkeys(sweep.table[a].tolist()))
        lines.append(f"- `{a}`: {', '.join(map(str, values))}")
    lines += ["", "## Failed cells", ""]
    failures = sweep.failures
    if len(failures):
        lines.append(_markdown(failures))
    else:
        lines.append("None.")
    summary = sweep.summary() if "seed" in sweep.axes else None
    constant = sweep.constant_metrics()
    lines += ["", "## Metrics" + (" (mean ± sd over the seeds; n: the cells behind each)" if summary is not None else ""), ""]
    shown = summary if summary is not None else sweep.table.set_index(list(sweep.axes))[sweep.metrics]
    if isinstance(shown.columns, pd.MultiIndex):  # one column a metric: "mean ± sd (n=k)", or "mean (n=1)"
        metrics = list(dict.fromkeys(m for m, _ in shown.columns if m not in constant))
        shown = pd.DataFrame(
            {m: [_mean_sd(a, b, k) for a, b, k in zip(shown[(m, "mean")], shown[(m, "std")], shown[(m, "count")])] for m in metrics},
            index=shown.index,
        )
    else:
        shown = shown[[m for m in shown.columns if m not in constant]]
    lines.append(_markdown(shown.reset_index() if shown.index.nlevels > 1 or shown.index.name else shown))
    if constant:
        lines += ["", "The same in every cell (left out of the table and the figures): "
                  + ", ".join(f"{words(m)} ({m}) = {_show(v)}" for m, v in constant.items()) + "."]
    if figures:
        lines += ["", "## Figures", ""] + [f"![{words(p.stem.removeprefix('by_'))}]({p.name})" for p in figures]
    lines += ["", "The full table is `sweep.parquet` (one row a cell); wall times per cell are in `seconds.csv`.", ""]
    path = folder / "summary.md"
    path.write_text("\n".join(lines))
    return path


def _show(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _mean_sd(mean: float, sd: float, count: int) -> str:
    """"mean ± sd (n=k)", or "mean (n=1)" where one cell gives no spread."""
    if count <= 1 or not np.isfinite(sd):
        return f"{mean:.4g} (n={int(count)})"
    return f"{mean:.4g} ± {sd:.2g} (n={int(count)})"


def _markdown(frame: pd.DataFrame) -> str:
    show = _show

    cols = [str(c) for c in frame.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        out.append("| " + " | ".join(show(x) for x in row) + " |")
    return "\n".join(out)


def _figures(folder: Path, sweep: Sweep) -> list[Path]:
    """One PNG per numeric axis with more than one value: a panel a metric (those that
    vary), its mean over the seeds against the axis, one line a world, a band of one sd
    where there are several seeds, and the value a perfect model scores as a dashed line."""
    ok = sweep.table[sweep.table["status"] == STATUS_OK]
    constant = sweep.constant_metrics()
    numeric = [m for m in sweep.metrics if pd.api.types.is_numeric_dtype(ok[m]) and m not in constant]
    axes = [a for a in sweep.axes if a not in ("seed", "world") and ok[a].nunique() > 1 and pd.api.types.is_numeric_dtype(ok[a])]
    if not len(ok) or not numeric or not axes:
        return []
    import matplotlib.pyplot as plt

    paths = []
    for axis in axes:
        fig = sweep_figure(sweep, axis)
        path = folder / f"by_{axis}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def sweep_figure(sweep: Sweep, axis: str):
    """The figure of one axis: a panel a metric that varies, its mean over the seeds
    against `axis`, one line a world, a band of one sd where there are several seeds,
    the value a perfect model scores as a dashed line; titles in words."""
    import matplotlib.pyplot as plt

    ok = sweep.table[sweep.table["status"] == STATUS_OK]
    constant = sweep.constant_metrics()
    numeric = [m for m in sweep.metrics if pd.api.types.is_numeric_dtype(ok[m]) and m not in constant]
    if axis not in sweep.axes:
        raise ValueError(f"axis: {axis!r} is not an axis of the sweep; allowed: {', '.join(sweep.axes)}")
    cols = min(3, len(numeric))
    rows = math.ceil(len(numeric) / cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows + 0.6), squeeze=False, layout="constrained")
    lines = "world" if "world" in sweep.axes else None
    for ax, metric in zip(grid.flat, numeric):
        groups = ok.groupby(lines, sort=False) if lines else [("all", ok)]
        for name, part in groups:
            stats = part.groupby(axis)[metric].agg(["mean", "std", "count"])
            (line,) = ax.plot(stats.index, stats["mean"].to_numpy(), marker="o", label=str(name[0] if isinstance(name, tuple) else name))
            spread = stats["count"] > 1
            if spread.any():
                lo = (stats["mean"] - stats["std"])[spread]
                hi = (stats["mean"] + stats["std"])[spread]
                ax.fill_between(lo.index, lo.to_numpy(), hi.to_numpy(), color=line.get_color(), alpha=0.2, linewidth=0)
        if metric in REFERENCE_LINES:
            ax.axhline(REFERENCE_LINES[metric], color="0.4", linestyle="--", linewidth=1.0, gid=f"reference:{metric}",
                       label=f"perfect: {REFERENCE_LINES[metric]:g}")
        ax.set_title(words(metric), fontsize="small")
        ax.set_xlabel(words(axis), fontsize="small")
    for ax in list(grid.flat)[len(numeric):]:
        ax.set_visible(False)
    grid.flat[0].legend(fontsize="x-small")
    seeds = ok["seed"].nunique() if "seed" in ok else 1
    fig.suptitle(
        f"Validation metrics against the {words(axis)} (mean over {seeds} seed{'s' if seeds != 1 else ''}"
        f"{', band: ± 1 sd' if seeds > 1 else ''}; one line a world; dashed: a perfect model)",
        fontsize="medium",
    )
    return fig
