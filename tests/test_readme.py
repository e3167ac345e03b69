"""Every example of README.md, run and compared with what the README shows (issue 26 item 2).

The runner reads README.md's fenced blocks:

* ```python blocks of statements ("From code", the interview): run in order in one
  namespace; a top-level expression whose line carries a comment with numbers or quoted
  words (`r.triage  # self_care 0.716, routine 0.267`) is compared with its value: a
  number after a name is that entry of the value (a Series' index), the other numbers
  the value's unnamed numbers in order, each to the digits shown; quoted words must be
  among the value's strings.
* ```python blocks of `>>>` lines (doctest style): each example's printed value against
  the lines under it.
* ```bash blocks and ``` blocks of `$ command` lines: each command run in a shell (the
  package's `twitchdx` on PATH, in a temporary folder); lines under a `$` command are
  its expected output.

Output is compared line by line: the words exactly (runs of spaces as one), each number
to the digits the README shows; a `...` line stands for any lines. Blocks and commands
that install, run the suite itself, need an extra that is missing or take minutes are
skipped (or run smaller) with the reason in `POLICY`; the test ids name each block by its
line in README.md.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# A command (its start, after `$ ` or on a bash line) -> what the runner does with it:
# ("skip", reason), ("run", None) or ("smaller", replacement command, reason): run at a
# smaller size; its output is then not compared (the README shows none for these).
POLICY = [
    ("python3 -m venv", ("skip", "installs the package: the suite runs inside that install")),
    ("pip install", ("skip", "installs the package: the suite runs inside that install")),
    ("python -m pytest", ("skip", "the test suite itself")),
    ("twitchdx validate --cases 1000", ("smaller", "twitchdx validate --cases 60 --world model --interviews 3 --no-vignettes --out validation-report",
                                        "about a minute at the README's size (1,000 cases in four worlds, 400 interviews): run with 60 cases "
                                        "of one world; the README shows no output for it")),
    ("twitchdx sweep", ("smaller", "twitchdx sweep --world model --missing 0.1 --cases 60 --seed 1 --serial --out sweep-report",
                        "about a minute at the README's size on a local Dask cluster, and its figures are wall times and cell "
                        "counts of that size: run one cell serially (needs the sweep extra), its output not compared")),
    ("twitchdx export", ("skip", "the exported network's example: tests/test_export.py::test_the_readme_pgmpy_example_reproduces_infer runs it")),
    ("git worktree add", ("skip", "makes a checkout of another version outside the repository (the benchmark's comparison)")),
    ("python benchmarks/run.py --against", ("skip", "the full benchmark on two checkouts, about 20 minutes a side: "
                                                    "tests/test_benchmark.py runs its small mode with --against")),
]
# Extras a block or command needs: module -> install line.
EXTRAS = {
    "pgmpy": "pip install -e .",
    "distributed": 'pip install -e ".[sweep]"',
    "pyarrow": 'pip install -e ".[sweep]"',
}
# Placeholders of the examples, read as: text -> runnable text (with the reason).
PLACEHOLDERS = {
    '"path/to/priors"': (repr(str(ROOT / "priors")), "the bundled priors stand for the reader's edited copy"),
    "iv.answer(q.key, ...)": ("iv.answer(q.key, None)", "'...' is the reader's answer: the runner says don't know"),
}

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)")


@dataclass
class Block:
    lang: str
    line: int  # of the opening fence, 1-based
    text: str

    @property
    def id(self) -> str:
        return f"{self.lang or 'text'}-line{self.line}"


def blocks(text: str) -> list[Block]:
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if m:
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            out.append(Block(m.group(1), i + 1, "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    return out


def _examples():
    """The README's runnable blocks: python ones, and bash or plain ones holding commands."""
    found = []
    for b in blocks(README.read_text()):
        if b.lang == "python" or (b.lang in ("bash", "") and (b.lang == "bash" or b.text.lstrip().startswith("$ "))):
            found.append(b)
    return found


EXAMPLES = _examples()


# -- comparing ------------------------------------------------------------------------


def _split(line: str) -> tuple[str, list[str]]:
    """A line's words (numbers replaced by #, spaces collapsed) and its numbers."""
    numbers = NUMBER.findall(line)
    words = " ".join(NUMBER.sub("#", line).split())
    return words, numbers


def _same_number(shown: str, actual: str) -> bool:
    """`actual` rounded to the digits `shown` has is `shown`."""
    digits = len(shown.split(".")[1]) if "." in shown else 0
    return f"{float(actual):.{digits}f}" == f"{float(shown):.{digits}f}"


def line_matches(shown: str, actual: str) -> bool:
    (w1, n1), (w2, n2) = _split(shown), _split(actual)
    return w1 == w2 and len(n1) == len(n2) and all(_same_number(a, b) for a, b in zip(n1, n2))


