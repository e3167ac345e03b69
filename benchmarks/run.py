"""Benchmarks of twitchdx's exact engine against pgmpy and pyAgrum (one command).

    python benchmarks/run.py            # default run (about 10 minutes on 2 cores)
    python benchmarks/run.py --full     # adds the 10^6-case batch and its peak memory
    python benchmarks/run.py --help     # sizes, timeouts, and what to skip

It builds the same network in each engine and answers the same seeded evidence sets:

(a) `infer()` (the public call: causes, triage, urgency and advice), warm;
(b) pgmpy `VariableElimination.query(causes, joint=False)` on `to_pgmpy()`, and pgmpy one
    `query([cause])` per cause;
(c) pyAgrum `LazyPropagation` (targets: the causes) on the network exported to BIF.

Two case sets go to the reference engines: `twitchdx validate`'s default case mix, and
cases with only 5-7 items known (location and duration, then 3-5 more answers drawn at
random; everything else unknown: what a person typing a few answers gives).

The reference engines observe the premise `_any_twitch=present` (docs/model.md). Each runs in
its own process under a memory cap and a per-case timeout: a case that runs out of
either is recorded as such, not a crash. A latency is the time of the query alone
(evidence set, inference, posteriors read), not the engine's set-up. Ratios against (a)
are taken case by case in the same run (the median of the per-case ratios); a timed-out
case counts at the timeout, so such a ratio is a lower bound (printed with ">=").

pyAgrum 3.3.1's BIF reader keeps single precision (7 digits: 0.9999935647687638 is
read as 0.9999935626983643), which alone moves posteriors by 1e-8. The BIF is loaded for
the structure and the states, and every table is then refilled in double precision from
the same exported network (`to_pgmpy()`), so the comparison is of engines, not parsers.

Then: single-case latencies under README.md's conditions, `next_questions()`,
`infer(..., intervals=1000)`, the numpy reference engine (tests/reference_batched.py)
beside the compiled one on the same queries (the queries `infer()` sends: each case's own
query and its triage boxes), batch throughput (each size in a fresh process, on `twitchdx
validate`'s default share of missing answers) with peak memory and the urgency's
calibration, the whole `twitchdx infer ...` process warm and with an empty compile cache
(NUMBA_CACHE_DIR set to a fresh temporary folder: the package's own cache is untouched),
`import model`, batch against single results, and the per-case time against the number
of positive findings (1..10). It ends with one table: every README.md figure, its target,
the measured value and whether it is met.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
TESTS = ROOT / "tests"

TOL = 1e-9
ENGINES = ("pgmpy", "pgmpy_per_cause", "pyagrum")
LABELS = {
    "infer": "(a) twitchdx `infer()`",
    "pgmpy": "(b) pgmpy VE, `joint=False`",
    "pgmpy_per_cause": "(b') pgmpy VE, one query a cause",
    "pyagrum": "(c) pyAgrum LazyPropagation (BIF)",
}
# Binary findings that can be made positive for the growth measurement (a twitching
# region is the first positive finding).
POSITIVE_FINDINGS = ("numbness", "cramps", "stiffness", "pain", "fatigue", "sweating", "tremor", "vision", "tics", "wasting")
CLI_EXAMPLE = ("infer", "--location", "eyelid", "--duration", "under_1_week", "--sleep", "short", "--caffeine", "high")
# The few-items case set: these user items always, then random others up to FEW_ITEMS.
FEW_ALWAYS = ("location", "duration")
FEW_ITEMS = (5, 7)


# --------------------------------------------------------------------------- cases


def default_missing(net) -> float:
    """The share of missing answers of `twitchdx validate`'s default case mix."""
    from model.settings import load_settings

    return load_settings(net).missing


def cases(net, n: int, seed: int, *, missing: float | None = None) -> list[dict[str, str]]:
    """`n` seeded evidence sets (node -> state), sampled from the network given twitching,
    with a `missing` share of answers left out (default: `twitchdx validate`'s)."""
    from model.evidence import encode
    from model.synthetic import evidence_of, sample_cases

    missing = default_missing(net) if missing is None else missing
    frame = evidence_of(sample_cases(net, n, rng=np.random.default_rng(seed), missing=missing))
    return [dict(encode(row, batch=True)) for row in frame.to_dict(orient="records")]


def few_items(net, n: int, seed: int, *, items: tuple[int, int] = FEW_ITEMS) -> list[dict]:
    """`n` seeded user evidence sets (user key -> value) with only items[0]..items[1] items
    known: FEW_ALWAYS (location, duration), then others drawn at random from a case
    sampled with nothing missing; every other finding and exposure unknown."""
    from model.evidence import encode
    from model.synthetic import evidence_of, sample_cases

    lo, hi = items
    if not len(FEW_ALWAYS) <= lo <= hi:
        raise ValueError(f"items: {items} must satisfy {len(FEW_ALWAYS)} <= low <= high")
    rng = np.random.default_rng([seed, 57])
    out: list[dict] = []
    while len(out) < n:
        frame = evidence_of(sample_cases(net, n, rng=np.random.default_rng([seed, 5, len(out)]), missing=0.0))
        for row in frame.to_dict(orient="records"):
            others = [k for k in row if k not in FEW_ALWAYS]
            extra = int(rng.integers(lo - len(FEW_ALWAYS), hi - len(FEW_ALWAYS) + 1))
            keep = list(FEW_ALWAYS) + sorted(str(k) for k in rng.choice(others, size=extra, replace=False))
            user = {k: row[k] for k in keep}
            try:
                encode(user)
            except ValueError:  # a combination `encode` refuses: draw another
                continue
            out.append(user)
            if len(out) == n:
                break
    return out


def few_cases(net, n: int, seed: int) -> list[dict[str, str]]:
    """`few_items` as node-level evidence (node -> state, as `encode` gives)."""
    from model.evidence import encode

    return [{str(k): str(v) for k, v in encode(user).items()} for user in few_items(net, n, seed)]


