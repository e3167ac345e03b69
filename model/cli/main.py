"""The `twitchdx` command line (README.md)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from typing import Any, Sequence, TextIO

from ..network import vocabulary as V
from .commands import NeedsExtra
from ..network.evidence import LIST_KEYS, SUGGESTION_CUTOFF, USER_KEYS

# docs/model.md (amended): sudden one-sided weakness or numbness is now an item with an
# emergency rule (`sudden_one_sided`); the other stroke-like presentations stay outside
STROKE_WARNING = (
    "Sudden slurred speech or trouble swallowing, sudden one-sided weakness or numbness, or "
    "the worst headache of your life: call emergency services now."
)
# One line of meaning for each evidence key (docs/model.md's tables), shown in --help.
MEANINGS = {
    "location": "where twitches are felt (arm: hands, thumbs, forearms, biceps; leg: feet, calves, thighs; trunk: back, chest, abdomen; widespread: arm, leg and trunk)",
    "duration": "how long it has gone on",
    "weakness": "mild: feels weak or tires early; marked: drops things, trips, foot drop",
    "weakness_where": "where the weakness is (one_limb: one hand, arm, foot or leg; shoulders_hips: both sides, near the trunk; hands_feet: both hands or both feet; none: all over, or elsewhere); needs weakness mild or marked",
    "progression": "worsening: spreading to new areas or getting stronger",
    "numbness": "numbness, tingling, pins and needles",
    "wasting": "a muscle visibly thinner",
    "cramps": "painful sustained cramps",
    "stiffness": "stiffness, spasticity, trouble relaxing a muscle",
    "pain": "neck, back or limb pain, radiating pain",
    "bulbar": "slurred speech, trouble swallowing, come on over days or more",
    "breathing": "shortness of breath, weak cough",
    "vision": "blurred or double vision, loss of vision",
    "fatigue": "marked tiredness",
    "sweating": "excessive sweating",
    "tremor": "shaking hands, palpitations",
    "joint_pain_or_rash": "joint pain, skin rash",
    "seizure_episode": "rhythmic jerking that spreads, or loss of awareness",
    "tics": "repetitive movements or sounds preceded by an urge, briefly suppressible",
    "abnormal_posture": "sustained twisting, abnormal posture, or forced closing of both eyes",
    "perioral_tingling": "tingling around the mouth or in the fingertips",
    "hand_spasm": "hands or feet locking into a spasm that will not let go, fingers drawn together (tetany)",
    "heat_or_weight_loss": "feeling too hot when others are not, or losing weight without trying",
    "sudden_one_sided": "weakness or numbness of one side of the body or face that came on suddenly (minutes to hours)",
    "fever_or_confusion": "a temperature over 38.3 °C (101 °F), or new confusion or drowsiness",
    "caffeine": "caffeine a day (high: over about 400 mg, about four cups of coffee)",
    "sleep": "sleep (short: under 7 hours most nights)",
    "stress": "stress",
    "exercise": "exercise (recent_strenuous: within 48 hours)",
    "alcohol_intake": "alcohol (heavy use)",
    "diet": "diet (poor: restricted diet, little sun)",
    "age": "age",
    "sex": "sex",
    "smoking": "smokes",
    "fluid_loss": "little water, heavy sweating, vomiting or diarrhoea",
    "eye_strain": "long screen time, dry or irritated eyes",
    "family_history": "ALS/MND, muscular dystrophy or SMA in the family",
    "kidney_disease_known": "known kidney disease",
    "back_or_neck_problem": "known back or neck problem, or a recent injury",
    "new_medication": "one of the listed medicines started, or its dose changed, in the last 4 weeks",
    "alcohol_stopped": "heavy drinking stopped or cut down sharply in the last 3 days (needs alcohol-intake heavy)",
    "medications": "medicines taken",
}
EXAMPLES = """examples:
  twitchdx infer --location eyelid --duration under_1_week --sleep short --caffeine high
  twitchdx infer --location arm,leg --duration 120 --weakness mild --age 55 --json
  twitchdx infer --location widespread --medications none --cramps yes --intervals 200
  twitchdx infer --location leg --weakness mild --weakness-where one_limb --duration 90 --age 62
  twitchdx ask --location arm
  twitchdx infer --input cases.csv --output results.csv
  twitchdx validate --cases 1000 --out validation-report
  twitchdx export --format bif --output twitchdx.bif

