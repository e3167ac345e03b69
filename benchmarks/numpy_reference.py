"""The numpy reference engine (`model.reference.batched`) beside the compiled one.

The same queries in both: each case's own query (every cause's joint) and its triage
boxes (totals only), as `infer()` sends them, on the bundled network without its twitch
switches and latents (`model.reference.engine.switch_free`: the model the reference
computes). Batched: all rows in one call of each engine (the compiled one on one thread,
and on the machine's threads); one case at a time: a call a case. This family reads the
engine's own layer (`model.inference.engine`, `model.inference.analysis.level_boxes`), not the public API:
it runs on the checkout the command runs from and is skipped on a checkout without
`model.reference`.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

from .context import Context

TOL = 1e-9


def infer_queries(net, states: np.ndarray):
    """The queries `infer()` sends for node-state rows (`model.inference.analysis.analyse_many`):
    each row's own query (its joints wanted) then its triage boxes (totals only).
    Returns the queries, the joint mask, and the row each box belongs to."""
    from model.inference.analysis import row_queries

    asked = row_queries(net, states)
    return asked.queries, asked.joint, asked.box_row


def _as_reference(RB, q):
    return RB.Queries(q.lo, q.hi, q.exposure, q.absent)


def _shares(total: np.ndarray, joint: np.ndarray, rows: np.ndarray, n_rows: int):
    """Cause posteriors of the rows' own queries and each box's share of its row's total
    (what triage reads), on the rows whose evidence is possible."""
    own = total[:n_rows]
    ok = own > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        post = joint[:n_rows][ok] / own[ok, None]
        boxes = total[n_rows:][ok[rows]] / own[rows][ok[rows]]
    return post, boxes, ok


def compare_reference(net, states: np.ndarray, *, single: int = 100, repeat: int = 3) -> dict:
    """The numpy reference engine beside the compiled one on the same queries.

    Batched: every row's query and triage boxes in one call of each engine (compiled: on
    one thread, and on the machine's threads); seconds per query and per case (a case is
    its own query and its boxes). One case at a time (the first `single` rows, as one
    `infer()` sends them): median seconds a case, each the median of `repeat` calls.
    Agreement: largest |difference| of the cause posteriors, of the boxes' shares of
    their row's total (what P(level) is made of), and relative difference of P(evidence).
    Both engines answer `net` without its twitch switches (every P(twitching | cause) =
    1): the model the reference computes.
    """
    from model.inference import engine as E

    from model.reference import batched as RB
    from model.reference.engine import switch_free

    net = switch_free(net)
    ref_net = net  # the reference keeps its own per-network memo
    q, mask, rows = infer_queries(net, states)
    n_rows = len(states)
    # warm-up: tables of both engines, both compiled kernels
    head = np.arange(min(len(q), 80))
    RB.evaluate_many(ref_net, _as_reference(RB, q.take(head)), joint=mask[head])
    E.evaluate_many(net, q.take(head), joint=mask[head], threads=False)
    E.evaluate_many(net, q.take(head), joint=mask[head], threads=True)

    t = time.perf_counter()
    r_total, r_joint, _ = RB.evaluate_many(ref_net, _as_reference(RB, q), joint=mask)
    ref_seconds = time.perf_counter() - t
    t = time.perf_counter()
    c_total, c_joint, c_path = E.evaluate_many(net, q, joint=mask, threads=False)
    serial_seconds = time.perf_counter() - t
    t = time.perf_counter()
    E.evaluate_many(net, q, joint=mask, threads=True)
    threads_seconds = time.perf_counter() - t

    r_post, r_boxes, r_ok = _shares(r_total, r_joint, rows, n_rows)
    c_post, c_boxes, c_ok = _shares(c_total, c_joint, rows, n_rows)
    same = bool(np.array_equal(r_ok, c_ok))
    own_r, own_c = r_total[:n_rows][r_ok & c_ok], c_total[:n_rows][r_ok & c_ok]

    ref_case, compiled_case = [], []
    for i in range(min(single, n_rows)):
        qi, mi, _ = infer_queries(net, states[i : i + 1])
        rqi = _as_reference(RB, qi)
        for engine, out in ((lambda: RB.evaluate_many(ref_net, rqi, joint=mi), ref_case),
                            (lambda: E.evaluate_many(net, qi, joint=mi), compiled_case)):
            times = []
            for _ in range(max(1, repeat)):
                t = time.perf_counter()
                engine()
                times.append(time.perf_counter() - t)
            out.append(statistics.median(times))
    return {
        "rows": n_rows,
        "queries": len(q),
        "reference_seconds": ref_seconds,
        "compiled_seconds": serial_seconds,
        "compiled_threads_seconds": threads_seconds,
        "reference_case": np.array(ref_case),
        "compiled_case": np.array(compiled_case),
        "same_possible": same,
        "posterior_diff": float(np.max(np.abs(r_post - c_post), initial=0.0)) if same else math.inf,
        "box_diff": float(np.max(np.abs(r_boxes - c_boxes), initial=0.0)) if same else math.inf,
        "total_rel_diff": float(np.max(np.abs(own_c / own_r - 1), initial=0.0)),
        "paths": {E.PATHS[k]: int(v) for k, v in enumerate(np.bincount(c_path[:n_rows], minlength=len(E.PATHS))) if v},
    }


def run(ctx: Context) -> tuple[dict, dict]:
    """Figures `numpy_reference.<set>.*` for the default mix and full evidence: seconds a
    query batched (numpy, compiled on one thread and on threads), the median seconds a
    case one at a time, and the largest differences."""
    try:
        import model.reference.batched  # noqa: F401
    except ImportError:
        return {}, {"skipped": "this checkout has no model.reference"}
    from model.inference.analysis import node_states

    figures, details = {}, {}
    rows = ctx.opt("reference_rows")
    for name, case_set in (("mix", "reference_mix"), ("full", "reference_full")):
        evidence = ctx.cases.get(case_set, [])[:rows]
        if not evidence:
            continue
        ctx.say(f"  numpy reference beside the compiled engine: {name} ({len(evidence)} rows) ...")
        r = compare_reference(ctx.net, node_states(ctx.net, evidence), single=ctx.opt("reference_single"),
                              repeat=ctx.opt("repeat"))
        per_query = lambda s: s / r["queries"]  # noqa: E731
        figures.update({
            f"numpy_reference.{name}.numpy_query": per_query(r["reference_seconds"]),
            f"numpy_reference.{name}.compiled_query": per_query(r["compiled_seconds"]),
            f"numpy_reference.{name}.compiled_threads_query": per_query(r["compiled_threads_seconds"]),
            f"numpy_reference.{name}.numpy_case": float(np.median(r["reference_case"])),
            f"numpy_reference.{name}.compiled_case": float(np.median(r["compiled_case"])),
            f"numpy_reference.{name}.max_diff": max(r["posterior_diff"], r["box_diff"]),
            f"numpy_reference.{name}.total_rel_diff": r["total_rel_diff"],
        })
        details[name] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()}
    return figures, details