def quick_cases(net, n: int, seed: int, *, findings: int = 2) -> list[dict[str, str]]:
    """`n` evidence sets the reference engines answer in well under a second: every
    exposure and the location observed (sampled, nothing missing), plus at most
    `findings` other findings as sampled; the rest unknown. For the agreement check in
    the test suite (observed findings are what makes junction trees large here)."""
    out = []
    rng = np.random.default_rng([seed, 1])
    for base in cases(net, n, seed, missing=0.0):
        others = [f for f in net.findings if f not in net.regions]
        keep = set(rng.choice(others, size=findings, replace=False).tolist()) if findings else set()
        out.append({k: s for k, s in base.items() if k in net.exposures or k in net.regions or k in keep})
    return out


def positive_cases(net, k: int, n: int, seed: int) -> list[dict[str, str]]:
    """`n` evidence sets with exactly `k` positive findings: one twitching region (random),
    then k - 1 of POSITIVE_FINDINGS present; the other regions and binary findings absent;
    exposures as sampled (default missing share)."""
    if not 1 <= k <= len(POSITIVE_FINDINGS) + 1:
        raise ValueError(f"k: {k} is outside [1, {len(POSITIVE_FINDINGS) + 1}]")
    rng = np.random.default_rng([seed, k])
    out = []
    for base in cases(net, n, int(rng.integers(2**32))):
        ev = {e: s for e, s in base.items() if e in net.exposures}
        region = net.regions[int(rng.integers(len(net.regions)))]
        for r in net.regions:
            ev[r] = "present" if r == region else "absent"
        chosen = set(rng.choice(POSITIVE_FINDINGS, size=k - 1, replace=False).tolist())
        for f in POSITIVE_FINDINGS:
            ev[f] = "present" if f in chosen else "absent"
        out.append(ev)
    return out


# --------------------------------------------------------------------------- (a) infer()