Leave out what is unknown: it is summed out exactly. Yes/no items take yes or no.
"""
# A module a command needs that ships in an extra of the package: module -> extra.
EXTRAS = {"distributed": "sweep", "dask": "sweep", "pyarrow": "sweep", "ipywidgets": "notebooks", "pyagrum": "bench", "nbclient": "notebooks"}


def _states_help(key: str) -> str:
    if key == "location":
        states = "any of " + ", ".join(V.REGIONS + tuple(V.REGION_ALIASES)) + " (comma-separated)"
    elif key == "medications":
        states = "any of " + ", ".join(V.MEDICATIONS) + ", or none (comma-separated)"
    elif key == "weakness_where":
        states = "any of " + ", ".join(V.WEAKNESS_WHERE) + ", or none (comma-separated)"
    elif key == "duration":
        states = "a number of days, or one of " + ", ".join(V.ORDINAL_FINDINGS["duration"])
    elif key == "age":
        states = "a number of years (16-119), or one of " + ", ".join(V.CATEGORICAL_EXPOSURES["age"])
    elif V.node_states(key) == V.BINARY_STATES:
        states = "yes or no"
    else:
        states = "one of " + ", ".join(V.node_states(key))
    meaning = MEANINGS.get(key)
    return f"{meaning} [{states}]" if meaning else states


def option(key: str) -> str:
    """The command-line option of an evidence key: weakness_where -> --weakness-where."""
    return f"--{key.replace('_', '-')}"


def _add_evidence_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("evidence (every key optional; leave out what is unknown)")
    for key in USER_KEYS:
        group.add_argument(option(key), dest=key, metavar="VALUE", help=_states_help(key))


# the ages the model takes, as --help states them: a number of years (16-119)
AGE_YEARS = (16, 120)


def _number(raw: str) -> float | int | None:
    """A number typed on the command line, an int when it is whole ("5" -> 5, so that a
    message shows it as typed), else a float; None when it is not a number."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return int(value) if value.is_integer() and "." not in raw and "e" not in raw.lower() else value


def _parse_value(key: str, raw: str) -> Any:
    if key not in LIST_KEYS and key not in ("duration", "age") and V.node_states(key) == V.BINARY_STATES:
        word = raw.strip().lower()
        if word in V.YES_WORDS or word in V.NO_WORDS:
            return word in V.YES_WORDS
        raise ValueError(f"{option(key)}: {raw!r} is not a yes/no answer; allowed: yes, no")
    if key in LIST_KEYS:
        return [t.strip() for t in raw.replace(";", ",").split(",") if t.strip()]
    if key in ("duration", "age"):
        value = _number(raw)
        if value is None:
            return raw
        if key == "age" and not AGE_YEARS[0] <= value < AGE_YEARS[1]:  # also inf and nan
            raise ValueError(f"--age: {raw} is not an age the model takes: {_states_help('age').split('[', 1)[1].rstrip(']')}")
        return value
    return raw


