"""User evidence (the evidence keys and states of docs/model.md) -> node states, with errors a person can act on."""

from __future__ import annotations

import difflib
import math
import numbers
import reprlib
from collections.abc import Mapping
from typing import Any, Iterator

from . import vocabulary as V
DURATION_BANDS_DAYS = ((7, "under_1_week"), (14, "1_to_2_weeks"), (90, "2_weeks_to_3_months"), (math.inf, "over_3_months"))
AGE_BANDS_YEARS = ((40, "under_40"), (60, "40_to_60"), (120, "over_60"))
AGE_RANGE_YEARS = (16, 120)

# difflib similarity a near-miss needs before we suggest it ("eyelids" -> "eyelid")
SUGGESTION_CUTOFF = 0.6

USER_KEYS = (
    ("location",)
    + tuple(V.ORDINAL_FINDINGS)
    + ("weakness_where",)
    + V.BINARY_FINDINGS
    + tuple(k for k in V.CATEGORICAL_EXPOSURES)
    + V.BINARY_EXPOSURES
    + ("medications",)
)
NODE_KEYS = V.REGION_NODES + V.MEDICATION_NODES + V.WEAKNESS_WHERE_NODES
# the set items (a list or a ';'-separated string): location, medications, weakness_where
LIST_KEYS = ("location", "medications", "weakness_where")
ALL_KEYS = USER_KEYS + NODE_KEYS
# the same keys as a set: `encode` asks "is this an evidence key?" once an item
_ALL_KEYS = frozenset(ALL_KEYS)
# The label columns of a sampled case set (`model.validation.synthetic.sample_cases`): what the
# sampler knows of each case, not evidence. A batch sets them aside (issue 17).
LABEL_COLUMNS = ("true_level", "primary", "responsible", "present")
LABEL_PREFIX = "present:"


def is_label_column(column: Any) -> bool:
    """True for a label column of a sampled case set (`LABEL_COLUMNS`, `present:<cause>`)."""
    return isinstance(column, str) and (column in LABEL_COLUMNS or column.startswith(LABEL_PREFIX))


def unknown_key_message(key: Any) -> str:
    """Why `key` is not an evidence key: a close match if there is one, and the allowed keys."""
    hint = close_match(key, ALL_KEYS)
    return (
        f"{_show(key)} is not an evidence key{hint}{'' if hint else ';'} allowed: {', '.join(USER_KEYS)}"
        f" (or a node name: {', '.join(NODE_KEYS)})"
    )


class Evidence(Mapping):
    """Observed nodes and their states (node name -> state name), read-only.

    any_of : groups of binary findings of which at least one is present (a yes to a group
        question such as the red-flag screen, the signs not said): each a sorted tuple of
        nodes none of which is observed. The engine conditions on each exactly, as on the
        premise: P(e) minus P(e, all of them absent) (`model.inference.analysis`).
    """

    def __init__(self, states: Mapping[str, str], any_of=()):
        self._states = dict(sorted(states.items()))
        self.any_of: tuple[tuple[str, ...], ...] = tuple(sorted({tuple(sorted(g)) for g in any_of}))

    def __getitem__(self, node: str) -> str:
        return self._states[node]

    def __iter__(self) -> Iterator[str]:
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)

    # The Mapping mixins would answer these through __iter__ and __getitem__, one Python
    # call an item; the engine and the reasons read every item of every case, so they
    # come straight from the (read-only) dict: the same answers, a C loop instead.
    def __contains__(self, node: object) -> bool:
        return node in self._states

    def get(self, node: str, default=None):
        return self._states.get(node, default)

    def keys(self):
        return self._states.keys()

    def items(self):
        return self._states.items()

    def values(self):
        return self._states.values()

    def __hash__(self) -> int:
        return hash((tuple(self._states.items()), self.any_of))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self) == dict(other) and self.any_of == getattr(other, "any_of", ())

    def __repr__(self) -> str:
        groups = [f"any of {'+'.join(g)}" for g in self.any_of]
        return "Evidence(" + ", ".join([f"{k}={v}" for k, v in self._states.items()] + groups) + ")"

    def nodes(self) -> dict[str, str]:
        """The observed nodes alone (node -> state), a new dict."""
        return dict(self._states)


