"""Write `tails_reference.npz`: 1,000 bundled cases as engine queries (each case's own
query and its triage boxes) with the answers of an exact engine kept as the reference,
for `tests/test_tails.py` (issue 24: the bounded tails agree with the engine before them).

Usage (the reference answers come from the checkout named, here the engine before the
change, taken from git without touching the repository):

    mkdir -p /tmp/base && git archive <commit> model priors pyproject.toml | tar -x -C /tmp/base
    python tests/data/make_tails_reference.py /tmp/base

The case sets (seeded, as `benchmarks/cases.py` draws them; the benchmark's own seed, so
its worst cases are among them), 1,000 cases:

- `positives_k`, k = 1..10: the benchmark's growth sets (10 each, exposures as sampled),
  and the same cases with every exposure left out (the tails: 100 + 100);
- `positives_unknown_k`, k = 1..9: 20 more a k, every exposure left out (180);
- `multi`: the benchmark's several-regions set (200); `few`: its 5-7-items set (200);
- `unknown`: every finding observed, every exposure unknown (200);
- `mix`: the default mix (20).

Queries are stored as arrays (lo, hi, exposure, absent, the case of each row, whether
it is a case's own query), so the test does not depend on how cases are drawn later.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SEED = 20260601  # the benchmark's default seed (`benchmarks/cli.py`)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def case_sets(net) -> dict[str, list[dict[str, str]]]:
    from benchmarks import cases as C

    strip = lambda evs: [{n: s for n, s in e.items() if n not in net.exposures} for e in evs]  # noqa: E731
    sets = {}
    for k in range(1, 11):
        growth = C.positives(net, k, 10, SEED)
        sets[f"positives_{k}"] = growth
        sets[f"positives_{k}_unknown"] = strip(growth)
    for k in range(1, 10):
        sets[f"positives_unknown_{k}"] = strip(C.positives(net, k, 20, SEED + 7))
    sets["multi"] = C.nodes(C.multi(net, 200, SEED))
    sets["few"] = C.nodes(C.few_items(net, 200, SEED))
    sets["unknown"] = C.unknown(net, C.full(net, 200, SEED + 1))
    sets["mix"] = C.mix(net, 20, SEED)
    return sets


def main(checkout: str) -> None:
    sys.path.insert(0, str(Path(checkout).resolve()))
    sys.path.append(str(ROOT))  # `benchmarks` from this repository
    import model
    from model import load_network
    from model.inference.analysis import node_states, row_queries
    from model.inference.engine import evaluate_many

    print(f"reference engine: {model.__file__}")
    net = load_network()
    out: dict[str, list] = {k: [] for k in ("lo", "hi", "exposure", "absent", "case", "own", "total", "joint", "set")}
    names = []
    case = 0
    t0 = time.perf_counter()
    for name, evs in case_sets(net).items():
        names.append(name)
        for ev in evs:
            asked = row_queries(net, node_states(net, [ev]))
            q = asked.queries
            total, joint, _ = evaluate_many(net, q, joint=asked.joint, threads=False)
            out["lo"].append(q.lo.astype(np.int8))
            out["hi"].append(q.hi.astype(np.int8))
            out["exposure"].append(q.exposure.astype(np.int8))
            out["absent"].append(q.absent)
            out["case"].append(np.full(len(q), case, dtype=np.int32))
            out["own"].append(asked.joint)
            out["total"].append(total)
            out["joint"].append(joint[asked.joint])
            out["set"].append(np.full(len(q), len(names) - 1, dtype=np.int16))
            case += 1
        print(f"  {name}: {len(evs)} cases ({time.perf_counter() - t0:.0f} s)", flush=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    np.savez_compressed(HERE / "tails_reference.npz", **{k: np.concatenate(v) for k, v in out.items()},
                        set_names=np.array(names), reference=np.array(f"{model.__file__} (repository at {commit})"))
    print(f"{case} cases written to {HERE / 'tails_reference.npz'}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
