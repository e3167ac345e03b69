"""Benchmarks of twitchdx's exact engine against pgmpy and pyAgrum (one command).

    python benchmarks/run.py            # default: 12 cases, batches of 10^4 and 10^5 (~15 min)
    python benchmarks/run.py --full     # adds the 10^6-case batch (long) and its peak memory
    python benchmarks/run.py --help

It builds the same network in each engine and answers the same seeded evidence sets:

(a) `infer()` (the public call: causes, triage, urgency and advice), warm;
(b) pgmpy `VariableElimination.query(causes, joint=False)` on `to_pgmpy()`, and pgmpy one
    `query([cause])` per cause;
(c) pyAgrum `LazyPropagation` (targets: the causes) on the network exported to BIF.

The reference engines observe the premise `_any_twitch=present` (SPEC §7.3). Each runs in
its own process under a memory cap and a per-case timeout: a case that runs out of
either is recorded as such, not a crash. A latency is the time of the query alone
(evidence set, inference, posteriors read), not the engine's set-up. Ratios against (a)
are taken case by case in the same run (the median of the per-case ratios); a timed-out
case counts at the timeout, so such a ratio is a lower bound (printed with ">=").

pyAgrum 3.3.1's BIF reader keeps single precision (7 digits: 0.9999935647687638 is
read as 0.9999935626983643), which alone moves posteriors by 1e-8. The BIF is loaded for
the structure and the states, and every table is then refilled in double precision from
the same exported network (`to_pgmpy()`), so the comparison is of engines, not parsers.

Then: batch throughput (each size in a fresh process, on `twitchdx validate`'s default
share of missing answers), peak memory of the largest batch, `next_questions()` latency,
the whole `twitchdx infer ...` process (cold), `import model`, batch against single
results, and the per-case time against the number of positive findings (1..10).
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
        infer(evidence[0], network=net)  # warm-up: network tables, imports
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
    """Seconds a case of the cause posteriors alone (`analyse` without triage, on the
    encoded evidence), median of `repeat` calls."""
    from model.analysis import analyse
    from model.evidence import encode

    out = []
    for ev in evidence:
        enc = encode(ev)
        analyse(net, enc, triage=False)
        times = []
        for _ in range(max(1, repeat)):
            t = time.perf_counter()
            analyse(net, enc, triage=False)
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


# --------------------------------------------------------------------------- other figures


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


def _batch_job(n: int, seed: int, conn) -> None:
    """Worker: sample n cases, then time infer(frame) and its peak resident memory."""
    warnings.simplefilter("ignore")
    from model import infer, load_network
    from model.synthetic import evidence_of, sample_cases

    net = load_network()
    frame = evidence_of(sample_cases(net, n, rng=np.random.default_rng(seed), missing=default_missing(net)))
    infer(frame.head(50), network=net)  # warm-up
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
    # the same rows on both cores: `twitchdx validate`'s path (chunks on 2 forked workers)
    from model.report import infer_cases

    t = time.perf_counter()
    infer_cases(net, frame, workers=2)
    seconds_2 = time.perf_counter() - t
    conn.send({"n": n, "seconds": seconds, "rate": n / seconds, "peak": peak, "before": before,
               "peak_is_inference": reset, "errors": len(result.errors), "seconds_2": seconds_2, "rate_2": n / seconds_2})


def batch_throughput(n: int, seed: int, timeout: float) -> dict:
    """Cases a second of `infer(DataFrame)` on n cases, in a fresh process."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_batch_job, args=(n, seed, child))  # not a daemon: it starts workers
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


def process_seconds(command: list[str], runs: int) -> list[float]:
    """Wall seconds of a whole process, `runs` times after one warm-up run."""
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if i:
            times.append(time.perf_counter() - t)
    return times


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "twitchdx"
    if script.exists():
        return [str(script), *CLI_EXAMPLE]
    found = shutil.which("twitchdx")
    return [found, *CLI_EXAMPLE] if found else [sys.executable, "-m", "model", *CLI_EXAMPLE]