def run_infer(net, evidence: list[dict], *, repeat: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Seconds a case (median of `repeat` calls, after one warm-up call) and the cause
    posteriors (one row a case, network order)."""
    from model import infer

    if evidence:
        infer(evidence[0], network=net)  # warm-up: network tables, imports, kernels
    seconds, posteriors = [], []
    for ev in evidence:
        times = []
        for _ in range(max(1, repeat)):
            t = time.perf_counter()
            r = infer(ev, network=net)
            times.append(time.perf_counter() - t)
        seconds.append(statistics.median(times))
        posteriors.append(r.analysis.causes)
    return np.array(seconds), np.array(posteriors).reshape(len(evidence), len(net.causes))


def causes_only_seconds(net, evidence: list[dict], *, repeat: int = 3) -> np.ndarray:
    """Seconds a case of the cause posteriors alone: `encode` and `analyse` without the
    triage boxes (no Result built), median of `repeat` calls."""
    from model.analysis import analyse
    from model.evidence import encode

    out = []
    for ev in evidence:
        analyse(net, encode(ev), triage=False)
        times = []
        for _ in range(max(1, repeat)):
            t = time.perf_counter()
            analyse(net, encode(ev), triage=False)
            times.append(time.perf_counter() - t)
        out.append(statistics.median(times))
    return np.array(out)


def run_batch(net, evidence: list[dict]) -> np.ndarray:
    """Cause posteriors of the same cases through the batch path (network order)."""
    from model import infer

    return infer(list(evidence), network=net).causes.to_numpy()


# --------------------------------------------------------------------------- reference engines


@dataclass
class Outcome:
    """One case in one reference engine: status ok | timeout | memory | crashed | error."""

    status: str
    seconds: float = math.nan
    posteriors: np.ndarray | None = None
    detail: str = ""


@dataclass
class EngineRun:
    engine: str
    outcomes: list[Outcome] = field(default_factory=list)
    setup_seconds: float = math.nan
    note: str = ""


def _pyagrum_network(net, bif_path: str):
    """The BIF loaded by pyAgrum, its tables refilled in double precision (module doc)."""
    import pyagrum as gum

    bn = gum.loadBN(str(bif_path))
    model = net.to_pgmpy()
    for cpd in model.get_cpds():
        tensor = bn.cpt(cpd.variable)
        names = list(tensor.names)  # pyAgrum order: the first varies fastest
        values = np.asarray(cpd.get_values(), dtype=float).reshape(cpd.cardinality)
        axes = list(cpd.variables)
        # reorder each axis's states to pyAgrum's labels
        for ax, var in enumerate(axes):
            labels = list(bn.variable(var).labels())
            order = [cpd.state_names[var].index(lab) for lab in labels]
            values = np.take(values, order, axis=ax)
        values = np.transpose(values, [axes.index(v) for v in reversed(names)])
        tensor.fillWith(values.ravel().tolist())
    return bn


def _build(engine: str, bif_path: str | None):
    from model import load_network
    from model.export import PREMISE_NODE

    net = load_network()
    causes = list(net.causes)
    if engine in ("pgmpy", "pgmpy_per_cause"):
        from pgmpy.inference import VariableElimination

        ve = VariableElimination(net.to_pgmpy())

        def solve(evidence):
            ev = {**evidence, PREMISE_NODE: "present"}
            if engine == "pgmpy":
                res = ve.query(causes, evidence=ev, joint=False, show_progress=False)
                return [float(res[c].get_value(**{c: "present"})) for c in causes]
            out = []
            for c in causes:
                res = ve.query([c], evidence=ev, joint=False, show_progress=False)
                out.append(float(res[c].get_value(**{c: "present"})))
            return out

        return solve
    if engine == "pyagrum":
        import pyagrum as gum

        bn = _pyagrum_network(net, bif_path)
        ie = gum.LazyPropagation(bn)
        ie.setTargets(set(causes))
        present = [bn.variable(c).labels().index("present") for c in causes]

        def solve(evidence):
            ie.eraseAllEvidence()
            ie.setEvidence({**evidence, PREMISE_NODE: "present"})
            ie.makeInference()
            return [float(ie.posterior(c).tolist()[i]) for c, i in zip(causes, present)]

        return solve
    raise ValueError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")


def _serve(engine: str, conn, memory_bytes: int | None, bif_path: str | None) -> None:
    """Worker process: build the engine, then answer cases until told to stop."""
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    try:
        solve = _build(engine, bif_path)
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        conn.send(("memory" if isinstance(e, MemoryError) else "error", repr(e)[:300]))
        return
    conn.send(("ready", time.perf_counter() - t))
    while True:
        evidence = conn.recv()
        if evidence is None:
            return
        t = time.perf_counter()
        try:
            post = solve(evidence)
            conn.send(Outcome("ok", time.perf_counter() - t, np.array(post)))
        except MemoryError as e:
            conn.send(Outcome("memory", time.perf_counter() - t, None, repr(e)[:200]))
        except Exception as e:  # noqa: BLE001 - reported, the run goes on
            kind = "memory" if "alloc" in repr(e).lower() or "memory" in repr(e).lower() else "error"
            conn.send(Outcome(kind, time.perf_counter() - t, None, repr(e)[:200]))


class _Worker:
    def __init__(self, engine, memory_bytes, bif_path, setup_timeout):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(engine, child, memory_bytes, bif_path), daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(setup_timeout):
            self.stop()
            raise RuntimeError(f"{engine}: set-up took more than {setup_timeout:.0f} s")
        try:
            status, value = self.conn.recv()
        except EOFError:
            self.stop()
            raise RuntimeError(f"{engine}: worker died during set-up (exit {self.proc.exitcode})") from None
        if status != "ready":
            self.stop()
            raise RuntimeError(f"{engine}: set-up failed ({status}): {value}")
        self.setup_seconds = value

    def ask(self, evidence, timeout) -> Outcome:
        self.conn.send(evidence)
        if not self.conn.poll(timeout):
            self.stop()
            return Outcome("timeout", timeout)
        try:
            return self.conn.recv()
        except EOFError:
            self.stop()
            code = self.proc.exitcode
            return Outcome("crashed", math.nan, None, f"worker exit {code} (memory cap?)")

    def alive(self) -> bool:
        return self.proc.is_alive()

    def stop(self):
        if self.proc.is_alive():
            try:
                self.conn.send(None)
                self.proc.join(2)
            except (BrokenPipeError, OSError):
                pass
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()


def run_reference(
    engine: str,
    evidence: list[dict],
    *,
    timeout: float = 30.0,
    memory_gb: float = 4.0,
    bif_path: str | None = None,
    setup_timeout: float = 300.0,
    progress=None,
) -> EngineRun:
    """Answer every case in `engine` in a worker process (memory cap, per-case timeout).
    A case past the timeout or the cap is recorded, and a fresh worker takes the next."""
    memory_bytes = int(memory_gb * 2**30) if memory_gb else None
    run = EngineRun(engine)
    worker = None
    for i, ev in enumerate(evidence):
        if worker is None or not worker.alive():
            try:
                worker = _Worker(engine, memory_bytes, bif_path, setup_timeout)
            except RuntimeError as e:
                run.note = str(e)
                run.outcomes += [Outcome("error", detail=str(e))] * (len(evidence) - i)
                return run
            if math.isnan(run.setup_seconds):
                run.setup_seconds = worker.setup_seconds
        out = worker.ask(ev, timeout)
        run.outcomes.append(out)
        if progress:
            progress(f"  {engine} case {i + 1}/{len(evidence)}: {out.status} {out.seconds:.3g} s")
    if worker is not None:
        worker.stop()
    return run


def agreement(reference: EngineRun, posteriors: np.ndarray) -> float:
    """Largest |difference| of the cause posteriors over the cases `reference` answered
    (NaN if it answered none)."""
    diffs = [float(np.max(np.abs(o.posteriors - p))) for o, p in zip(reference.outcomes, posteriors) if o.status == "ok"]
    return max(diffs) if diffs else math.nan


def write_bif(net, folder: str | Path) -> str:
    from model.export import write

    path = str(Path(folder) / "twitchdx.bif")
    write(net, path, "bif")
    return path


def ratio(run: EngineRun, infer_seconds: np.ndarray, timeout: float) -> tuple[float, bool]:
    """Median over the cases of (reference seconds / infer seconds), case by case; a
    timed-out case counts at the timeout, which makes the ratio a lower bound (second
    value True). NaN when no case finished or timed out."""
    ratios, bound = [], False
    for o, a in zip(run.outcomes, infer_seconds):
        if o.status == "ok":
            ratios.append(o.seconds / a)
        elif o.status == "timeout":
            ratios.append(timeout / a)
            bound = True
    return (statistics.median(ratios) if ratios else math.nan), bound


def _ratio_text(value: float, bound: bool) -> str:
    return "-" if math.isnan(value) else f"{'>=' if bound else ''}{value:,.0f}x"


# --------------------------------------------------------------------------- numpy reference engine


def reference_module():
    """tests/reference_batched.py, the numpy engine `infer()` used before the compiled one."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import reference_batched

    return reference_batched


def infer_queries(net, states: np.ndarray):
    """The queries `infer()` sends for node-state rows (`model.analysis.analyse_many`):
    each row's own query (its joints wanted) then its triage boxes (totals only).
    Returns the queries, the joint mask, and the row each box belongs to."""
    from model import engine as E
    from model.analysis import level_boxes

    q = E.from_states(net, states)
    boxes, rows, _, _ = level_boxes(net, q, states)
    both = q.concat(boxes)
    mask = np.zeros(len(both), dtype=bool)
    mask[: len(q)] = True
    return both, mask, rows


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
    from model import engine as E

    RB = reference_module()
    import reference_engine

    net = reference_engine.switch_free(net)
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


def states_of(net, evidence: list[dict]) -> np.ndarray:
    """Node-level evidence as the engine's state rows (`model.analysis.node_states`)."""
    from model.analysis import node_states

    return node_states(net, evidence)


# --------------------------------------------------------------------------- batches


def _rss(field_name: str) -> int:
    """VmRSS / VmHWM of this process in bytes (Linux), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _batch_job(n: int, seed: int, workers: bool, conn) -> None:
    """Worker: sample n cases, then time infer(frame), its peak resident memory, the
    stages (encoding, analysis), the 2-worker path, and the urgency's calibration."""
    warnings.simplefilter("ignore")
    from model import infer, load_network
    from model.analysis import analyse_many
    from model.batch import encode_frame
    from model.synthetic import evidence_of, sample_cases
    from model.validation import ece

    net = load_network()
    sampled = sample_cases(net, n, rng=np.random.default_rng(seed), missing=default_missing(net))
    frame = evidence_of(sampled)
    infer(frame.head(200), network=net)  # warm-up: kernels, tables
    before = _rss("VmRSS")
    try:  # reset the high-water mark so the peak is that of inference
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    t = time.perf_counter()
    result = infer(frame, network=net, errors="collect")
    seconds = time.perf_counter() - t
    peak = _rss("VmHWM")
    urgent = sampled["true_level"].isin(["soon", "emergency"]).to_numpy()
    ok = result.urgency.notna().to_numpy()
    calibration = ece(urgent[ok], result.urgency.to_numpy()[ok])
    # the stages again (the triage boxes' memo is warm now)
    t = time.perf_counter()
    states, _ = encode_frame(net, frame)
    encode_seconds = time.perf_counter() - t
    t = time.perf_counter()
    analyse_many(net, states)
    analyse_seconds = time.perf_counter() - t
    out = {"n": n, "seconds": seconds, "rate": n / seconds, "peak": peak, "before": before, "peak_is_inference": reset,
           "errors": len(result.errors), "encode_seconds": encode_seconds, "analyse_seconds": analyse_seconds,
           "ece": calibration, "urgent": float(urgent.mean())}
    if workers:  # the same rows as `twitchdx validate` runs them (chunks on 2 forked workers)
        from model.report import infer_cases

        t = time.perf_counter()
        infer_cases(net, frame, workers=2)
        out["seconds_2"] = time.perf_counter() - t
        out["rate_2"] = n / out["seconds_2"]
    conn.send(out)


def batch_throughput(n: int, seed: int, timeout: float, *, workers: bool = True) -> dict:
    """Cases a second of `infer(DataFrame)` on n cases, in a fresh process."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_batch_job, args=(n, seed, workers, child))  # not a daemon: it starts workers
    proc.start()
    child.close()
    out = {"n": n, "status": "timeout"}
    if parent.poll(timeout):
        try:
            out = parent.recv()
            out["status"] = "ok"
        except EOFError:
            out = {"n": n, "status": f"crashed (exit {proc.exitcode})"}
    if proc.is_alive():
        proc.kill()
    proc.join()
    return out


# --------------------------------------------------------------------------- processes


def process_seconds(command: list[str], runs: int, *, warmup: bool = True, env: dict | None = None) -> list[float]:
    """Wall seconds of a whole process, `runs` times (after one warm-up run)."""
    times = []
    for i in range(runs + int(warmup)):
        t = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        if i or not warmup:
            times.append(time.perf_counter() - t)
    return times


def cold_env(cache_dir: str | Path) -> dict:
    """This environment with Numba's cache in `cache_dir` (an empty folder: every kernel
    is compiled afresh, and the package's own cache is neither read nor written)."""
    return {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}


def cold_process(command: list[str], runs: int) -> tuple[list[float], str]:
    """Wall seconds of `command` with an empty compile cache, `runs` times (each with a
    fresh cache folder), and what the first run said about compiling (stderr and stdout
    lines that mention it; "" if none)."""
    times, said = [], ""
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="twitchdx-numba-cold-") as cache:
            t = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=True, env=cold_env(cache))
            times.append(time.perf_counter() - t)
            if i == 0:
                lines = (done.stderr + "\n" + done.stdout).splitlines()
                said = " / ".join(line.strip() for line in lines if "compil" in line.lower())
    return times, said


