"""One side of a run: the chosen families on one checkout, in one process.

The parent (`benchmarks.cli`) writes a plan (JSON: the checkout's root, the families,
the options, the case sets' file, a work folder) and starts this module in a fresh
interpreter whose `sys.path` begins with that checkout's root, so `import model` is that
checkout's package; the benchmark's own modules come from the checkout the command runs
from. The side writes its figures and details as JSON. Families use the public API
(`infer`, `Interview`, `load_network`); the few that read the engine's own layer say so
and are skipped where it is missing.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

from .context import Context

FAMILIES = ("single", "questions", "uncertainty", "numpy_reference", "batches", "processes")

# The interpreter a side runs in: the checkout's root first on sys.path, the benchmark's
# root last (for `benchmarks` only: a regular package there wins over a plain folder of
# the same name in the checkout).
BOOT = ("import json, sys; plan = json.load(open(sys.argv[1])); sys.path.insert(0, plan['root']); "
        "sys.path.append(plan['bench_root']); from benchmarks.side import main; sys.exit(main(sys.argv[1], sys.argv[2]))")


def commit_of(root: str | Path) -> str:
    """The checkout's commit (short), "+ changes" when its tree differs from it."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def clean(value):
    """NaN and infinities as None, recursively (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):
        return clean(value.item())
    return value


def main(plan_path: str, out_path: str) -> int:
    warnings.simplefilter("ignore")
    with open(plan_path) as f:
        plan = json.load(f)
    import model
    from model import infer, load_network

    root = Path(plan["root"]).resolve()
    where = Path(model.__file__).resolve()
    if not where.is_relative_to(root):
        raise RuntimeError(f"model imported from {where}, not from the checkout {root}")
    with open(plan["cases"]) as f:
        cases = json.load(f)
    out = {"root": str(root), "commit": commit_of(root), "model": str(where.parent), "first_call": None,
           "figures": {}, "details": {}, "errors": {}, "seconds": {}}
    try:
        net = load_network()
        t = time.perf_counter()
        infer({"location": "eyelid"}, network=net)  # the first call: kernels loaded or compiled
        out["first_call"] = time.perf_counter() - t
        # every kernel loaded before anything is timed: a checkout whose engine compiles a
        # kernel on its first need would otherwise compile it inside a timed call
        try:
            from model.inference.engine import warm
        except ImportError:  # a checkout from before the layout (--against)
            warm = None
        if warm is not None:
            warm(net)
    except Exception:  # noqa: BLE001 - a checkout that cannot answer at all: said, and nothing else runs
        out["errors"]["side"] = traceback.format_exc(limit=6)
        with open(out_path, "w") as f:
            json.dump(clean(out), f)
        return 1
    ctx = Context(net, cases, plan["options"], Path(plan["workdir"]), list(plan["causes"]))
    for family in plan["families"]:
        if family not in FAMILIES:
            raise ValueError(f"family: {family!r} is not one of {', '.join(FAMILIES)}")
        ctx.say(f"{family} ({root.name}) ...")
        t = time.perf_counter()
        try:
            figures, details = importlib.import_module(f"benchmarks.{family}").run(ctx)
        except Exception:  # noqa: BLE001 - one family's failure is reported, the others run
            out["errors"][family] = traceback.format_exc(limit=6)
            ctx.say(f"  {family} failed:\n{out['errors'][family]}")
            figures, details = {}, {}
        out["seconds"][family] = time.perf_counter() - t
        out["figures"].update(figures)
        out["details"][family] = details
    with open(out_path, "w") as f:
        json.dump(clean(out), f)
    return 0


def launch(plan: dict, workdir: Path, name: str) -> dict:
    """Run a side in a fresh interpreter (see BOOT) and return what it wrote."""
    plan_path, out_path = workdir / f"plan-{name}.json", workdir / f"side-{name}.json"
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    out_path.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", BOOT, str(plan_path), str(out_path)], cwd=workdir, env=env)
    if out_path.exists():
        with open(out_path) as f:
            return json.load(f)
    if done.returncode != 0:
        return {"root": plan["root"], "commit": commit_of(plan["root"]), "figures": {}, "details": {},
                "errors": {"side": f"the side's process exited with {done.returncode}"}, "seconds": {}}
    raise RuntimeError(f"the side's process wrote nothing: {out_path}")
