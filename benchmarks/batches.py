"""Batches: `infer(DataFrame)` on `twitchdx validate`'s default case mix.

Each size runs in a fresh process (spawned: nothing warm but what it warms itself), on a
frame the parent sampled once and saved, so every side answers the same rows; sampling
is not timed. One process: the whole frame in one `infer()` call (the compiled kernels on
the machine's threads), with the peak resident memory of the process during that call
(Linux: the high-water mark reset just before) and the urgency's calibration (ECE against
the sampled true level). 2 workers: the frame split in two halves, each answered by
`infer()` in one of 2 forked processes (pool start-up included), with their peak memory.
Stages, when the checkout has them: encoding the frame and the exact sums, apart.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
import warnings
from pathlib import Path

import numpy as np

from .context import Context

WORKERS = 2
_SHARED: dict = {}  # what the forked workers of one batch read (set before forking)


def frame_path(workdir: Path, n: int) -> Path:
    return Path(workdir) / f"batch-{n}.pkl"


def write_frames(net, sizes: list[int], seed: int, workdir: Path, say=None) -> None:
    """Sample each size once (default missing share) and save it for the sides."""
    from model.synthetic import sample_cases

    from .cases import default_missing

    for n in sizes:
        if say:
            say(f"  sampling {n:,} cases for the batch ...")
        sample_cases(net, n, rng=np.random.default_rng([seed, n]), missing=default_missing(net)).to_pickle(frame_path(workdir, n))


def rss(field: str) -> int:
    """VmRSS / VmHWM of this process in bytes (Linux), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> bool:
    """Reset this process's resident high-water mark (Linux); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _warm_every_kernel(net) -> None:
    """Load every kernel of the checkout's engine before timing (or forking workers, who
    inherit them), as `twitchdx validate` does; a checkout without `warm` has one."""
    try:
        from model.inference.engine import warm
    except ImportError:
        return
    warm(net)


def _infer_part(bounds: tuple[int, int]) -> int:
    from model import infer

    frame, net = _SHARED["frame"], _SHARED["net"]
    result = infer(frame.iloc[bounds[0]: bounds[1]], network=net, errors="collect")
    return len(result.errors)


def _ece(urgent: np.ndarray, p: np.ndarray) -> float:
    try:
        from model.validation.metrics import ece
    except ImportError:
        return float("nan")
    return float(ece(urgent, p))


def _job(path: str, workers: bool, conn) -> None:
    warnings.simplefilter("ignore")
    import pandas as pd

    from model import infer, load_network

    net = load_network()
    sampled = pd.read_pickle(path)
    n = len(sampled)
    infer(sampled.head(200), network=net)  # warm-up: kernels, tables
    _warm_every_kernel(net)
    before = rss("VmRSS")
    is_inference = reset_peak()
    t = time.perf_counter()
    result = infer(sampled, network=net, errors="collect")
    seconds = time.perf_counter() - t
    out = {"n": n, "seconds": seconds, "rate": n / seconds, "peak": rss("VmHWM"), "before": before,
           "peak_is_inference": is_inference, "errors": len(result.errors)}
    urgency = result.urgency.to_numpy()
    ok = ~np.isnan(urgency)
    urgent = sampled["true_level"].isin(["soon", "emergency"]).to_numpy()
    out["ece"] = _ece(urgent[ok], urgency[ok])
    out["urgent"] = float(urgent.mean())
    del result
    try:  # the stages, where the checkout has them
        from model.inference.analysis import analyse_many
        from model.batch import encode_frame
        from model.synthetic import evidence_of

        frame = evidence_of(sampled)
        t = time.perf_counter()
        states, _ = encode_frame(net, frame)
        out["encode_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        analyse_many(net, states)
        out["analyse_seconds"] = time.perf_counter() - t
    except (ImportError, TypeError, ValueError):
        pass
    if workers:
        _SHARED.update(frame=sampled, net=net)
        half = (n + 1) // 2
        t = time.perf_counter()
        with mp.get_context("fork").Pool(WORKERS) as pool:
            pool.map(_infer_part, [(0, half), (half, n)], chunksize=1)
        out["seconds_2"] = time.perf_counter() - t
        out["rate_2"] = n / out["seconds_2"]
        out["peak_2"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    conn.send(out)


def measure(path: Path, timeout: float, *, workers: bool = True) -> dict:
    """One size in a fresh process: the figures of `_job`, or a status on failure."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_job, args=(str(path), workers, child))  # not a daemon: it forks workers
    proc.start()
    child.close()
    out = {"status": "timeout"}
    if parent.poll(timeout):
        try:
            out = {**parent.recv(), "status": "ok"}
        except EOFError:
            out = {"status": f"crashed (exit {proc.exitcode})"}
    if proc.is_alive():
        proc.kill()
    proc.join()
    return out


def run(ctx: Context) -> tuple[dict, dict]:
    """Figures `batch.<n>.rate`, `.rate_2`, `.best_rate`, `.peak`, `.peak_2`, `.ece`,
    `.encode_seconds`, `.analyse_seconds`; details: each size's whole record."""
    figures, details = {}, {}
    for n in ctx.opt("batch"):
        path = frame_path(ctx.workdir, n)
        if not path.exists():
            continue
        ctx.say(f"  batch of {n:,} ...")
        out = measure(path, ctx.opt("batch_timeout"), workers=not ctx.opt("no_workers"))
        details[str(n)] = out
        if out["status"] != "ok":
            continue
        for key in ("rate", "rate_2", "peak", "peak_2", "ece", "encode_seconds", "analyse_seconds", "seconds", "seconds_2"):
            if key in out:
                figures[f"batch.{n}.{key}"] = float(out[key])
        figures[f"batch.{n}.best_rate"] = max(out["rate"], out.get("rate_2", 0.0))
    return figures, details