def compare_output(shown: list[str], actual: list[str], what: str) -> None:
    """Each shown line against the actual lines in order; `...` skips any lines."""
    j, skip = 0, False
    for line in shown:
        if line.strip() == "...":
            skip = True
            continue
        if skip:
            while j < len(actual) and not line_matches(line, actual[j]):
                j += 1
        if j >= len(actual) or not line_matches(line, actual[j]):
            got = actual[j] if j < len(actual) else "(no more output)"
            pytest.fail(f"{what}: README shows\n  {line}\nbut the example prints\n  {got}\n\nwhole output:\n" + "\n".join(actual))
        j, skip = j + 1, False


def _flatten(value) -> list[tuple[str | None, object]]:
    if isinstance(value, pd.Series):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, (tuple, list)):
        return [item for v in value for item in _flatten(v)]
    if isinstance(value, (bool, np.bool_)):
        return []
    if isinstance(value, (int, float, np.integer, np.floating, str)):
        return [(None, value)]
    return []


COMMENT_ITEM = re.compile(r"(?:([A-Za-z_][\w:=>.-]*)\s+)?(?<![\w.])(-?\d+(?:\.\d+)?)(?![\w.]*\w)|'([^']*)'")


def compare_comment(value, comment: str, what: str) -> int:
    """The numbers and quoted words of `comment` against `value`; returns how many."""
    items = _flatten(value)
    named = {k: v for k, v in items if k is not None}
    unnamed = [v for k, v in items if k is None and not isinstance(v, str)]
    words = {v for _, v in items if isinstance(v, str)}
    checked, order = 0, []
    for m in COMMENT_ITEM.finditer(comment):
        name, number, quoted = m.groups()
        if quoted is not None:
            assert quoted in words, f"{what}: the comment shows {quoted!r}; the value is {value!r}"
        elif name is not None and name in named:
            order.append(list(named).index(name))
            assert _same_number(number, repr(float(named[name]))), f"{what}: the comment shows {name} {number}; the value is {float(named[name])!r}"
        else:
            assert unnamed, f"{what}: the comment shows the number {number}, but the value {type(value).__name__} has none to compare"
            v = unnamed.pop(0)
            assert _same_number(number, repr(float(v))), f"{what}: the comment shows {number}; the value is {float(v)!r}"
        checked += 1
    assert order == sorted(order), f"{what}: the comment lists the entries in another order than the value: {comment!r}"
    return checked


# -- running --------------------------------------------------------------------------


def _needs(text: str) -> None:
    for module, line in EXTRAS.items():
        if re.search(rf"\b{module}\b", text) and importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {module}: {line}")


def _placeholders(source: str) -> str:
    for text, (runnable, _) in PLACEHOLDERS.items():
        source = source.replace(text, runnable)
    return source


def _comments(source: str) -> dict[int, str]:
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    import matplotlib.pyplot as plt

    plt.close("all")


def run_statements(block: Block) -> int:
    """Run a block of statements; compare each commented top-level expression."""
    source = _placeholders(block.text)
    comments = _comments(source)
    namespace: dict = {"__name__": "__readme__"}
    checked = 0
    for node in ast.parse(source).body:
        code = ast.get_source_segment(source, node)
        where = f"README.md line {block.line + node.lineno}: {code.splitlines()[0]}"
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), where, "eval"), namespace)
            comment = comments.get(node.end_lineno)
            if comment and COMMENT_ITEM.search(comment) and not comment.startswith("e.g."):
                checked += compare_comment(value, comment, where)
        else:
            exec(compile(ast.Module([node], []), where, "exec"), namespace)
    return checked


def run_doctest(block: Block) -> int:
    """Run `>>>` examples; compare each one's printed value with the lines under it."""
    namespace: dict = {"__name__": "__readme__"}
    lines, i, checked = block.text.splitlines(), 0, 0
    while i < len(lines):
        if not lines[i].startswith(">>> "):
            i += 1
            continue
        source = [lines[i][4:]]
        i += 1
        while i < len(lines) and lines[i].startswith("... "):
            source.append(lines[i][4:])
            i += 1
        shown = []
        while i < len(lines) and not lines[i].startswith(">>> "):
            shown.append(lines[i])
            i += 1
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile("\n".join(source) + "\n", "<README>", "single"), namespace)
        compare_output([s for s in shown if s.strip()], out.getvalue().splitlines(), f"README.md: >>> {source[0]}")
        checked += len(shown)
    return checked


def _commands(block: Block) -> list[tuple[str, list[str]]]:
    """(command, the output lines the README shows under it)."""
    out, lines, i = [], block.text.splitlines(), 0
    dollar = block.text.lstrip().startswith("$ ")
    while i < len(lines):
        line = lines[i]
        if dollar and not line.startswith("$ "):
            i += 1
            continue
        command = line[2:] if dollar else line
        while command.rstrip().endswith("\\"):
            i += 1
            command = command.rstrip()[:-1] + " " + lines[i].strip()
        i += 1
        shown = []
        while dollar and i < len(lines) and not lines[i].startswith("$ "):
            shown.append(lines[i])
            i += 1
        if command.strip():
            out.append((command.strip(), shown))
    return out