def no_yes(node: str) -> tuple[str, str]:
    """A two-state item's "no" and "yes" states (its first and its last: absent and
    present, adequate and short sleep, low and high stress), as a group question asks it."""
    states = V.node_states(node)
    return states[0], states[-1]


def with_any_of(states: Mapping[str, str], any_of) -> Evidence:
    """Evidence of `states` with the groups of `any_of` (each: at least one of its nodes
    present), simplified: a group with a member observed present holds and is dropped,
    members observed absent leave it; a group whose every member is observed absent is a
    ValueError (`what` names it)."""
    kept = []
    for what, group in any_of:
        if any(states.get(n) == no_yes(n)[1] for n in group):
            continue
        open_ = tuple(n for n in group if n not in states)
        if not open_:
            raise ValueError(f"{what}: at least one of {', '.join(group)} is present, but every one is answered no")
        kept.append(open_)
    return Evidence(states, kept)


def says_yes(node: str, value: Any) -> bool:
    """Whether a person's answer `value` for a group's item `node` (as `infer` takes it:
    True, "short", "high") is its "yes" state."""
    return item_states(node, value)[node] == no_yes(node)[1]




def group_states(key: str, members: tuple[str, ...], value: Any) -> tuple[dict[str, str], bool]:
    """A group question's answer (docs/validation.md): "any" (or yes, True: at least one of
    the members, not said which), "none" (or no, False, an empty list: all absent), or the
    members present as a list or a ';'-separated string (the others absent). Returns the
    node states it sets and whether it says "at least one" (then no node is set)."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, str) and value.strip().lower() in V.ANY_WORDS:
        return {}, True
    if isinstance(value, str) and value.strip().lower() in V.NONE_WORDS:
        return {m: no_yes(m)[0] for m in members}, False
    tokens = _tokens(key, value)
    allowed = members + ("any", "none")
    for token in tokens:
        if token not in members:
            raise _bad(key, token, f"a sign of {key}", allowed)
    return {m: no_yes(m)[1 if m in tokens else 0] for m in members}, False


# Values are shown in messages by repr, cut to a readable length (a fuzzed 10**400 or a
# megabyte string must not flood the message).
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlong = 40


def _show(value: Any) -> str:
    try:
        return _REPR.repr(value)
    except Exception:  # a value whose own repr fails: name its type
        return f"<{type(value).__name__}>"


def close_match(word: Any, allowed: tuple[str, ...]) -> str:
    if isinstance(word, str):
        close = difflib.get_close_matches(word.strip().lower(), allowed, n=1, cutoff=SUGGESTION_CUTOFF)
        if close:
            return f"; did you mean {close[0]!r}?"
    return ""


def _bad(key: str, value: Any, what: str, allowed: tuple[str, ...], *, suggest: tuple[str, ...] | None = None) -> ValueError:
    """`key: value is not <what>; did you mean ...? allowed: ...` (the suggestion drawn from
    `suggest`, default `allowed`)."""
    hint = close_match(value, allowed if suggest is None else suggest)
    sep = "" if hint else ";"
    return ValueError(f"{key}: {_show(value)} is not {what}{hint}{sep} allowed: {', '.join(allowed)}")


def is_missing(value: Any) -> bool:
    """None, a float NaN, or pandas' own missing scalars (pd.NA, pd.NaT)."""
    if value is None:
        return True
    # the common answers first, by exact type (every case's every item comes here): a
    # string or a bool is never missing, a float is missing when NaN (x != x only then)
    kind = type(value)
    if kind is str or kind is bool:
        return False
    if kind is float:
        return value != value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return math.isnan(value)
        except (TypeError, ValueError, OverflowError):  # an int too large for a float is not NaN
            return False
    if type(value).__module__.startswith("pandas"):  # pd.NA, pd.NaT (nullable dtypes in a DataFrame)
        import pandas as pd

        try:
            return bool(pd.isna(value)) if pd.api.types.is_scalar(value) else False
        except (TypeError, ValueError):
            return False
    return False