def import_seconds(runs: int) -> list[float]:
    """Seconds of `import model` inside a fresh interpreter (timed in the process)."""
    code = "import time; t = time.perf_counter(); import model; print(time.perf_counter() - t)"
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(float(done.stdout.strip().splitlines()[-1]))
    return out


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "twitchdx"
    if script.exists():
        return [str(script), *CLI_EXAMPLE]
    found = shutil.which("twitchdx")
    return [found, *CLI_EXAMPLE] if found else [sys.executable, "-m", "model", *CLI_EXAMPLE]


# --------------------------------------------------------------------------- other figures


def next_questions_seconds(net, evidence: list[dict], *, repeat: int = 3) -> np.ndarray:
    """Seconds of `Result.next_questions()` a case (median of `repeat` calls, after a
    warm-up call on the first case)."""
    from model import infer

    if evidence:
        infer(evidence[0], network=net).next_questions()
    out = []
    for ev in evidence:
        r = infer(ev, network=net)
        times = []
        for _ in range(max(1, repeat)):
            t = time.perf_counter()
            r.next_questions()
            times.append(time.perf_counter() - t)
        out.append(statistics.median(times))
    return np.array(out)


def intervals_seconds(net, evidence: list[dict], draws: int, seed: int) -> np.ndarray:
    """Seconds of `infer(ev, intervals=draws)` a case, after a warm-up call."""
    from model import infer

    if evidence:
        infer(evidence[0], network=net, intervals=min(draws, 100), rng=np.random.default_rng(seed))
    out = []
    for i, ev in enumerate(evidence):
        t = time.perf_counter()
        infer(ev, network=net, intervals=draws, rng=np.random.default_rng([seed, i]))
        out.append(time.perf_counter() - t)
    return np.array(out)


# --------------------------------------------------------------------------- report


def _ms(x: float) -> str:
    if math.isnan(x):
        return "-"
    ms = 1e3 * x
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.3g}"


def _us(x: float) -> str:
    return "-" if math.isnan(x) else f"{1e6 * x:,.1f}"


def _pct(x, q) -> float:
    return float(np.percentile(x, q)) if len(x) else math.nan


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import pandas

    versions = [f"Python {platform.python_version()}", f"numpy {np.__version__}", f"pandas {pandas.__version__}"]
    for name, module in (("numba", "numba"), ("pgmpy", "pgmpy"), ("pyAgrum", "pyagrum")):
        try:
            from importlib.metadata import version

            versions.append(f"{name} {version(module)}")
        except Exception:  # noqa: BLE001 - not installed
            pass
    load = ""
    try:
        load = "; load average %.2f %.2f %.2f at the start" % os.getloadavg()
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()}; " + ", ".join(versions) + load


