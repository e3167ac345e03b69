"""One case at a time: `infer()` warm, and the cause posteriors alone, with their tails.

Each case is timed `repeat` times after one warm-up call of its set, and keeps the median
of its calls; a row's tails (p50, p90, p99, max) are over its cases. The slowest case of
each row is kept as its evidence, so it can be re-run (`infer(evidence)`), with the
engine's path when the checkout reports one (`Result.analysis.method`).
"""

from __future__ import annotations

import numpy as np

from .context import Context
from .stats import median_of, tails

# Case sets timed one at a time (cases.py) and what the tables call them.
ROWS = {
    "full": "full evidence (every node observed)",
    "unknown": "every finding observed, every exposure unknown",
    "few": "5-7 items known",
    "multi": "several regions (1-3), a few positives",
    "mix": "the default mix",
}
GROWTH = range(1, 11)  # numbers of positive findings of the growth table


def _causes_only():
    """`encode` + `analyse(triage=False)` of the checkout, or None when it has none."""
    try:
        from model.inference.analysis import analyse
        from model.network.evidence import encode
    except ImportError:
        return None
    return lambda net, ev: analyse(net, encode(ev), triage=False)


def posteriors(result, causes: list[str]) -> list[float]:
    """A Result's cause posteriors in the order `causes`."""
    return [float(result.causes[c]) for c in causes]


def time_infer(net, evidence: list[dict], repeat: int, causes: list[str] | None = None) -> dict:
    """Seconds a case of `infer()` (median of `repeat` calls), the engine's path of each
    case (None when not reported), and the posteriors when `causes` is given."""
    from model import infer

    if evidence:
        infer(evidence[0], network=net)  # warm-up: tables, imports, kernels
    seconds, methods, post = [], [], []
    for ev in evidence:
        s, r = median_of(lambda: infer(ev, network=net), repeat)
        seconds.append(s)
        methods.append(getattr(getattr(r, "analysis", None), "method", None))
        if causes:
            post.append(posteriors(r, causes))
    return {"seconds": seconds, "methods": methods, "posteriors": post}


def time_causes(net, evidence: list[dict], repeat: int) -> list[float] | None:
    """Seconds a case of the cause posteriors alone (no triage, no Result)."""
    call = _causes_only()
    if call is None:
        return None
    out = []
    for ev in evidence:
        call(net, ev)
        out.append(median_of(lambda: call(net, ev), repeat)[0])
    return out


def worst(evidence: list[dict], seconds: list[float], methods: list) -> dict | None:
    """The slowest case: its evidence, seconds and path."""
    if not seconds:
        return None
    i = int(np.argmax(seconds))
    return {"index": i, "evidence": evidence[i], "seconds": seconds[i], "method": methods[i]}


def run(ctx: Context) -> tuple[dict, dict]:
    """Figures `single.<row>.infer|causes.<tail>`, `single.batch_vs_single.max_diff`
    and `growth.<k>.p50|max`; details: each row's seconds, paths and worst case."""
    from model import infer

    figures, details = {}, {}
    repeat = ctx.opt("repeat")
    for name in ROWS:
        evidence = ctx.cases.get(name)
        if not evidence:
            continue
        ctx.say(f"  single: {name} ({len(evidence)} cases) ...")
        timed = time_infer(ctx.net, evidence, repeat, ctx.causes if name in ("mix", "few") else None)
        figures.update({f"single.{name}.infer.{k}": v for k, v in tails(timed["seconds"]).items()})
        figures[f"single.{name}.infer.cases"] = float(len(evidence))
        causes = time_causes(ctx.net, evidence, repeat)
        if causes is not None:
            figures.update({f"single.{name}.causes.{k}": v for k, v in tails(causes).items()})
        paths = {}
        for m in timed["methods"]:
            if m is not None:
                paths[m] = paths.get(m, 0) + 1
        details[name] = {"seconds": timed["seconds"], "causes_seconds": causes, "paths": paths,
                         "worst": worst(evidence, timed["seconds"], timed["methods"]),
                         "posteriors": timed["posteriors"]}
    # the batch path answers the same cases as one case at a time
    both = ctx.cases.get("mix", []) + ctx.cases.get("few", [])
    if both and ctx.causes:
        batch = infer(list(both), network=ctx.net).causes[ctx.causes].to_numpy()
        single = np.array(details["mix"]["posteriors"] + details["few"]["posteriors"])
        figures["single.batch_vs_single.max_diff"] = float(np.max(np.abs(batch - single)))
    for k in GROWTH:
        evidence = ctx.cases.get(f"positives_{k}")
        if not evidence:
            continue
        timed = time_infer(ctx.net, evidence, repeat)
        figures[f"growth.{k}.p50"] = float(np.median(timed["seconds"]))
        figures[f"growth.{k}.max"] = float(np.max(timed["seconds"]))
        details[f"positives_{k}"] = {"seconds": timed["seconds"],
                                     "paths": {m: timed["methods"].count(m) for m in set(timed["methods"]) if m}}
    return figures, details

