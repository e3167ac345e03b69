"""People who answer questions: a person answering `twitchdx ask` from their own answers
(user keys, as `infer` takes them), reading the question the command printed last, blank
for what they don't know; and a standardized patient who answers only what is asked."""

import io

from model import load_network
from model.network import rules as T
from model.validation import scoring as TS
from model.network.evidence import USER_KEYS
from model.network.questions import SCREEN, WHICH
from model.network.vocabulary import BINARY_FINDINGS

_QUESTIONS = T.triage_of(load_network()).questions


def knows(person, key):
    """What a person who knows `person` (user keys; missing: don't know) answers to the
    question `key` of the interview, as the interview takes it (None: don't know). A
    group question is answered with the signs present when every one is known."""
    if key in person:
        return person[key]
    return TS.knows(_QUESTIONS[key], person)


def standardized(evidence):
    """A standardized patient from a written presentation: the signs it names as they
    are, every other sign absent (a person has what they have when asked, no
    otherwise), context it does not name unknown."""
    person = dict(evidence)
    for key in ("weakness", "progression"):
        person.setdefault(key, "none" if key == "weakness" else "stable_or_improving")
    for f in BINARY_FINDINGS:
        if f in USER_KEYS:
            person.setdefault(f, False)
    if person.get("weakness", "none") != "none":
        person.setdefault("weakness_where", [])
    return person


def interview(person, *, goal="causes", evidence=None, network=None):
    from model import Interview

    iv = Interview(evidence, goal=goal, network=network)
    while (q := iv.next_question()) is not None:
        iv.answer(q.key, knows(person, q.key))
    return iv


class Respondent(io.StringIO):
    def __init__(self, person, out):
        super().__init__()
        self.person, self.out = dict(person), out
        self.by_text = {q.text: q for key, q in _QUESTIONS.items() if key != "default"}

    def readline(self):
        asked = [line for line in self.out.getvalue().splitlines() if line in self.by_text]
        q = self.by_text[asked[-1]]
        value = knows(self.person, q.key) if (q.group or q.key in (SCREEN, WHICH)) else self.person.get(q.key)
        if value is None:
            return "\n"
        if isinstance(value, list):
            value = ",".join(value) or "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        return f"{value}\n"