def _policy(command: str):
    for start, action in POLICY:
        if command.startswith(start):
            return action
    return ("run", None)


def run_command(command: str, shown: list[str], cwd: Path) -> int:
    action = _policy(command)
    if action[0] == "skip":
        return 0
    compare = action[0] == "run"
    if action[0] == "smaller":
        command = action[1]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "80"}
    done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"README command failed ({done.returncode}): {command}\n{done.stderr[-2000:]}"
    if compare and shown:
        compare_output(shown, done.stdout.splitlines(), f"README.md: $ {command}")
    return len(shown) if compare else 0


def _skip_reason(block: Block) -> str | None:
    commands = _commands(block) if block.lang != "python" else []
    actions = [_policy(c)[0] for c, _ in commands]
    if commands and all(a == "skip" for a in actions):
        return "; ".join(sorted({_policy(c)[1] for c, _ in commands}))
    if block.lang == "python" and "pgmpy" in block.text and "XMLBIFReader" in block.text:
        return "the exported network's example: tests/test_export.py::test_the_readme_pgmpy_example_reproduces_infer runs it"
    return None


@pytest.mark.parametrize("block", EXAMPLES, ids=[b.id for b in EXAMPLES])
def test_readme_example_runs_and_prints_what_the_readme_shows(block, workdir):
    reason = _skip_reason(block)
    if reason:
        pytest.skip(reason)
    _needs(block.text)
    if block.lang == "python":
        if block.text.lstrip().startswith(">>> "):
            run_doctest(block)
        else:
            run_statements(block)
        return
    for command, shown in _commands(block):
        if "sweep" in command and command.startswith("twitchdx sweep"):
            for module in ("distributed", "pyarrow"):
                if importlib.util.find_spec(module) is None:
                    pytest.skip(f"twitchdx sweep needs {module}: {EXTRAS[module]}")
        run_command(command, shown, workdir)


def test_the_runner_finds_every_block_and_its_policy_covers_every_command():
    langs = {b.lang for b in blocks(README.read_text())}
    assert langs <= {"python", "bash", ""}, langs  # a new language needs a rule here
    commands = [c for b in EXAMPLES if b.lang != "python" for c, _ in _commands(b)]
    assert commands, "no commands found"
    for c in commands:
        known = c.startswith(("twitchdx", "python", "pip")) or _policy(c)[0] == "skip"
        assert known, f"a README command the runner does not know: {c}"
    assert sum(1 for b in EXAMPLES if b.lang == "python") >= 3


# -- the runner itself fails on a drifted example ---------------------------------------


def test_the_runner_fails_when_a_shown_number_differs():
    compare_output(["urgency 0.0394 at the point"], ["urgency 0.039412 at the point"], "ok")
    with pytest.raises(pytest.fail.Exception, match="README shows"):
        compare_output(["urgency 0.0394 at the point"], ["urgency 0.01176 at the point"], "drift")
    with pytest.raises(pytest.fail.Exception, match="README shows"):
        compare_output(["0  exposure:alcohol_intake=heavy  0.0300"], ["0  leak:weakness=marked  0.0300"], "drift")
    compare_output(["Causes:", "...", "Triage: self_care 71.2%"], ["Causes:", "a", "b", "Triage: self_care   71.2%"], "ok")
    with pytest.raises(pytest.fail.Exception):
        compare_output(["Triage: self_care 71.2%"], ["Triage: self_care 71.6%"], "drift")


def test_the_runner_fails_when_a_comment_differs_from_the_value():
    s = pd.Series({"eyelid_myokymia": 0.33671, "sleep_deprivation": 0.29451})
    assert compare_comment(s, "eyelid_myokymia 0.337, sleep_deprivation 0.295", "ok") == 2
    with pytest.raises(AssertionError, match="the comment shows eyelid_myokymia 0.340"):
        compare_comment(s, "eyelid_myokymia 0.340, sleep_deprivation 0.295", "drift")
    with pytest.raises(AssertionError, match="another order"):
        compare_comment(s, "sleep_deprivation 0.295, eyelid_myokymia 0.337", "drift")
    assert compare_comment((0.01700417, "self_care"), "0.017, 'self_care' (the priors of this commit)", "ok") == 2
    with pytest.raises(AssertionError, match="the comment shows 0.0394"):
        compare_comment((0.01700417, "self_care"), "0.0394, 'self_care'", "drift")
    with pytest.raises(AssertionError, match="'routine'"):
        compare_comment((0.017, "self_care"), "0.017, 'routine'", "drift")


def test_placeholders_are_in_the_readme():
    text = README.read_text()
    for placeholder in PLACEHOLDERS:
        assert placeholder in text, f"PLACEHOLDERS lists {placeholder!r}, which README.md no longer has"