def _number(key: str, value: Any, unit: str) -> float | None:
    if isinstance(value, str):  # a number typed as text ("3" from a form or a CSV)
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        x = float(value)
    except OverflowError:  # an int past float's range (10**400) is as good as infinite
        x = math.inf if value > 0 else -math.inf
    if not math.isfinite(x):
        raise ValueError(f"{key}: {_show(value)} is not a finite number of {unit}")
    return x


def _band(key: str, value: Any, bands, unit: str) -> str | None:
    x = _number(key, value, unit)
    if x is None:
        return None
    for upper, state in bands:
        if x < upper:
            return state
    return bands[-1][1]


def _state(key: str, value: Any, states: tuple[str, ...]) -> str:
    if isinstance(value, str) and value.strip().lower() in states:
        return value.strip().lower()
    raise _bad(key, value, f"{'an' if key[0] in 'aeiou' else 'a'} {key} state", states)


def _boolean(key: str, value: Any) -> str:
    # a Python or numpy boolean scalar (not an array: its truth value is ambiguous)
    if isinstance(value, bool) or (getattr(value, "shape", None) == () and getattr(value, "dtype", None) is not None and value.dtype.kind == "b"):
        return "present" if bool(value) else "absent"
    if isinstance(value, numbers.Real) and value in (0, 1):
        return "present" if value == 1 else "absent"
    if isinstance(value, str):
        word = value.strip().lower()
        if word in V.YES_WORDS:
            return "present"
        if word in V.NO_WORDS:
            return "absent"
    raise ValueError(f"{key}: {_show(value)} is not a yes/no answer; allowed: true, false")


def _tokens(key: str, value: Any) -> list[str]:
    """A list, tuple or set of names, or one ';'-separated string (CSV round trip)."""
    if isinstance(value, str):
        return [t.strip().lower() for t in value.split(";") if t.strip()]
    if isinstance(value, (list, tuple, set, frozenset)):
        out = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"{key}: {_show(item)} in {_show(value)} is not a name")
            out.append(item.strip().lower())
        return out
    raise ValueError(f"{key}: {_show(value)} is not a list of names or a ';'-separated string")


def _location(value: Any) -> dict[str, str]:
    allowed = V.REGIONS + tuple(V.REGION_ALIASES)
    present: set[str] = set()
    for token in _tokens("location", value):
        if token in V.REGION_ALIASES:
            present.update(V.REGION_ALIASES[token])
        elif token in V.REGIONS:
            present.add(token)
        else:
            raise _bad("location", token, "a location", allowed)
    if not present:
        raise ValueError(
            "location: names no region; the model assumes twitching in at least one region "
            "(leave location out if unknown)"
        )
    return {f"twitch_{r}": ("present" if r in present else "absent") for r in V.REGIONS}


def _subset(key: str, value: Any, options: tuple[str, ...], what: str, only: str) -> list[str]:
    """The options a set item names: `none` alone (or an empty list) names none of them;
    `none` with others is an error (`only`: what to give instead)."""
    tokens = _tokens(key, value)
    if tokens == ["none"]:
        return []
    if "none" in tokens:
        others = [t for t in tokens if t != "none"]
        raise ValueError(f"{key}: 'none' cannot be given with {', '.join(map(repr, others))}; give none alone, or {only}")
    for token in tokens:
        if token not in options:
            raise _bad(key, token, what, options + ("none",))
    return tokens


def _medications(value: Any) -> dict[str, str]:
    tokens = _subset("medications", value, V.MEDICATIONS, "a medication", "only the medicines taken")
    return {f"med_{m}": ("present" if m in tokens else "absent") for m in V.MEDICATIONS}


def _weakness_where(value: Any) -> dict[str, str]:
    """docs/model.md: the weakness patterns named are present, the others absent; `none` alone
    (or an empty list) names none of them (weakness elsewhere or all over)."""
    tokens = _subset("weakness_where", value, V.WEAKNESS_WHERE, "a weakness pattern", "only the places that are weak")
    return {f"weak_{w}": ("present" if w in tokens else "absent") for w in V.WEAKNESS_WHERE}


