"""Whole processes: `twitchdx infer ...` warm and with an empty compile cache, `import model`.

Every process runs with the checkout's root first on PYTHONPATH, so `python -m model`
imports that checkout's package. The empty cache is a fresh NUMBA_CACHE_DIR a run (the
checkout's own cache is neither read nor written); what the process then said about
compiling (a line of its output that mentions it) is kept.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .context import Context

CLI_EXAMPLE = ("infer", "--location", "eyelid", "--duration", "under_1_week", "--sleep", "short", "--caffeine", "high")


def env_for(root: str | Path, **extra: str) -> dict:
    """This environment with `root` first on PYTHONPATH (and `extra` variables)."""
    path = os.pathsep.join([str(root)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return {**os.environ, "PYTHONPATH": path, **extra}


def cli_command() -> list[str]:
    return [sys.executable, "-m", "model", *CLI_EXAMPLE]


def process_seconds(command: list[str], runs: int, *, env: dict, warmup: bool = True) -> list[float]:
    """Wall seconds of a whole process, `runs` times (after one warm-up run)."""
    times = []
    for i in range(runs + int(warmup)):
        t = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        if i or not warmup:
            times.append(time.perf_counter() - t)
    return times


def cold_process(command: list[str], runs: int, root: str | Path) -> tuple[list[float], str]:
    """Wall seconds of `command` with an empty compile cache, `runs` times, and what the
    first run said about compiling ("" if nothing)."""
    times, said = [], ""
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="twitchdx-numba-cold-") as cache:
            t = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=True,
                                  env=env_for(root, NUMBA_CACHE_DIR=cache))
            times.append(time.perf_counter() - t)
            if i == 0:
                lines = (done.stderr + "\n" + done.stdout).splitlines()
                said = " / ".join(line.strip() for line in lines if "compil" in line.lower())
    return times, said


def import_seconds(runs: int, root: str | Path) -> list[float]:
    """Seconds of `import model` timed inside a fresh interpreter."""
    code = "import time; t = time.perf_counter(); import model; print(time.perf_counter() - t)"
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env_for(root))
        out.append(float(done.stdout.strip().splitlines()[-1]))
    return out


def run(ctx: Context) -> tuple[dict, dict]:
    """Figures `process.cli.warm.p50|min|max`, `process.cli.cold.max`, `.says`,
    `process.import.p50`."""
    root, runs, cold_runs = ctx.opt("root"), ctx.opt("runs"), ctx.opt("cold_runs")
    figures, details = {}, {}
    command = cli_command()
    if runs:
        ctx.say(f"  twitchdx {' '.join(CLI_EXAMPLE)}, warm ({runs} runs) ...")
        warm = process_seconds(command, runs, env=env_for(root))
        figures.update({"process.cli.warm.p50": statistics.median(warm), "process.cli.warm.min": min(warm),
                        "process.cli.warm.max": max(warm)})
        imp = import_seconds(runs, root)
        figures["process.import.p50"] = statistics.median(imp)
        details.update(warm=warm, imports=imp)
    if cold_runs:
        ctx.say(f"  the same with an empty compile cache ({cold_runs} runs) ...")
        cold, said = cold_process(command, cold_runs, root)
        figures.update({"process.cli.cold.max": max(cold), "process.cli.cold.says": float(bool(said))})
        details.update(cold=cold, said=said)
    return figures, details
