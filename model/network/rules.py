"""Triage: red-flag rules, the exact triage distribution, and the loss-minimising advice.

P(level >= k | e) = 1 - P(no cause of level >= k present, no rule of level >= k holds | e).
The event "no rule of level >= k holds" over the unobserved nodes the rules read is cut
into a disjoint union of boxes (each node restricted to a set of states) by Shannon
expansion; each box is one more exact query to the engine, with the causes of level >= k
forced absent. Nothing is summed over marginals.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np

from . import questions as Q
from . import vocabulary as V
from .priors import PriorsError

LEVELS = V.TRIAGE_LEVELS
FILE = "triage.toml"


@dataclass(frozen=True)
class Rule:
    id: str
    level: int
    text: str
    source: str
    # the rule holds when any of these conjunctions holds; a conjunction maps a node to
    # its allowed state indices
    conjunctions: tuple[tuple[tuple[str, frozenset[int]], ...], ...]


@dataclass(frozen=True)
class Triage:
    rules: tuple[Rule, ...]
    loss: np.ndarray  # (true level, advised level)
    loss_unit: str
    # the network's questions (model.network.questions.Question), by key
    questions: Mapping[str, "Q.Question"]
    need: Mapping[str, str]  # level -> what it means the person needs, in words

    def question_cost(self, key: str) -> float:
        return self.questions[key].cost


def _err(entry: str, message: str) -> PriorsError:
    return PriorsError(f"{FILE}: [{entry}]: {message}")


def _atoms(net, entry: str, table) -> list[tuple[str, frozenset[int]]]:
    if not isinstance(table, dict):
        raise _err(entry, f"expected a table of node = [states], got {table!r}")
    atoms = []
    for node, states in table.items():
        if node not in net.states or node in net.causes:
            raise _err(entry, f"unknown node {node!r}; rules read findings and exposures")
        if not isinstance(states, list) or not states:
            raise _err(entry, f"{node}: expected a non-empty list of states, got {states!r}")
        bad = [s for s in states if s not in net.states[node]]
        if bad:
            raise _err(entry, f"{node}: unknown state {bad[0]!r}; allowed: {', '.join(net.states[node])}")
        atoms.append((node, frozenset(net.states[node].index(s) for s in states)))
    return atoms


def load_triage(net) -> Triage:
    """Validate the triage table of the network's priors."""
    raw = net.triage_table
    if raw.get("levels") != list(LEVELS):
        raise _err("levels", f"levels must be {list(LEVELS)}, got {raw.get('levels')!r}")
    rules, seen = [], set()
    for k, r in enumerate(raw.get("rule", [])):
        entry = f"rule {r.get('id', k)!r}"
        unknown = set(r) - {"id", "level", "text", "source", "note", "all", "of", "at_least"}
        if unknown:
            raise _err(entry, f"unknown field {', '.join(sorted(unknown))}")
        if r.get("id") in seen:
            raise _err(entry, "duplicate rule id")
        seen.add(r.get("id"))
        if r.get("level") not in LEVELS[1:]:
            raise _err(entry, f"level {r.get('level')!r} is not one of {', '.join(LEVELS[1:])}")
        for field in ("id", "text", "source"):
            if not isinstance(r.get(field), str):
                raise _err(entry, f"{field} must be text")
        base = _atoms(net, entry, r.get("all", {}))
        if "of" in r:
            of = _atoms(net, entry, r["of"])
            n = r.get("at_least")
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(of):
                raise _err(entry, f"at_least must be a whole number from 1 to {len(of)}, got {n!r}")
            choices = list(itertools.combinations(of, n))
        else:
            choices = [()]
        if not base and choices == [()]:
            raise _err(entry, "a rule needs `all` or `of` atoms")
        conjunctions = []
        for extra in choices:
            conj: dict[str, frozenset[int]] = {}
            for node, allowed in base + list(extra):
                conj[node] = conj.get(node, allowed) & allowed
            conjunctions.append(tuple(sorted(conj.items())))
        rules.append(Rule(r["id"], LEVELS.index(r["level"]), r["text"], r["source"], tuple(conjunctions)))
    loss_raw = raw.get("loss", {})
    try:
        loss = np.array([[float(x) for x in loss_raw[level]] for level in LEVELS])
    except (KeyError, TypeError, ValueError):
        raise _err("loss", f"needs a row of {len(LEVELS)} numbers for each of {', '.join(LEVELS)}") from None
    if loss.shape != (4, 4) or (loss < 0).any() or not np.isfinite(loss).all():
        raise _err("loss", "rows must be 4 non-negative finite numbers")
    if (np.diag(loss) != 0).any():
        raise _err("loss", "advising the true level must cost 0 (the diagonal)")
    need = raw.get("need", {})
    if not isinstance(need, dict) or set(need) != set(LEVELS[1:]) or not all(isinstance(v, str) and v for v in need.values()):
        raise _err("need", f"needs words for each of {', '.join(LEVELS[1:])}")
    entries = _questions(raw.get("question"))
    # the words of every question the network has, checked against its items
    questions = Q.items(net, entries, _err)
    return Triage(tuple(rules), loss, str(loss_raw.get("unit", "")), questions, dict(need))


