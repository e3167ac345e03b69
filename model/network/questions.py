"""Questions as a person answers them (docs/validation.md).

A question is one of the person's items, not a network node: `location` is one question
(which regions, at least one), `medications` one (which of the six, or none),
`weakness_where` one (which patterns, or none; asked after a weakness answer of mild or
marked), every other finding and exposure one (`age` in bands). The interview's first
question is the
screen of the emergency signs not yet answered (`red_flags`; a yes asks
`red_flag_which`). Words, answer labels and costs live in priors/triage.toml
([question.<key>]); this module knows which items a network has and what node states
each answer sets.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from . import vocabulary as V
from .evidence import USER_KEYS, encode, group_states
from .priors import PriorsError

# The interview (docs/validation.md): the emergency red flags the interview screens first, as one
# question. `bulbar` is a soon-level sign since the second review (docs/model.md): it is
# asked as an ordinary question.
RED_FLAGS = ("breathing", "seizure_episode", "hand_spasm", "sudden_one_sided", "fever_or_confusion")
SCREEN = "red_flags"
WHICH = "red_flag_which"
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Question:
    """One question: its key, words, answers (answer -> label, in order) and cost.

    multiple : the answer is a set of the listed answers (location, medications, which
        red flags); otherwise exactly one of them.
    nodes : the network nodes an answer sets.
    """

    key: str
    text: str
    help: str
    answers: Mapping[str, str]
    multiple: bool
    nodes: tuple[str, ...]
    cost: float
    group: bool = False  # a group question ("do you have any of these?"; `GROUP_TABLE`)

    def __repr__(self) -> str:
        return f"Question({self.key!r}: {self.text!r}, answers={list(self.answers)})"


def _binary(net, node: str) -> bool:
    return tuple(net.states[node]) == V.BINARY_STATES


def _two_state(net, node: str) -> bool:
    """A node a group question may ask: two states, its first "no" and its last "yes",
    and a question of its own (not a region, a medicine, a weakness pattern or a
    follow-up). A lead of two states may be a member (heavy drinking): its follow-up is
    asked after a yes, as after the lead's own question."""
    return (node in net.states and len(net.states[node]) == 2 and node not in net.causes and node not in FOLLOW_UPS
            and node not in V.REGION_NODES + V.MEDICATION_NODES + V.WEAKNESS_WHERE_NODES)


# The group questions of priors/triage.toml ([group.<key>]: a clinician's review of
# systems, asked after the red-flag screen): the fields an entry may hold.
GROUP_TABLE = "group"
GROUP_FIELDS = ("members", "cost", "text", "help", "answers", "note")
NONE = "none"


def _groups(net, where) -> dict[str, tuple[str, ...]]:
    """The [group.<key>] tables checked against the network: key -> member nodes (binary
    findings, each in one group at most, none of them a red flag of the screen). A network
    without every bundled finding (built for tests) keeps the groups whose members it has."""
    raw = net.triage_table.get(GROUP_TABLE, {})
    if not isinstance(raw, Mapping):
        raise where(GROUP_TABLE, f"expected tables [{GROUP_TABLE}.<key>], got {raw!r}")
    full = set(V.FINDINGS) <= set(net.findings)
    out: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for key, entry in raw.items():
        at = f"{GROUP_TABLE}.{key}"
        if not isinstance(entry, Mapping):
            raise where(at, f"expected a table, got {entry!r}")
        unknown = set(entry) - set(GROUP_FIELDS)
        if unknown:
            raise where(at, f"unknown field {', '.join(sorted(unknown))}; allowed: {', '.join(GROUP_FIELDS)}")
        if key in (SCREEN, WHICH) or key in USER_KEYS or key in net.states:
            raise where(at, f"{key!r} is already a question or a node; a group needs a name of its own")
        members = entry.get("members")
        if not isinstance(members, list) or len(members) < 2 or not all(isinstance(m, str) for m in members):
            raise where(at, f"members: expected a list of at least 2 findings, got {members!r}")
        for m in members:
            if full and not _two_state(net, m):
                raise where(at, f"members: {m!r} is not a finding or exposure of two states (no, yes) of the network, "
                            "asked on its own (not a region, a medicine, a weakness pattern or a follow-up)")
            if m in RED_FLAGS:
                raise where(at, f"members: {m!r} is a red flag, asked in the screen ({SCREEN})")
            if m in seen:
                raise where(at, f"members: {m!r} is already in group {seen[m]!r}")
            seen[m] = key
        cost = entry.get("cost")
        if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not 0 <= cost < float("inf"):
            raise where(at, f"cost {cost!r} is not a non-negative number")
        text = entry.get("text")
        if not isinstance(text, str) or not text.endswith("?"):
            raise where(at, "text: the question's words, ending with '?', are missing")
        labels = entry.get("answers")
        allowed = tuple(members) + (NONE,)
        if not isinstance(labels, Mapping) or set(labels) != set(allowed) or not all(isinstance(v, str) and v for v in labels.values()):
            raise where(at, f"answers: needs a label for each of {', '.join(allowed)}")
        kept = tuple(m for m in members if _two_state(net, m))
        if len(kept) >= 2:
            out[key] = kept
    return out


