"""The benchmark's case sets, seeded and drawn from the network by `model.validation.synthetic`.

Every set is a list of plain dicts (JSON-ready): node-level evidence (node -> state, as
`model.network.evidence.encode` gives it) or user-level evidence (key -> value, as a person
types it). The parent process builds them once, from the checkout it runs in, and every
side of a comparison answers the same ones.

- `mix`: `twitchdx validate`'s default case mix (its share of missing answers);
- `full`: every node observed; `unknown`: the same cases with every exposure left out;
- `few`: 5-7 items known (location and duration, then 3-5 other answers of a case
  sampled with nothing missing; everything else unknown);
- `multi`: what a person who twitches in several places types: the twitching regions
  (1-3, as many cases of each count), the duration and the case's own positive findings
  (1-4 of them; more are subsampled), nothing else;
- `positives`: exactly k positive findings (one region, k - 1 symptoms), for the growth
  of the time with k;
- `interviews`: a 5-7-items start and the person's full row, to answer the questions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FEW_ALWAYS = ("location", "duration")       # the few-items set always knows these
FEW_ITEMS = (5, 7)                          # items known in the few-items set
MULTI_REGIONS = (1, 2, 3)                   # regions twitching in the several-regions set
MULTI_POSITIVES = (1, 4)                    # positive findings besides the twitching
# Binary findings made positive for the growth of the time with k positives.
POSITIVE_FINDINGS = ("numbness", "cramps", "stiffness", "pain", "fatigue", "sweating", "tremor", "vision", "tics", "wasting")


def plain(value: Any) -> Any:
    """A value as JSON holds it (numpy scalars to Python)."""
    return value.item() if isinstance(value, np.generic) else value


def default_missing(net) -> float:
    """The share of missing answers of `twitchdx validate`'s default case mix."""
    from model.validation.settings import load_settings

    return load_settings(net).missing


def user_rows(net, n: int, rng: np.random.Generator, *, missing: float) -> list[dict[str, Any]]:
    """`n` sampled cases as user evidence (key -> value), the unknown keys left out."""
    from model.network.evidence import is_missing
    from model.synthetic import evidence_of, sample_cases

    frame = evidence_of(sample_cases(net, n, rng=rng, missing=missing))
    return [{k: plain(v) for k, v in row.items() if not is_missing(v)} for row in frame.to_dict(orient="records")]


def mix(net, n: int, seed: int, *, missing: float | None = None) -> list[dict[str, str]]:
    """`n` node-level evidence sets sampled given twitching, a `missing` share of the
    answers left out (default: `twitchdx validate`'s)."""
    from model.network.evidence import encode

    missing = default_missing(net) if missing is None else missing
    return [{str(k): str(v) for k, v in encode(row).items()}
            for row in user_rows(net, n, np.random.default_rng(seed), missing=missing)]


def full(net, n: int, seed: int) -> list[dict[str, str]]:
    """`n` node-level evidence sets with every node observed."""
    return mix(net, n, seed, missing=0.0)


def unknown(net, cases: list[dict[str, str]]) -> list[dict[str, str]]:
    """The cases with every exposure left out (findings as they were)."""
    return [{k: v for k, v in e.items() if k not in net.exposures} for e in cases]


def _valid(user: dict) -> bool:
    from model.network.evidence import encode

    try:
        encode(user)
    except ValueError:  # a combination `encode` refuses: draw another
        return False
    return True


def few_items(net, n: int, seed: int, *, items: tuple[int, int] = FEW_ITEMS) -> list[dict[str, Any]]:
    """`n` user evidence sets with items[0]..items[1] items known: FEW_ALWAYS, then others
    drawn at random from a case sampled with nothing missing."""
    lo, hi = items
    if not len(FEW_ALWAYS) <= lo <= hi:
        raise ValueError(f"items: {items} must satisfy {len(FEW_ALWAYS)} <= low <= high")
    rng = np.random.default_rng([seed, 57])
    out: list[dict] = []
    draw = 0
    while len(out) < n:
        for row in user_rows(net, n, np.random.default_rng([seed, 5, draw]), missing=0.0):
            others = [k for k in row if k not in FEW_ALWAYS]
            extra = int(rng.integers(lo - len(FEW_ALWAYS), hi - len(FEW_ALWAYS) + 1))
            keep = list(FEW_ALWAYS) + sorted(str(k) for k in rng.choice(others, size=extra, replace=False))
            user = {k: row[k] for k in keep if k in row}
            if _valid(user):
                out.append(user)
                if len(out) == n:
                    break
        draw += 1
    return out


def is_positive(net, key: str, value: Any) -> bool:
    """True when a finding item sets some node off its first state (absent, none,
    stable) and is not the location or the duration."""
    from model.network.evidence import item_states

    if key in FEW_ALWAYS:
        return False
    states = item_states(key, value)
    return any(node in net.findings and state != net.states[node][0] for node, state in states.items())


