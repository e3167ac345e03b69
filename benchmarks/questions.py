"""Questions: `Result.next_questions()` one case at a time, and an interview's next question.

`next_questions()` is timed `repeat` times on each case's Result (the median kept), after
a warm-up call. An interview starts from the person's first 5-7 items and answers each
question from their full row (a screen of red flags is answered yes when one is
present, no when every one is known absent, else don't know); every `next_question()`
call is timed. The figure is over the calls that rank the open questions (all but the
red-flag screen and its "which one" follow-up, which are asked first without ranking),
the final call that finds nothing worth asking included.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .context import Context
from .stats import median_of, tails

SETS = ("mix", "few", "multi")
MAX_QUESTIONS = 60  # an interview asks at most this many (a safety stop; none comes near)


def time_next_questions(net, evidence: list[dict], repeat: int, budget: float = math.inf) -> list[float]:
    """Seconds of `next_questions()` a case; cases stop being taken once the set has run
    `budget` seconds (the cases timed are the first ones, in order)."""
    from model import infer

    if evidence:
        infer(evidence[0], network=net).next_questions()
    out = []
    started = time.perf_counter()
    for ev in evidence:
        r = infer(ev, network=net)
        out.append(median_of(r.next_questions, repeat)[0])
        if time.perf_counter() - started > budget:
            break
    return out


def screen_keys() -> tuple[str, ...]:
    """The keys of the red-flag screen and its follow-up (asked without ranking)."""
    try:
        from model.network.questions import SCREEN, WHICH
    except ImportError:
        return ("red_flags", "red_flag_which")
    return (SCREEN, WHICH)


def _yes(value: Any) -> bool:
    try:
        from model.network.vocabulary import YES_WORDS
    except ImportError:  # a checkout from before the layout (--against)
        YES_WORDS = ("yes", "present", "true")
    return value is True or (isinstance(value, str) and value.lower() in YES_WORDS)


def reply(question, answers: dict[str, Any]) -> Any:
    """The person's answer to `question` from their full row (None: don't know).

    A question of several signs (the red-flag screen, its "which one", a group of
    findings) is answered from the signs' own answers: the signs present; else "no" or
    "none" when every sign is known absent; else don't know."""
    if question.key in answers:
        return answers[question.key]
    members = [a for a in question.answers if a not in ("any", "none")]
    if not any(a in answers for a in members):  # the screen: its answers are yes and no, its signs the nodes
        members = list(question.nodes)
    signs = [a for a in members if a in answers]
    if not signs:
        return None
    present = [s for s in signs if _yes(answers[s])]
    every = len(signs) == len(members)
    if not question.multiple:  # the screen: yes or no
        return "yes" if present else ("no" if every and "no" in question.answers else None)
    if present:
        return present
    return "none" if every and "none" in question.answers else None


def interview(net, start: dict, answers: dict) -> dict:
    """One interview: seconds of each `next_question()` call, whether it ranked, the
    keys asked and the advice."""
    from model import Interview

    screens = screen_keys()
    iv = Interview(start, network=net)
    seconds, ranked, asked = [], [], []
    while len(asked) <= MAX_QUESTIONS:
        t = time.perf_counter()
        q = iv.next_question()
        seconds.append(time.perf_counter() - t)
        ranked.append(q is None or q.key not in screens)
        if q is None:
            break
        asked.append(q.key)
        try:
            iv.answer(q.key, reply(q, answers))
        except ValueError:  # an answer this checkout's interview refuses: "don't know"
            iv.answer(q.key, None)
    return {"seconds": seconds, "ranked": ranked, "asked": asked, "advice": iv.result.advice}


def run(ctx: Context) -> tuple[dict, dict]:
    """Figures `questions.<set>.<tail>`, `interview.next.<tail>` (ranking calls),
    `interview.all.<tail>`, `interview.questions_mean`, `interview.seconds_p50`."""
    figures, details = {}, {}
    n = ctx.opt("question_cases")
    for name in SETS:
        evidence = ctx.cases.get(name, [])[:n]
        if not evidence:
            continue
        ctx.say(f"  next_questions(): {name} ({len(evidence)} cases) ...")
        seconds = time_next_questions(ctx.net, evidence, ctx.opt("repeat"), ctx.opt("question_budget"))
        figures.update({f"questions.{name}.{k}": v for k, v in tails(seconds).items()})
        figures[f"questions.{name}.cases"] = float(len(seconds))
        i = int(np.argmax(seconds))
        details[name] = {"seconds": seconds, "worst": {"index": i, "evidence": evidence[i], "seconds": seconds[i]}}
    people = ctx.cases.get("interviews", [])
    if people:
        ctx.say(f"  interviews ({len(people)}) ...")
        interview(ctx.net, people[0]["start"], people[0]["answers"])  # warm-up
        runs, started = [], time.perf_counter()
        for p in people:
            runs.append(interview(ctx.net, p["start"], p["answers"]))
            if time.perf_counter() - started > ctx.opt("question_budget"):
                break
        every = [s for r in runs for s in r["seconds"]]
        ranking = [s for r in runs for s, k in zip(r["seconds"], r["ranked"]) if k]
        figures.update({f"interview.next.{k}": v for k, v in tails(ranking).items()})
        figures.update({f"interview.all.{k}": v for k, v in tails(every).items()})
        figures["interview.next.cases"] = float(len(ranking))
        figures["interview.all.cases"] = float(len(every))
        figures["interview.questions_mean"] = float(np.mean([len(r["asked"]) for r in runs]))
        figures["interview.seconds_p50"] = float(np.median([sum(r["seconds"]) for r in runs]))
        slow = max(range(len(runs)), key=lambda j: max(runs[j]["seconds"]))
        details["interviews"] = {
            "questions": [len(r["asked"]) for r in runs],
            "worst": {"index": slow, "start": people[slow]["start"], "asked": runs[slow]["asked"],
                      "seconds": max(runs[slow]["seconds"])}}
    return figures, details
