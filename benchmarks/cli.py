"""`python benchmarks/run.py`: run the benchmark families, print the tables, save JSON.

    python benchmarks/run.py                          # every family, default sizes
    python benchmarks/run.py --only single questions  # some families
    python benchmarks/run.py --full                   # adds the 10^6-row batch
    python benchmarks/run.py --against /path/to/other/checkout   # two checkouts, one run
    python benchmarks/run.py --compare before.json after.json    # two saved runs
    python benchmarks/run.py --small                  # tiny sizes: a smoke test in seconds

The case sets are built once, by the checkout the command runs from, and every side
answers the same ones. Each family runs in a fresh interpreter for each side (the
sides take turns family by family, so a drift of the machine's load touches both);
the reference engines (pgmpy, pyAgrum) run once, in their own processes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import cases as C
from . import engines, report
from .batches import write_frames
from .side import FAMILIES, clean, commit_of, launch
from .single import GROWTH
from .targets import INTERVAL_DRAWS, TARGETS

BENCH_ROOT = Path(__file__).resolve().parent.parent   # the checkout the command runs from
ALL_FAMILIES = FAMILIES[:3] + ("engines",) + FAMILIES[3:]
RESULTS = BENCH_ROOT / "benchmarks" / "results"
SMALL = {  # --small: every size tiny, the slow families off unless asked for
    "single_cases": 6, "cases": 0, "per_cause_cases": 0, "few_pgmpy_cases": 0, "pyagrum_cases": 0,
    "question_cases": 2, "interviews": 2, "interval_cases": 1, "draws": 20, "reference_rows": 30,
    "reference_single": 2, "batch": [1_000], "runs": 1, "cold_runs": 0, "growth_cases": 1, "repeat": 1,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g = p.add_argument_group("what to run")
    g.add_argument("--only", nargs="+", choices=ALL_FAMILIES, metavar="FAMILY",
                   help=f"run these families only ({', '.join(ALL_FAMILIES)})")
    g.add_argument("--skip", nargs="+", choices=ALL_FAMILIES, default=[], metavar="FAMILY", help="leave these families out")
    g.add_argument("--small", action="store_true", help="tiny sizes (a smoke test; figures mean nothing)")
    g.add_argument("--against", metavar="PATH", help="another checkout of the repository, measured on the same cases")
    g.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="print two saved runs side by side and stop")
    g.add_argument("--json", metavar="PATH", help="where to save the results (default: benchmarks/results/<time>-<commit>.json; "
                                                   "the printed report is saved beside it as .md)")
    s = p.add_argument_group("sizes")
    s.add_argument("--seed", type=int, default=20260601, help="seed of every case set")
    s.add_argument("--repeat", type=int, default=3, help="calls a case, the median kept (single cases, next_questions)")
    s.add_argument("--single-cases", type=int, default=200, help="cases a row of the single-case table")
    s.add_argument("--growth-cases", type=int, default=10, help="cases for each number of positive findings (0 skips)")
    s.add_argument("--question-cases", type=int, default=30, help="cases a set for next_questions()")
    s.add_argument("--interviews", type=int, default=20, help="interviews timed question by question")
    s.add_argument("--question-budget", type=float, default=120.0,
                   help="seconds a question set may take (next_questions() on a set, the interviews): the first cases "
                        "that fit are timed, and the tables say how many")
    s.add_argument("--interval-cases", type=int, default=3, help="cases for infer(..., intervals=DRAWS)")
    s.add_argument("--draws", type=int, default=INTERVAL_DRAWS, help="draws of infer(..., intervals=N)")
    s.add_argument("--reference-rows", type=int, default=2000, help="rows a set for the numpy reference engine")
    s.add_argument("--reference-single", type=int, default=100, help="of those, answered one case at a time")
    s.add_argument("--batch", type=int, nargs="*", default=[10_000, 100_000], help="batch sizes")
    s.add_argument("--full", action="store_true", help="add the 10^6-row batch (sampling it takes about a minute)")
    s.add_argument("--no-workers", action="store_true", help="batches: skip the 2-worker way")
    s.add_argument("--batch-timeout", type=float, default=3600.0, help="seconds a batch size")
    s.add_argument("--runs", type=int, default=5, help="runs of each warm whole process")
    s.add_argument("--cold-runs", type=int, default=1, help="runs with an empty compile cache (about 30 s each)")
    r = p.add_argument_group("reference engines")
    r.add_argument("--cases", type=int, default=12, help="default-mix cases pgmpy answers")
    r.add_argument("--per-cause-cases", type=int, default=1, help="of those, how many pgmpy answers cause by cause")
    r.add_argument("--few-pgmpy-cases", type=int, default=8, help="5-7-items cases pgmpy answers")
    r.add_argument("--pyagrum-cases", type=int, default=4, help="default-mix cases pyAgrum answers")
    r.add_argument("--timeout", type=float, default=60.0, help="seconds a case in a reference engine")
    r.add_argument("--memory-gb", type=float, default=6.0, help="memory cap of a reference engine's process")
    r.add_argument("--skip-pgmpy", action="store_true")
    r.add_argument("--skip-pyagrum", action="store_true")
    return p


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = [f"Python {platform.python_version()}"]
    for name in ("numpy", "pandas", "numba", "pgmpy", "pyagrum"):
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    load = ""
    try:
        load = "; load average %.2f %.2f %.2f at the start" % os.getloadavg()
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()}; " + ", ".join(versions) + load


def build_cases(net, options: dict, families: list[str]) -> tuple[dict[str, list], dict[str, str]]:
    """The case sets the chosen families need, and a line describing each."""
    seed, n = options["seed"], options["single_cases"]
    sets, info = {}, {}
    if {"single", "questions", "uncertainty", "engines"} & set(families):
        sets["mix"] = C.mix(net, max(n, options["cases"], options["pyagrum_cases"]), seed)
        full = C.full(net, n, seed + 1)
        sets["full"], sets["unknown"] = full, C.unknown(net, full)
        few = C.few_items(net, max(n, options["few_pgmpy_cases"]), seed)
        sets["few"] = C.nodes(few)
        sets["multi"] = C.multi(net, n, seed)
        info["mix"] = f"{len(sets['mix'])} cases of `twitchdx validate`'s mix ({C.default_missing(net):.0%} missing)"
        info["full / unknown"] = f"{n} cases, every node observed / every exposure then left out"
        info["few"] = (f"{len(few)} cases, {C.FEW_ITEMS[0]}-{C.FEW_ITEMS[1]} items known (median "
                       f"{int(np.median([len(u) for u in few]))} items, {int(np.median([len(e) for e in sets['few']]))} nodes)")
        info["multi"] = (f"{len(sets['multi'])} cases, {C.MULTI_REGIONS[0]}-{C.MULTI_REGIONS[-1]} regions (as many of each), "
                         f"{C.MULTI_POSITIVES[0]}-{C.MULTI_POSITIVES[1]} positive findings, location and duration")
        if "single" in families and options["growth_cases"]:
            for k in GROWTH:
                sets[f"positives_{k}"] = C.positives(net, k, options["growth_cases"], seed)
            info["positives"] = f"{options['growth_cases']} cases for each k in 1..{max(GROWTH)}"
    if "questions" in families and options["interviews"]:
        sets["interviews"] = C.interviews(net, options["interviews"], seed)
        info["interviews"] = f"{len(sets['interviews'])} people, {C.FEW_ITEMS[0]}-{C.FEW_ITEMS[1]} items to start"
    if "numpy_reference" in families and options["reference_rows"]:
        sets["reference_mix"] = C.mix(net, options["reference_rows"], seed + 3)
        sets["reference_full"] = C.full(net, options["reference_rows"], seed + 4)
    return sets, info


def run(args) -> dict:
    options = {k: v for k, v in vars(args).items() if k not in ("only", "skip", "against", "compare", "json", "small")}
    if args.small:
        for k, v in SMALL.items():
            if parser().get_default(k) == options[k]:  # what the command line did not set
                options[k] = v
    if args.full and 1_000_000 not in options["batch"]:
        options["batch"] = list(options["batch"]) + [1_000_000]
    families = [f for f in (args.only or ALL_FAMILIES) if f not in args.skip]
    roots = {"this": BENCH_ROOT}
    if args.against:
        other = Path(args.against).resolve()
        if not (other / "model" / "__init__.py").exists():
            raise SystemExit(f"--against: {other} is not a checkout of this repository (no model/__init__.py)")
        roots["against"] = other
    import model
    from model import load_network

    if not Path(model.__file__).resolve().is_relative_to(BENCH_ROOT):
        say(f"note: the parent imports model from {model.__file__}, not from {BENCH_ROOT}")
    net = load_network()
    started = time.perf_counter()
    say("building the case sets ...")
    sets, info = build_cases(net, options, families)
    results = {"version": 1, "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "options": options, "families": families, "cases": info,
               "sides": {name: {"root": str(root), "commit": commit_of(root), "figures": {}, "details": {}, "errors": {},
                                "seconds": {}} for name, root in roots.items()}}
    with tempfile.TemporaryDirectory(prefix="twitchdx-bench-") as tmp:
        workdir = Path(tmp)
        with open(workdir / "cases.json", "w") as f:
            json.dump(sets, f)
        if "batches" in families:
            write_frames(net, options["batch"], options["seed"], workdir, say)
        for family in families:
            if family == "engines":
                continue
            for name, root in roots.items():
                plan = {"root": str(root), "bench_root": str(BENCH_ROOT), "families": [family],
                        "options": {**options, "root": str(root)}, "cases": str(workdir / "cases.json"),
                        "workdir": str(workdir), "causes": list(net.causes)}
                got = launch(plan, workdir, name)
                side = results["sides"][name]
                for key in ("figures", "details", "errors", "seconds"):
                    side[key].update(got.get(key, {}))
                side.setdefault("model", got.get("model"))
                side["first_call"] = max(side.get("first_call") or 0.0, got.get("first_call") or 0.0)
                if got.get("model"):
                    side["model"] = got["model"]
    if "engines" in families:
        say("reference engines ...")
        refs = engines.run(net, sets, options, say)
        results["references"] = refs
        for side in results["sides"].values():
            single = side["details"].get("single", {})
            side["figures"].update(engines.figures(refs, single, options["timeout"]))
    results["wall_seconds"] = time.perf_counter() - started
    results["targets"] = [{"what": t.what, "target": t.bound.text, "figure": t.figure,
                           "sides": {n: dict(zip(("measured", "met"), t.check(s["figures"])))
                                     for n, s in results["sides"].items()}} for t in TARGETS]
    return clean(results)


def default_json(results: dict) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    commit = results["sides"]["this"]["commit"].split()[0]
    return RESULTS / f"{stamp}-{commit}.json"


def compare(before: str, after: str) -> dict:
    """Two saved runs as one with two sides: each file's first side."""
    loaded = []
    for path in (after, before):
        with open(path) as f:
            loaded.append(json.load(f))
    a, b = loaded
    first = lambda r: next(iter(r["sides"].values()))  # noqa: E731
    return {**a, "sides": {"after": first(a), "before": first(b)},
            "references": a.get("references", {}), "machine": a.get("machine")}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.compare:
        results = compare(*args.compare)
        print(report.render(results))
        print("\n" + report.summary(results["sides"]))
        return 0
    results = run(args)
    text = report.render(results) + f"\n\nWall time of the run: {results['wall_seconds']:.0f} s. " + \
        report.summary(results["sides"]) + "."
    print(text)
    path = Path(args.json) if args.json else default_json(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    path.with_suffix(".md").write_text(text + "\n")
    say(f"saved {path} and {path.with_suffix('.md')}")
    failed = [f"{n}: {fam}" for n, s in results["sides"].items() for fam in s["errors"]]
    return 1 if failed else 0
