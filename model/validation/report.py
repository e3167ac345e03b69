"""`twitchdx validate`: synthetic validation in one call, with a report a person can read.

For each world (docs/validation.md, "Worlds"):

* ``model``: cases drawn from the network itself: a check that sampler and engine agree
  (calibration should be near perfect);
* ``redrawn``: every probability redrawn once from its range in priors/;
* ``misreport``: answers flipped at the rate of priors/validation.toml;
* ``correlated``: exposures that travel together coupled by a Gaussian copula;

cases are drawn, answered by the batch path of `infer` with the model's own network, and
scored by `model.validation.metrics`: top-1/top-3, urgency ECE (equal-width and equal-mass bins),
Brier with its split, calibration intercept and slope, the triage confusion matrix,
every common cause's ECE, and an urgency recalibration map fitted on part of the cases
and scored on the rest. `write_report` turns the results into report.md, metrics.json
and PNG figures (`model.validation.plots`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import synthetic
from ..network.draws import perturbed_network
from .scoring import ACCEPTABLE, FIGURES, QUESTIONS_QUANTILE, advice_figures, full_information_figures, interview_cases
from . import metrics as M
from ..api import infer
from ..batch import BatchResult
from ..inference.engine import warm
from ..network.questions import GOALS
from ..network.build import Network, load_network
from .settings import WORLDS, Settings, load_settings
from .vignettes import score_textbook, score_vignettes
from .workers import forked_map

# Rows a worker answers at a time (the progress bar moves once a chunk).
CHUNK_ROWS = 1000


def sample_world(net: Network, world: str, n: int, *, seed: int, missing: float, settings: Settings, stream: int = 0) -> pd.DataFrame:
    """n cases of a world, from a generator seeded by (seed, world): each world's cases
    depend on the seed alone, not on which other worlds run or in which order. `stream`
    1 draws the interviewed cases, apart from the one-shot ones."""
    if world not in WORLDS:
        raise ValueError(f"world: {world!r} is not one of {', '.join(WORLDS)}")
    rng = np.random.default_rng([seed, WORLDS.index(world)] + ([stream] if stream else []))
    source = perturbed_network(net, rng) if world == "redrawn" else net
    return synthetic.sample_cases(
        source,
        n,
        rng=rng,
        missing=missing,
        misreport=settings.misreport_rate if world == "misreport" else 0.0,
        correlation=settings.correlation if world == "correlated" else 0.0,
    )


def _infer_chunk(net: Network, frame: pd.DataFrame) -> BatchResult:
    # the network stays behind (the parent holds it; sending it back with every chunk
    # would cost its pickle, 200 KB): `_concat` puts it back
    return dataclasses.replace(infer(frame, network=net, errors="collect"), network=None)


def infer_cases(net: Network, evidence: pd.DataFrame, *, workers: int = 1, progress: bool = False, label: str = "") -> BatchResult:
    """The batch path of `infer` over many rows, in chunks, on `workers` processes."""
    chunks = [evidence.iloc[i : i + CHUNK_ROWS] for i in range(0, len(evidence), CHUNK_ROWS)]
    parts = forked_map(_infer_chunk, chunks, net, workers=workers, progress=progress, desc=label or "cases", total=len(evidence))
    return _concat(parts, net)


def _concat(parts: Sequence[BatchResult], net: Network) -> BatchResult:
    if not parts:
            return infer(pd.DataFrame(), network=net, errors="collect")
    return BatchResult(
        causes=pd.concat([p.causes for p in parts]),
        triage=pd.concat([p.triage for p in parts]),
        urgency=pd.concat([p.urgency for p in parts]),
        advice=pd.concat([p.advice for p in parts]),
        errors=pd.concat([p.errors for p in parts], ignore_index=True),
        network=net,
        states=np.concatenate([p.states for p in parts]) if all(p.states is not None for p in parts) else None,
        recalibration=parts[0].recalibration,
        set_aside=parts[0].set_aside,
        row_result=parts[0].row_result,
    )


def score(net: Network, cases: pd.DataFrame, result: BatchResult, settings: Settings) -> dict[str, Any]:
    """Every metric of one case set (JSON-able)."""
    rows = result.causes.index[result.ok.to_numpy()]  # the rows answered
    truth = cases.loc[rows]
    posteriors = result.causes.loc[rows, list(net.causes)].to_numpy()
    present = truth[[f"present:{c}" for c in net.causes]].to_numpy(dtype=bool)
    responsible = np.array([[c in set(r.split(";")) for c in net.causes] for r in truth["responsible"]], dtype=bool)
    primary = np.array([net.causes.index(p) if isinstance(p, str) else -1 for p in truth["primary"]])
    urgent = truth["true_level"].isin(["soon", "emergency"]).to_numpy()
    urgency = result.urgency.loc[rows].to_numpy()
    out: dict[str, Any] = {"cases": int(len(cases)), "answered": int(len(rows)), "errors": int(len(result.errors))}
    level = settings.confidence
    # the bootstrap's resamples come from a fixed seed (bootstrap_interval's): the same cases, the same intervals
    boot = {"replicates": settings.bootstrap_replicates, "level": level}
    out["ranking"] = M.topk_accuracy(posteriors, responsible, primary, level=level)
    out["urgency"] = {
        "ece": M.ece(urgent, urgency),
        "ece_ci": list(M.ece_interval(urgent, urgency, **boot)),
        "ece_equal_mass": M.ece(urgent, urgency, strategy="quantile"),
        **M.brier(urgent, urgency),
        "brier_ci": list(M.brier_interval(urgent, urgency, **boot)),
        **M.calibration_intercept_slope(urgent, urgency),
        "mean_predicted": float(urgency.mean()),
        "observed": float(urgent.mean()),
    }
    out["triage"] = M.triage_confusion(truth["true_level"].to_numpy(), result.advice.loc[rows].to_numpy(), level=level)
    out["intervals"] = {
        "level": level,
        "proportions": "exact binomial (Clopper-Pearson): top1, top3, under_triage, over_triage, exact",
        "ece_brier": f"percentile bootstrap, {settings.bootstrap_replicates} resamples of the cases",
    }
    causes = {}
    for i, c in enumerate(net.causes):
        prevalence = float(present[:, i].mean())
        entry = {"prevalence": prevalence, "mean_posterior": float(posteriors[:, i].mean())}
        if prevalence >= settings.min_prevalence:
            entry["ece"] = M.ece(present[:, i], posteriors[:, i])
            entry["ece_ci"] = list(M.ece_interval(present[:, i], posteriors[:, i], **boot))
            entry["brier"] = M.brier(present[:, i], posteriors[:, i])["brier"]
        causes[c] = entry
    out["causes"] = causes
    # recalibration: fitted on the first share of the cases, scored on the rest
    cut = int(len(rows) * settings.recalibration_share)
    if 0 < cut < len(rows):
        recal = M.fit_recalibration(urgency[:cut], urgent[:cut])
        mapped = np.array([recal(u) for u in urgency[cut:]])
        out["recalibration"] = {
            "fitted_on": cut,
            "scored_on": int(len(rows) - cut),
            "ece_before": M.ece(urgent[cut:], urgency[cut:]),
            "ece_after": M.ece(urgent[cut:], mapped),
            "map": recal.to_dict(),
        }
    return out


@dataclass
class Validation:
    """One world's case set, its batch result and its metrics."""

    world: str
    n: int
    missing: float
    seed: int
    metrics: dict[str, Any]
    cases: pd.DataFrame = field(repr=False)
    result: BatchResult = field(repr=False)
    seconds: float = 0.0

    def flat(self) -> dict[str, float]:
        """The headline figures as scalars (one row of a sweep table)."""
        m = self.metrics
        return {
            "top1": m["ranking"]["top1"],
            "top3": m["ranking"]["top3"],
            "urgency_ece": m["urgency"]["ece"],
            "urgency_ece_equal_mass": m["urgency"]["ece_equal_mass"],
            "urgency_brier": m["urgency"]["brier"],
            "calibration_intercept": m["urgency"]["intercept"],
            "calibration_slope": m["urgency"]["slope"],
            "under_triage": m["triage"]["under_triage"],
            "over_triage": m["triage"]["over_triage"],
            "recalibrated_ece": m.get("recalibration", {}).get("ece_after", float("nan")),
            "errors": float(m["errors"]),
            "cases_per_second": self.n / self.seconds if self.seconds else float("nan"),
        }