def _questions(raw) -> dict[str, dict]:
    """Check the [question.<key>] tables (docs/validation.md): a cost in the loss's unit, words
    for the question, and a label for each answer it names. Which keys and answers a
    network asks is checked by `model.network.questions`, which knows the network's items."""
    if not isinstance(raw, dict) or "default" not in raw:
        raise _err("question", "needs a [question.default] table with the cost of a question with no entry")
    out = {}
    for key, entry in raw.items():
        where = f"question.{key}"
        if not isinstance(entry, dict):
            raise _err(where, f"expected a table, got {entry!r}")
        unknown = set(entry) - {"cost", "text", "help", "answers", "note"}
        if unknown:
            raise _err(where, f"unknown field {', '.join(sorted(unknown))}; allowed: cost, text, help, answers, note")
        cost = entry.get("cost")
        if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not 0 <= cost < np.inf:
            raise _err(where, f"cost {cost!r} is not a non-negative number")
        for field in ("text", "help"):
            if field in entry and not isinstance(entry[field], str):
                raise _err(where, f"{field} must be text")
        if key != "default" and not entry.get("text"):
            raise _err(where, "text: the question's words are missing")
        answers = entry.get("answers", {})
        if not isinstance(answers, dict) or not all(isinstance(v, str) and v for v in answers.values()):
            raise _err(where, "answers must be a table of answer = \"label\"")
        out[key] = {"cost": float(cost), "text": entry.get("text", key), "help": entry.get("help", ""), "answers": dict(answers)}
    return out


def triage_of(net) -> Triage:
    """The network's triage rules and losses, checked (once per network: kept in its
    derived store)."""
    return net.derived.get("triage", lambda: load_triage(net))


def _safe_boxes(net, conjunctions, observed: Mapping[str, int]) -> Iterator[dict[str, frozenset[int]]] | None:
    """Boxes (node -> allowed states) whose disjoint union is "no conjunction holds".

    Returns None when a conjunction already holds on the observed nodes.
    """
    live = live_conjunctions(conjunctions, observed)
    return None if live is None else expand_boxes(net, list(live), {})


def live_conjunctions(conjunctions, observed: Mapping[str, int]) -> tuple | None:
    """The conjunctions the observed nodes leave open, each without its observed atoms
    (None when one already holds). Evidence patterns with the same live conjunctions
    have the same boxes."""
    live = []
    for conj in conjunctions:
        rest = []
        for node, allowed in conj:
            if node in observed:
                if observed[node] not in allowed:
                    break
            else:
                rest.append((node, allowed))
        else:
            if not rest:
                return None
            live.append(tuple(rest))
    return tuple(live)


def expand_boxes(net, conjs, box):
    if not conjs:
        yield dict(box)
        return
    counts: dict[str, int] = {}
    for conj in conjs:
        for node, _ in conj:
            counts[node] = counts.get(node, 0) + 1
    node = max(counts, key=lambda v: (counts[v], v))
    # the coarsest partition of the node's states that every atom on it respects
    signature: dict[tuple, list[int]] = {}
    for s in range(len(net.states[node])):
        key = tuple(s in allowed for conj in conjs for v, allowed in conj if v == node)
        signature.setdefault(key, []).append(s)
    for cell in signature.values():
        cell = frozenset(cell)
        nxt = []
        holds = False
        for conj in conjs:
            atom = dict(conj).get(node)
            if atom is None:
                nxt.append(conj)
            elif cell <= atom:
                rest = tuple((v, a) for v, a in conj if v != node)
                if not rest:
                    holds = True
                    break
                nxt.append(rest)
        if not holds:
            yield from expand_boxes(net, nxt, {**box, node: cell})


def runs(states: frozenset[int]) -> list[tuple[int, int]]:
    """Contiguous runs of a set of state indices, as (lo, hi) ranges."""
    out, s = [], sorted(states)
    start = prev = s[0]
    for x in s[1:]:
        if x != prev + 1:
            out.append((start, prev))
            start = x
        prev = x
    out.append((start, prev))
    return out


def rules_holding(net, observed: Mapping[str, int]) -> list[Rule]:
    """The rules that hold on the observed nodes alone (node -> state index)."""
    return rules_holding_states(net, {node: net.states[node][i] for node, i in observed.items()})


def rules_holding_states(net, states: Mapping[str, str]) -> list[Rule]:
    """`rules_holding` on evidence by state name (node -> state, as `encode` gives it):
    the same rules, in the same order. Each atom's allowed states are turned into names
    once per network (kept in its derived store), so a case needs no name -> index
    conversion of its every node (it is read once a case, for the advice's reason)."""

    rules = triage_of(net).rules

    def build():
        return [(rule, [tuple((node, frozenset(net.states[node][i] for i in allowed)) for node, allowed in conj)
                        for conj in rule.conjunctions])
                for rule in rules]

    out = []
    for rule, conjunctions in net.derived.get("rules_by_state_name", build):
        for conj in conjunctions:
            # plain loops, not all(generator): a generator a conjunction costs more than
            # its atoms; a node not observed is None, never an allowed name
            for node, allowed in conj:
                if states.get(node) not in allowed:
                    break
            else:
                out.append(rule)
                break
    return out
