"""A person answering `twitchdx ask` from their own answers (user keys, as `infer` takes
them), reading the question the command printed last; blank for what they don't know."""

import io

from model import load_network
from model import triage as T


class Respondent(io.StringIO):
    def __init__(self, person, out):
        super().__init__()
        self.person, self.out = dict(person), out
        self.by_text = {q.text: q for key, q in T.triage_of(load_network()).questions.items() if key != "default"}

    def readline(self):
        asked = [line for line in self.out.getvalue().splitlines() if line in self.by_text]
        value = self.person.get(self.by_text[asked[-1]].key)
        if value is None:
            return "\n"
        if isinstance(value, list):
            value = ",".join(value) or "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        return f"{value}\n"