def validate(
    *,
    network: Network | None = None,
    n: int | None = None,
    world: str = "model",
    missing: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: bool = False,
    interviews: int | None = None,
) -> Validation:
    """Draw one world's case set, infer it in batch and score it; interview `interviews`
    more of its cases (defaults: validation.toml)."""
    net = network if network is not None else load_network()
    settings = load_settings(net)
    n = settings.cases if n is None else n
    missing = settings.missing if missing is None else missing
    seed = settings.seed if seed is None else seed
    workers = settings.workers if workers is None else workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: {n!r} is not a positive whole number of cases")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: {workers!r} is not a positive whole number")
    cases = sample_world(net, world, n, seed=seed, missing=missing, settings=settings)
    warm(net)  # load (or compile) the kernels first: `seconds` and cases_per_second leave that out
    start = time.perf_counter()
    result = infer_cases(net, synthetic.evidence_of(cases), workers=workers, progress=progress, label=world)
    seconds = time.perf_counter() - start
    metrics = score(net, cases, result, settings)
    metrics["seconds"] = seconds
    rows = result.causes.index[result.ok.to_numpy()]
    metrics["advice"] = advice_figures(cases.loc[rows, "true_level"], result.advice.loc[rows], level=settings.confidence).to_dict(orient="index")
    interviews = settings.interviews if interviews is None else interviews
    if isinstance(interviews, bool) or not isinstance(interviews, int) or interviews < 0:
        raise ValueError(f"interviews: {interviews!r} is not a number of cases (0 or more)")
    if interviews:
        metrics["interview"] = score_interviews(net, world, interviews, seed=seed, missing=missing, settings=settings, workers=workers, progress=progress)
    return Validation(world, n, missing, seed, metrics, cases, result, seconds)


