"""The `twitchdx` command line (SPEC §5)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from typing import Any, Sequence, TextIO

from . import vocabulary as V
from .evidence import LIST_KEYS, USER_KEYS

# SPEC §7.6 (amended): sudden one-sided weakness or numbness is now an item with an
# emergency rule (`sudden_one_sided`); the other stroke-like presentations stay outside
STROKE_WARNING = (
    "Sudden slurred speech or trouble swallowing, sudden one-sided weakness or numbness, or "
    "the worst headache of your life: call emergency services now."
)
YES, NO = ("yes", "y", "true"), ("no", "n", "false")
# One line of meaning for each evidence key (SPEC §2's tables), shown in --help.
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


def _add_evidence_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("evidence (every key optional; leave out what is unknown)")
    for key in USER_KEYS:
        group.add_argument(f"--{key.replace('_', '-')}", dest=key, metavar="VALUE", help=_states_help(key))


def _parse_value(key: str, raw: str) -> Any:
    if key not in LIST_KEYS and key not in ("duration", "age") and V.node_states(key) == V.BINARY_STATES:
        word = raw.strip().lower()
        if word in YES or word in NO:
            return word in YES
        raise ValueError(f"{key}: {raw!r} is not a yes/no answer; allowed: yes, no")
    if key in LIST_KEYS:
        return [t.strip() for t in raw.replace(";", ",").split(",") if t.strip()]
    if key in ("duration", "age"):
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def evidence_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {k: _parse_value(k, getattr(args, k)) for k in USER_KEYS if getattr(args, k, None) is not None}


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
    from .api import infer
    from .network import load_network

    net = load_network(args.priors)
    if args.intervals is not None:
        import numpy as np

        r = infer(evidence_from_args(args), network=net, intervals=args.intervals, rng=np.random.default_rng(args.seed))
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
YES_NO = {"y": "yes", "yes": "yes", "true": "yes", "n": "no", "no": "no", "false": "no"}
# questions answered with a number of these units (the bands are named by words)
NUMBER_ANSWERS = {"duration": "days", "age": "years"}


def _ask_line(q, out: TextIO) -> None:
    print(q.text, file=out)
    if q.key in NUMBER_ANSWERS:
        for key, label in q.answers.items():
            print(f"  - {key}: {label}", file=out)
        how = f"a number of {NUMBER_ANSWERS[q.key]}, or one of the words"
    else:
        for i, label in enumerate(q.answers.values(), 1):
            print(f"  {i}) {label}", file=out)
        how = "numbers or words, separated by commas" if q.multiple else "a number or a word"
    print(f"  ({how}; ? for help, blank: don't know, q: stop)", file=out)


def _ask_value(q, line: str) -> Any:
    """The answer typed for question `q`: numbers of the listed answers, their words, or
    (duration, age) a number of days or years."""
    keys = list(q.answers)
    labels = {label.lower(): key for key, label in q.answers.items()}

    def one(token: str) -> Any:
        token = token.strip().lower()
        if q.key in NUMBER_ANSWERS:
            try:
                return float(token)
            except ValueError:
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
    from .interview import Interview
    from .network import load_network

    iv = Interview(evidence_from_args(args), network=load_network(args.priors))
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
            print(f"  {_one_line(e)}", file=out)
    print(f"Questions asked: {len(iv.asked)}", file=out)
    r = iv.result
    _print_result(r, _reasons(r), out)
    return 0


def cmd_export(args, out: TextIO) -> int:
    from .export import write
    from .network import load_network

    write(load_network(args.priors), args.output, args.format)
    print(f"wrote {args.output} ({args.format})", file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twitchdx", description="Why do my muscles twitch? Exact Bayesian-network answers.",
        epilog=EXAMPLES + "One command's options: twitchdx COMMAND --help.", formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "infer", help="rank the causes for one case",
        description="Rank the causes of one case, with the triage distribution, the advice and the top reasons.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_evidence_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--intervals", type=int, metavar="N", help="also the 5-95%% interval of each answer over N networks redrawn from the priors' ranges")
    p.add_argument("--seed", type=int, default=0, help="seed of the --intervals draws (default: 0)")
    p.add_argument("--priors", help="another priors folder")
    p = sub.add_parser("ask", help="ask the next best question, one at a time (answers on standard input)")
    _add_evidence_options(p)
    p.add_argument("--priors", help="another priors folder")
    p = sub.add_parser("export", help="write the network for other tools")
    p.add_argument("--format", choices=("bif", "xmlbif"), default="bif")
    p.add_argument("--output", required=True, help="file to write")
    p.add_argument("--priors", help="another priors folder")
    from .commands import add_commands

    add_commands(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the command line; returns the exit code: 0 success, 2 bad input (a one-line
    message on stderr, never a traceback), 1 a missing optional dependency (with the
    extra to install)."""
    out = stdout or sys.stdout
    parser = build_parser()
    captured = io.StringIO()
    try:
        # argparse reports a bad option as a usage block and exits: keep only its message
        with contextlib.redirect_stderr(captured):
            args = parser.parse_args(argv)
    except SystemExit as e:
        if e.code in (0, None):  # --help, printed on stdout
            raise
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        message = lines[-1] if lines else "bad arguments"
        message = message.split(": error: ", 1)[-1]
        print(f"twitchdx: error: {_one_line(message)} (see twitchdx --help)", file=sys.stderr)
        return 2
    try:
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