def evidence_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The evidence options given, as `infer` takes them; a value `infer` refuses is a
    ValueError that names the option as typed (`--weakness-where: ...`)."""
    from ..network.evidence import encode

    evidence = {k: _parse_value(k, getattr(args, k)) for k in USER_KEYS if getattr(args, k, None) is not None}
    try:
        encode(evidence)
    except ValueError as e:
        message = str(e)
        key = message.split(":", 1)[0]
        if key in evidence:  # "age: ..." -> "--age: ..."
            message = option(key) + message[len(key):]
        raise ValueError(message) from None
    return evidence


def user_evidence(evidence) -> dict[str, Any]:
    """Node evidence (`Result.evidence`) in the user's keys: `location`, `medications` and
    `weakness_where` as lists (when all their nodes are known), yes/no items as booleans,
    the rest as their state; keys in the order of `--help`."""
    out: dict[str, Any] = {}
    groups = (
        ("location", V.REGION_NODES, V.REGIONS),
        ("medications", V.MEDICATION_NODES, V.MEDICATIONS),
        ("weakness_where", V.WEAKNESS_WHERE_NODES, V.WEAKNESS_WHERE),
    )
    grouped = set()
    for key in USER_KEYS:
        for name, nodes, words in groups:
            if key == name and all(n in evidence for n in nodes):
                out[key] = [w for n, w in zip(nodes, words) if evidence[n] == "present"]
                grouped.update(nodes)
        if key in evidence:
            state = evidence[key]
            out[key] = (state == "present") if V.node_states(key) == V.BINARY_STATES else state
    for node, state in evidence.items():  # a region or medication given on its own
        if node not in out and node not in grouped:
            out[node] = state == "present"
    return out


def _result_dict(r, reasons) -> dict:
    return {
        "evidence": user_evidence(r.evidence),
        "causes": {c: float(p) for c, p in r.causes.items()},
        "triage": {k: float(p) for k, p in r.triage.items()},
        "urgency": r.urgency,
        "advice": r.advice,
        "advice_reason": r.advice_reason,
        "reasons": reasons.to_dict(orient="records"),
        "note": STROKE_WARNING,
        **({"intervals": r.intervals.to_dict(orient="index")} if r.intervals is not None else {}),
    }


def _print_result(r, reasons, out: TextIO, top: int = 10) -> None:
    width = max(len(c) for c in r.causes.index[:top])
    print("Causes, P(present | evidence):", file=out)
    band = r.intervals
    for c, p in r.causes.head(top).items():
        bar = "#" * int(round(40 * p))
        span = f"  [{band.loc[c].iloc[0]:6.2%} - {band.loc[c].iloc[-1]:6.2%}]" if band is not None else ""
        print(f"  {c:<{width}}  {p:8.2%}{span}  {bar}", file=out)
    if band is not None:
        print(f"  [{band.columns[0]} - {band.columns[-1]}] over {band.attrs.get('draws', '?')} networks redrawn from the ranges in priors/", file=out)
    print("Triage:", "  ".join(f"{k} {p:.1%}" for k, p in r.triage.items()), file=out)
    urgency_band = f" [{band.loc['urgency'].iloc[0]:.2%} - {band.loc['urgency'].iloc[-1]:.2%}]" if band is not None else ""
    print(f"Urgency, P(soon or emergency): {r.urgency:.2%}{urgency_band}", file=out)
    print(f"Advice: {r.advice} ({r.advice_reason})", file=out)
    if len(reasons):
        print("Top reasons:", file=out)
        for row in reasons.itertuples():
            sign = "raises" if row.log_odds_change > 0 else "lowers"
            print(f"  {row.item} {sign} {row.target} ({row.without:.1%} -> {row.with_:.1%})", file=out)
    print(STROKE_WARNING, file=out)


def _reasons(r, k: int = 3):
    table = r.explain()
    table = table[table["log_odds_change"].abs() > 0].head(k)
    return table.rename(columns={"with": "with_"})


def cmd_infer(args, out: TextIO) -> int:
    from ..api import infer
    from ..network.build import load_network

    if args.input is not None:
        given = [option(k) for k in USER_KEYS if getattr(args, k) is not None]
        if given:
            raise ValueError(f"{given[0]}: not with --input (the evidence of a case file is in its columns)")
        for name, value in (("--intervals", args.intervals), ("--json", args.json or None), ("--seed", args.seed)):
            if value is not None:
                raise ValueError(f"{name}: not with --input (a case file's results go to --output, .csv or .parquet)")
        from .commands import infer_file

        return infer_file(args, out)
    for name, value in (("--output", args.output), ("--index-col", args.index_col)):
        if value is not None:
            raise ValueError(f"{name}: only with --input (a case file)")
    net = load_network(args.priors)
    if args.intervals is not None:
        import numpy as np

        seed = 0 if args.seed is None else args.seed
        r = infer(evidence_from_args(args), network=net, intervals=args.intervals, rng=np.random.default_rng(seed))
    else:
        r = infer(evidence_from_args(args), network=net)
    reasons = _reasons(r)
    if args.json:
        json.dump(_result_dict(r, reasons.rename(columns={"with_": "with"})), out, indent=2)
        print(file=out)
    else:
        _print_result(r, reasons, out)
    return 0


# the yes/no words the command line takes everywhere
YES_NO = {**{w: "yes" for w in V.YES_WORDS}, **{w: "no" for w in V.NO_WORDS}}
# questions answered with a number of these units (the bands are named by words)
NUMBER_ANSWERS = {"duration": "days", "age": "years"}


# a duration typed with its unit ("3 days", "2 weeks", "3 months"): the unit's length in days
DURATION_UNITS = {"day": 1.0, "days": 1.0, "d": 1.0, "week": 7.0, "weeks": 7.0, "w": 7.0,
                  "month": 365.25 / 12, "months": 365.25 / 12, "year": 365.25, "years": 365.25, "y": 365.25}


def _how(q) -> str:
    if q.key in NUMBER_ANSWERS:
        unit = NUMBER_ANSWERS[q.key]
        extra = " (or '3 days', '2 weeks', '3 months')" if q.key == "duration" else ""
        return f"a number of {unit}{extra}, or one of the words"
    if getattr(q, "group", False):
        return "the numbers or words of every one that is true, separated by commas (\"1,3\"), or none"
    return "numbers or words, separated by commas" if q.multiple else "a number or a word"


def _ask_line(q, out: TextIO) -> None:
    print(q.text, file=out)
    if q.key in NUMBER_ANSWERS:
        for key, label in q.answers.items():
            print(f"  - {key}: {label}", file=out)
    else:
        for i, label in enumerate(q.answers.values(), 1):
            print(f"  {i}) {label}", file=out)
    print(f"  ({_how(q)}; ? for help, blank: don't know, q: stop)", file=out)


def _bad_answer(q, typed: str, error: ValueError) -> str:
    """A bad answer explained in the question's words, not its key."""
    listed = "; ".join(f"{i}) {label}" for i, label in enumerate(q.answers.values(), 1))
    why = str(error).split("\n")[0]
    why = why.split(": ", 1)[1] if why.startswith(f"{q.key}: ") else why
    for key, label in q.answers.items():  # name the answers by their words
        why = why.replace(f"'{key}'", f"'{label}'")
    return f"{typed!r} does not answer \"{q.text}\" ({why}). Answer with {_how(q)}: {listed}"