def score_interviews(net: Network, world: str, n: int, *, seed: int, missing: float, settings: Settings, workers: int = 1, progress: bool = False) -> dict[str, Any]:
    """Interview n cases of a world (docs/validation.md): each starts from the answers it reported
    (a `missing` share left empty) and answers every question from its own full row. The
    advice figures of the interview and of one-shot advice on the same cases."""
    full = sample_world(net, world, n, seed=seed, missing=0.0, settings=settings, stream=1)
    answers = synthetic.evidence_of(full)
    rng = np.random.default_rng([seed, WORLDS.index(world), 2])
    start = answers.mask(rng.random(answers.shape) < missing)
    began = time.perf_counter()
    one_shot = infer_cases(net, start, workers=workers, label=f"{world} one-shot")
    interviewed = interview_cases(net, start, answers, workers=workers, progress=progress)
    truth = full["true_level"]
    # the same cases told everything they could answer, and interviewed under each goal
    told = infer_cases(net, answers, workers=workers, label=f"{world} full information")
    goals = {}
    for goal in GOALS:
        got = interviewed if goal == "causes" else interview_cases(net, start, answers, workers=workers, progress=progress, goal=goal)
        goals[goal] = full_information_figures(truth, told.advice, got, full_top1=told.causes.idxmax(axis=1),
                                               primary=full.get("primary"), responsible=full.get("responsible"), level=settings.confidence)
    return {
        "cases": int(n),
        "questions_mean": float(interviewed["questions"].mean()),
        "questions_p90": float(interviewed["questions"].quantile(QUESTIONS_QUANTILE)),
        "interview": advice_figures(truth, interviewed["advice"], level=settings.confidence).to_dict(orient="index"),
        "one_shot": advice_figures(truth, one_shot.advice, level=settings.confidence).to_dict(orient="index"),
        "goals": goals,
        "level": settings.confidence,
        "seconds": time.perf_counter() - began,
    }


