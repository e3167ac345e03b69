"""pgmpy and pyAgrum on the same cases as `infer()`, in their own processes.

(b) pgmpy `VariableElimination.query(causes, joint=False)` on `to_pgmpy()`, and one
    `query([cause])` a cause; (c) pyAgrum `LazyPropagation` (targets: the causes) on the
network exported to BIF. Both observe the premise `_any_twitch=present` (docs/model.md).
Each runs in its own process under a memory cap and a per-case timeout: a case that runs
out of either is recorded as such, not a crash. A latency is the query alone (evidence
set, inference, posteriors read), not the engine's set-up. Ratios against `infer()` are
taken case by case (the median of the per-case ratios) on the same cases; a timed-out case
counts at the timeout, so such a ratio is a lower bound.

The reference engines run once a command, on the network of the checkout the command
runs from; with `--against`, the other checkout's ratios are taken against the same
reference times (and its agreement against the same reference posteriors).

pyAgrum 3.3.1's BIF reader keeps single precision (7 digits: 0.9999935647687638 is read
as 0.9999935626983643), which alone moves posteriors by 1e-8. The BIF is loaded for the
structure and the states, and every table is then refilled in double precision from the
same network (`to_pgmpy()`), so the comparison is of engines, not parsers.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import resource
import statistics
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

TOL = 1e-9  # largest difference of a cause posterior between engines
ENGINES = ("pgmpy", "pgmpy_per_cause", "pyagrum")
LABELS = {
    "pgmpy": "pgmpy VE, `joint=False`",
    "pgmpy_per_cause": "pgmpy VE, one query a cause",
    "pyagrum": "pyAgrum LazyPropagation (BIF)",
}


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


def pyagrum_network(net, bif_path: str):
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


def build(engine: str, bif_path: str | None):
    from model import load_network
    from model.network.export import PREMISE_NODE

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

        bn = pyagrum_network(net, bif_path)
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
        solve = build(engine, bif_path)
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
    from model.network.export import write

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


def as_json(run: EngineRun) -> dict:
    """An EngineRun as JSON holds it."""
    out = asdict(run)
    for o in out["outcomes"]:
        o["posteriors"] = None if o["posteriors"] is None else [float(x) for x in o["posteriors"]]
    return out


def from_json(data: dict) -> EngineRun:
    outcomes = [Outcome(o["status"], o["seconds"], None if o["posteriors"] is None else np.array(o["posteriors"]),
                        o.get("detail", "")) for o in data["outcomes"]]
    return EngineRun(data["engine"], outcomes, data.get("setup_seconds", math.nan), data.get("note", ""))


# (run name, engine, case set, option that sets how many of its first cases it answers)
RUNS = (
    ("pgmpy.mix", "pgmpy", "mix", "cases"),
    ("pgmpy_per_cause.mix", "pgmpy_per_cause", "mix", "per_cause_cases"),
    ("pgmpy.few", "pgmpy", "few", "few_pgmpy_cases"),
    ("pyagrum.mix", "pyagrum", "mix", "pyagrum_cases"),
)


def installed(module: str) -> bool:
    """Whether `module` can be imported, without importing it (pyAgrum's library crashes a
    process that has loaded the compiled engine: it is imported in its own process only)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run(net, cases: dict[str, list], options: dict, say) -> dict[str, dict]:
    """Every reference run of RUNS the options ask for (name -> EngineRun as JSON); an
    engine that is not installed is left out with a note on stderr."""
    import tempfile

    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bif = None
        for name, engine, case_set, count in RUNS:
            n = min(options[count], len(cases.get(case_set, [])))
            if not n or options.get(f"skip_{engine.split('_')[0]}"):
                continue
            if engine == "pyagrum":
                if not installed("pyagrum"):
                    say("  pyAgrum is not installed (pip install -e '.[bench]'): skipped")
                    continue
                bif = bif or write_bif(net, tmp)
            say(f"  {LABELS[engine]}, {case_set} ({n} cases) ...")
            result = run_reference(engine, cases[case_set][:n], timeout=options["timeout"], memory_gb=options["memory_gb"],
                                   bif_path=bif, progress=say)
            out[name] = as_json(result)
    return out


def figures(references: dict[str, dict], single: dict, timeout: float) -> dict[str, float]:
    """One side's figures against the reference runs: `engines.<run>.ratio` (median
    per-case ratio), `.ratio_is_bound` (1 when a timeout makes it a lower bound),
    `.p50` (the reference's median seconds), `.answered`, and `engines.max_diff` (the
    largest cause-posterior difference over every answered case). `single` is the side's
    `single` details (its seconds and posteriors of the mix and few sets)."""
    out: dict[str, float] = {}
    diffs = []
    for name, data in references.items():
        run = from_json(data)
        case_set = name.split(".")[1]
        seconds = np.array(single.get(case_set, {}).get("seconds", []))[: len(run.outcomes)]
        post = np.array(single.get(case_set, {}).get("posteriors", []))[: len(run.outcomes)]
        done = [o.seconds for o in run.outcomes if o.status == "ok"]
        out[f"engines.{name}.answered"] = float(len(done))
        out[f"engines.{name}.cases"] = float(len(run.outcomes))
        out[f"engines.{name}.p50"] = float(np.median(done)) if done else math.nan
        if len(seconds) == len(run.outcomes):
            value, bound = ratio(run, seconds, timeout)
            out[f"engines.{name}.ratio"] = value
            out[f"engines.{name}.ratio_is_bound"] = float(bound)
        if len(post) == len(run.outcomes):
            d = agreement(run, post)
            if not math.isnan(d):
                out[f"engines.{name}.max_diff"] = d
                diffs.append(d)
    if diffs:
        out["engines.max_diff"] = max(diffs)
    return out