def group_members(questions: Mapping[str, Question]) -> dict[str, tuple[str, ...]]:
    """key -> member nodes of every group question, the red-flag screen first (the keys
    `infer` takes for a group's answer: `evidence.group_states`)."""
    return {k: q.nodes for k, q in questions.items() if k == SCREEN or q.group}


def _raw_items(net, where=lambda key, message: ValueError(message)) -> dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]]:
    """key -> (nodes, answers, multiple) for every question the network has."""
    out: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {}
    flags = tuple(f for f in RED_FLAGS if f in net.states)
    if flags:
        out[SCREEN] = (flags, (YES, NO), False)
        out[WHICH] = (flags, flags, True)
    out["location"] = (tuple(net.regions), tuple(r.removeprefix("twitch_") for r in net.regions), True)
    grouped = set(net.regions)
    if all(m in net.states for m in V.MEDICATION_NODES):
        out["medications"] = (V.MEDICATION_NODES, V.MEDICATIONS + ("none",), True)
        grouped |= set(V.MEDICATION_NODES)
    if all(w in net.states for w in V.WEAKNESS_WHERE_NODES):
        # docs/model.md: which weakness patterns (any subset; none: all over, or elsewhere)
        out["weakness_where"] = (V.WEAKNESS_WHERE_NODES, V.WEAKNESS_WHERE + ("none",), True)
        grouped |= set(V.WEAKNESS_WHERE_NODES)
    for node in tuple(net.findings) + tuple(net.exposures):
        if node not in grouped:
            answers = (YES, NO) if _binary(net, node) else tuple(net.states[node])
            out[node] = ((node,), answers, False)
    return out


def items(net, entries: Mapping[str, Mapping], where=lambda key, message: ValueError(message)) -> dict[str, Question]:
    """The network's questions with the words of `entries` (checked: every entry names a
    question of the network and only its answers; a network on the bundled vocabulary (docs/model.md) has
    an entry with words for every question)."""
    raw = _raw_items(net)
    groups = _groups(net, where)
    for key, entry in entries.items():
        if key == "default":
            continue
        if key not in raw:
            raise where(f"question.{key}", f"{key!r} is not a question of this network; questions: {', '.join(raw)}")
        bad = [a for a in entry["answers"] if a not in raw[key][1]]
        if bad:
            raise where(f"question.{key}", f"unknown answer {bad[0]!r}; allowed: {', '.join(raw[key][1])}")
    if set(V.FINDINGS) <= set(net.findings):
        missing = [k for k in raw if k not in entries]
        if missing:
            raise where(f"question.{missing[0]}", "missing: every question needs its words and cost")
    out = {}
    for key, (nodes, answers, multiple) in raw.items():
        entry = entries.get(key, entries["default"])
        labels = entry.get("answers", {})
        out[key] = Question(
            key=key,
            text=entry.get("text", key) if key in entries else key,
            help=entry.get("help", ""),
            answers={a: labels.get(a, a.replace("_", " ")) for a in answers},
            multiple=multiple,
            nodes=nodes,
            cost=float(entry["cost"]),
        )
    table = net.triage_table.get(GROUP_TABLE, {})
    for key, members in groups.items():
        entry = table[key]
        out[key] = Question(
            key=key,
            text=entry["text"],
            help=entry.get("help", ""),
            answers={a: entry["answers"][a] for a in members + (NONE,)},
            multiple=True,
            nodes=members,
            cost=float(entry["cost"]),
            group=True,
        )
    return out


