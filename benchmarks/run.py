"""`python benchmarks/run.py`: the benchmarks of twitchdx (see `benchmarks/cli.py`, `--help`).

A script run by path has its own folder first on `sys.path`; the checkout's root goes
first instead, so the `benchmarks` package and this checkout's `model` are the ones
imported.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = ROOT
else:
    sys.path.insert(0, ROOT)

from benchmarks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