def regions_of(value: Any) -> list[str]:
    """The regions of a sampled `location` value ("arm;leg" or a list)."""
    if isinstance(value, str):
        return [r for r in value.split(";") if r]
    return list(value or [])


def multi(net, n: int, seed: int, *, regions: tuple[int, ...] = MULTI_REGIONS,
          positives: tuple[int, int] = MULTI_POSITIVES) -> list[dict[str, Any]]:
    """`n` user evidence sets of people twitching in 1-3 places (as many of each count,
    the remainder to the most regions): location, duration and 1-4 of the case's own
    positive findings (more are subsampled), from cases sampled with nothing missing."""
    lo, hi = positives
    if not 1 <= lo <= hi:
        raise ValueError(f"positives: {positives} must satisfy 1 <= low <= high")
    want = {k: n // len(regions) for k in regions}
    want[max(regions)] += n - sum(want.values())
    rng = np.random.default_rng([seed, 71])
    got: dict[int, list] = {k: [] for k in regions}
    draw = 0
    while any(len(got[k]) < want[k] for k in regions):
        if draw > 1000:
            raise RuntimeError(f"multi: {n} cases of {regions} regions not found in {draw} draws")
        for row in user_rows(net, max(n, 200), np.random.default_rng([seed, 7, draw]), missing=0.0):
            k = len(regions_of(row.get("location")))
            if k not in got or len(got[k]) >= want[k] or "duration" not in row:
                continue
            pos = [key for key, v in row.items() if is_positive(net, key, v)]
            if len(pos) < lo:
                continue
            if len(pos) > hi:
                pos = sorted(str(p) for p in rng.choice(pos, size=hi, replace=False))
            user = {"location": row["location"], "duration": row["duration"], **{p: row[p] for p in pos}}
            if _valid(user):
                got[k].append(user)
        draw += 1
    # interleave the counts, so any prefix of the set mixes them
    out = []
    for i in range(max(want.values())):
        out += [got[k][i] for k in regions if i < want[k]]
    return out


def nodes(users: list[dict[str, Any]]) -> list[dict[str, str]]:
    """User evidence sets as node-level evidence (`encode`)."""
    from model.network.evidence import encode

    return [{str(k): str(v) for k, v in encode(u).items()} for u in users]


def quick(net, n: int, seed: int, *, findings: int = 2) -> list[dict[str, str]]:
    """`n` node-level evidence sets the reference engines answer in well under a second:
    every exposure and the location observed, plus at most `findings` other findings as
    sampled; the rest unknown (observed findings are what makes their junction trees large)."""
    out = []
    rng = np.random.default_rng([seed, 1])
    others = [f for f in net.findings if f not in net.regions]
    for base in full(net, n, seed):
        keep = set(rng.choice(others, size=findings, replace=False).tolist()) if findings else set()
        out.append({k: s for k, s in base.items() if k in net.exposures or k in net.regions or k in keep})
    return out


def positives(net, k: int, n: int, seed: int) -> list[dict[str, str]]:
    """`n` node-level evidence sets with exactly `k` positive findings: one twitching
    region (random), then k - 1 of POSITIVE_FINDINGS present; the other regions and those
    findings absent; exposures as sampled (default missing share)."""
    if not 1 <= k <= len(POSITIVE_FINDINGS) + 1:
        raise ValueError(f"k: {k} is outside [1, {len(POSITIVE_FINDINGS) + 1}]")
    rng = np.random.default_rng([seed, k])
    out = []
    for base in mix(net, n, int(rng.integers(2**32))):
        ev = {e: s for e, s in base.items() if e in net.exposures}
        region = net.regions[int(rng.integers(len(net.regions)))]
        for r in net.regions:
            ev[r] = "present" if r == region else "absent"
        chosen = set(rng.choice(POSITIVE_FINDINGS, size=k - 1, replace=False).tolist())
        for f in POSITIVE_FINDINGS:
            ev[f] = "present" if f in chosen else "absent"
        out.append(ev)
    return out


def interviews(net, n: int, seed: int) -> list[dict[str, dict[str, Any]]]:
    """`n` people for the interview: `start` (5-7 items, as `few_items`) and `answers`
    (their full row, user keys), from cases sampled with nothing missing."""
    rng = np.random.default_rng([seed, 91])
    lo, hi = FEW_ITEMS
    out: list[dict] = []
    for row in user_rows(net, 4 * n + 10, np.random.default_rng([seed, 9]), missing=0.0):
        others = [k for k in row if k not in FEW_ALWAYS]
        extra = int(rng.integers(lo - len(FEW_ALWAYS), hi - len(FEW_ALWAYS) + 1))
        keep = list(FEW_ALWAYS) + sorted(str(k) for k in rng.choice(others, size=extra, replace=False))
        start = {k: row[k] for k in keep if k in row}
        if _valid(start):
            out.append({"start": start, "answers": row})
            if len(out) == n:
                break
    return out