def engine_row(run: EngineRun, infer_seconds: np.ndarray, infer_post: np.ndarray, timeout: float, label: str | None = None) -> str:
    done = [o.seconds for o in run.outcomes if o.status == "ok"]
    failed: dict[str, int] = {}
    for o in run.outcomes:
        if o.status != "ok":
            failed[o.status] = failed.get(o.status, 0) + 1
    lost = ", ".join(f"{v} {k}" for k, v in sorted(failed.items())) or "0"
    diff = agreement(run, infer_post)
    return (f"| {label or LABELS[run.engine]} | {len(done)}/{len(run.outcomes)} | {lost} | {_ms(_pct(done, 50))} | "
            f"{_ms(_pct(done, 95))} | {_ratio_text(*ratio(run, infer_seconds, timeout))} | "
            f"{'-' if math.isnan(diff) else f'{diff:.1e}'} |")


ENGINE_HEADER = ("| engine | cases answered | timeout / out of memory | median ms | p95 ms | time vs (a), per case | "
                 "max abs diff vs (a) |\n|---|---|---|---|---|---|---|")


@dataclass
class Figure:
    """One row of the README.md table; `met` None: not measured or not decidable."""

    what: str
    target: str
    measured: str
    met: bool | None

    def row(self) -> str:
        verdict = "n/a" if self.met is None else ("yes" if self.met else "**NO**")
        return f"| {self.what} | {self.target} | {self.measured} | {verdict} |"


def spec_table(figures: list[Figure]) -> str:
    """The README.md figures as one markdown table."""
    lines = ["| README.md figure | target | measured | met? |", "|---|---|---|---|"]
    return "\n".join(lines + [f.row() for f in figures])


def at_most(seconds: float, limit: float, unit: str = "ms") -> tuple[str, bool | None]:
    """(measured text, met) of a median latency against an upper bound."""
    if math.isnan(seconds):
        return "not measured", None
    text = f"{_ms(seconds)} ms" if unit == "ms" else f"{seconds:.2f} s"
    return text, seconds < limit


