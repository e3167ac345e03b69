"""`infer(..., intervals=N)`: N redrawn networks answered exactly, one case at a time."""

from __future__ import annotations

import time

import numpy as np

from .context import Context
from .stats import tails


def time_intervals(net, evidence: list[dict], draws: int, seed: int) -> list[float]:
    """Seconds of `infer(ev, intervals=draws)` a case, after a warm-up call."""
    from model import infer

    if evidence:
        infer(evidence[0], network=net, intervals=min(draws, 100), rng=np.random.default_rng(seed))
    out = []
    for i, ev in enumerate(evidence):
        t = time.perf_counter()
        infer(ev, network=net, intervals=draws, rng=np.random.default_rng([seed, i]))
        out.append(time.perf_counter() - t)
    return out


def run(ctx: Context) -> tuple[dict, dict]:
    """Figures `intervals.<draws>.<tail>` on the cases with every exposure unknown."""
    evidence = ctx.cases.get("unknown", [])[: ctx.opt("interval_cases")]
    if not evidence:
        return {}, {}
    draws = ctx.opt("draws")
    ctx.say(f"  intervals={draws} ({len(evidence)} cases) ...")
    seconds = time_intervals(ctx.net, evidence, draws, ctx.opt("seed"))
    return {f"intervals.{draws}.{k}": v for k, v in tails(seconds).items()}, {"seconds": seconds}