def _ask_value(q, line: str) -> Any:
    """The answer typed for question `q`: numbers of the listed answers, their words, or
    (duration, age) a number of days or years ("3 days", "2 weeks", "3 months" for a
    duration); a group question also takes yes or any (at least one, not said which)."""
    keys = list(q.answers)
    labels = {label.lower(): key for key, label in q.answers.items()}
    # "yes" or "any" to a group: at least one, not said which. Not "1": a number is the
    # sign listed under it ("1" alone is the first sign, as "1,3" are the first and third)
    if getattr(q, "group", False) and line.strip().lower() in V.ANY_WORDS and not line.strip().isdigit():
        return "any"

    def one(token: str) -> Any:
        token = token.strip().lower()
        if q.key in NUMBER_ANSWERS:
            try:
                return float(token)
            except ValueError:
                pass
            parts = token.split()
            if q.key == "duration" and len(parts) == 2 and parts[1] in DURATION_UNITS:
                try:
                    return float(parts[0]) * DURATION_UNITS[parts[1]]
                except ValueError:
                    pass
            return labels.get(token, token)
        if token.isdigit() and 1 <= int(token) <= len(keys):
            return keys[int(token) - 1]
        if token in labels:
            return labels[token]
        if set(keys) == {"yes", "no"} and token in YES_NO:
            return YES_NO[token]
        # the first words of one label ("no" for "no, the same or better")
        starting = [key for label, key in labels.items() if label.startswith(token)]
        return starting[0] if len(starting) == 1 and token else token

    if q.multiple:
        chosen = [one(t) for t in line.replace(";", ",").split(",") if t.strip()]
        return [] if chosen == ["none"] else chosen
    return one(line)


def cmd_ask(args, out: TextIO, stdin: TextIO) -> int:
    """A thin shell over `model.Interview`: its questions in its words, one at a time."""
    from ..interactive.interview import Interview
    from ..network.build import load_network

    iv = Interview(evidence_from_args(args), network=load_network(args.priors), goal=args.goal)
    while (q := iv.next_question()) is not None:
        _ask_line(q, out)
        line = stdin.readline()
        if not line or line.strip().lower() in ("q", "quit"):
            break
        if iv.emergency_flagged and not line.strip():
            print("  Say which, by number or word: a yes to any of them means an emergency.", file=out)
            continue
        typed = line.strip()
        if typed == "?":
            print(f"  {q.help or 'No more to say about this question.'}", file=out)
            continue
        try:
            iv.answer(q.key, _ask_value(q, typed) if typed else None)
        except ValueError as e:
            print(f"  {_one_line(_bad_answer(q, typed, e))}", file=out)
    print(f"Questions asked: {len(iv.asked)}", file=out)
    r = iv.result
    _print_result(r, _reasons(r), out)
    return 0