def vignette_metrics(network: Network | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    table = score_vignettes(network)
    summary = {
        "vignettes": int(len(table)),
        "top1": float(table["top1"].mean()),
        "top3": float(table["top3"].mean()),
        "acceptable_advice": float(table["acceptable"].mean()),
        "exact_advice": float(table["exact"].mean()),
        "exact_hits": int(table["exact"].sum()),
        "listed_misses": table.loc[table["listed_miss"], "id"].tolist(),
        "under_triaged": int(table["under_triage"].sum()),
        "top1_misses": table.loc[~table["top1"], "id"].tolist(),
        "top3_misses": table.loc[~table["top3"], "id"].tolist(),
    }
    return summary, table


def textbook_metrics(network: Network | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """The textbook set (model/data/textbook.toml): top-1 and top-3 over the presentations
    with an expected cause, exact level and under-triage over all, and every miss with the
    rank of its expected cause and its reason (listed, not hidden)."""
    table = score_textbook(network)
    missed = table.loc[(table["top1"] == False) | (table["top3"] == False) | ~table["exact"]]  # noqa: E712 (NA stays out)
    summary = {
        "presentations": int(len(table)),
        "ranked": int(table["top1"].notna().sum()),
        "top1": float(table["top1"].mean()),
        "top3": float(table["top3"].mean()),
        "exact_level": float(table["exact"].mean()),
        "exact_hits": int(table["exact"].sum()),
        "under_triaged": int(table["under_triage"].sum()),
        "under_triaged_ids": table.loc[table["under_triage"], "id"].tolist(),
        "misses": [
            {
                "id": r["id"],
                "expected": r["expected"],
                "first": r["first"],
                "rank": None if pd.isna(r["rank"]) else int(r["rank"]),
                "advice": r["advice"],
                "triage": r["triage"],
                "reason": r["reason"],
            }
            for _, r in missed.iterrows()
        ],
    }
    return summary, table


def metrics_document(validations: Sequence[Validation], vignettes: dict[str, Any] | None, seconds: float) -> dict[str, Any]:
    return {
        "worlds": {v.world: v.metrics for v in validations},
        "settings": {"cases": validations[0].n if validations else 0, "missing": validations[0].missing if validations else None, "seed": validations[0].seed if validations else None},
        "vignettes": {k: v for k, v in vignettes.items() if k != "textbook"} if vignettes else vignettes,
        "textbook": vignettes.get("textbook") if vignettes else None,
        "seconds": seconds,
    }


def summary_table(validations: Sequence[Validation]) -> pd.DataFrame:
    rows = {v.world: v.flat() for v in validations}
    table = pd.DataFrame(rows).T
    return table[["top1", "top3", "urgency_ece", "urgency_brier", "calibration_slope", "under_triage", "over_triage", "recalibrated_ece", "cases_per_second"]]


# The metrics report.md shows with their intervals: (label, section, key, interval key).
INTERVAL_METRICS = (
    ("top-1", "ranking", "top1", "top1_ci"),
    ("top-3", "ranking", "top3", "top3_ci"),
    ("urgency ECE", "urgency", "ece", "ece_ci"),
    ("urgency Brier", "urgency", "brier", "brier_ci"),
    ("under-triage", "triage", "under_triage", "under_triage_ci"),
    ("over-triage", "triage", "over_triage", "over_triage_ci"),
)


def interval_table(validations: Sequence[Validation]) -> pd.DataFrame:
    """One row a world: each headline metric with its interval, as "0.612 (0.598 to 0.626)",
    and the number of cases it rests on."""
    rows = {}
    for v in validations:
        m = v.metrics
        row = {"cases": str(m["answered"])}
        for label, section, key, ci in INTERVAL_METRICS:
            lo, hi = m[section].get(ci, (float("nan"), float("nan")))
            row[label] = f"{m[section][key]:.3f} ({lo:.3f} to {hi:.3f})"
        rows[v.world] = row
    table = pd.DataFrame(rows).T
    table.index.name = "world"
    return table


def _markdown(frame: pd.DataFrame, *, index: bool = True) -> str:
    """A pipe table (pandas' to_markdown needs the tabulate package; this does not)."""
    def cell(x):
        if isinstance(x, (float, np.floating)):
            return f"{x:.3f}"
        return str(x)

    cols = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for label, row in frame.iterrows():
        cells = ([str(label)] if index else []) + [cell(x) for x in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _figure_cells(figures: dict[str, dict]) -> dict[str, str]:
    def cell(f):
        if not f["of"]:
            return "no cases"
        return f"{f['share']:.1%} ({f['low']:.1%} to {f['high']:.1%}; {f['count']}/{f['of']})"

    return {name: cell(f) for name, f in figures.items()}


def advice_section(validations: Sequence[Validation]) -> list[str]:
    """report.md's advice against the true level: one-shot on every case, and the
    interview beside one-shot advice on the same interviewed cases."""
    lines = ["## Advice against the true level", "",
             f"Each figure is a share with its exact {validations[0].metrics['intervals']['level']:.0%} interval and count. Advice is *acceptable* when it is {ACCEPTABLE}. "
             "Over-triage: advised above the true level (true routine advised soon or emergency apart); under-triage: below it.", ""]
    meaning = {name: words for name, (words, _, _) in FIGURES.items()}
    for v in validations:
        columns = {f"one-shot, all {v.metrics['answered']} cases": _figure_cells(v.metrics["advice"])}
        iv = v.metrics.get("interview")
        if iv:
            columns[f"one-shot, the {iv['cases']} interviewed"] = _figure_cells(iv["one_shot"])
            columns["interview, the same cases"] = _figure_cells(iv["interview"])
        table = pd.DataFrame(columns)
        table.index = [meaning[k] for k in table.index]
        table.index.name = "figure"
        lines += [f"### {v.world} world", "", _markdown(table), ""]
    asked = [(v.world, v.metrics["interview"]) for v in validations if v.metrics.get("interview")]
    if asked:
        lines += ["Interview: each case starts from the answers it reported (the same share missing) and answers every "
                  "question from its own full row; the red flags are screened first. Questions asked: "
                  + "; ".join(f"{w} mean {iv['questions_mean']:.2f}, 90th percentile {iv['questions_p90']:.0f}" for w, iv in asked) + ".", ""]
        lines += interview_goal_lines(asked)
    return lines


def interview_goal_lines(asked) -> list[str]:
    """The interview under both goals against full information (the advice told every
    answer) and against the true level, on the same cases (docs/validation.md)."""
    lines = ["### The interview against full information", "",
             "Each goal interviews the same cases; *full information* is the advice of `infer()` on every answer the "
             "person could give. Silent: truly soon or emergency cases that full information advises below soon (a "
             "serious cause with no sign any question can reveal), counted apart.", ""]
    for world, iv in asked:
        for goal, g in iv.get("goals", {}).items():
            rows = {}
            for name, f in g["full"].items():
                rows[f["meaning"]] = {"against full information": _figure_cells({name: f})[name],
                                      "against the true level": _figure_cells({name: g["truth"][name]})[name] if name in g["truth"] else ""}
            rows[g["silent"]["meaning"]] = {"against full information": "", "against the true level": _figure_cells({"s": g["silent"]})["s"]}
            rows["questions: mean, 90th percentile"] = {"against full information": f"{g['questions_mean']:.2f}, {g['questions_p90']:.0f}",
                                                        "against the true level": ""}
            table = pd.DataFrame(rows).T
            table.index.name = "figure"
            lines += [f"{world} world, goal={goal}:", "", _markdown(table), ""]
    return lines


def textbook_section(t: dict[str, Any]) -> list[str]:
    """report.md's textbook set: the figures, then every miss with its reason."""
    lines = ["## Textbook set", "",
             f"{t['presentations']} presentations written from the sources (model/data/textbook.toml), not tuned to the model: "
             f"top-1 {t['top1']:.1%} and top-3 {t['top3']:.1%} over the {t['ranked']} with an expected cause, "
             f"exact level {t['exact_level']:.1%} ({t['exact_hits']} of {t['presentations']}), under-triaged {t['under_triaged']}"
             + (f" ({', '.join(t['under_triaged_ids'])})" if t["under_triaged_ids"] else "") + ".", ""]
    if t["misses"]:
        misses = pd.DataFrame(t["misses"])[["id", "expected", "first", "rank", "advice", "triage", "reason"]]
        misses["rank"] = misses["rank"].map(lambda r: "-" if r is None or pd.isna(r) else str(int(r)))
        lines += ["Misses (the first-ranked cause not expected, the expected cause outside the top three, or the advice "
                  "not the true level), with the rank of the expected cause:", "", _markdown(misses, index=False), ""]
    return lines


def urgency_curves(validations: Sequence[Validation]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """World -> (urgent: the true level is soon or emergency, urgency), over the rows
    inferred without error."""
    curves = {}
    for v in validations:
        rows = v.result.urgency.index[v.result.ok.to_numpy()]
        urgent = v.cases.loc[rows, "true_level"].isin(["soon", "emergency"]).to_numpy()
        curves[v.world] = (urgent, v.result.urgency.loc[rows].to_numpy())
    return curves


def urgency_reliability(validations: Sequence[Validation]):
    """The report's urgency reliability diagram: one panel per world on shared axes,
    bins of equal counts (at least `presentation.plots.MIN_BIN_CASES` cases each), each bin's exact
    interval shaded."""
    from . import plots as validation_plots

    return validation_plots.plot_reliability(urgency_curves(validations), title="urgency = P(soon or emergency)", panels=True)


def write_report(folder: str | Path, validations: Sequence[Validation], vignettes: tuple[dict, pd.DataFrame] | None, seconds: float) -> Path:
    """report.md, metrics.json and the figures, in `folder` (created)."""
    from ..presentation import plots
    from . import plots as validation_plots

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    doc = metrics_document(validations, vignettes[0] if vignettes else None, seconds)
    (folder / "metrics.json").write_text(json.dumps(doc, indent=2, default=float) + "\n")
    figures = []
    if validations:
        figures.append(("reliability_urgency.png", "Urgency: reliability in each world", urgency_reliability(validations)))
    first = next((v for v in validations if v.world == "model"), validations[0] if validations else None)
    if first is not None:
        common = [c for c, e in first.metrics["causes"].items() if "ece" in e]
        common = sorted(common, key=lambda c: -first.metrics["causes"][c]["prevalence"])[:6]
        rows = first.result.causes.index[first.result.ok.to_numpy()]
        cause_curves = {c: (first.cases.loc[rows, f"present:{c}"].to_numpy(dtype=float), first.result.causes.loc[rows, c].to_numpy()) for c in common}
        figures.append(("reliability_causes.png", f"The most common causes ({first.world} world)", validation_plots.plot_reliability(cause_curves, title=f"causes, {first.world} world")))
    for v in validations:
        figures.append((f"confusion_{v.world}.png", f"Triage confusion ({v.world} world)", validation_plots.plot_confusion(v.metrics["triage"])))
    if validations:
        figures.append(("topk.png", "Cause ranking accuracy", validation_plots.plot_topk({v.world: v.metrics["ranking"] for v in validations})))
    for name, _, fig in figures:
        plots.save(fig, folder / name)
    lines = ["# twitchdx validation report", ""]
    lines.append(f"{len(validations)} world(s), {validations[0].n if validations else 0} cases each, "
                 f"{validations[0].missing if validations else 0:.0%} of answers missing, seed {validations[0].seed if validations else 0}; "
                 f"{seconds:.1f} s in all.")
    lines += ["", "## Summary", "", _markdown(summary_table(validations)) if validations else "", ""]
    if validations:
        level = validations[0].metrics.get("intervals", {}).get("level", M.CONFIDENCE)
        lines += [f"## Metrics with {level:.0%} intervals", "", _markdown(interval_table(validations)), "",
                  f"Intervals: exact binomial (Clopper-Pearson) for top-k and the triage rates; a percentile "
                  f"bootstrap over the cases ({validations[0].metrics['intervals']['ece_brier'].split(', ')[1]}) "
                  "for ECE and Brier. metrics.json holds each as `<metric>_ci`.", ""]
    lines += [
        "top1: the top-ranked cause is one that made the twitch; top3: the primary cause is in the top three "
        "(cases whose twitch came from the leak alone are left out). urgency_ece: expected calibration error of "
        "P(soon or emergency), 15 equal-width bins. under_triage: advice below the true level. "
        "cases_per_second: the batch inference alone (the engine's compile or load before it left out).",
        "",
    ]
    if validations:
        lines += advice_section(validations)
    if vignettes:
        s, table = vignettes
        lines += ["## Clinical vignettes", "",
                  f"{s['vignettes']} vignettes: top-1 {s['top1']:.1%}, every expected cause in the top three {s['top3']:.1%}, "
                  f"exact level {s['exact_advice']:.1%} ({s['exact_hits']} of {s['vignettes']}), "
                  f"acceptable advice {s['acceptable_advice']:.1%}, under-triaged {s['under_triaged']}.", ""]
        if s["listed_misses"]:
            lines += ["Listed advice misses (vignettes.toml `advice_miss`): " + ", ".join(s["listed_misses"]) + ".", ""]
        if s["top1_misses"]:
            lines += ["Not first: " + ", ".join(s["top1_misses"]) + ".", ""]
        lines += [_markdown(table[["id", "expected", "ranks", "triage", "advice", "exact", "acceptable"]], index=False), ""]
        if s.get("textbook"):
            lines += textbook_section(s["textbook"])
    lines += ["## Figures", ""]
    for name, caption, _ in figures:
        lines += [f"### {caption}", "", f"![{caption}]({name})", ""]
    (folder / "report.md").write_text("\n".join(lines))
    return folder / "report.md"


def run(
    *,
    network: Network | None = None,
    n: int | None = None,
    worlds: Sequence[str] | None = None,
    missing: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    vignettes: bool = True,
    progress: bool = False,
    interviews: int | None = None,
) -> tuple[list[Validation], tuple[dict, pd.DataFrame] | None, float]:
    """Every world of a validation run, and the vignettes with the textbook set (its
    summary under the vignettes' "textbook" key)."""
    net = network if network is not None else load_network()
    settings = load_settings(net)
    worlds = settings.worlds if worlds is None else tuple(worlds)
    for w in worlds:
        if w not in WORLDS:
            raise ValueError(f"world: {w!r} is not one of {', '.join(WORLDS)}")
    start = time.perf_counter()
    out = [validate(network=net, n=n, world=w, missing=missing, seed=seed, workers=workers, progress=progress, interviews=interviews) for w in worlds]
    vig = vignette_metrics(net) if vignettes else None
    if vig is not None:
        # the textbook set rides with the vignettes (`--no-vignettes` skips both)
        vig[0]["textbook"] = textbook_metrics(net)[0]
    return out, vig, time.perf_counter() - start
