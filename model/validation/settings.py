"""priors/validation.toml: the settings of `twitchdx validate` (the default run, each
world's strength, the report's cut-offs), read and checked. Errors name the file and the
entry. The sampler reads its default share of missing answers here; `model.validation.report`
reads the rest.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..network.build import Network, load_network
from ..network.priors import PriorsError

FILE = "validation.toml"
WORLDS = ("model", "redrawn", "misreport", "correlated")
# Limits the checks of validation.toml apply (not model numbers): the Gaussian copula
# needs |correlation| < 1, and the recalibration split must leave cases on both sides.
CORRELATION_LIMIT = 0.999
RECALIBRATION_SHARE_RANGE = (0.05, 0.95)
CONFIDENCE_RANGE = (0.5, 0.999)  # an interval's level: wide enough to mean something, short of certainty


@dataclass(frozen=True)
class Settings:
    """priors/validation.toml, checked."""

    cases: int
    worlds: tuple[str, ...]
    seed: int
    missing: float
    workers: int
    misreport_rate: float
    correlation: float
    min_prevalence: float
    recalibration_share: float
    bootstrap_replicates: int
    confidence: float
    interviews: int


def _err(entry: str, message: str) -> PriorsError:
    return PriorsError(f"{FILE}: [{entry}]: {message}")


def load_settings(network: Network | None = None) -> Settings:
    """Read and check validation.toml from the network's priors folder."""
    net = network if network is not None else load_network()
    path = Path(net.priors.folder) / FILE
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise PriorsError(f"{FILE}: missing from {path.parent}") from None
    except tomllib.TOMLDecodeError as e:
        raise PriorsError(f"{FILE}: not valid TOML: {e}") from None

    def get(table: str, key: str, kind, low=None, high=None):
        value = raw.get(table.split(".")[0], {})
        for part in table.split(".")[1:]:
            value = value.get(part, {})
        value = value.get(key)
        entry = f"{table}.{key}"
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise _err(entry, f"expected a whole number, got {value!r}")
        if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)):
            raise _err(entry, f"expected a number, got {value!r}")
        if low is not None and not low <= value <= high:
            raise _err(entry, f"{value!r} is outside [{low}, {high}]")
        return kind(value)

    worlds = raw.get("default", {}).get("worlds")
    if not isinstance(worlds, list) or not worlds or any(w not in WORLDS for w in worlds):
        raise _err("default.worlds", f"expected a list of worlds from {', '.join(WORLDS)}, got {worlds!r}")
    return Settings(
        cases=get("default", "cases", int, 1, 10**9),
        worlds=tuple(worlds),
        seed=get("default", "seed", int, 0, 2**63 - 1),
        missing=get("default", "missing", float, 0.0, 1.0),
        workers=get("default", "workers", int, 1, 1024),
        misreport_rate=get("worlds.misreport", "rate", float, 0.0, 1.0),
        correlation=get("worlds.correlated", "correlation", float, -CORRELATION_LIMIT, CORRELATION_LIMIT),
        min_prevalence=get("report", "min_prevalence", float, 0.0, 1.0),
        recalibration_share=get("report", "recalibration_share", float, *RECALIBRATION_SHARE_RANGE),
        bootstrap_replicates=get("report", "bootstrap_replicates", int, 1, 10**6),
        confidence=get("report", "confidence", float, *CONFIDENCE_RANGE),
        interviews=get("default", "interviews", int, 0, 10**7),
    )