def _canonical_answers() -> dict[str, dict[Any, str]]:
    """For each key that sets the one node of its name (every key but the set items), the
    answers already in canonical form and the state each sets: each of the node's state
    names, and for a yes/no node its yes and no words (as `_boolean` reads them) and True
    and False. Built once at import from the vocabulary (a constant, no network in it)."""
    out: dict[str, dict[Any, str]] = {}
    for key in ALL_KEYS:
        if key in LIST_KEYS:
            continue
        states = V.node_states(key)
        if states == V.BINARY_STATES:
            # `_boolean` tries the yes words before the no words: the yes words win here too
            table: dict[Any, str] = {w: "absent" for w in V.NO_WORDS if w == w.strip().lower()}
            table.update({w: "present" for w in V.YES_WORDS if w == w.strip().lower()})
            table.update({False: "absent", True: "present"})
        else:
            table = {s: s for s in states}
        out[key] = table
    return out


# A fast path for the common answers (a case is about 40 of them, each a state name or a
# bool): `item_states` looks the answer up here before parsing it. Only a `str` or a
# `bool` is looked up (1 == True == 1.0 hash alike; ints, floats and numpy scalars take
# the parsing path), and an answer found here gets exactly the state the parsing path
# gives it (tests/test_python_path.py checks every entry); anything not found (other
# case, spaces, numbers, typos) is parsed as before, with the same errors.
CANONICAL_ANSWERS = _canonical_answers()
_NO_ANSWERS: dict = {}


def item_states(key: str, value: Any) -> dict[str, str]:
    """The node states one evidence item sets."""
    kind = type(value)
    if kind is str or kind is bool:
        state = CANONICAL_ANSWERS.get(key, _NO_ANSWERS).get(value)
        if state is not None:
            return {key: state}
    return _parsed_states(key, value)


def _parsed_states(key: str, value: Any) -> dict[str, str]:
    """`item_states` for any answer: parsed, checked, a ValueError a person can act on."""
    if key == "location":
        return _location(value)
    if key == "medications":
        return _medications(value)
    if key == "weakness_where":
        return _weakness_where(value)
    if key == "duration":
        band = _band(key, value, DURATION_BANDS_DAYS, "days")
        if band is not None:
            if value < 0:
                raise ValueError(f"duration: {_show(value)} days is negative")
            return {key: band}
        if not isinstance(value, str):
            raise ValueError(
                f"duration: {_show(value)} is not a duration state or a number of days; "
                f"allowed: {', '.join(V.ORDINAL_FINDINGS['duration'])}"
            )
        if value.strip().lower() not in V.ORDINAL_FINDINGS["duration"]:  # a word: say numbers are allowed too
            raise _bad(key, value, "a number of days or a duration band", ("a number of days",) + V.ORDINAL_FINDINGS["duration"], suggest=V.ORDINAL_FINDINGS["duration"])
    if key == "age":
        x = _number(key, value, "years")
        if x is not None:
            low, high = AGE_RANGE_YEARS
            if not low <= x < high:
                raise ValueError(f"age: {_show(value)} is outside [{low}, {high}) years; the model is for adults")
            return {key: _band(key, x, AGE_BANDS_YEARS, "years")}
        if not isinstance(value, str):
            raise ValueError(
                f"age: {_show(value)} is not a number of years or an age band; "
                f"allowed: {', '.join(V.CATEGORICAL_EXPOSURES['age'])}"
            )
        if value.strip().lower() not in V.CATEGORICAL_EXPOSURES["age"]:  # a word: say numbers are allowed too
            low, high = AGE_RANGE_YEARS
            allowed = (f"a number of years ({low}-{high - 1})",) + V.CATEGORICAL_EXPOSURES["age"]
            raise _bad(key, value, "a number of years or an age band", allowed, suggest=V.CATEGORICAL_EXPOSURES["age"])
    states = V.node_states(key)
    if states == V.BINARY_STATES:
        return {key: _boolean(key, value)}
    return {key: _state(key, value, states)}


