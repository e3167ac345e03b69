"""The printed report: each family's table and the table of targets, from a run's JSON.

Everything here reads the saved results only, so a saved run prints again and two saved
runs print side by side (`--compare`). With two sides, each table gives a row for each
side and a row "gain": how many times better this checkout is than the other on that
column (for a time: the other's time over this one's; for a rate or a ratio: this one's
over the other's), so above 1 is better here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .cases import FEW_ITEMS
from .single import GROWTH, ROWS
from .stats import ms
from .targets import TARGETS

# column kinds: how a figure prints and which way is better
TIME, SECONDS, RATE, BYTES, PLAIN, COUNT, RATIO = "time", "seconds", "rate", "bytes", "plain", "count", "ratio"
HIGHER_IS_BETTER = {RATE, RATIO}


def show(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == TIME:
        return ms(value)
    if kind == SECONDS:
        return f"{value:.2f}" if value < 100 else f"{value:,.0f}"
    if kind == RATE:
        return f"{value:,.0f}"
    if kind == BYTES:
        return f"{value / 2**20:,.0f} MB"
    if kind == COUNT:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:.1f}"
    if kind == RATIO:
        return f"{value:,.0f}x"
    return f"{value:.2g}"


def gain(this, other, kind: str) -> str:
    """How many times better `this` is than `other` (see the module's doc)."""
    if kind not in (TIME, SECONDS, RATE, RATIO):
        return ""
    if this is None or other is None or not this > 0 or not other > 0:
        return "-"
    g = this / other if kind in HIGHER_IS_BETTER else other / this
    return f"{g:.3g}x"


def side_label(side: dict, name: str) -> str:
    return f"{name}: {Path(side.get('root', '?')).name} @ {side.get('commit', '?')}"


def table(head: list[str], groups: list[tuple[str, list[tuple[str, str]]]], sides: dict[str, dict]) -> list[str]:
    """Markdown rows: a row for each group and side (its figures by key and kind), and
    with two sides a gain row for each group. Groups with no figure on any side are left out."""
    two = len(sides) == 2
    cols = ["", "checkout"] if two else [""]
    lines = ["| " + " | ".join(cols + head) + " |", "|" + "---|" * (len(cols) + len(head))]
    names = list(sides)
    for label, columns in groups:
        if not any(key in s["figures"] for s in sides.values() for key, _ in columns):
            continue
        for i, name in enumerate(names):
            figs = sides[name]["figures"]
            cells = [show(figs.get(key), kind) for key, kind in columns]
            lead = [label if i == 0 else "", name] if two else [label]
            lines.append("| " + " | ".join(lead + cells) + " |")
        if two:
            this, other = sides[names[0]]["figures"], sides[names[1]]["figures"]
            cells = [gain(this.get(k), other.get(k), kind) for k, kind in columns]
            lines.append("| " + " | ".join(["", "gain"] + cells) + " |")
    return lines


def tails_columns(prefix: str) -> list[tuple[str, str]]:
    """The number of cases (or calls) and the tails of a row."""
    return [(f"{prefix}.cases", COUNT)] + [(f"{prefix}.{t}", TIME) for t in ("p50", "p90", "p99", "max")]


def render(results: dict) -> str:
    sides: dict[str, dict] = results["sides"]
    names = list(sides)
    out = ["# twitchdx benchmarks", ""]
    out.append(f"Machine: {results.get('machine', '?')}")
    out.append("")
    for name, side in sides.items():
        out.append(f"- {side_label(side, name)} (`model` from {side.get('model', '?')}; first call "
                   f"{show(side.get('first_call'), SECONDS)} s)")
        for family, error in side.get("errors", {}).items():
            out.append(f"  - {family} FAILED: {error.strip().splitlines()[-1]}")
    info = results.get("cases", {})
    if info:
        out.append("")
        out.append("Case sets (seed {seed}): {summary}.".format(seed=results["options"]["seed"], summary="; ".join(
            f"{k} {v}" for k, v in info.items())))
    if len(sides) == 2:
        out.append(f"\n\"gain\": how many times better {names[0]} is than {names[1]} (times: theirs over ours; rates "
                   "and ratios: ours over theirs).")

    out += ["", "## Single cases, warm", "",
            "Seconds of one call a case (the median of its repeated calls, after a warm-up call of its set); the "
            "columns are over the cases of a row. `infer()` is the whole public call (triage, urgency, advice, the "
            "Result); causes only is `encode` + `analyse(triage=False)`. ms.", ""]
    groups = []
    for row, label in ROWS.items():
        groups.append((label, tails_columns(f"single.{row}.infer") + [(f"single.{row}.causes.p50", TIME),
                                                                     (f"single.{row}.causes.max", TIME)]))
    out += table(["cases", "p50", "p90", "p99", "max", "causes only: p50", "causes only: max"], groups, sides)
    for name, side in sides.items():
        single = side.get("details", {}).get("single", {})
        worst_lines = []
        for row, label in ROWS.items():
            d = single.get(row)
            if not d or not d.get("worst"):
                continue
            w = d["worst"]
            paths = ", ".join(f"{k} {v}" for k, v in sorted(d.get("paths", {}).items()))
            worst_lines.append(f"- {label} ({len(d['seconds'])} cases; paths: {paths or 'not reported'}): "
                               f"{ms(w['seconds'])} ms{' (' + w['method'] + ')' if w.get('method') else ''}: "
                               f"`infer({json.dumps(w['evidence'])})`")
        if worst_lines:
            out += ["", f"The slowest case of each row ({name}):", ""] + worst_lines
    diff = {n: s["figures"].get("single.batch_vs_single.max_diff") for n, s in sides.items()}
    if any(v is not None for v in diff.values()):
        out += ["", "Batch against one at a time (default mix and 5-7 items): max abs difference of the cause "
                    "posteriors " + ", ".join(f"{n} {v:.1e}" for n, v in diff.items() if v is not None) + "."]

    groups = [(str(k), [(f"growth.{k}.p50", TIME), (f"growth.{k}.max", TIME)]) for k in GROWTH]
    if any(f"growth.{k}.p50" in s["figures"] for s in sides.values() for k in GROWTH):
        out += ["", "## `infer()` against the number of positive findings", "",
                "One region twitching and k - 1 other findings present, the other regions and findings absent, "
                "exposures as sampled. ms.", ""]
        out += table(["median", "max"], [(f"{k} positive{'s' if int(k) > 1 else ''}", c) for k, c in groups], sides)

    out += ["", "## Questions", "",
            "`next_questions()` on each case's Result (the median of its repeated calls); an interview's next "
            "question: every `next_question()` call that ranks the open questions, in interviews that start from "
            f"{FEW_ITEMS[0]}-{FEW_ITEMS[1]} items and answer from the person's full row. A set stops taking cases "
            "once it has run its time budget (`--question-budget`). ms.", ""]
    groups = [(f"`next_questions()`, {ROWS[s]}", tails_columns(f"questions.{s}")) for s in ("mix", "few", "multi")]
    groups.append(("an interview's next question", tails_columns("interview.next")))
    groups.append(("every `next_question()` call (screen included)", tails_columns("interview.all")))
    out += table(["cases (calls)", "p50", "p90", "p99", "max"], groups, sides)
    for name, side in sides.items():
        figs = side["figures"]
        if "interview.questions_mean" in figs:
            out.append(f"\n{name}: {figs['interview.questions_mean']:.1f} questions an interview on average, "
                       f"{show(figs['interview.seconds_p50'], SECONDS)} s an interview (median).")

    draws = results["options"].get("draws")
    out += ["", f"## `infer(..., intervals={draws})`, every exposure unknown", "", "Seconds a case.", ""]
    out += table(["p50", "max"], [("intervals", [(f"intervals.{draws}.p50", SECONDS), (f"intervals.{draws}.max", SECONDS)])],
                 sides)

    refs = results.get("references", {})
    if refs:
        out += ["", "## Reference engines on the same cases", "",
                f"Timeout {results['options']['timeout']:g} s a case, memory cap {results['options']['memory_gb']:g} GB; "
                "the reference ran once, each side's ratio is the median of its per-case ratios against it (\">=\" when a "
                "timeout makes it a lower bound).", ""]
        head = ["reference", "cases answered", "reference median s"] + [f"{n}: ratio" for n in names] + \
               [f"{n}: max abs diff" for n in names]
        out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for run in refs:
            first = sides[names[0]]["figures"]
            cells = [run, f"{show(first.get(f'engines.{run}.answered'), COUNT)}/{show(first.get(f'engines.{run}.cases'), COUNT)}",
                     show(first.get(f"engines.{run}.p50"), SECONDS)]
            for n in names:
                f = sides[n]["figures"]
                bound = ">=" if f.get(f"engines.{run}.ratio_is_bound") else ""
                cells.append(bound + show(f.get(f"engines.{run}.ratio"), RATIO))
            for n in names:
                v = sides[n]["figures"].get(f"engines.{run}.max_diff")
                cells.append("-" if v is None else f"{v:.1e}")
            out.append("| " + " | ".join(cells) + " |")

    groups = []
    for s in ("mix", "full"):
        p = f"numpy_reference.{s}"
        groups.append((s, [(f"{p}.numpy_query", TIME), (f"{p}.compiled_query", TIME), (f"{p}.compiled_threads_query", TIME),
                           (f"{p}.numpy_case", TIME), (f"{p}.compiled_case", TIME), (f"{p}.max_diff", PLAIN)]))
    if any(k.startswith("numpy_reference.") for s in sides.values() for k in s["figures"]):
        out += ["", "## The numpy reference engine beside the compiled one", "",
                "The queries `infer()` sends (each case's own query and its triage boxes) on the network without its "
                "switches and latents. Batched: ms a query; one at a time: ms a case.", ""]
        out += table(["numpy, batched", "compiled, 1 thread", "compiled, threads", "numpy, one case", "compiled, one case",
                      "max abs diff"], groups, sides)

    sizes = sorted({int(k.split(".")[1]) for s in sides.values() for k in s["figures"] if k.startswith("batch.")})
    if sizes:
        out += ["", "## Batches: `infer(DataFrame)`, default case mix", "",
                "Each size in a fresh process, the same sampled rows on every side. One process: one call; 2 workers: "
                "two halves in 2 forked processes (start-up included). Peak: resident memory during the call (one "
                "process) and the larger worker's.", ""]
        groups = [(f"{n:,}", [(f"batch.{n}.rate", RATE), (f"batch.{n}.peak", BYTES), (f"batch.{n}.rate_2", RATE),
                              (f"batch.{n}.peak_2", BYTES), (f"batch.{n}.encode_seconds", SECONDS),
                              (f"batch.{n}.analyse_seconds", SECONDS), (f"batch.{n}.ece", PLAIN)]) for n in sizes]
        out += table(["one process: cases/s", "peak", "2 workers: cases/s", "peak (a worker)", "encode s", "exact sums s",
                      "ECE of urgency"], groups, sides)
        for name, side in sides.items():
            for n, d in side.get("details", {}).get("batches", {}).items():
                if d.get("status") != "ok":
                    out.append(f"\n{name}: batch of {int(n):,}: {d.get('status')}")

    out += ["", "## Processes", "", "`twitchdx infer --location eyelid ...`, wall seconds.", ""]
    out += table(["warm: median", "warm: min", "empty compile cache", "`import model` (in-process)"],
                 [("processes", [("process.cli.warm.p50", SECONDS), ("process.cli.warm.min", SECONDS),
                                 ("process.cli.cold.max", SECONDS), ("process.import.p50", SECONDS)])], sides)
    for name, side in sides.items():
        said = side.get("details", {}).get("processes", {}).get("said")
        if said is not None:
            out.append(f"\n{name}, with an empty cache the process said: {said or 'nothing about compiling'}.")

    out += ["", "## Targets", ""]
    out += targets_table(sides)
    return "\n".join(out)


def targets_table(sides: dict[str, dict]) -> list[str]:
    names = list(sides)
    verdict = lambda met: "n/a" if met is None else ("yes" if met else "**no**")  # noqa: E731
    if len(names) == 1:
        lines = ["| figure | target | measured | met? |", "|---|---|---|---|"]
        for t in TARGETS:
            text, met = t.check(sides[names[0]]["figures"])
            lines.append(f"| {t.what} | {t.bound.text} | {text} | {verdict(met)} |")
        return lines
    a, b = names
    lines = [f"| figure | target | {a} | met? | {b} | met? | gain |", "|---|---|---|---|---|---|---|"]
    for t in TARGETS:
        fa, fb = sides[a]["figures"], sides[b]["figures"]
        ta, ma = t.check(fa)
        tb, mb = t.check(fb)
        kind = {"ms": TIME, "s": SECONDS, "x": RATIO, "cases/s": RATE}.get(t.bound.unit, PLAIN)
        lines.append(f"| {t.what} | {t.bound.text} | {ta} | {verdict(ma)} | {tb} | {verdict(mb)} | "
                     f"{gain(fa.get(t.figure), fb.get(t.figure), kind)} |")
    return lines


def summary(sides: dict[str, dict]) -> str:
    """"N of M targets met" a side."""
    parts = []
    for name, side in sides.items():
        checked = [t.check(side["figures"])[1] for t in TARGETS]
        parts.append(f"{name}: {sum(m is True for m in checked)} of {sum(m is not None for m in checked)} measured "
                     f"targets met ({sum(m is None for m in checked)} not run or undecided)")
    return "; ".join(parts)