# The interview's settings (priors/triage.toml [interview]): the fields and what each
# must be.
INTERVIEW_TABLE = "interview"
GOALS = ("causes", "triage")


@dataclass(frozen=True)
class Settings:
    """diagnostic_price : the diagnostic loss of goal "causes", in the loss matrix's unit
        per bit of the causes' summed binary entropy.
    lookahead : how many questions not worth their cost alone are valued two steps
        ahead (those that come nearest to changing the advice, by reach plus diagnostic
        value less cost; each with every next question after each of its answers).
    lookahead_min_probability : an answer less probable than this is not followed by a
        next question in the look-ahead.
    """

    diagnostic_price: float
    lookahead: int
    lookahead_min_probability: float


def settings(net) -> Settings:
    """The [interview] table of priors/triage.toml, checked (errors name the file and the
    entry)."""
    raw = net.triage_table.get(INTERVIEW_TABLE)
    where = f"triage.toml: [{INTERVIEW_TABLE}]"
    if not isinstance(raw, Mapping):
        raise PriorsError(f"{where}: missing; needs diagnostic_price, lookahead and lookahead_min_probability")
    fields = ("diagnostic_price", "lookahead", "lookahead_min_probability", "note")
    unknown = set(raw) - set(fields)
    if unknown:
        raise PriorsError(f"{where}: unknown field {', '.join(sorted(unknown))}; allowed: {', '.join(fields)}")
    price = raw.get("diagnostic_price")
    if isinstance(price, bool) or not isinstance(price, (int, float)) or not 0 <= price < float("inf"):
        raise PriorsError(f"{where}: diagnostic_price {price!r} is not a non-negative number")
    k = raw.get("lookahead")
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise PriorsError(f"{where}: lookahead {k!r} is not a whole number (0 or more)")
    p = raw.get("lookahead_min_probability")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise PriorsError(f"{where}: lookahead_min_probability {p!r} is not a probability (0 to 1)")
    return Settings(float(price), k, float(p))


def check_goal(goal: Any) -> str:
    if goal not in GOALS:
        raise ValueError(f"goal: {goal!r} is not a goal; allowed: {', '.join(GOALS)}")
    return goal


# A follow-up is asked only once its lead question's answer makes it mean something:
# follow-up key -> (lead key, the lead's nodes); it opens when one of those nodes is in a
# state but its first. `new_medication` (docs/model.md) after `medications` names at least
# one medicine; `alcohol_stopped` (docs/model.md) after `alcohol_intake` heavy;
# `weakness_where` (docs/model.md) after `weakness` mild or marked. Until then the lead
# question's answers include it (a medicine, new or not; heavy drinking, stopped or not;
# weakness, wherever it is).
FOLLOW_UPS = {
    "new_medication": ("medications", V.MEDICATION_NODES),
    "alcohol_stopped": ("alcohol_intake", ("alcohol_intake",)),
    "weakness_where": ("weakness", ("weakness",)),
}


def _lead_answered(key: str, evidence: Mapping[str, str]) -> bool:
    """Whether the lead of follow-up `key` is answered with a state that opens it."""
    _, nodes = FOLLOW_UPS[key]
    return any(n in evidence and evidence[n] != V.node_states(n)[0] for n in nodes)