def ratio_figure(run: EngineRun | None, infer_seconds: np.ndarray, timeout: float, target: float) -> tuple[str, bool | None]:
    """(measured text, met) of a speed ratio against a lower bound; a ratio that is a
    lower bound (timeouts) and falls short of the target is undecided."""
    if run is None:
        return "not run", None
    value, bound = ratio(run, infer_seconds[: len(run.outcomes)], timeout)
    if math.isnan(value):
        return "no case finished", None
    answered = sum(o.status == "ok" for o in run.outcomes)
    text = f"{_ratio_text(value, bound)} ({answered}/{len(run.outcomes)} answered)"
    if value >= target:
        return text, True
    return text, (None if bound else False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=12, help="default-mix evidence sets for the engine comparison (default 12)")
    p.add_argument("--per-cause-cases", type=int, default=1,
                   help="of those (the first ones), how many pgmpy answers cause by cause (default 1: it rarely finishes)")
    p.add_argument("--pyagrum-cases", type=int, default=4,
                   help="of those (the first ones), how many pyAgrum answers (default 4: it rarely finishes)")
    p.add_argument("--few-cases", type=int, default=40, help="cases with 5-7 items known, for infer() (default 40)")
    p.add_argument("--few-pgmpy-cases", type=int, default=8,
                   help="of those (the first ones), how many pgmpy answers (default 8, about 5 s each)")
    p.add_argument("--seed", type=int, default=20260601, help="seed of every case set")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds a case in a reference engine (default 60)")
    p.add_argument("--memory-gb", type=float, default=6.0, help="memory cap of a reference engine's process (default 6)")
    p.add_argument("--repeat", type=int, default=5, help="calls a case for the single-case latencies; the median is kept (default 5)")
    p.add_argument("--single-cases", type=int, default=40, help="cases a row of the single-case table (default 40)")
    p.add_argument("--question-cases", type=int, default=10, help="cases for next_questions() (default 10)")
    p.add_argument("--interval-cases", type=int, default=3, help="cases for infer(..., intervals=1000) (default 3; 0 skips)")
    p.add_argument("--draws", type=int, default=1000, help="draws of infer(..., intervals=N) (default 1000)")
    p.add_argument("--reference-rows", type=int, default=2000,
                   help="default-mix rows for the numpy reference engine beside the compiled one (default 2000; 0 skips); "
                        "as many full-evidence rows again")
    p.add_argument("--reference-single", type=int, default=100, help="of those, answered one case at a time (default 100)")
    p.add_argument("--batch", type=int, nargs="*", default=[10_000, 100_000], help="batch sizes (default 10^4 10^5)")
    p.add_argument("--full", action="store_true", help="add the 10^6-case batch and its peak memory")
    p.add_argument("--no-workers", action="store_true", help="batches: skip the 2-worker (`twitchdx validate`) path")
    p.add_argument("--batch-timeout", type=float, default=3600.0, help="seconds a batch size (default 3600)")
    p.add_argument("--skip-pgmpy", action="store_true")
    p.add_argument("--skip-pyagrum", action="store_true")
    p.add_argument("--skip-extras", action="store_true", help="only the engine tables")
    p.add_argument("--runs", type=int, default=5, help="runs of each warm whole-process figure (default 5)")
    p.add_argument("--cold-runs", type=int, default=1, help="runs with an empty compile cache (default 1, ~30 s each; 0 skips)")
    p.add_argument("--growth-cases", type=int, default=10, help="cases per number of positive findings (default 10; 0 skips)")
    args = p.parse_args(argv)
    started = time.perf_counter()

    def say(msg):
        print(msg, file=sys.stderr, flush=True)

    warnings.simplefilter("ignore")
    from model import infer, load_network

    net = load_network()
    evidence = cases(net, args.cases, args.seed)
    few = few_cases(net, args.few_cases, args.seed)
    few_user = few_items(net, args.few_cases, args.seed)
    print("# twitchdx benchmarks\n")
    print(f"Machine: {machine()}\n")
    print(f"Default mix: {args.cases} cases sampled given twitching (seed {args.seed}, {default_missing(net):.0%} of answers "
          f"missing, median {int(np.median([len(e) for e in evidence]))} evidence nodes, median "
          f"{int(np.median([sum(s != 'absent' for k, s in e.items() if k in net.findings) for e in evidence]))} "
          f"positive findings). Few items: {args.few_cases} cases with {FEW_ITEMS[0]}-{FEW_ITEMS[1]} user items known "
          f"({', '.join(FEW_ALWAYS)} and random others; median {int(np.median([len(u) for u in few_user]))} items, "
          f"{int(np.median([len(e) for e in few]))} nodes). Reference timeout {args.timeout:g} s a case, memory cap "
          f"{args.memory_gb:g} GB.\n")

    say("infer() ...")
    t_a, post_a = run_infer(net, evidence, repeat=args.repeat)
    t_few, post_few = run_infer(net, few, repeat=args.repeat)
    runs: dict[str, EngineRun] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_pgmpy:
            say("pgmpy joint=False, default mix ...")
            runs["pgmpy"] = run_reference("pgmpy", evidence, timeout=args.timeout, memory_gb=args.memory_gb, progress=say)
            if args.per_cause_cases:
                say("pgmpy per cause ...")
                n = min(args.per_cause_cases, len(evidence))
                runs["pgmpy_per_cause"] = run_reference("pgmpy_per_cause", evidence[:n], timeout=args.timeout,
                                                        memory_gb=args.memory_gb, progress=say)
            if args.few_pgmpy_cases:
                say("pgmpy joint=False, few items ...")
                n = min(args.few_pgmpy_cases, len(few))
                runs["pgmpy_few"] = run_reference("pgmpy", few[:n], timeout=args.timeout, memory_gb=args.memory_gb, progress=say)
        if not args.skip_pyagrum and args.pyagrum_cases:
            try:
                import pyagrum  # noqa: F401
            except ImportError:
                say("pyAgrum is not installed (pip install -e '.[bench]'): skipped")
            else:
                say("pyAgrum ...")
                bif = write_bif(net, tmp)
                runs["pyagrum"] = run_reference("pyagrum", evidence[: args.pyagrum_cases], timeout=args.timeout,
                                                memory_gb=args.memory_gb, bif_path=bif, progress=say)

    print("## Engines on the same queries\n")
    print(f"Default mix ({len(evidence)} cases):\n")
    print(ENGINE_HEADER)
    print(f"| {LABELS['infer']} | {len(t_a)}/{len(t_a)} | 0 | {_ms(_pct(t_a, 50))} | {_ms(_pct(t_a, 95))} | 1x | - |")
    for name in ("pgmpy", "pgmpy_per_cause", "pyagrum"):
        if name in runs:
            r = runs[name]
            print(engine_row(r, t_a[: len(r.outcomes)], post_a[: len(r.outcomes)], args.timeout))
    print(f"\nFew items known ({FEW_ITEMS[0]}-{FEW_ITEMS[1]} user items; {len(few)} cases in (a)):\n")
    print(ENGINE_HEADER)
    print(f"| {LABELS['infer']} | {len(t_few)}/{len(t_few)} | 0 | {_ms(_pct(t_few, 50))} | {_ms(_pct(t_few, 95))} | 1x | - |")
    if "pgmpy_few" in runs:
        r = runs["pgmpy_few"]
        print(engine_row(r, t_few[: len(r.outcomes)], post_few[: len(r.outcomes)], args.timeout))
    diffs = []
    for name, r in runs.items():
        posts = post_few if name == "pgmpy_few" else post_a
        diffs.append(agreement(r, posts[: len(r.outcomes)]))
    diffs = [d for d in diffs if not math.isnan(d)]
    worst = max(diffs) if diffs else math.nan
    verdict = "n/a" if math.isnan(worst) else ("PASS" if worst <= TOL else "FAIL")
    print(f"\nLargest difference between engines' cause posteriors: {worst:.1e} (bound {TOL:g}: {verdict}).")
    for name, r in runs.items():
        if r.note:
            print(f"{name}: {r.note}")
        print(f"{name}: set-up (build the engine) {r.setup_seconds:.1f} s, not in the latencies.")
    status = 0 if verdict != "FAIL" else 1
    if args.skip_extras:
        print(f"\nTotal wall time {time.perf_counter() - started:.0f} s.")
        return status

    # ----------------------------------------------------------------- single cases
    say("single cases, README.md conditions ...")
    full = cases(net, args.single_cases, args.seed + 1, missing=0.0)
    unknown = [{k: v for k, v in e.items() if k not in net.exposures} for e in full]
    t_full, _ = run_infer(net, full, repeat=args.repeat)
    t_full_c = causes_only_seconds(net, full, repeat=args.repeat)
    t_unknown, _ = run_infer(net, unknown, repeat=args.repeat)
    t_unknown_c = causes_only_seconds(net, unknown, repeat=args.repeat)
    t_few_c = causes_only_seconds(net, few, repeat=args.repeat)
    t_c = causes_only_seconds(net, evidence, repeat=args.repeat)
    print("\n## Single cases, warm\n")
    print(f"{args.single_cases} cases a row (few items: {len(few)}, default mix: {len(evidence)}); median ms, p95 in "
          f"brackets; each case the median of its {args.repeat} calls. \"Causes only\" is `encode` + `analyse(triage=False)`; "
          "`infer()` is the whole public call (triage, urgency, advice and its reason, the Result).\n")
    print("| evidence | causes only | `infer()` |")
    print("|---|---|---|")
    for label, tc, ti in (("full (every node observed)", t_full_c, t_full),
                          ("every finding observed, every exposure unknown", t_unknown_c, t_unknown),
                          (f"{FEW_ITEMS[0]}-{FEW_ITEMS[1]} items known", t_few_c, t_few),
                          ("the default mix", t_c, t_a)):
        print(f"| {label} | {_ms(_pct(tc, 50))} ({_ms(_pct(tc, 95))}) | {_ms(_pct(ti, 50))} ({_ms(_pct(ti, 95))}) |")
    b = run_batch(net, evidence + few)
    print(f"\nBatch vs single on the {len(evidence) + len(few)} default-mix and few-items cases: max abs diff of the "
          f"cause posteriors {np.max(np.abs(b - np.vstack([post_a, post_few]))):.1e}.")

    say("next_questions() ...")
    nq = next_questions_seconds(net, evidence[: args.question_cases], repeat=args.repeat)
    nq_few = next_questions_seconds(net, few[: args.question_cases], repeat=args.repeat)
    print(f"\n`next_questions()`: default mix median {_ms(_pct(nq, 50))} ms (p95 {_ms(_pct(nq, 95))}, n = {len(nq)}); "
          f"few items median {_ms(_pct(nq_few, 50))} ms (p95 {_ms(_pct(nq_few, 95))}, n = {len(nq_few)}).")
    t_int = np.array([])
    if args.interval_cases:
        say(f"infer(..., intervals={args.draws}) ...")
        t_int = intervals_seconds(net, unknown[: args.interval_cases], args.draws, args.seed)
        print(f"`infer(..., intervals={args.draws})`, every exposure unknown: median {np.median(t_int):.2f} s "
              f"(max {np.max(t_int):.2f} s; cases: {len(t_int)}).")

    # ----------------------------------------------------------------- numpy reference
    refs = {}
    if args.reference_rows:
        say("numpy reference engine beside the compiled one ...")
        from model.batch import encode_frame
        from model.synthetic import evidence_of, sample_cases

        for label, missing in (("default mix", None), ("full evidence", 0.0)):
            frame = evidence_of(sample_cases(net, args.reference_rows, rng=np.random.default_rng([args.seed, 3]),
                                             missing=default_missing(net) if missing is None else missing))
            states, bad = encode_frame(net, frame)
            states = np.delete(states, list(bad), axis=0)
            refs[label] = compare_reference(net, states, single=args.reference_single, repeat=args.repeat)
        print("\n## The numpy reference engine (tests/reference_batched.py) beside the compiled one\n")
        print("The same queries in both: each case's own query (every cause's joint) and its triage boxes (totals "
              "only), as `infer()` sends them, on the bundled network without its twitch switches (the model the "
              "reference computes). Batched: all rows in one call; one case at a time: a call a case. "
              "The compiled engine on one thread, and on the machine's threads.\n")
        print("| cases | queries | numpy: µs a query / a case, batched | compiled, 1 thread | compiled, threads | "
              "speed-up (1 thread) | one case at a time, median µs: numpy / compiled | speed-up | "
              "max abs diff: posteriors / box shares | max rel diff P(evidence) | compiled paths |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for label, r in refs.items():
            per = lambda s: f"{_us(s / r['queries'])} / {_us(s / r['rows'])}"  # noqa: E731
            rc, cc = np.median(r["reference_case"]), np.median(r["compiled_case"])
            paths = ", ".join(f"{k} {v}" for k, v in r["paths"].items())
            print(f"| {label}: {r['rows']:,} | {r['queries']:,} | {per(r['reference_seconds'])} | "
                  f"{per(r['compiled_seconds'])} | {per(r['compiled_threads_seconds'])} | "
                  f"{r['reference_seconds'] / r['compiled_seconds']:.1f}x | {_us(rc)} / {_us(cc)} "
                  f"(n = {len(r['reference_case'])}) | {rc / cc:.1f}x | {r['posterior_diff']:.1e} / {r['box_diff']:.1e} | "
                  f"{r['total_rel_diff']:.1e} | {paths} |")
        worst_ref = max(max(r["posterior_diff"], r["box_diff"]) for r in refs.values())
        print(f"\nLargest difference, numpy reference vs compiled: {worst_ref:.1e} (bound {TOL:g}: "
              f"{'PASS' if worst_ref <= TOL else 'FAIL'}).")
        if worst_ref > TOL:
            status = 1

    # ----------------------------------------------------------------- batches
    rates: dict[int, dict] = {}
    say("batches ...")
    sizes = list(args.batch) + ([1_000_000] if args.full and 1_000_000 not in args.batch else [])
    if sizes:
        print("\n## Batches: `infer(DataFrame)` on `twitchdx validate`'s default case mix\n")
        print("Each size in a fresh process (sampling not timed). One process: the compiled kernels run on the "
              "machine's threads. 2 workers: the rows in chunks on 2 forked processes, as `twitchdx validate`. "
              "Stages: the same frame again, `encode_frame` and `analyse_many` (queries, triage boxes, kernels).\n")
        print("| cases | one process: cases/s (s) | peak RSS during inference (before) | stages: encode / analyse s | "
              "2 workers: cases/s (s) | rows refused | ECE of urgency (share urgent) |")
        print("|---|---|---|---|---|---|---|")
    for n in sizes:
        say(f"  batch of {n:,} ...")
        out = batch_throughput(n, args.seed, args.batch_timeout, workers=not args.no_workers)
        if out["status"] != "ok":
            print(f"| {n:,} | {out['status']} | | | | | |")
            continue
        rates[n] = out
        peak = f"{out['peak'] / 2**20:,.0f} MB" + ("" if out["peak_is_inference"] else " (process peak)")
        two = f"{out['rate_2']:,.0f} ({out['seconds_2']:.1f})" if "rate_2" in out else "-"
        print(f"| {n:,} | {out['rate']:,.0f} ({out['seconds']:.2f}) | {peak} ({out['before'] / 2**20:,.0f} MB) | "
              f"{out['encode_seconds']:.2f} / {out['analyse_seconds']:.2f} | {two} | {out['errors']} | "
              f"{out['ece']:.4f} ({out['urgent']:.1%}) |")

    # ----------------------------------------------------------------- processes
    say("processes ...")
    command = cli_command()
    cli = process_seconds(command, args.runs) if args.runs else []
    imp_proc = process_seconds([sys.executable, "-c", "import model"], args.runs) if args.runs else []
    bare = process_seconds([sys.executable, "-c", "pass"], args.runs) if args.runs else []
    imp = import_seconds(args.runs) if args.runs else []
    cold, said = [], ""
    if args.cold_runs:
        say("  twitchdx infer with an empty compile cache ...")
        cold, said = cold_process(command, args.cold_runs)
    print("\n## Processes\n")
    print(f"`twitchdx {' '.join(CLI_EXAMPLE)}`, wall seconds:\n")
    print("| | median | min | max | runs |")
    print("|---|---|---|---|---|")
    for label, xs in (("warm (compiled engine in the package's cache)", cli),
                      ("empty compile cache (NUMBA_CACHE_DIR: a fresh temporary folder)", cold),
                      ("`python -c 'import model'`, whole process", imp_proc),
                      ("`import model`, timed inside the process", imp),
                      ("bare interpreter (`python -c pass`)", bare)):
        if xs:
            print(f"| {label} | {statistics.median(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} | {len(xs)} |")
    if cold:
        print(f"\nWith an empty cache the process said about compiling: {said or 'nothing (stdout and stderr)'}.")

    # ----------------------------------------------------------------- positive findings
    if args.growth_cases:
        say("positive findings ...")
        print("\n## `infer()` per case against the number of positive findings\n")
        print(f"Cases a column: {args.growth_cases}; median ms; the engine's paths (`model.engine.PATHS`).\n")
        print("| positives | " + " | ".join(str(k) for k in range(1, 11)) + " |")
        print("|---|" + "---|" * 10)
        medians, paths = [], []
        for k in range(1, 11):
            ev_k = positive_cases(net, k, args.growth_cases, args.seed)
            t_k, _ = run_infer(net, ev_k, repeat=args.repeat)
            medians.append(_ms(_pct(t_k, 50)))
            methods = [infer(e, network=net).analysis.method for e in ev_k]
            paths.append(", ".join(f"{m} {methods.count(m)}" for m in sorted(set(methods))))
        print("| median ms | " + " | ".join(medians) + " |")
        print("| paths | " + " | ".join(paths) + " |")

    # ----------------------------------------------------------------- README.md
    figures = []

    def add(what, target, measured_met):
        figures.append(Figure(what, target, *measured_met))

    add("`infer()` full evidence, warm, causes alone (encode + analyse, no triage): median", "< 0.1 ms",
        at_most(_pct(t_full_c, 50), 0.1e-3))
    add("`infer()` full evidence, warm, with triage and urgency: median", "< 0.3 ms", at_most(_pct(t_full, 50), 0.3e-3))
    add("`infer()` every exposure unknown (findings observed), with triage: median", "< 0.7 ms",
        at_most(_pct(t_unknown, 50), 0.7e-3))
    add(f"`infer()` {FEW_ITEMS[0]}-{FEW_ITEMS[1]} items known, with triage: median", "< 1 ms", at_most(_pct(t_few, 50), 1e-3))
    add(f"{FEW_ITEMS[0]}-{FEW_ITEMS[1]} items known: vs pgmpy VE `joint=False`, per case", ">= 3,000x",
        ratio_figure(runs.get("pgmpy_few"), t_few, args.timeout, 3000))
    add("`next_questions()` median, default mix", "< 3 ms", at_most(_pct(nq, 50), 3e-3))
    add(f"`next_questions()` median, {FEW_ITEMS[0]}-{FEW_ITEMS[1]} items known", "< 3 ms", at_most(_pct(nq_few, 50), 3e-3))
    add(f"`infer(..., intervals={args.draws})` every exposure unknown: median", "< 2 s",
        at_most(_pct(t_int, 50), 2.0, unit="s") if args.draws == 1000 else ("not run at 1000 draws", None))
    add("default mix: vs pgmpy VE `joint=False` (`infer()` with triage), per case", ">= 500x",
        ratio_figure(runs.get("pgmpy"), t_a, args.timeout, 500))
    add("default mix: vs pyAgrum LazyPropagation, per case", ">= 100x", ratio_figure(runs.get("pyagrum"), t_a, args.timeout, 100))
    add("same numbers as pgmpy / pyAgrum (cause posteriors, max abs diff)", "<= 1e-9",
        ("not run", None) if math.isnan(worst) else (f"{worst:.1e}", worst <= TOL))
    if rates:
        n = max(rates)
        add(f"batch from a DataFrame, default mix, 2 cores ({n:,} cases, one process)", ">= 100,000 cases/s",
            (f"{rates[n]['rate']:,.0f} cases/s" + (f" (2 workers: {rates[n]['rate_2']:,.0f})" if "rate_2" in rates[n] else ""),
             rates[n]["rate"] >= 100_000))
    else:
        add("batch from a DataFrame, default mix, 2 cores", ">= 100,000 cases/s", ("not run", None))
    add("`twitchdx infer ...` whole process, engine compiled: median", "< 1.5 s",
        at_most(statistics.median(cli), 1.5, unit="s") if cli else ("not run", None))
    add("`twitchdx infer ...` first use, empty compile cache", "< 30 s",
        at_most(max(cold), 30.0, unit="s") if cold else ("not run", None))
    add("first use says it is compiling", "says so",
        ((f"yes: \"{said if len(said) <= 60 else said[:57] + '...'}\"" if said else "no message"), bool(said))
        if cold else ("not run", None))
    big = [n for n in rates if n >= 100_000]
    add("in-model calibration: ECE of urgency, 100,000 sampled cases", "< 0.01",
        (f"{rates[max(big)]['ece']:.4f} ({max(big):,} cases)", rates[max(big)]["ece"] < 0.01) if big else ("not run", None))
    imp_text = f"{statistics.median(imp):.2f} s in-process" if imp else "not run"
    print("\n## Against README.md\n")
    print(spec_table(figures))
    print(f"\n(Not a README.md figure: `import model` {imp_text}.) Total wall time of this run: "
          f"{time.perf_counter() - started:.0f} s.")
    return status


if __name__ == "__main__":
    sys.exit(main())
