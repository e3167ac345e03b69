"""Re-execute the notebooks top to bottom in a fresh kernel and save their outputs in place.

    python notebooks/regenerate.py              # every notebook in notebooks/
    python notebooks/regenerate.py 02_scenarios.ipynb

Each notebook runs with notebooks/ as its working directory, as in CI
(tests/test_notebooks.py runs the same `execute`). Prints each notebook's time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# jupyter_core warns until this opt-in is set (platformdirs paths); set it before importing it.
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

HERE = Path(__file__).resolve().parent
# A whole notebook must run in under two minutes (issue 5); one cell may take all of it.
TIMEOUT_SECONDS = 120


def notebooks() -> list[Path]:
    """The notebooks, in reading order."""
    return sorted(HERE.glob("[0-9][0-9]_*.ipynb"))


def execute(path: Path, *, kernel_name: str = "python3") -> tuple[nbformat.NotebookNode, float]:
    """Run `path` in a fresh kernel (cwd notebooks/); return the executed notebook and seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_SECONDS,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(HERE)}},
        record_timing=False,  # no timestamps in the saved cells: a rerun diffs only where outputs change
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a) if Path(a).exists() else HERE / a for a in argv] or notebooks()
    for path in paths:
        nb, seconds = execute(path)
        nbformat.write(nb, path)
        print(f"{path.name}: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
