"""The bundled clinical vignettes (model/data/vignettes.toml) and how the model scores on them."""

from __future__ import annotations

import tomllib
from importlib import resources

import pandas as pd

from .api import infer
from .vocabulary import CAUSES, TRIAGE_LEVELS


def load_vignettes() -> list[dict]:
    """Hand-written cases from the reference texts, each with expected causes and triage."""
    with resources.files("model").joinpath("data/vignettes.toml").open("rb") as f:
        vignettes = tomllib.load(f)["vignette"]
    seen = set()
    for v in vignettes:
        if v["id"] in seen:
            raise ValueError(f"vignettes.toml: [{v['id']}]: duplicate id")
        seen.add(v["id"])
        for c in v["expected"]:
            if c not in CAUSES:
                raise ValueError(f"vignettes.toml: [{v['id']}]: unknown cause {c!r}")
        if v["triage"] not in TRIAGE_LEVELS:
            raise ValueError(f"vignettes.toml: [{v['id']}]: unknown triage level {v['triage']!r}")
    return vignettes


def score_vignettes(network=None) -> pd.DataFrame:
    """One row a vignette: the rank of each expected cause, hits, and the advice against
    the vignette's expected level (its `triage`: the clinical level by SPEC §7.6).

    Columns on the advice:

    - ``exact``: the advice is the expected level.
    - ``acceptable``: the advice is the expected level or one level more cautious
      (self_care advised routine, routine advised soon, soon advised emergency). One
      step up costs a visit that was not needed; a step down, or two up, is not
      acceptable.
    - ``under_triage``: the advice is below the expected level.
    - ``listed_miss``: the vignette carries an ``advice_miss`` note (a known advice miss,
      with its reason: listed, not hidden).
    """
    rows = []
    for v in load_vignettes():
        r = infer(v["evidence"], network=network)
        ranking = list(r.causes.index)
        ranks = [ranking.index(c) + 1 for c in v["expected"]]
        expected, advised = TRIAGE_LEVELS.index(v["triage"]), TRIAGE_LEVELS.index(r.advice)
        rows.append({
            "id": v["id"],
            "expected": ";".join(v["expected"]),
            "ranks": ";".join(map(str, ranks)),
            "top1": ranks[0] == 1,
            "top3": max(ranks) <= 3,
            "model_top3": ";".join(ranking[:3]),
            "triage": v["triage"],
            "advice": r.advice,
            "urgency": r.urgency,
            "exact": advised == expected,
            "acceptable": expected <= advised <= expected + 1,
            "under_triage": advised < expected,
            "listed_miss": "advice_miss" in v,
        })
    return pd.DataFrame(rows)
