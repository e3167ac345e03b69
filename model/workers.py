"""Many chunks of work on forked worker processes, with a progress bar.

Forked workers share the parent's objects (the network is not rebuilt or pickled): the
parent puts them in `_SHARED` before forking, and each chunk's function reads them from
there. Without fork (or with one worker or one chunk) the chunks run here, in order.

Before forking, the parent loads the engine's compiled kernels (`model.engine.warm`,
compiling them on the first use after install, with its one notice on stderr): the
workers inherit them, so they neither compile again nor announce it, and the notice
comes before the progress bar.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence

_SHARED: Any = None


def _run(task: tuple[Callable, Any]) -> Any:
    function, chunk = task
    return function(_SHARED, chunk)


def _warm_engine(shared: Any) -> None:
    """Load the kernels here if `shared` is a network or a tuple holding one."""
    from .engine import warm
    from .network import Network

    for item in shared if isinstance(shared, tuple) else (shared,):
        if isinstance(item, Network):
            warm(item)
            return


def forked_map(function: Callable[[Any, Any], Any], chunks: Sequence, shared: Any, *, workers: int = 1,
               progress: bool = False, desc: str = "", total: int | None = None) -> list:
    """[function(shared, chunk) for chunk in chunks], on `workers` forked processes.

    function : a module-level function (it is sent to the workers by name).
    total : the count the progress bar runs to (default: one per chunk); each part then
        moves it by its len().
    """
    from tqdm.auto import tqdm

    global _SHARED
    if workers > 1 and len(chunks) > 1:
        _warm_engine(shared)
    bar = tqdm(total=len(chunks) if total is None else total, desc=desc, unit="case", disable=not progress, leave=False)
    parts = []
    _SHARED = shared
    try:
        if workers > 1 and len(chunks) > 1 and "fork" in multiprocessing.get_all_start_methods():
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                for part in pool.map(_run, [(function, c) for c in chunks]):
                    parts.append(part)
                    bar.update(len(part) if total is not None else 1)
        else:
            for chunk in chunks:
                parts.append(function(shared, chunk))
                bar.update(len(parts[-1]) if total is not None else 1)
    finally:
        _SHARED = None
        bar.close()
    return parts
