"""The interview (docs/validation.md): the questions that matter, one at a time.

    iv = Interview({"location": "eyelid"})
    while (q := iv.next_question()) is not None:
        iv.answer(q.key, ...)          # a value as infer() takes it, or None: don't know
    iv.result                          # the Result on everything answered

Order: first the screen of the emergency red flags not yet answered (breathing,
seizure_episode, hand_spasm, sudden_one_sided, fever_or_confusion: `questions.RED_FLAGS`)
as one question; a yes asks which. Then by value: the question whose
answer is expected to lower the advice's loss by most beyond its cost (every answer
enumerated exactly). It stops when no question is worth its cost, alone or together
with the others: together, the questions left cannot be worth more than knowing the
true level itself (the value of perfect information, which is the advice's expected
loss now), so the interview goes on past a question not worth its cost alone only while
that bound exceeds the cost of asking everything left.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import questions as Q
from . import triage as T
from .api import Result, infer, rank_questions
from .evidence import encode
from .network import Network, load_network


class Interview:
    """Ask the next best question until no question is worth asking (docs/validation.md).

    Parameters
    ----------
    evidence : what is known before the first question (user keys, as `infer` takes
        them); not changed.
    network : the network (default: the bundled priors).

    Attributes
    ----------
    result : the current `Result`.
    asked : the questions asked so far, as (key, answer) pairs; None is "don't know".
    """

    def __init__(self, evidence: Mapping[str, Any] | None = None, *, network: Network | None = None):
        self.network = network if network is not None else load_network()
        self._questions = T.triage_of(self.network).questions
        self._nodes: dict[str, str] = dict(encode(dict(evidence or {})))
        self.asked: list[tuple[str, Any]] = []
        self._done: set[str] = set()  # asked, or answered "don't know"
        self._which = False  # a yes to the screen: ask which next
        self.result: Result = infer(self._nodes, network=self.network)

    def __repr__(self) -> str:
        return f"Interview({len(self.asked)} asked; {self.result!r})"

    @property
    def emergency_flagged(self) -> bool:
        """True after a yes to the red-flag screen until the person says which sign: the
        case is an emergency whatever `result` says so far."""
        return self._which

    def question(self, key: str) -> Q.Question:
        """The question with this key (its words, answers and cost)."""
        if key not in self._questions or key == "default":
            raise ValueError(f"{key!r} is not a question; questions: {', '.join(k for k in self._questions if k != 'default')}")
        return self._questions[key]

    def _open(self) -> list[str]:
        return [k for k, q in self._questions.items() if k != "default" and k not in self._done and Q.is_open(q, self._nodes)]

    def next_question(self) -> Q.Question | None:
        """The next question to ask, or None when the interview is done."""
        if self._which:
            return self._questions[Q.WHICH]
        open_keys = self._open()
        if Q.SCREEN in open_keys:
            return self._questions[Q.SCREEN]
        keys = [k for k in open_keys if k != Q.SCREEN]
        if not keys:
            return None
        table = rank_questions(self.network, self.result.evidence, self.result.analysis, keys=set(keys))
        if not len(table):
            return None
        best = table.iloc[0]
        if best["net_value"] > 0:
            return self._questions[best["question"]]
        # together: the questions left are worth at most the value of knowing the true
        # level (an upper bound on the value of perfect information on them all: the
        # advice's expected loss now); while that beats their cost, ask the best of
        # those whose answer could change the advice
        bound = float(T.expected_loss(self.network, self.result.analysis.triage).min())
        useful = table[table["value"] > 0]
        if bound > float(table["cost"].sum()) and len(useful):
            return self._questions[useful.iloc[0]["question"]]
        return None

    def answer(self, key: str, value: Any) -> Result:
        """Take the answer to question `key` (a value as `infer` takes it, or None for
        "don't know"); returns the updated result. A bad answer raises ValueError and
        changes nothing."""
        q = self.question(key)
        if key != Q.WHICH and (key in self._done or not Q.is_open(q, self._nodes)):
            raise ValueError(f"{key}: already answered")
        if key == Q.WHICH and not self._which:
            raise ValueError(f"{key}: asked only after a yes to {Q.SCREEN}")
        if key == Q.WHICH and (value is None or (isinstance(value, float) and np.isnan(value))):
            # a yes to the screen is an emergency whichever sign it is: it cannot be
            # left unknown, or the advice would forget it
            raise ValueError(f"{key}: say which sign (at least one); a yes to {Q.SCREEN} means an emergency")
        if value is None or (isinstance(value, float) and np.isnan(value)):
            self._done.add(key)
            self._which = False
            self.asked.append((key, None))
            return self.result
        nodes = Q.answer_nodes(self.network, q, value, self._nodes)
        for node, state in nodes.items():
            if self._nodes.get(node, state) != state:
                raise ValueError(f"{key}: sets {node}={state}, but it is already {self._nodes[node]}")
        merged = {**self._nodes, **nodes}
        result = infer(merged, network=self.network)  # raises on a contradiction; nothing changed yet
        self._which = key == Q.SCREEN and not nodes
        if self._which:
            # a yes: at least one emergency sign, each an emergency rule, so P(emergency)
            # is exactly 1 until the person says which (the causes are those before it)
            levels = result.triage.index
            result = dataclasses.replace(
                result,
                triage=pd.Series([0.0] * (len(levels) - 1) + [1.0], index=levels, name=result.triage.name),
                urgency=1.0,
                advice=levels[-1],
                advice_reason="a yes to an emergency sign (at least emergency)",
            )
        self._nodes, self.result = merged, result
        self._done.add(key)
        self.asked.append((key, value))
        return result