def requirement_error(states: Mapping[str, str], setter: Mapping[str, str]) -> ValueError | None:
    """The contradiction of a node said present without what it needs (`V.REQUIRES`,
    docs/model.md), or None. `states`: node -> state; `setter`: node -> the key that
    set it."""
    for node, through in V.REQUIRES.items():
        if states.get(node) != "present" or not all(states.get(n) == V.node_states(n)[0] for n in through):
            continue
        if node in V.ACTS_THROUGH and through == V.MEDICATION_NODES:
            # docs/model.md: it acts only through the listed medicines; said with none of them
            # it is a contradiction the user should see, not a silent no-op
            return ValueError(
                f"{node}: true, but {setter[through[0]]} lists none of the medicines "
                f"({', '.join(V.MEDICATIONS)}); {node} means one of them was started or its "
                "dose changed in the last 4 weeks: name it in medications, or leave "
                f"{node} out"
            )
        if node == "alcohol_stopped":
            # docs/model.md: withdrawal follows heavy drinking only
            return ValueError(
                f"{setter[node]}: true, but {setter[through[0]]} is {states[through[0]]}; "
                f"{node} means heavy drinking stopped or cut down sharply in the last 3 days: "
                f"give alcohol_intake heavy (the drinking before it stopped), or leave {node} out"
            )
        finding = through[0]
        patterns = [n for n in V.PATTERN_OF.get(finding, ()) if states.get(n) == "present"]
        key = setter[node]
        named = "names " + ", ".join(repr(n.removeprefix("weak_")) for n in patterns) if key == "weakness_where" else "true"
        return ValueError(
            f"{key}: {named}, but {setter[finding]} is {states[finding]}; {key} says where "
            f"the {finding} is: give {finding} {' or '.join(V.node_states(finding)[1:])}, or leave {key} out"
        )
    return None


def encode(evidence: Mapping[str, Any], *, batch: bool = False, groups: Mapping[str, tuple[str, ...]] | None = None) -> Evidence:
    """Turn a dict of user evidence into node states.

    In a single case (``batch=False``) a missing value (None, NaN) is an error: leave
    the key out for unknown. In a batch row it means unknown (docs/model.md).
    groups : the group questions a key may name (key -> its member findings; the
        interview's groups, `model.network.questions.groups_of`), answered as `group_states` says.
    """
    if not isinstance(evidence, Mapping):
        raise ValueError(f"evidence must be a dict of key: value, got {type(evidence).__name__}")
    groups = groups or {}
    out: dict[str, str] = {}
    setter: dict[str, str] = {}
    any_of: list[tuple[str, tuple[str, ...]]] = []
    for key in evidence:
        value = evidence[key]
        # the fast path of the common answer, inlined (a case has about 40 items): a key
        # of its own node (not a group question) with a canonical str or bool answer sets
        # exactly what the checks below would set; only a clash takes the long way
        kind = type(value)
        if (kind is str or kind is bool) and key not in groups:
            state = CANONICAL_ANSWERS.get(key, _NO_ANSWERS).get(value)
            if state is not None and out.get(key, state) == state:
                out[key], setter[key] = state, key
                continue
        if not isinstance(key, str) or (key not in _ALL_KEYS and key not in groups):
            if isinstance(key, str) and groups and key not in _ALL_KEYS:
                hint = close_match(key, ALL_KEYS + tuple(groups))
                raise ValueError(
                    f"{_show(key)} is not an evidence key{hint}{'' if hint else ';'} allowed: "
                    f"{', '.join(USER_KEYS + tuple(groups))} (or a node name: {', '.join(NODE_KEYS)})"
                )
            raise ValueError(unknown_key_message(key))
        if is_missing(value):
            if batch:
                continue
            raise ValueError(f"{key}: {_show(value)} is not a value; leave the key out when it is unknown")
        if key in groups:
            states, anyone = group_states(key, groups[key], value)
            if anyone:
                any_of.append((key, groups[key]))
        else:
            states = item_states(key, value)
        for node, state in states.items():
            if node in out and out[node] != state:
                raise ValueError(
                    f"{key}: sets {node}={state}, but {setter[node]} sets {node}={out[node]}"
                )
            out[node], setter[node] = state, key
    problem = requirement_error(out, setter)
    if problem is not None:
        raise problem
    regions = [out.get(n) for n in V.REGION_NODES]
    if all(s == "absent" for s in regions):
        raise ValueError(
            "location: every region is absent; the model assumes twitching in at least one region"
        )
    return with_any_of(out, any_of)
