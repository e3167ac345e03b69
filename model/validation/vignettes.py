"""The bundled clinical vignettes (model/data/vignettes.toml) and the textbook set
(model/data/textbook.toml), and how the model scores on them."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from importlib import resources
from pathlib import Path

import pandas as pd

from ..api import infer
from ..network.evidence import encode
from ..network.build import Network, load_network
from ..network.vocabulary import CAUSES, TRIAGE_LEVELS


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
    the vignette's expected level (its `triage`: the clinical level by the rule table of docs/model.md).

    Columns on the advice:

    - ``exact``: the advice is the expected level.
    - ``acceptable``: the advice is the expected level or one level more cautious
      (self_care advised routine, routine advised soon, soon advised emergency). One
      step up costs a visit that was not needed; a step down, or two up, is not
      acceptable.
    - ``under_triage``: the advice is below the expected level.
    - ``listed_miss``: the vignette carries an ``advice_miss`` note (a known advice miss,
      with its reason: listed, not hidden).
    - ``listed_rank_miss``: the vignette carries a ``rank_miss`` note (an expected cause
      known to fall out of the top three, with its reason).
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
            "listed_rank_miss": "rank_miss" in v,
        })
    return pd.DataFrame(rows)


# --- the textbook set (issue 23, item 4) --------------------------------------------

TEXTBOOK = "textbook.toml"
PICTURES = ("full", "partial")
# a partial picture is what a person types: this many evidence items (location is one)
PARTIAL_ITEMS = (5, 7)
# the reference texts a presentation may cite beside the bibliography's keys
SEEDS = ("000", "001", "002", "003", "004")
# each cause's presentations: at least this many, a full and a partial among them
MIN_PER_CAUSE = 2
_REQUIRED = ("id", "cause", "picture", "sources", "description", "evidence", "expected", "triage")
_FIELDS = frozenset(_REQUIRED + ("note",))
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def load_textbook(path: str | Path | None = None, *, network: Network | None = None) -> list[dict]:
    """The textbook set: each cause's full and partial picture from the sources, with its
    expected cause and clinical level (model/data/textbook.toml; its header says what
    each field means). `path` reads another file of the same form.

    Validated, each error a ValueError naming the file and the entry: unknown or missing
    fields, duplicate ids, unknown causes and levels, source keys that are neither in the
    network's bibliography (priors/bibliography.toml) nor a seed id, picture values, a
    partial picture outside 5-7 evidence items, evidence the vocabulary rejects or that
    is impossible (no region, a weakness pattern without weakness, stopping drinking
    without heavy drinking), `expected` not led by `cause`, and a cause covered by fewer
    than two presentations or missing a full or a partial picture."""
    if path is None:
        name = TEXTBOOK
        with resources.files("model").joinpath(f"data/{TEXTBOOK}").open("rb") as f:
            raw = tomllib.load(f)
    else:
        name = Path(path).name
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    bibliography = (network if network is not None else load_network()).priors.bibliography
    entries = raw.get("presentation")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{name}: no [[presentation]] entries")
    seen: set[str] = set()
    for k, p in enumerate(entries):
        _check_presentation(name, k, p, bibliography, seen)
    covered = {c: Counter() for c in CAUSES}
    for p in entries:
        if p["expected"]:
            covered[p["cause"]][p["picture"]] += 1
    for c, pictures in covered.items():
        if sum(pictures.values()) < MIN_PER_CAUSE or any(not pictures[x] for x in PICTURES):
            have = ", ".join(f"{pictures[x]} {x}" for x in PICTURES)
            raise ValueError(
                f"{name}: cause {c!r} has {have}: each cause needs at least {MIN_PER_CAUSE} "
                "presentations written for it, a full and a partial picture among them"
            )
    return entries


def _check_presentation(name: str, k: int, p, bibliography, seen: set[str]) -> None:
    entry = f"[{p.get('id', f'presentation {k + 1}')}]" if isinstance(p, dict) else f"[presentation {k + 1}]"

    def bad(message: str) -> ValueError:
        return ValueError(f"{name}: {entry}: {message}")

    if not isinstance(p, dict):
        raise bad("not a table")
    unknown = sorted(set(p) - _FIELDS)
    if unknown:
        raise bad(f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(_FIELDS))}")
    missing = [f for f in _REQUIRED if f not in p]
    if missing:
        raise bad(f"missing field {missing[0]!r}")
    if not isinstance(p["id"], str) or not _ID.match(p["id"]):
        raise bad(f"id {p['id']!r} is not a snake_case name")
    if p["id"] in seen:
        raise bad("duplicate id")
    seen.add(p["id"])
    if p["cause"] not in CAUSES:
        raise bad(f"unknown cause {p['cause']!r}")
    if p["picture"] not in PICTURES:
        raise bad(f"picture {p['picture']!r} is not one of {', '.join(PICTURES)}")
    if not isinstance(p["description"], str) or not p["description"].strip():
        raise bad("empty description")
    if "note" in p and not isinstance(p["note"], str):
        raise bad("note is not text")
    sources = p["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise bad(f"sources must be a non-empty list of source keys, got {sources!r}")
    for s in sources:
        if s not in bibliography and s not in SEEDS:
            raise bad(f"source {s!r} is neither in the bibliography (priors/bibliography.toml) nor a seed id ({', '.join(SEEDS)})")
    expected = p["expected"]
    if not isinstance(expected, list):
        raise bad(f"expected must be a list of causes, got {expected!r}")
    for c in expected:
        if c not in CAUSES:
            raise bad(f"unknown cause {c!r} in expected")
    if len(set(expected)) != len(expected):
        raise bad("a cause listed twice in expected")
    if expected and expected[0] != p["cause"]:
        raise bad(f"expected must start with the cause it is written for ({p['cause']!r}), not {expected[0]!r}")
    if p["triage"] not in TRIAGE_LEVELS:
        raise bad(f"unknown triage level {p['triage']!r}")
    _check_evidence(p, bad)


def _check_evidence(p: dict, bad) -> None:
    e = p["evidence"]
    if not isinstance(e, dict) or not e:
        raise bad("evidence must be a non-empty table")
    if not e.get("location"):
        raise bad("evidence has no location: every presentation twitches somewhere")
    lo, hi = PARTIAL_ITEMS
    if p["picture"] == "partial" and not lo <= len(e) <= hi:
        raise bad(f"a partial picture has {lo}-{hi} evidence items (location is one), not {len(e)}")
    if e.get("weakness_where") and e.get("weakness") not in ("mild", "marked"):
        raise bad("weakness_where names a pattern, so weakness must be given as mild or marked")
    if e.get("alcohol_stopped") is True and e.get("alcohol_intake") != "heavy":
        raise bad("alcohol_stopped is true, so alcohol_intake must be given as heavy")
    try:
        encode(e)
    except ValueError as err:
        raise bad(f"evidence: {err}") from None


def score_textbook(network: Network | None = None) -> pd.DataFrame:
    """One row a presentation of the textbook set: how `infer()` ranks and triages it.

    Columns: ``id``, ``cause``, ``picture``, ``expected`` (";"-joined), ``first`` (the
    model's first cause) and ``p_first``, ``top1`` (the first cause is in ``expected``),
    ``top3`` (expected[0] in the model's top three), ``rank`` and ``p_expected`` (of
    expected[0]), ``model_top3``, ``advice`` (the advised level), ``triage`` (the true
    level, as the file gives it), ``exact``, ``under_triage``, ``urgency`` and
    ``reason`` (the miss in words: what ranked first, where the expected cause came,
    the advice against the true level; empty on a hit). A presentation with
    ``expected = []`` is scored on its level only: its ``top1``, ``top3`` and ``rank``
    are missing (pandas' NA), and means over those columns leave it out."""
    net = network if network is not None else load_network()
    rows = []
    for p in load_textbook(network=net):
        r = infer(p["evidence"], network=net)
        ranking = list(r.causes.index)
        expected = p["expected"]
        first = ranking[0]
        advised, true = TRIAGE_LEVELS.index(r.advice), TRIAGE_LEVELS.index(p["triage"])
        rank = ranking.index(expected[0]) + 1 if expected else None
        reasons = []
        if expected and first not in expected:
            reasons.append(f"{first} first ({r.causes[first]:.0%}); {expected[0]} ranked {rank} ({r.causes[expected[0]]:.0%})")
        if advised != true:
            reasons.append(f"advised {r.advice}, true {p['triage']} (urgency {r.urgency:.0%})")
        rows.append({
            "id": p["id"],
            "cause": p["cause"],
            "picture": p["picture"],
            "expected": ";".join(expected),
            "first": first,
            "p_first": float(r.causes[first]),
            "top1": (first in expected) if expected else None,
            "top3": (rank <= 3) if expected else None,
            "rank": rank,
            "p_expected": float(r.causes[expected[0]]) if expected else float("nan"),
            "model_top3": ";".join(ranking[:3]),
            "advice": r.advice,
            "triage": p["triage"],
            "exact": advised == true,
            "under_triage": advised < true,
            "urgency": float(r.urgency),
            "reason": "; ".join(reasons),
        })
    table = pd.DataFrame(rows)
    for col in ("top1", "top3"):
        table[col] = table[col].astype("boolean")
    table["rank"] = table["rank"].astype("Int64")
    return table
