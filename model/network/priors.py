"""Read and validate the priors folder (TOML) into plain, checked tables.

Every number of the model lives in priors/; this module checks it and reports a bad
entry with its file and entry name. It builds no arrays: `model.network.build` compiles
the checked tables into the network object.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from . import vocabulary as V
_SOURCE = re.compile(r"^(estimate|S\d+[a-z]?(\s*,\s*S\d+[a-z]?)*)$")
# One bibliography key (an entry's name in priors/bibliography.toml), and a key cited in free text.
_SOURCE_KEY = re.compile(r"^S\d+[a-z]?$")
_CITED = re.compile(r"\bS\d+[a-z]?\b")
ESTIMATE = "estimate"
# Sums of probabilities are checked to this tolerance (decimal data in TOML).
SUM_TOLERANCE = 1e-9
BIBLIOGRAPHY = "bibliography.toml"
# The site patterns (docs/model.md): where a twitching cause twitches, read when the folder holds it
SITES = "sites.toml"
# The files every priors folder holds; the model's numbers are in the first four.
FILES = ("exposures.toml", "causes.toml", "findings.toml", "triage.toml", SITES, BIBLIOGRAPHY)


class PriorsError(ValueError):
    """A priors file is missing, unreadable or holds a bad entry."""


def _read_only(self, *args, **kwargs):
    raise TypeError(f"{type(self).__name__} is read-only: priors do not change once loaded")


class FrozenDict(dict):
    """A dict that cannot change (still a dict for isinstance checks, and picklable)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self):
        return (type(self), (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


class FrozenList(list):
    """A list that cannot change (compares equal to the same list)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = extend = insert = pop = remove = _read_only
    clear = reverse = sort = _read_only

    def __reduce__(self):
        return (type(self), (list(self),))

    def __repr__(self) -> str:
        return f"FrozenList({list.__repr__(self)})"


def freeze(x: Any) -> Any:
    """A deep read-only copy of TOML-like data: dicts and lists become FrozenDict and FrozenList."""
    if isinstance(x, dict):
        return FrozenDict({k: freeze(v) for k, v in x.items()})
    if isinstance(x, list):
        return FrozenList(freeze(v) for v in x)
    return x


@dataclass(frozen=True)
class Number:
    """A point value with its plausible range and source."""

    value: float
    low: float
    high: float
    source: str
    note: str = ""


@dataclass(frozen=True)
class Distribution:
    """Per-state probabilities (an ordinal link or leak), with per-state ranges."""

    values: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    source: str
    note: str = ""


@dataclass(frozen=True)
class Exposure:
    name: str
    states: tuple[str, ...]
    distribution: tuple[Number, ...]


@dataclass(frozen=True)
class Cause:
    name: str
    group: str
    triage: str
    presentation_share: Number
    twitch: Number
    prior: Number
    # exposure name -> {state: relative risk}; unnamed states have relative risk 1
    relative_risk: dict[str, dict[str, Number]]


@dataclass(frozen=True)
class Finding:
    name: str
    states: tuple[str, ...]
    site: bool
    leak: Distribution
    links: dict[str, Distribution]  # cause -> P(contribution = state | cause present)
    # the finding whose pattern this node is (`weakness` for weak_*; docs/model.md), or None.
    # A pattern node's link is P(pattern | cause, the cause's own contribution to that
    # finding is above its first state); its leak is P(pattern | the leak's contribution
    # is above it).
    pattern_of: str | None = None
    # no cause among the model's links it (docs/model.md: sudden_one_sided,
    # fever_or_confusion): the finding has a leak only
    leak_only: bool = False


@dataclass(frozen=True)
class Site:
    """Where a cause twitches, given its switch on (priors/sites.toml, docs/model.md): the
    focal pattern (one region, by `focal` shares summing to 1) with probability
    1 - `spread`, else the spread pattern (each region independently with its
    `spread_sites` probability). Regions left out have share or probability 0."""

    name: str
    spread: Number
    focal: dict[str, Number]
    spread_sites: dict[str, Number]
    target: dict[str, float]  # the figures the patterns were fitted to (regions, two_or_more)


@dataclass(frozen=True)
class Source:
    """One bibliography entry (priors/bibliography.toml): what a source key stands for."""

    key: str
    title: str
    address: str
    supports: str  # what the model takes from it
    mirror: bool = False  # the address is a mirror or secondary summary
    also: tuple[str, ...] = ()  # further addresses under the same key
    note: str = ""

    def __str__(self) -> str:
        return f"[{self.key}] {self.title}: {self.address}"


@dataclass(frozen=True)
class Priors:
    folder: Path
    exposures: dict[str, Exposure]
    causes: dict[str, Cause]
    findings: dict[str, Finding]
    triage: dict[str, Any]
    # source key -> its entry; every key used in the files above is here
    bibliography: Mapping[str, Source] = field(default_factory=lambda: FrozenDict())
    # cause -> its site pattern (sites.toml)
    sites: Mapping[str, Site] = field(default_factory=lambda: FrozenDict())

    def cite(self, source: str) -> tuple[Source, ...]:
        """The bibliography entries behind a `source` field ("S2, S19"); none for "estimate".

        >>> priors = load_priors()
        >>> [s.key for s in priors.cite("S37b, S37")]
        ['S37b', 'S37']
        >>> priors.cite("estimate")
        ()
        """
        keys = [k.strip() for k in source.split(",")]
        unknown = [k for k in keys if k != ESTIMATE and k not in self.bibliography]
        if unknown:
            raise KeyError(f"source key {unknown[0]!r} is not in {BIBLIOGRAPHY}")
        return tuple(self.bibliography[k] for k in keys if k != ESTIMATE)


class _Where:
    """Builds error messages that name the file and the entry."""

    def __init__(self, file: str, entry: str):
        self.file, self.entry = file, entry

    def at(self, field: str) -> "_Where":
        return _Where(self.file, f"{self.entry}.{field}" if self.entry else field)

    def error(self, message: str) -> PriorsError:
        where = f" [{self.entry}]:" if self.entry else ""
        return PriorsError(f"{self.file}:{where} {message}")


def _table(where: _Where, raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise where.error(f"expected a table, got {type(raw).__name__} {raw!r}")
    return raw


def _keys(where: _Where, raw: dict, required: set[str], optional: set[str] = frozenset()) -> None:
    missing = sorted(required - raw.keys())
    if missing:
        raise where.error(f"missing {', '.join(missing)}")
    unknown = sorted(raw.keys() - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise where.error(f"unknown field {', '.join(unknown)}; allowed: {allowed}")


def _real(where: _Where, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise where.error(f"expected a finite number, got {x!r}")
    try:
        finite = math.isfinite(x)
    except OverflowError:  # an integer past float's range
        finite = False
    if not finite:
        raise where.error(f"expected a finite number, got {x!r}")
    return float(x)


def _source(where: _Where, raw: dict) -> tuple[str, str]:
    source = raw.get("source")
    if not isinstance(source, str) or not _SOURCE.match(source.strip()):
        raise where.error(
            f"source {source!r} is not 'estimate' or evidence.md keys such as 'S2' or 'S37b, S37'"
        )
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise where.error(f"note must be text, got {note!r}")
    return source.strip(), note


def _number(where: _Where, raw: Any, *, probability: bool = True) -> Number:
    raw = _table(where, raw)
    _keys(where, raw, {"value", "source"}, {"low", "high", "note"})
    value = _real(where.at("value"), raw["value"])
    if "low" in raw or "high" in raw:
        if not ("low" in raw and "high" in raw):
            raise where.error("give both low and high, or neither")
        low, high = _real(where.at("low"), raw["low"]), _real(where.at("high"), raw["high"])
    else:  # docs/model.md: an estimate without a range gets [p/2, min(1, 2p)]
        low, high = value / 2, (min(1.0, 2 * value) if probability else 2 * value)
    upper = 1.0 if probability else math.inf
    for field, x in (("value", value), ("low", low), ("high", high)):
        if not 0.0 <= x <= upper:
            kind = "[0, 1]" if probability else "[0, inf)"
            raise where.error(f"{field} {x!r} is outside {kind}")
    if not low <= value <= high:
        raise where.error(f"range is not ordered: need low <= value <= high, got {low!r}, {value!r}, {high!r}")
    return Number(value, low, high, *_source(where, raw))


def _distribution(where: _Where, raw: Any, n_states: int) -> Distribution:
    raw = _table(where, raw)
    _keys(where, raw, {"probabilities", "source"}, {"low", "high", "note"})

    def vector(field: str) -> tuple[float, ...]:
        xs = raw[field]
        if not isinstance(xs, list) or len(xs) != n_states:
            raise where.error(f"{field} must be a list of {n_states} numbers (one per state), got {xs!r}")
        out = tuple(_real(where.at(field), x) for x in xs)
        for x in out:
            if not 0.0 <= x <= 1.0:
                raise where.error(f"{field} {x!r} is outside [0, 1]")
        return out

    values = vector("probabilities")
    if abs(sum(values) - 1.0) > SUM_TOLERANCE:
        raise where.error(f"probabilities sum to {sum(values)!r}, not 1")
    if "low" in raw or "high" in raw:
        if not ("low" in raw and "high" in raw):
            raise where.error("give both low and high, or neither")
        low, high = vector("low"), vector("high")
    else:
        low = tuple(v / 2 for v in values)
        high = tuple(min(1.0, 2 * v) for v in values)
    for lo, v, hi in zip(low, values, high):
        if not lo <= v <= hi:
            raise where.error(f"range is not ordered: need low <= value <= high, got {lo!r}, {v!r}, {hi!r}")
    return Distribution(values, low, high, *_source(where, raw))


def _binary_as_distribution(number: Number) -> Distribution:
    return Distribution(
        (1.0 - number.value, number.value),
        (1.0 - number.high, number.low),
        (1.0 - number.low, number.high),
        number.source,
        number.note,
    )


def _choice(where: _Where, x: Any, allowed: tuple[str, ...], what: str) -> str:
    if x not in allowed:
        raise where.error(f"{what} {x!r} is not one of {', '.join(allowed)}")
    return x


def _names(where: _Where, have: set[str], expected: tuple[str, ...], what: str) -> None:
    unknown = sorted(have - set(expected))
    if unknown:
        raise where.error(f"unknown {what} {', '.join(unknown)}; allowed: {', '.join(expected)}")
    missing = [n for n in expected if n not in have]
    if missing:
        raise where.error(f"missing {what} {', '.join(missing)}")


def _states(where: _Where, raw: dict, expected: tuple[str, ...]) -> tuple[str, ...]:
    states = raw.get("states")
    if not isinstance(states, list) or tuple(states) != expected:
        raise where.at("states").error(
            f"states must be {list(expected)} in this order, got {states!r}"
        )
    return expected


_LINE = re.compile(r"at line (\d+)")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"' ]+?)\s*(\]\]?)?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\-\"' ]+?)\s*=")


def _entry_at(text: str, line: int) -> str:
    """The entry a TOML line belongs to: the table header above it, and the line's key."""
    lines = text.splitlines()
    header = ""
    for k in range(min(line, len(lines)) - 1, -1, -1):
        m = _HEADER.match(lines[k])
        if m:
            header = m.group(1).replace('"', "").replace("'", "").replace(" ", "")
            break
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if _HEADER.match(here):
        return header
    m = _KEY.match(here)
    key = m.group(1).replace('"', "").replace("'", "").replace(" ", "") if m else ""
    return ".".join(p for p in (header, key) if p)


def _read(folder: Path, file: str) -> dict:
    path = folder / file
    if not path.is_file():
        raise PriorsError(f"{file}: missing from priors folder {folder}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PriorsError(f"{file}: cannot be read: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PriorsError(f"{file}: not UTF-8 text (byte {e.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = _LINE.search(str(e))
        entry = _entry_at(text, int(m.group(1))) if m else ""
        where = f" [{entry}]:" if entry else ""
        raise PriorsError(f"{file}:{where} not valid TOML: {e}") from None


def _exposures(raw: dict) -> dict[str, Exposure]:
    file = "exposures.toml"
    _names(_Where(file, ""), set(raw), V.EXPOSURES, "exposure")
    out = {}
    for name in V.EXPOSURES:
        where = _Where(file, name)
        table = _table(where, raw[name])
        _keys(where, table, {"states", "distribution"}, {"note", "question_cost"})
        states = _states(where, table, V.node_states(name))
        dist_where = where.at("distribution")
        dist = _table(dist_where, table["distribution"])
        _names(dist_where, set(dist), states, "state")
        numbers = tuple(_number(dist_where.at(s), dist[s]) for s in states)
        total = sum(n.value for n in numbers)
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise dist_where.error(f"values sum to {total!r}, not 1")
        out[name] = Exposure(name, states, numbers)
    return out


def _causes(raw: dict, exposures: dict[str, Exposure]) -> dict[str, Cause]:
    file = "causes.toml"
    _names(_Where(file, ""), set(raw), V.CAUSES, "cause")
    out = {}
    for name in V.CAUSES:
        where = _Where(file, name)
        table = _table(where, raw[name])
        _keys(where, table, {"group", "triage", "presentation_share", "twitch", "prior"}, {"relative_risk", "note"})
        group = _choice(where.at("group"), table["group"], V.GROUPS, "group")
        triage = _choice(where.at("triage"), table["triage"], V.TRIAGE_LEVELS, "triage level")
        rr_where = where.at("relative_risk")
        rr_raw = _table(rr_where, table.get("relative_risk", {}))
        rr = {}
        for exposure, by_state in rr_raw.items():
            if exposure not in exposures:
                raise rr_where.error(
                    f"unknown exposure {exposure!r}; allowed: {', '.join(V.EXPOSURES)}"
                )
            ex_where = rr_where.at(exposure)
            by_state = _table(ex_where, by_state)
            for state in by_state:
                _choice(ex_where, state, exposures[exposure].states, "state")
            if exposure not in V.FREE_EXPOSURES and name not in V.EXPOSURE_EDGES[exposure]:
                allowed = ", ".join(V.EXPOSURE_EDGES[exposure])
                raise rr_where.error(
                    f"{exposure} -> {name} is not an edge of the model (docs/model.md); {exposure} feeds {allowed}"
                )
            rr[exposure] = {
                s: _number(ex_where.at(s), by_state[s], probability=False) for s in by_state
            }
        out[name] = Cause(
            name,
            group,
            triage,
            _number(where.at("presentation_share"), table["presentation_share"]),
            _number(where.at("twitch"), table["twitch"]),
            _number(where.at("prior"), table["prior"]),
            freeze(rr),
        )
    for exposure, children in V.EXPOSURE_EDGES.items():
        for child in children:
            if exposure not in out[child].relative_risk:
                raise _Where(file, f"{child}.relative_risk").error(
                    f"missing the edge {exposure} -> {child} (docs/model.md)"
                )
    return out


def _findings(raw: dict) -> dict[str, Finding]:
    file = "findings.toml"
    _names(_Where(file, ""), set(raw), V.FINDINGS, "finding")
    out = {}
    for name in V.FINDINGS:
        where = _Where(file, name)
        table = _table(where, raw[name])
        site = table.get("site", False)
        # a twitch region's links live in sites.toml (its site patterns)
        # (a region's `links` is let through here so that its own error below can say where they went)
        _keys(where, table, {"states", "leak"} | (set() if site else {"links"}),
              {"site", "note", "question_cost", "pattern_of", "leak_only"} | ({"links"} if site else set()))
        states = _states(where, table, V.node_states(name))
        if site is not (name in V.REGION_NODES):
            raise where.at("site").error(
                f"site must be {name in V.REGION_NODES} for {name} (only twitch regions are sites)"
            )
        ordinal = name in V.ORDINAL_FINDINGS

        def link(w: _Where, x: Any) -> Distribution:
            if ordinal:
                return _distribution(w, x, len(states))
            return _binary_as_distribution(_number(w, x))

        links_where = where.at("links")
        if site:
            if "links" in table:
                raise links_where.error(f"a twitch region's links are its causes' site patterns: give them in {SITES}")
            out[name] = Finding(name, states, site, link(where.at("leak"), table["leak"]), freeze({}))
            continue
        links_raw = _table(links_where, table["links"])
        unknown = sorted(set(links_raw) - set(V.CAUSES))
        if unknown:
            raise links_where.error(f"unknown cause {', '.join(unknown)}; allowed: {', '.join(V.CAUSES)}")
        leak_only = table.get("leak_only", False)
        if not isinstance(leak_only, bool):
            raise where.at("leak_only").error(f"expected true or false, got {leak_only!r}")
        if leak_only and links_raw:
            raise links_where.error("a finding marked leak_only = true has no cause links; give links = {} or drop leak_only")
        if not links_raw and not leak_only:
            raise links_where.error("a finding needs at least one cause link (or leak_only = true: no cause links it)")
        pattern_of = _pattern_of(where, name, table, ordinal)
        if pattern_of is not None:
            # a pattern of a finding reads a cause's own contribution to it: a cause that
            # never contributes to the finding cannot show one of its patterns
            parent = out[pattern_of].links  # V.FINDINGS lists a finding before its patterns
            stray = [c for c in V.CAUSES if c in links_raw and c not in parent]
            if stray:
                raise links_where.error(
                    f"{stray[0]} has no {pattern_of} link, so it has no {pattern_of} pattern; "
                    f"link only causes of [{pattern_of}.links]"
                )
        links = {c: link(links_where.at(c), links_raw[c]) for c in V.CAUSES if c in links_raw}
        out[name] = Finding(
            name, states, site, link(where.at("leak"), table["leak"]), freeze(links), pattern_of, leak_only
        )
    return out


def _pattern_of(where: _Where, name: str, table: dict, ordinal: bool) -> str | None:
    """The `pattern_of` flag (`weakness_where`, docs/model.md): only on a binary finding that is
    a pattern node of the finding it names (`vocabulary.PATTERN_OF`), and required there."""
    expected = next((f for f, nodes in V.PATTERN_OF.items() if name in nodes), None)
    if "pattern_of" not in table:
        if expected is not None:
            raise where.error(f"missing pattern_of = {expected!r}: {name} is a pattern of {expected}")
        return None
    flag = table["pattern_of"]
    if ordinal:
        raise where.at("pattern_of").error("only a binary finding can be a pattern of another")
    if flag not in V.PATTERN_OF:
        raise where.at("pattern_of").error(f"{flag!r} is not one of {', '.join(map(repr, V.PATTERN_OF))}")
    if name not in V.PATTERN_OF[flag]:
        raise where.at("pattern_of").error(
            f"{name} is not a pattern of {flag}; its patterns are {', '.join(V.PATTERN_OF[flag])}"
        )
    return flag


def _sites(raw: dict) -> dict[str, Site]:
    """priors/sites.toml: per cause, `spread`, the `focal` shares (summing to 1) and the
    `spread_sites` probabilities over the six regions, and the `target` figures."""
    file = SITES
    _names(_Where(file, ""), set(raw), V.CAUSES, "cause")
    out = {}
    for name in V.CAUSES:
        where = _Where(file, name)
        table = _table(where, raw[name])
        _keys(where, table, {"spread", "focal"}, {"spread_sites", "target", "note"})
        spread = _number(where.at("spread"), table["spread"])

        def regions(field: str) -> dict[str, Number]:
            w = where.at(field)
            by_region = _table(w, table.get(field, {}))
            unknown = sorted(set(by_region) - set(V.REGIONS))
            if unknown:
                raise w.error(f"unknown region {', '.join(unknown)}; allowed: {', '.join(V.REGIONS)}")
            return {r: _number(w.at(r), by_region[r]) for r in V.REGIONS if r in by_region}

        focal, spread_sites = regions("focal"), regions("spread_sites")
        total = sum(n.value for n in focal.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise where.at("focal").error(f"shares sum to {total!r}, not 1")
        target_where = where.at("target")
        target_raw = _table(target_where, table.get("target", {}))
        allowed = set(V.REGIONS) | {"two_or_more", "source", "note"}
        unknown = sorted(set(target_raw) - allowed)
        if unknown:
            raise target_where.error(f"unknown field {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        if target_raw:
            _source(target_where, target_raw)
        target = {k: _real(target_where.at(k), v) for k, v in target_raw.items() if k not in ("source", "note")}
        out[name] = Site(name, spread, freeze(focal), freeze(spread_sites), freeze(target))
    return out


def _text(where: _Where, x: Any) -> str:
    if not isinstance(x, str) or not x.strip():
        raise where.error(f"expected non-empty text, got {x!r}")
    return x.strip()


def _address(where: _Where, x: Any) -> str:
    if not isinstance(x, str) or not re.match(r"^https?://\S+$", x):
        raise where.error(f"expected a web address (http:// or https://, no spaces), got {x!r}")
    return x


def _bibliography(raw: dict) -> dict[str, Source]:
    """priors/bibliography.toml: one table a source key, with its title, address and what it supports."""
    file = BIBLIOGRAPHY
    if not raw:
        raise _Where(file, "").error("holds no source")
    out = {}
    for key, table in raw.items():
        where = _Where(file, key)
        if not _SOURCE_KEY.match(key):
            raise where.error(f"{key!r} is not a source key such as 'S2' or 'S37b'")
        table = _table(where, table)
        _keys(where, table, {"title", "address", "supports"}, {"mirror", "also", "note"})
        mirror = table.get("mirror", False)
        if not isinstance(mirror, bool):
            raise where.at("mirror").error(f"expected true or false, got {mirror!r}")
        also = table.get("also", [])
        if not isinstance(also, list):
            raise where.at("also").error(f"expected a list of web addresses, got {also!r}")
        note = table.get("note", "")
        if not isinstance(note, str):
            raise where.at("note").error(f"note must be text, got {note!r}")
        out[key] = Source(
            key,
            _text(where.at("title"), table["title"]),
            _address(where.at("address"), table["address"]),
            _text(where.at("supports"), table["supports"]),
            mirror,
            tuple(_address(where.at("also"), a) for a in also),
            note,
        )
    return out


def _check_citations(file: str, raw: dict, bibliography: Mapping[str, Source]) -> None:
    """Every source key a file uses resolves in the bibliography (docs/sources.md): the keys of
    each `source` field, and the keys a `note` (or `*_note`) cites in its text."""

    def visit(entry: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and k == "source":
                    for key in (part.strip() for part in v.split(",")):
                        if key != ESTIMATE and key not in bibliography:
                            raise _Where(file, entry).error(
                                f"source key {key!r} is not in {BIBLIOGRAPHY}; add it there or use 'estimate'"
                            )
                elif isinstance(v, str) and (k == "note" or k.endswith("_note")):
                    for key in _CITED.findall(v):
                        if key not in bibliography:
                            raise _Where(file, entry).error(f"{k} cites {key!r}, which {BIBLIOGRAPHY} does not hold")
                else:
                    visit(f"{entry}.{k}" if entry else k, v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                # array tables are named as their checker names them: [rule 'wasting']
                name = v.get("id") if isinstance(v, dict) else None
                visit(f"{entry} {name!r}" if isinstance(name, str) else f"{entry}[{i}]", v)

    visit("", raw)


def load_priors(folder: str | Path | None = None) -> Priors:
    """Read and validate a priors folder (the bundled one by default)."""
    folder = Path(folder) if folder is not None else default_priors_dir()
    if not folder.is_dir():
        raise PriorsError(f"priors folder {folder} does not exist")
    raw = {f: _read(folder, f) for f in FILES}
    exposures = _exposures(raw["exposures.toml"])
    causes = _causes(raw["causes.toml"], exposures)
    findings = _findings(raw["findings.toml"])
    bibliography = _bibliography(raw[BIBLIOGRAPHY])
    sites = _sites(raw[SITES])
    # every other TOML file of the folder too (validation.toml, any file added later):
    # a source key anywhere in priors/ resolves in the bibliography
    others = sorted(p.name for p in folder.glob("*.toml") if p.name not in FILES)
    raw.update({f: _read(folder, f) for f in others})
    for file in [*FILES, *others]:
        if file != BIBLIOGRAPHY:
            _check_citations(file, raw[file], bibliography)
    # read-only all the way down: a loaded network cannot be changed through its priors
    return Priors(
        folder,
        freeze(exposures),
        freeze(causes),
        freeze(findings),
        freeze(raw["triage.toml"]),
        FrozenDict(bibliography),
        FrozenDict(sites),
    )


def default_priors_dir() -> Path:
    """The bundled priors: inside the wheel, or the repository's top-level priors/."""
    package = Path(__file__).resolve().parent.parent  # model/, where a wheel puts model/_priors
    bundled = package / "_priors"
    return bundled if bundled.is_dir() else package.parent / "priors"