def cmd_export(args, out: TextIO) -> int:
    from ..network.export import write
    from ..network.build import load_network

    write(load_network(args.priors), args.output, args.format)
    print(f"wrote {args.output} ({args.format})", file=out)
    return 0


class _Store(argparse._StoreAction):
    """argparse's `store`, remembering every value an option was given (a repeated
    option with two values is an error: `check_repeats`)."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = getattr(namespace, "_given", None)
        if given is None:
            given = {}
            setattr(namespace, "_given", given)
        given.setdefault(self.dest, []).append((option_string, values))
        super().__call__(parser, namespace, values, option_string)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose options remember repeats (its subcommands' parsers too)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, _Store)
        self.register("action", "store", _Store)


def check_repeats(args: argparse.Namespace) -> None:
    """An option given twice with two values is a ValueError naming it: which answer is
    meant cannot be guessed (the same value twice is taken)."""
    for dest, given in (getattr(args, "_given", None) or {}).items():
        values = list(dict.fromkeys(str(v) for _, v in given))
        if len(values) > 1:
            times = {2: "twice"}.get(len(given), f"{len(given)} times")
            raise ValueError(f"{given[-1][0]}: given {times} ({', then '.join(values)}); give it once")


def whole_number(what: str | None = None, minimum: int | None = None):
    """An argparse type: a whole number (>= minimum), its message naming what it counts."""
    bound = f" of {what}" if what else ""
    bound += f" >= {minimum}" if minimum is not None else ""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or (minimum is not None and value < minimum):
            raise argparse.ArgumentTypeError(f"expected a whole number{bound}, got {raw}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="twitchdx", description="Why do my muscles twitch? Exact Bayesian-network answers.",
        epilog=EXAMPLES + "One command's options: twitchdx COMMAND --help.", formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "infer", help="rank the causes for one case, or for every case of a file",
        description="Rank the causes of one case, with the triage distribution, the advice and the top reasons. "
        "With --input, every case of a CSV or parquet file (one case a row, a column an evidence key as "
        "infer() takes them; empty cells unknown): the results go to --output, or as CSV to standard output.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_evidence_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--intervals", type=whole_number("draws", 1), metavar="N", help="also the 5-95%% interval of each answer over N networks redrawn from the priors' ranges")
    p.add_argument("--seed", type=whole_number(), help="seed of the --intervals draws (default: 0)")
    p.add_argument("--priors", help="another priors folder")
    files = p.add_argument_group("case files")
    files.add_argument(
        "--input", metavar="FILE",
        help="a case file, .csv or .parquet (parquet: the sweep extra), - for CSV on standard input; "
        "the label columns of a sampled case set (true_level, primary, responsible, present, present:<cause>) "
        "are set aside and copied to the output",
    )
    files.add_argument(
        "--output", metavar="FILE",
        help="where the results go, .csv or .parquet (default: CSV on standard output): the row number (0 = the "
        "first case) or the file's index, the label columns, a column a cause (its posterior), a column a triage "
        "level, urgency, advice, and error (why a row failed; the exit code is then 1)",
    )
    files.add_argument("--index-col", metavar="COLUMN", help="a column of the case file that names the cases (default: the row number)")
    p = sub.add_parser("ask", help="ask the next best question, one at a time (answers on standard input)")
    _add_evidence_options(p)
    p.add_argument("--goal", choices=("causes", "triage"), default="causes",
                   help="causes (default): the level and the leading causes; triage: only what settles the advice")
    p.add_argument("--priors", help="another priors folder")
    p = sub.add_parser("export", help="write the network for other tools")
    p.add_argument("--format", choices=("bif", "xmlbif"), default="bif")
    p.add_argument("--output", required=True, help="file to write")
    p.add_argument("--priors", help="another priors folder")
    from .commands import add_commands

    add_commands(sub)
    from .fit import add_fit_command

    add_fit_command(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings if s.startswith("--")]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _nearest(word: str, choices: Sequence[str]) -> str | None:
    """The choice closest to `word` (an option typed with _ for -, or misspelt)."""
    import difflib

    if word.replace("_", "-") in choices:
        return word.replace("_", "-")
    close = difflib.get_close_matches(word, choices, n=1, cutoff=SUGGESTION_CUTOFF)  # as the evidence suggestions
    return close[0] if close else None


def _unrecognized(parser: argparse.ArgumentParser, argv: Sequence[str], extras: list[str]) -> str:
    """The message for arguments no option takes: the first one, with the nearest option
    of its command (`--caffine`: did you mean --caffeine?)."""
    commands = _subparsers(parser)
    command = next((a for a in argv if a in commands), None)
    where = commands[command] if command else parser
    word = extras[0]
    if word.startswith("-"):
        name = word.split("=", 1)[0]
        near = _nearest(name, _option_strings(where))
        hint = f"; did you mean {near}?" if near else ""
        return f"{name} is not an option of {where.prog}{hint} (see {where.prog} --help)"
    return f"unexpected argument {word!r}: every option takes one value (a list is comma-separated: --location arm,leg) (see {where.prog} --help)"


def _argparse_message(parser: argparse.ArgumentParser, text: str) -> str:
    """argparse's usage block cut to its message, naming the option as typed
    ("argument --intervals: ..." -> "--intervals: ...")."""
    import re

    lines = [line for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else "bad arguments"
    prog, _, message = last.rpartition(": error: ")
    message = re.sub(r"^argument ([^:]+): ", r"\1: ", message)
    choice = re.match(r"^(\S+): invalid choice: '([^']*)' \(choose from (.*)\)$", message)
    if choice:  # the same words on every Python (3.12 changed argparse's quoting)
        name, word, choices = choice.group(1), choice.group(2), [c.strip(" '") for c in choice.group(3).split(",")]
        near = _nearest(word, choices)
        hint = f"; did you mean {near}?" if near else ""
        if name == "command":
            message = f"{word!r} is not a command of twitchdx{hint} (commands: {', '.join(choices)})"
        else:
            message = f"{name}: {word!r} is not one of {', '.join(choices)}{hint}"
    return f"{_one_line(message)} (see {prog or 'twitchdx'} --help)"


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the command line; returns the exit code: 0 success, 2 bad input (a one-line
    message on stderr, never a traceback), 1 a missing optional dependency (with the
    extra to install), or rows of a case file that failed (`infer --input`: a summary on
    stderr, the reasons in the output's error column)."""
    out = stdout or sys.stdout
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    captured = io.StringIO()
    try:
        # argparse reports a bad option as a usage block and exits: keep only its message
        with contextlib.redirect_stderr(captured):
            args, extras = parser.parse_known_args(argv)
    except SystemExit as e:
        if e.code in (0, None):  # --help, printed on stdout
            raise
        print(f"twitchdx: error: {_argparse_message(parser, captured.getvalue())}", file=sys.stderr)
        return 2
    if extras:
        print(f"twitchdx: error: {_unrecognized(parser, argv, extras)}", file=sys.stderr)
        return 2
    try:
        check_repeats(args)
        if args.command == "infer":
            return cmd_infer(args, out)
        if args.command == "ask":
            return cmd_ask(args, out, stdin or sys.stdin)
        if args.command == "export":
            return cmd_export(args, out)
        return args.run(args, out)
    except ValueError as e:  # user error: one line, no traceback
        print(f"twitchdx: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except NeedsExtra as e:  # an optional dependency a file format needs
        print(f"twitchdx: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as e:  # an optional dependency: say which extra holds it
        root = (e.name or "").split(".")[0]
        if root not in EXTRAS:
            raise
        extra = EXTRAS[root]
        print(f"twitchdx: error: twitchdx {args.command} needs {root}, from the {extra} extra: pip install 'twitchdx[{extra}]'", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:  # a file the user named cannot be read or written
        where = f"{e.filename}: " if e.filename else ""
        print(f"twitchdx: error: {where}{_one_line(e.strerror or e)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
