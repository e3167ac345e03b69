"""What is derived from a network, kept with it.

Each module that derives something from a network (the engine's tables, the checked
triage rules, the triage boxes of the evidence patterns seen, the pandas indexes of a
`Result`) keeps it in the network's own `Derived` store, under a key it names: built on
first use, shared by every caller of that network, dropped with the network or by
`Network.clear_derived()`. A pickled network leaves its store behind (the unpickled one
builds its own, lazily), so workers receive the network and nothing hidden.

A store that grows with the inputs (the triage boxes: one entry an evidence pattern) is
a `BoundedMemo`: past its bound it stops keeping new entries, and answers stay exact
(an entry is only a saved computation).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Hashable


class BoundedMemo:
    """A dictionary that keeps at most `bound` entries: past it, `put` keeps nothing."""

    def __init__(self, bound: int):
        if bound < 0:
            raise ValueError(f"bound: {bound} is negative")
        self.bound = bound
        self._entries: dict = {}

    def get(self, key: Hashable, default: Any = None) -> Any:
        return self._entries.get(key, default)

    def put(self, key: Hashable, value: Any) -> Any:
        if len(self._entries) < self.bound:
            self._entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries


class Derived:
    """The values derived from one network, each built once on first use."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        # two threads asking at once build one value; re-entrant, so a build may ask the
        # store for another value (the box layout reads the triage rules)
        self._lock = threading.RLock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value under `key`, built by `build()` the first time."""
        try:
            return self._values[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._values:
                self._values[key] = build()
            return self._values[key]

    def memo(self, key: Hashable, bound: int) -> BoundedMemo:
        """The bounded memo under `key` (created empty the first time)."""
        return self.get(key, lambda: BoundedMemo(bound))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def keys(self) -> list:
        return list(self._values)

    def __len__(self) -> int:
        return len(self._values)
