"""What a benchmark family is given: the network, the case sets and the options."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Context:
    """One side's run: `net` is that checkout's bundled network; `cases` the case sets
    the parent built (name -> list of evidence dicts, `benchmarks.cases`); `options` the
    command's options (name -> value); `workdir` a folder for files the families share
    (batch frames)."""

    net: Any
    cases: dict[str, list]
    options: dict[str, Any]
    workdir: Path
    causes: list[str] = field(default_factory=list)

    def say(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def opt(self, name: str) -> Any:
        return self.options[name]