def next_questions_seconds(net, evidence: list[dict]) -> np.ndarray:
    from model import infer

    out = []
    for ev in evidence:
        r = infer(ev, network=net)
        t = time.perf_counter()
        r.next_questions()
        out.append(time.perf_counter() - t)
    return np.array(out)


# --------------------------------------------------------------------------- report


def _ms(x: float) -> str:
    if math.isnan(x):
        return "-"
    ms = 1e3 * x
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.3g}"


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
    for name, module in (("pgmpy", "pgmpy"), ("pyAgrum", "pyagrum")):
        try:
            from importlib.metadata import version

            versions.append(f"{name} {version(module)}")
        except Exception:  # noqa: BLE001 - not installed
            pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()}; " + ", ".join(versions)


def engine_row(run: EngineRun, infer_seconds: np.ndarray, infer_post: np.ndarray, timeout: float) -> str:
    done = [o.seconds for o in run.outcomes if o.status == "ok"]
    failed = {}
    for o in run.outcomes:
        if o.status != "ok":
            failed[o.status] = failed.get(o.status, 0) + 1
    # case-by-case ratio; a timed-out case counts at the timeout (a lower bound)
    ratios, bound = [], False
    for o, a in zip(run.outcomes, infer_seconds):
        if o.status == "ok":
            ratios.append(o.seconds / a)
        elif o.status == "timeout":
            ratios.append(timeout / a)
            bound = True
    ratio = f"{'>=' if bound else ''}{statistics.median(ratios):,.0f}x" if ratios else "-"
    lost = ", ".join(f"{v} {k}" for k, v in sorted(failed.items())) or "0"
    diff = agreement(run, infer_post)
    return (f"| {LABELS[run.engine]} | {len(done)}/{len(run.outcomes)} | {lost} | {_ms(_pct(done, 50))} | "
            f"{_ms(_pct(done, 95))} | {ratio} | {'-' if math.isnan(diff) else f'{diff:.1e}'} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=12, help="evidence sets for the engine comparison (default 12)")
    p.add_argument("--per-cause-cases", type=int, default=2,
                   help="of those (the first ones), how many pgmpy answers cause by cause (default 2: it rarely finishes)")
    p.add_argument("--pyagrum-cases", type=int, default=4,
                   help="of those (the first ones), how many pyAgrum answers (default 4: it rarely finishes)")
    p.add_argument("--seed", type=int, default=20260601, help="seed of every case set")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds a case in a reference engine (default 60)")
    p.add_argument("--memory-gb", type=float, default=6.0, help="memory cap of a reference engine's process (default 6)")
    p.add_argument("--repeat", type=int, default=3, help="infer() calls a case; the median is kept (default 3)")
    p.add_argument("--batch", type=int, nargs="*", default=[10_000, 100_000], help="batch sizes (default 10^4 10^5)")
    p.add_argument("--full", action="store_true", help="add the 10^6-case batch and its peak memory")
    p.add_argument("--batch-timeout", type=float, default=3600.0, help="seconds a batch size (default 3600)")
    p.add_argument("--skip-pgmpy", action="store_true")
    p.add_argument("--skip-pyagrum", action="store_true")
    p.add_argument("--skip-extras", action="store_true", help="only the engine table")
    p.add_argument("--runs", type=int, default=5, help="runs of each whole-process figure (default 5)")
    p.add_argument("--growth-cases", type=int, default=10, help="cases per number of positive findings (default 10)")
    p.add_argument("--single-cases", type=int, default=40, help="cases a row of the single-case table (default 40)")
    args = p.parse_args(argv)

    def say(msg):
        print(msg, file=sys.stderr, flush=True)

    warnings.simplefilter("ignore")
    from model import load_network

    net = load_network()
    evidence = cases(net, args.cases, args.seed)
    print(f"Machine: {machine()}")
    print(f"Cases: {args.cases} sampled given twitching (seed {args.seed}, {default_missing(net):.0%} of answers "
          f"missing, median {int(np.median([len(e) for e in evidence]))} evidence items, median "
          f"{int(np.median([sum(s != 'absent' for k, s in e.items() if k in net.findings) for e in evidence]))} "
          f"positive findings); reference timeout {args.timeout:g} s a case, memory cap {args.memory_gb:g} GB.\n")

    say("infer() ...")
    t_a, post_a = run_infer(net, evidence, repeat=args.repeat)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_pgmpy:
            say("pgmpy joint=False ...")
            runs.append(run_reference("pgmpy", evidence, timeout=args.timeout, memory_gb=args.memory_gb, progress=say))
            if args.per_cause_cases:
                say("pgmpy per cause ...")
                n = min(args.per_cause_cases, len(evidence))
                runs.append(run_reference("pgmpy_per_cause", evidence[:n], timeout=args.timeout,
                                          memory_gb=args.memory_gb, progress=say))
        if not args.skip_pyagrum:
            try:
                import pyagrum  # noqa: F401
            except ImportError:
                say("pyAgrum is not installed (pip install -e '.[bench]'): skipped")
            else:
                say("pyAgrum ...")
                bif = write_bif(net, tmp)
                runs.append(run_reference("pyagrum", evidence[: args.pyagrum_cases], timeout=args.timeout, memory_gb=args.memory_gb,
                                          bif_path=bif, progress=say))

    print("| engine | cases answered | timeout / out of memory | median ms | p95 ms | time vs (a), per case | max abs diff vs (a) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {LABELS['infer']} | {len(t_a)}/{len(t_a)} | 0 | {_ms(_pct(t_a, 50))} | {_ms(_pct(t_a, 95))} | 1x | - |")
    for run in runs:
        print(engine_row(run, t_a[: len(run.outcomes)], post_a[: len(run.outcomes)], args.timeout))
    worst = max((agreement(r, post_a[: len(r.outcomes)]) for r in runs), default=math.nan)
    verdict = "n/a" if math.isnan(worst) else ("PASS" if worst <= TOL else "FAIL")
    print(f"\nLargest difference between engines' answers: {worst:.1e} (bound {TOL:g}: {verdict}).")
    for r in runs:
        if r.note:
            print(f"{r.engine}: {r.note}")
        print(f"{r.engine}: set-up (build the engine) {r.setup_seconds:.1f} s, not in the latencies.")

    status = 0 if verdict != "FAIL" else 1
    if args.skip_extras:
        return status

    print("\nOther figures")
    t_c = causes_only_seconds(net, evidence, repeat=args.repeat)
    print(f"- infer() cause posteriors only (no triage/advice): median {_ms(_pct(t_c, 50))} ms, p95 {_ms(_pct(t_c, 95))} ms")
    say("single cases, SPEC §6 conditions ...")
    full = cases(net, args.single_cases, args.seed + 1, missing=0.0)
    t_full, _ = run_infer(net, full, repeat=args.repeat)
    t_full_c = causes_only_seconds(net, full, repeat=args.repeat)
    unknown = [{k: v for k, v in e.items() if k not in net.exposures} for e in full]
    t_unknown, _ = run_infer(net, unknown, repeat=args.repeat)
    t_unknown_c = causes_only_seconds(net, unknown, repeat=args.repeat)
    print(f"- single cases ({args.single_cases} a row; median ms, p95 in brackets):")
    print("  | evidence | cause posteriors only | infer() with triage, urgency, advice |")
    print("  |---|---|---|")
    for label, tc, ti in (("full (every node observed)", t_full_c, t_full),
                          ("every finding observed, every exposure unknown", t_unknown_c, t_unknown),
                          ("the default mix above", t_c, t_a)):
        print(f"  | {label} | {_ms(_pct(tc, 50))} ({_ms(_pct(tc, 95))}) | {_ms(_pct(ti, 50))} ({_ms(_pct(ti, 95))}) |")
    b = run_batch(net, evidence)
    print(f"- batch vs single on these {len(evidence)} cases: max abs diff {np.max(np.abs(b - post_a)):.1e}")
    say("next_questions() ...")
    nq = next_questions_seconds(net, evidence[:10])
    print(f"- next_questions(): median {_ms(_pct(nq, 50))} ms, p95 {_ms(_pct(nq, 95))} ms ({len(nq)} cases)")

    rates = {}
    say("batches ...")
    sizes = list(args.batch) + ([1_000_000] if args.full and 1_000_000 not in args.batch else [])
    for n in sizes:
        out = batch_throughput(n, args.seed, args.batch_timeout)
        if out["status"] != "ok":
            print(f"- batch of {n:,}: {out['status']}")
            continue
        rates[n] = out["rate_2"]
        peak = f"peak RSS {out['peak'] / 2**20:,.0f} MB" + (" during inference" if out["peak_is_inference"] else "")
        print(f"- batch of {n:,}: {out['rate']:,.0f} cases/s in one process ({out['seconds']:.1f} s; {peak}, "
              f"{out['before'] / 2**20:,.0f} MB before; {out['errors']} rows refused); "
              f"{out['rate_2']:,.0f} cases/s on 2 cores (2 worker processes, as `twitchdx validate`; {out['seconds_2']:.1f} s)")

    say("processes ...")
    cli = process_seconds(cli_command(), args.runs)
    imp = process_seconds([sys.executable, "-c", "import model"], args.runs)
    bare = process_seconds([sys.executable, "-c", "pass"], args.runs)
    print(f"- `twitchdx {' '.join(CLI_EXAMPLE)}`, whole process (wall, median of {args.runs}): {statistics.median(cli):.2f} s "
          f"(min {min(cli):.2f}, max {max(cli):.2f})")
    print(f"- `python -c 'import model'`: {statistics.median(imp):.2f} s; bare interpreter {statistics.median(bare):.2f} s; "
          f"import of model {statistics.median(imp) - statistics.median(bare):.2f} s")

    say("positive findings ...")
    print("- infer() per case against positive findings (median ms; engine paths used):")
    print("  | positives | " + " | ".join(str(k) for k in range(1, 11)) + " |")
    print("  |---|" + "---|" * 10)
    medians, paths = [], []
    for k in range(1, 11):
        ev_k = positive_cases(net, k, args.growth_cases, args.seed)
        t_k, _ = run_infer(net, ev_k, repeat=args.repeat)
        medians.append(_ms(_pct(t_k, 50)))
        from model import infer

        methods = [infer(e, network=net).analysis.method for e in ev_k]
        paths.append(", ".join(f"{m} {methods.count(m)}" for m in sorted(set(methods))))
    print("  | median ms | " + " | ".join(medians) + " |")
    print("  | path | " + " | ".join(paths) + " |")

    def ratio_of(engine):
        for r in runs:
            if r.engine == engine:
                return engine_row(r, t_a[: len(r.outcomes)], post_a[: len(r.outcomes)], args.timeout).split(" | ")[5]
        return "not run"

    print("\nAgainst SPEC §6")
    checks = [
        ("infer() on full evidence, cause posteriors only, median", f"{_ms(_pct(t_full_c, 50))} ms", "< 0.3 ms", _pct(t_full_c, 50) < 0.3e-3),
        ("infer() on full evidence, triage and urgency included, median", f"{_ms(_pct(t_full, 50))} ms", "< 0.5 ms", _pct(t_full, 50) < 0.5e-3),
        ("infer() with every exposure unknown, median", f"{_ms(_pct(t_unknown, 50))} ms", "< 1 ms", _pct(t_unknown, 50) < 1e-3),
        ("next_questions() median", f"{_ms(_pct(nq, 50))} ms", "< 10 ms", _pct(nq, 50) < 10e-3),
        ("vs pgmpy joint=False", ratio_of("pgmpy"), ">= 500x", None),
        ("vs pyAgrum LazyPropagation", ratio_of("pyagrum"), ">= 100x", None),
        ("batch on 2 cores, largest size run", f"{rates[max(rates)]:,.0f} cases/s" if rates else "-", ">= 500,000 cases/s",
         bool(rates) and rates[max(rates)] >= 500_000),
        ("`twitchdx infer` process", f"{statistics.median(cli):.2f} s", "< 1.5 s", statistics.median(cli) < 1.5),
    ]
    for what, got, target, ok in checks:
        verdict = "" if ok is None else (" (met)" if ok else " (NOT met)")
        print(f"- {what}: {got}; target {target}{verdict}")
    return status


if __name__ == "__main__":
    sys.exit(main())