def is_open(q: Question, evidence: Mapping[str, str]) -> bool:
    """Whether the answer to `q` is not yet known from the evidence (and, for a
    follow-up, whether its lead question has made it meaningful)."""
    if q.key == WHICH:
        return False  # asked only after a yes to the screen
    if q.key == SCREEN and any(evidence.get(n) == "present" for n in q.nodes):
        return False  # a red flag is already known: the case is an emergency
    if q.key in FOLLOW_UPS and not _lead_answered(q.key, evidence):
        return False
    return any(n not in evidence for n in q.nodes)


def outcomes(net, q: Question, evidence: Mapping[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """Every answer `q` can have given the evidence, as (label, the node states it sets).

    A set question is enumerated whole: every subset of its answers consistent with the
    nodes already known (at least one region). The screen's answers are every pattern of
    the red flags not yet answered (a yes is followed by which)."""
    open_nodes = [n for n in q.nodes if n not in evidence]
    if q.key == SCREEN or q.multiple:
        # each sign no or yes (a group's exposures: their first and last states)
        choices = [(net.states[n][0], net.states[n][-1]) if q.group else V.BINARY_STATES for n in open_nodes]
        for states in itertools.product(*choices):
            nodes = dict(zip(open_nodes, states))
            if q.key == "location" and not any({**evidence, **nodes}.get(r) == "present" for r in q.nodes):
                continue  # the premise: twitching somewhere
            on = [n for n, s in nodes.items() if s == net.states[n][-1]]
            label = "+".join(n.removeprefix("twitch_").removeprefix("med_").removeprefix("weak_") for n in on) or "none"
            # a follow-up opened by this answer: of the set question itself (a medicine), or
            # of a group's member answered yes (heavy drinking)
            follow = [f for f, (lead, _) in FOLLOW_UPS.items()
                      if (lead == q.key or (q.group and lead in on)) and f in net.states and f not in evidence]
            if follow and on:
                (f,) = follow
                yield label, {**nodes, f: "absent"}
                yield f"{label} ({f.replace('_', ' ')})", {**nodes, f: "present"}
            else:
                yield label, nodes
        return
    (node,) = q.nodes
    for state in net.states[node]:
        yield state, {node: state}


def answer_nodes(net, q: Question, value: Any, evidence: Mapping[str, str] = {}) -> dict[str, str]:
    """The node states an answer sets.

    `value` is taken as `infer` takes it (a list or `;`-string for a set question, a
    number of days or years, yes / no / True / False); the screen takes yes or no,
    `red_flag_which` the flags that are present (the others are then absent)."""
    if q.key == SCREEN:
        word = str(value).strip().lower() if not isinstance(value, bool) else (YES if value else NO)
        if word in (YES, "y", "true"):
            return {}
        if word in (NO, "n", "false"):
            return {n: "absent" for n in q.nodes if n not in evidence}
        raise ValueError(f"{SCREEN}: {value!r} is not an answer; allowed: yes, no")
    if q.key == WHICH:
        chosen = [t.strip() for t in value.replace(",", ";").split(";")] if isinstance(value, str) else list(value)
        chosen = [t for t in chosen if t]
        bad = [t for t in chosen if t not in q.nodes]
        if bad or not chosen:
            allowed = "; ".join(f"{k} ({label})" for k, label in q.answers.items())
            raise ValueError(f"{WHICH}: {bad[0] if bad else value!r} is not one of the signs; allowed: {allowed} (at least one)")
        # the signs already answered keep their answers; the others not chosen are absent
        return {n: ("present" if n in chosen else "absent") for n in q.nodes if n in chosen or n not in evidence}
    if q.group:
        states, anyone = group_states(q.key, q.nodes, value)
        if anyone:
            raise ValueError(f"{q.key}: say which ({', '.join(q.nodes)}), or none")
        return {n: s for n, s in states.items() if n not in evidence or s == net.states[n][-1]}
    if q.key in USER_KEYS:
        return dict(encode({q.key: value}))
    (node,) = q.nodes  # a network whose nodes are not the bundled items: states by name
    if value not in net.states[node]:
        raise ValueError(f"{q.key}: {value!r} is not a state; allowed: {', '.join(net.states[node])}")
    return {node: value}
