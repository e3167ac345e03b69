"""Many chunks of work on worker processes, with a progress bar.

Each worker receives what the chunks share (a network, settings) once, when it starts
(`ProcessPoolExecutor`'s initializer: inherited by a forked worker, pickled to a
spawned one, which is why a `Network` pickles), and keeps it for the chunks it runs.
Without several workers and chunks the chunks run here, in order.

Before starting workers, the parent loads the engine's compiled kernels
(`model.inference.engine.warm`, compiling them on the first use after install, with its
one notice on stderr): forked workers inherit them, so they neither compile again nor
announce it, and the notice comes before the progress bar.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence


class _Worker:
    """What one worker process received when it started (it lives in that process only)."""

    shared: Any = None

    @classmethod
    def receive(cls, shared: Any) -> None:
        cls.shared = shared

    @classmethod
    def run(cls, task: tuple[Callable, Any]) -> Any:
        function, chunk = task
        return function(cls.shared, chunk)


def _warm_engine(shared: Any) -> None:
    """Load the kernels here if `shared` is a network or a tuple holding one."""
    from ..inference.engine import warm
    from ..network.build import Network

    for item in shared if isinstance(shared, tuple) else (shared,):
        if isinstance(item, Network):
            warm(item)
            return


def _context():
    """fork where the platform has it (workers start at once, the kernels loaded), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def forked_map(function: Callable[[Any, Any], Any], chunks: Sequence, shared: Any, *, workers: int = 1,
               progress: bool = False, desc: str = "", total: int | None = None) -> list:
    """[function(shared, chunk) for chunk in chunks], on `workers` processes.

    function : a module-level function (it is sent to the workers by name).
    total : the count the progress bar runs to (default: one per chunk); each part then
        moves it by its len().
    """
    from tqdm.auto import tqdm

    parallel = workers > 1 and len(chunks) > 1
    if parallel:
        _warm_engine(shared)
    bar = tqdm(total=len(chunks) if total is None else total, desc=desc, unit="case", disable=not progress, leave=False)
    parts = []
    try:
        if parallel:
            with ProcessPoolExecutor(workers, mp_context=_context(), initializer=_Worker.receive, initargs=(shared,)) as pool:
                for part in pool.map(_Worker.run, [(function, c) for c in chunks]):
                    parts.append(part)
                    bar.update(len(part) if total is not None else 1)
        else:
            for chunk in chunks:
                parts.append(function(shared, chunk))
                bar.update(len(parts[-1]) if total is not None else 1)
    finally:
        bar.close()
    return parts
