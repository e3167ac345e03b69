"""The product's performance targets, each written once.

A `Bound` is a comparison, a value and a unit; the printed target ("< 0.3 ms") and the
check (`Bound.met`) both derive from it. A `Target` names the figure it checks: a key of
the flat `figures` dict a benchmark side returns (values in seconds, ratios, cases a
second or plain numbers, never pre-formatted), so a saved run can be checked again.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass

from .stats import ms

UNITS = {"ms": 1e-3, "s": 1.0, "x": 1.0, "cases/s": 1.0, "": 1.0, "flag": 1.0}
OPERATORS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge, "==": operator.eq}


@dataclass(frozen=True)
class Bound:
    """`op value unit`: ms and s bound seconds, x a ratio, flag a yes (1) or no (0).

    >>> b = Bound("<", 0.3, "ms"); b.text, b.met(0.00025), b.met(0.0004)
    ('< 0.3 ms', True, False)
    >>> Bound(">=", 100_000, "cases/s").text
    '>= 100,000 cases/s'
    """

    op: str
    value: float
    unit: str

    def __post_init__(self):
        if self.op not in OPERATORS:
            raise ValueError(f"op: {self.op!r} is not one of {', '.join(OPERATORS)}")
        if self.unit not in UNITS:
            raise ValueError(f"unit: {self.unit!r} is not one of {', '.join(map(repr, UNITS))}")

    @property
    def text(self) -> str:
        if self.unit == "flag":
            return "says so" if self.value else "silent"
        if self.unit == "":
            return f"{self.op} {self.value:g}"
        number = f"{self.value:,.0f}" if self.value >= 1000 else f"{self.value:g}"
        return f"{self.op} {number}x" if self.unit == "x" else f"{self.op} {number} {self.unit}"

    @property
    def limit(self) -> float:
        """The value in the figures' units (seconds for ms and s)."""
        return self.value * UNITS[self.unit]

    def met(self, measured: float) -> bool:
        return bool(OPERATORS[self.op](measured, self.limit))

    def show(self, measured: float) -> str:
        """A measured figure in this bound's unit."""
        if measured is None or math.isnan(measured):
            return "not measured"
        if self.unit == "ms":
            return f"{ms(measured)} ms"
        if self.unit == "s":
            return f"{measured:.2f} s" if measured < 100 else f"{measured:,.0f} s"
        if self.unit == "x":
            return f"{measured:,.0f}x"
        if self.unit == "cases/s":
            return f"{measured:,.0f} cases/s"
        if self.unit == "flag":
            return "yes" if measured else "no"
        return f"{measured:.2g}"


@dataclass(frozen=True)
class Target:
    """One row of the table: what is measured, the figure's key, its bound; `lower_bound`
    names a figure that is 1 when the measured value is only a lower bound (a reference
    engine timed out on some case), so a short value decides nothing."""

    what: str
    figure: str
    bound: Bound
    lower_bound: str | None = None

    def check(self, figures: Mapping[str, float]) -> tuple[str, bool | None]:
        """(measured text, met): met None when not measured or not decidable."""
        value = figures.get(self.figure)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "not run", None
        text = self.bound.show(value)
        is_bound = bool(self.lower_bound and figures.get(self.lower_bound))
        if is_bound:
            text = ">= " + text
        met = self.bound.met(value)
        if is_bound and not met and self.bound.op == ">=":
            return text, None
        return text, met


# The bounds several rows share.
EVERY_CASE = Bound("<", 2, "ms")          # 5-7 items known: every case (p99 and max)
FEW_MEDIAN = Bound("<", 1, "ms")          # 5-7 items known: median
QUESTIONS = Bound("<", 3, "ms")           # next_questions(): median
AGAINST_PGMPY = Bound(">=", 500, "x")     # per case, the same queries
BATCH_RATE = Bound(">=", 100_000, "cases/s")
INTERVAL_DRAWS = 1000                     # the draws of the intervals target

FEW = "5-7 items known"
MULTI = "several regions, a few positives"

TARGETS: tuple[Target, ...] = (
    Target("`infer()` full evidence, causes alone (encode + analyse, no triage): median", "single.full.causes.p50",
           Bound("<", 0.1, "ms")),
    Target("`infer()` full evidence, with triage and urgency: median", "single.full.infer.p50", Bound("<", 0.3, "ms")),
    Target("`infer()` every exposure unknown (findings observed), with triage: median", "single.unknown.infer.p50",
           Bound("<", 0.7, "ms")),
    Target(f"`infer()` {FEW}, with triage: median", "single.few.infer.p50", FEW_MEDIAN),
    Target(f"`infer()` {FEW}: 99th percentile", "single.few.infer.p99", EVERY_CASE),
    Target(f"`infer()` {FEW}: every case (max)", "single.few.infer.max", EVERY_CASE),
    Target(f"`infer()` {MULTI}: median", "single.multi.infer.p50", FEW_MEDIAN),
    Target(f"`infer()` {MULTI}: 99th percentile", "single.multi.infer.p99", EVERY_CASE),
    Target(f"`infer()` {MULTI}: every case (max)", "single.multi.infer.max", EVERY_CASE),
    Target("`next_questions()` default mix: median", "questions.mix.p50", QUESTIONS),
    Target(f"`next_questions()` {FEW}: median", "questions.few.p50", QUESTIONS),
    Target(f"`next_questions()` {MULTI}: median", "questions.multi.p50", QUESTIONS),
    Target("an interview's next question, groups included: median", "interview.next.p50", Bound("<", 50, "ms")),
    Target(f"`infer(..., intervals={INTERVAL_DRAWS})` every exposure unknown: median",
           f"intervals.{INTERVAL_DRAWS}.p50", Bound("<", 2, "s")),
    Target("default mix: against pgmpy VE `joint=False`, per case", "engines.pgmpy.mix.ratio", AGAINST_PGMPY,
           "engines.pgmpy.mix.ratio_is_bound"),
    Target(f"{FEW}: against pgmpy VE `joint=False`, per case", "engines.pgmpy.few.ratio", AGAINST_PGMPY,
           "engines.pgmpy.few.ratio_is_bound"),
    Target("default mix: against pyAgrum LazyPropagation, per case", "engines.pyagrum.mix.ratio",
           Bound(">=", 100, "x"), "engines.pyagrum.mix.ratio_is_bound"),
    Target("same numbers as pgmpy and pyAgrum (cause posteriors, max abs diff)", "engines.max_diff",
           Bound("<=", 1e-9, "")),
    Target("batch from a DataFrame, default mix, 10^4 cases, 2 cores (the better of one process and 2 workers)",
           "batch.10000.best_rate", BATCH_RATE),
    Target("batch, 10^5 cases, 2 cores (the better of one process and 2 workers)", "batch.100000.best_rate", BATCH_RATE),
    Target("batch, 10^6 cases, 2 cores (the better of one process and 2 workers)", "batch.1000000.best_rate", BATCH_RATE),
    Target("`twitchdx infer ...` whole process, engine compiled: median", "process.cli.warm.p50", Bound("<", 1.5, "s")),
    Target("`twitchdx infer ...` first use, empty compile cache", "process.cli.cold.max", Bound("<", 30, "s")),
    Target("first use says it is compiling", "process.cli.cold.says", Bound("==", 1, "flag")),
    Target("in-model calibration: ECE of urgency, 10^5 sampled cases", "batch.100000.ece", Bound("<", 0.01, "")),
)


def check_all(figures: Mapping[str, float]) -> list[tuple[Target, str, bool | None]]:
    """Every target with its measured text and verdict."""
    return [(t, *t.check(figures)) for t in TARGETS]
