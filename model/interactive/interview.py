"""The interview (docs/validation.md): the questions that matter, one at a time.

    iv = Interview({"location": "eyelid"}, goal="causes")
    while (q := iv.next_question()) is not None:
        iv.answer(q.key, ...)          # a value as infer() takes it, or None: don't know
    iv.result                          # the Result on everything answered

Order: first the screen of the emergency red flags not yet answered (breathing,
seizure_episode, hand_spasm, sudden_one_sided, fever_or_confusion: `questions.RED_FLAGS`)
as one question; a yes is evidence the engine conditions on exactly ("at least one of
these signs", `Evidence.any_of`) and asks which next. Then by value, every answer of
every open question enumerated exactly in one engine call (`advice.ranking.rank_questions`): the
person's items, and the review-of-systems groups of priors/triage.toml ([group.*]: "do
you have any of these?", the value exact over the subsets of their open signs; a group
answered "at least one" without saying which opens its signs as questions of their own, as
a clinician who hears "some of those" asks which). Two
goals: "triage" values an answer by the drop of the advice's expected loss; "causes"
(the default) adds the drop of a diagnostic loss (priors/triage.toml [interview]), so it
also asks the context and the signs that tell the leading causes apart.

It stops at once when the case is an emergency for certain (P(emergency) = 1: an
emergency sign said, under either goal), and otherwise when nothing left is worth its cost: alone (one step), two steps ahead (the
few questions whose answers come nearest to changing the advice, their reach, and to
settling the causes, for their cost, each answer followed by the best next question, a
sign or a context item: `advice.ranking.lookahead`), or together (the value of perfect information on the level,
the advice's expected loss now, against the cost of everything left).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..network import questions as Q
from ..inference import levels as L
from ..advice.ranking import askable, lookahead, rank_questions
from ..api import Result, result_of
from ..network.evidence import encode, group_states, is_missing, with_any_of
from ..network.build import Network, load_network


class Interview:
    """Ask the next best question until no question is worth asking (docs/validation.md).

    Parameters
    ----------
    evidence : what is known before the first question (user keys, as `infer` takes
        them, group keys included); not changed.
    network : the network (default: the bundled priors).
    goal : "causes" (default: the level and the leading causes) or "triage" (what
        settles the advice only).

    Attributes
    ----------
    result : the current `Result`.
    asked : the questions asked so far, as (key, answer) pairs; None is "don't know".
    """

    def __init__(self, evidence: Mapping[str, Any] | None = None, *, network: Network | None = None, goal: str = "causes"):
        self.network = network if network is not None else load_network()
        self.goal = Q.check_goal(goal)
        self._settings = Q.settings(self.network)
        self._questions = self.network.triage.questions
        groups = Q.group_members(self._questions)
        start = encode(dict(evidence or {}), groups=groups)
        self._nodes: dict[str, str] = start.nodes()
        # the groups answered "at least one" and not yet settled (key, open members)
        said = [k for k in (evidence or {}) if k in groups]
        self._any: list[tuple[str, tuple[str, ...]]] = [("evidence", g) for g in start.any_of]
        self.asked: list[tuple[str, Any]] = []
        self._done: set[str] = set(said)  # asked, or answered "don't know"
        # the groups answered "at least one" without saying which: their open signs are
        # asked one by one, as a clinician who hears "some of those" asks which
        self._opened: list[str] = [k for k in said if k != Q.SCREEN and group_states(k, groups[k], evidence[k])[1]]
        self._which = False  # a yes to the screen: ask which next
        self._pool = askable(self.network)
        self.result: Result = result_of(self.network, start)

    def __repr__(self) -> str:
        return f"Interview({len(self.asked)} asked, goal={self.goal}; {self.result!r})"

    @property
    def emergency_flagged(self) -> bool:
        """True after a yes to the red-flag screen until the person says which sign: the
        case is an emergency (P(emergency) = 1 exactly, from the engine)."""
        return self._which

    def question(self, key: str) -> Q.Question:
        """The question with this key (its words, answers and cost)."""
        if key not in self._questions or key == "default":
            raise ValueError(f"{key!r} is not a question; questions: {', '.join(k for k in self._questions if k != 'default')}")
        return self._questions[key]

    def _open(self) -> list[Q.Question]:
        """The questions still to ask: the pool, and the open signs of every group
        answered "at least one" without saying which, each on its own."""
        ev = self.result.evidence
        which = [self._questions[n] for g in self._opened for n in self._questions[g].nodes if n in self._questions]
        return [q for q in self._pool + which if q.key not in self._done and Q.is_open(q, ev)]

    def next_question(self) -> Q.Question | None:
        """The next question to ask, or None when the interview is done."""
        if self._which:
            return self._questions[Q.WHICH]
        screen = self._questions.get(Q.SCREEN)
        if screen is not None and Q.SCREEN not in self._done and Q.is_open(screen, self.result.evidence):
            return screen
        r = self.result
        if r.triage.iloc[-1] >= 1.0:
            return None  # an emergency for certain: nothing more to ask, whatever the goal
        pool = self._open()
        if not pool:
            return None
        table = rank_questions(self.network, r.evidence, r.analysis, keys={q.key for q in pool}, goal=self.goal)
        if not len(table):
            return None
        best = table.iloc[0]
        if best["net_value"] > 0:
            return self._questions[best["question"]]
        # two steps ahead: the few questions whose answers come nearest to changing the
        # advice (their reach) and to settling the causes, for their cost, each answer
        # followed by the best next question: a sign or a context item, as the rules
        # that need two things together read both (tics that worsen; heavy drinking with
        # tremor and sweating). Not "where" and "which medicines" as the next step: up
        # to 127 answers each, after every first answer.
        k = self._settings.lookahead
        if k > 0:
            near = (table["reach"] + table["diagnostic"] - table["cost"]).sort_values(ascending=False, kind="stable")
            firsts = [self._questions[table.loc[i, "question"]] for i in near.index[:k]]
            nexts = [q for q in pool if q.key not in ("location", "medications")]
            ahead = lookahead(self.network, r.evidence, r.analysis, firsts, nexts, goal=self.goal,
                              min_probability=self._settings.lookahead_min_probability)
            if len(ahead) and ahead.iloc[0]["net_value2"] > 0:
                return self._questions[ahead.iloc[0]["question"]]
        # together: the questions left are worth at most the value of knowing the true
        # level (an upper bound on the value of perfect information on them all: the
        # advice's expected loss now); while that beats their cost, ask the best of
        # those whose answer could change the advice
        bound = float(L.expected_loss(self.network, r.analysis.triage).min())
        useful = table[table["value"] > 0]
        if bound > float(table["cost"].sum()) and len(useful):
            return self._questions[useful.iloc[0]["question"]]
        return None

    def answer(self, key: str, value: Any) -> Result:
        """Take the answer to question `key` (a value as `infer` takes it, or None for
        "don't know"; a group question: its signs present, "none", or "any"); returns the
        updated result. A bad answer raises ValueError and changes nothing."""
        q = self.question(key)
        if key == Q.WHICH:
            if not self._which:
                raise ValueError(f"{key}: asked only after a yes to {Q.SCREEN}")
            if is_missing(value):
                # a yes to the screen is an emergency whichever sign it is: it cannot be
                # left unknown, or the advice would forget it
                raise ValueError(f"{key}: say which sign (at least one); a yes to {Q.SCREEN} means an emergency")
        elif key in self._done or not Q.is_open(q, self.result.evidence):
            raise ValueError(f"{key}: already answered")
        if is_missing(value):
            self._done.add(key)
            self.asked.append((key, None))
            return self.result
        groups = list(self._any)
        opened = None
        if key == Q.SCREEN or q.group:
            word = value if not isinstance(value, bool) else ("yes" if value else "no")
            # every sign of the group may be named (one answered before, consistently);
            # "at least one" is about the signs still open
            states, anyone = group_states(key, q.nodes, word)
            if anyone:
                groups.append((key, tuple(n for n in q.nodes if n not in self._nodes)))
                if key != Q.SCREEN:
                    opened = key
        elif key == Q.WHICH:
            nodes = Q.answer_nodes(self.network, q, value, self._nodes)
            states, anyone = nodes, False
        else:
            states, anyone = Q.answer_nodes(self.network, q, value, self._nodes), False
        for node, state in states.items():
            if self._nodes.get(node, state) != state:
                raise ValueError(f"{key}: sets {node}={state}, but it is already {self._nodes[node]}")
        merged = {**self._nodes, **states}
        evidence = with_any_of(merged, groups)  # raises on a contradiction; nothing changed yet
        result = result_of(self.network, evidence)
        # the groups still open ("at least one", not said which)
        self._any = [(k, g) for k, g in groups if tuple(sorted(n for n in g if n not in merged)) in evidence.any_of]
        self._which = key == Q.SCREEN and anyone
        self._nodes, self.result = merged, result
        self._done.add(key)
        if opened is not None:
            self._opened.append(opened)
        self.asked.append((key, value))
        return result
