"""Further subcommands (validate, sweep) register here."""

from __future__ import annotations

from typing import TextIO


class NeedsExtra(Exception):
    """An optional dependency is missing; the message says which extra installs it."""


def _add_validate(sub) -> None:
    from ..validation.report import WORLDS

    p = sub.add_parser(
        "validate",
        help="synthetic validation on the priors: a report with plots and metrics.json",
        description="Draw synthetic case sets in each world, infer them in batch, score them, "
        "score the clinical vignettes, and write report.md, metrics.json and PNG figures. "
        "Defaults come from priors/validation.toml.",
    )
    p.add_argument("--cases", type=int, help="cases per world (default: validation.toml)")
    p.add_argument("--world", action="append", choices=WORLDS + ("all",), help="a world to run (repeatable; default: all)")
    p.add_argument("--missing", type=float, help="share of answers left empty, 0 to 1")
    p.add_argument("--seed", type=int, help="seed of the case sets")
    p.add_argument("--workers", type=int, help="worker processes")
    p.add_argument("--interviews", type=int, help="cases per world also interviewed, 0 for none (default: validation.toml)")
    p.add_argument("--out", default="validation-report", help="report folder (default: validation-report)")
    p.add_argument("--no-vignettes", action="store_true", help="skip the clinical vignettes")
    p.add_argument("--priors", help="another priors folder")
    p.set_defaults(run=cmd_validate)


def cmd_validate(args, out: TextIO) -> int:
    from ..validation import report as report
    from ..network.build import load_network

    net = load_network(args.priors)
    worlds = None if not args.world or "all" in args.world else list(dict.fromkeys(args.world))
    if args.missing is not None and not 0.0 <= args.missing <= 1.0:
        raise ValueError(f"--missing: {args.missing!r} is outside [0, 1]")
    if args.cases is not None and args.cases < 1:
        raise ValueError(f"--cases: {args.cases!r} is not a positive number of cases")
    if args.interviews is not None and args.interviews < 0:
        raise ValueError(f"--interviews: {args.interviews!r} is not a number of cases (0 or more)")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers: {args.workers!r} is not a positive number of processes")
    validations, vignettes, seconds = report.run(
        network=net, n=args.cases, worlds=worlds, missing=args.missing, seed=args.seed,
        workers=args.workers, vignettes=not args.no_vignettes, progress=True, interviews=args.interviews,
    )
    path = report.write_report(args.out, validations, vignettes, seconds)
    table = report.summary_table(validations)
    with_pd_options(lambda: print(table.to_string(float_format=lambda x: f"{x:.3f}"), file=out))
    if vignettes:
        s = vignettes[0]
        print(
            f"vignettes: {s['vignettes']}, top-1 {s['top1']:.1%}, top-3 {s['top3']:.1%}, "
            f"exact level {s['exact_advice']:.1%}, acceptable advice {s['acceptable_advice']:.1%}, under-triaged {s['under_triaged']}",
            file=out,
        )
    for v in validations:
        iv = v.metrics.get("interview")
        if iv:
            a, b = iv["one_shot"], iv["interview"]
            print(
                f"{v.world}: {iv['cases']} interviewed, {iv['questions_mean']:.1f} questions on average; "
                f"true self_care advised self_care {a['self_care_advised_self_care']['share']:.1%} one-shot, "
                f"{b['self_care_advised_self_care']['share']:.1%} interviewed; soon or emergency advised self_care "
                f"{a['urgent_advised_self_care']['share']:.1%}, {b['urgent_advised_self_care']['share']:.1%}",
                file=out,
            )
            for goal, g in iv.get("goals", {}).items():
                f = g["full"]
                print(
                    f"  goal={goal}, against full information: soon or more advised self_care "
                    f"{f['self_care_when_soon']['count']}/{f['self_care_when_soon']['of']}, below soon "
                    f"{f['below_soon_when_soon']['count']}/{f['below_soon_when_soon']['of']}; self_care kept "
                    f"{f['self_care_kept']['share']:.1%}; silent {g['silent']['count']}/{g['silent']['of']}; "
                    f"{g['questions_mean']:.1f} questions",
                    file=out,
                )
    print(f"wrote {path} ({seconds:.1f} s)", file=out)
    return 0


def with_pd_options(fn):
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        return fn()


def _add_sweep(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="the validation repeated over a grid of worlds, missing shares, case counts, seeds and parameter draws",
        description="Run `twitchdx validate`'s validation on every cell of a grid, one Dask task a cell "
        "(a local cluster by default), and write sweep.parquet, summary.md and figures. "
        "Cells are seeded by their own values: the table does not depend on the workers.",
    )
    p.add_argument("--world", nargs="+", default=["model"], help="worlds (default: model)")
    p.add_argument("--missing", nargs="+", type=float, default=None, help="shares of answers left empty (default: validation.toml)")
    p.add_argument("--cases", nargs="+", type=int, default=None, help="case counts (default: validation.toml)")
    p.add_argument("--seed", nargs="+", type=int, default=None, help="seeds of the case sets (default: validation.toml)")
    p.add_argument("--draws", nargs="+", type=int, default=[0], help="parameter draws: 0 the priors' point, d >= 1 redrawn from the ranges with seed d (default: 0)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="workers of the local Dask cluster (default: the CPU count)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--serial", action="store_true", help="no Dask: one cell after another in this process")
    p.add_argument("--retries", type=int, default=None, help="times a failed cell is run again (default: 1)")
    p.add_argument("--out", default="sweep-report", help="report folder (default: sweep-report)")
    p.add_argument("--priors", help="another priors folder")
    p.set_defaults(run=cmd_sweep)


def cmd_sweep(args, out: TextIO) -> int:
    from ..validation import sweep
    from ..network.build import load_network
    from ..validation.settings import load_settings

    settings = load_settings(load_network(args.priors))
    grid = {
        "world": list(dict.fromkeys(args.world)),
        "missing": args.missing or [settings.missing],
        "n": args.cases or [settings.cases],
        "seed": args.seed or [settings.seed],
        "draw": args.draws,
    }
    fixed = {"priors": args.priors} if args.priors else None
    retries = sweep.DEFAULT_RETRIES if args.retries is None else args.retries
    result = sweep.run_sweep(grid, fixed=fixed, workers=args.workers, scheduler=args.scheduler, serial=args.serial, retries=retries, progress=True)
    path = sweep.write_sweep_report(args.out, result)
    print(f"{result!r}; {result.cells_per_minute:.1f} cells a minute", file=out)
    if len(result.failures):
        print(f"failed cells:\n{result.failures.to_string()}", file=out)
    print(f"wrote {path} and {path.parent / 'sweep.parquet'}", file=out)
    return 0 if not len(result.failures) else 1


def add_commands(sub) -> None:
    _add_validate(sub)
    _add_sweep(sub)


# -- case files: `twitchdx infer --input cases.csv --output results.csv` -------------------

# file suffix -> format; a compressed CSV (.csv.gz ...) is read and written by pandas
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst")


def file_format(path: str, option: str) -> str:
    """"csv" or "parquet", by the file's extension ("-": CSV on standard input/output)."""
    from pathlib import Path

    if path == "-":
        return "csv"
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes = suffixes[:-1]
    kind = FORMATS.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise ValueError(f"{option}: {path}: give a .csv or .parquet file")
    return kind


def _need_pyarrow(path: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ModuleNotFoundError:
        raise NeedsExtra(
            f"{path}: a parquet file needs pyarrow, from the sweep extra: pip install 'twitchdx[sweep]' (or use a .csv file)"
        ) from None


def read_cases(path: str, *, index_col: str | None = None, stdin=None):
    """A case file as the DataFrame `infer` takes: CSV (empty cells unknown; a first
    column without a header, as pandas writes an index, is the index) or parquet."""
    import sys

    import pandas as pd

    name = "standard input" if path == "-" else path
    if file_format(path, "--input") == "parquet":
        _need_pyarrow(path)
        try:
            frame = pd.read_parquet(path)
        except ValueError as e:  # pyarrow's ArrowInvalid: not a parquet file
            raise ValueError(f"{name}: not a parquet file pyarrow can read ({e})") from None
    else:
        try:
            frame = pd.read_csv((stdin or sys.stdin) if path == "-" else path)
        except pd.errors.EmptyDataError:
            raise ValueError(f"{name}: the file is empty (not even a header line)") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as e:
            raise ValueError(f"{name}: not a CSV file pandas can read ({e})") from None
        first = frame.columns[0] if len(frame.columns) else None
        if isinstance(first, str) and first.startswith("Unnamed: 0"):  # an index written by to_csv
            frame = frame.set_index(first)
            frame.index.name = None
    if index_col is not None:
        if index_col not in frame.columns:
            raise ValueError(f"--index-col: {index_col!r} is not a column of {name}; its columns: {', '.join(map(str, frame.columns))}")
        frame = frame.set_index(index_col)
    return frame


def _check_columns(frame, name: str) -> None:
    """A column that is neither an evidence key nor a label (and holds a value) is an
    error for the whole file: its answers would be lost from every row."""
    import difflib

    from ..network.evidence import ALL_KEYS, SUGGESTION_CUTOFF, is_label_column

    unknown = [
        c for c in frame.columns
        if not is_label_column(c) and not (isinstance(c, str) and c in ALL_KEYS) and frame[c].notna().any()
    ]
    if not unknown:
        return

    def near(column) -> str | None:
        close = difflib.get_close_matches(str(column).strip().lower(), ALL_KEYS, n=1, cutoff=SUGGESTION_CUTOFF)
        return close[0] if close else None

    if len(unknown) == 1:
        hint = f"; did you mean {near(unknown[0])!r}?" if near(unknown[0]) else ""
        which = f"column {str(unknown[0])!r} is not an evidence key{hint}"
    else:
        which = f"{len(unknown)} columns are not evidence keys: " + ", ".join(
            f"{str(c)!r}" + (f" (did you mean {near(c)!r}?)" if near(c) else "") for c in unknown
        )
    raise ValueError(
        f"{name}: {which} (the keys are the options of twitchdx infer --help, with _ for -; "
        "a column naming the cases goes in --index-col COLUMN)"
    )


def infer_file(args, out: TextIO, stdin=None) -> int:
    """`twitchdx infer --input FILE [--output FILE]`: every case of the file, its label
    columns copied through, the failed rows' reasons in an `error` column; exit code 1
    and a summary on stderr when a row failed."""
    import sys

    from ..api import infer
    from ..batch import count
    from ..network.build import load_network

    kind = file_format(args.output, "--output") if args.output is not None else "csv"
    if kind == "parquet":
        _need_pyarrow(args.output)
    name = "standard input" if args.input == "-" else args.input
    frame = read_cases(args.input, index_col=args.index_col, stdin=stdin)
    _check_columns(frame, name)
    net = load_network(args.priors)
    batch = infer(frame, network=net, errors="collect")
    table = batch.to_frame()
    for i, column in enumerate(batch.set_aside):  # the labels, first, as they were read
        table.insert(i, column, frame[column].to_numpy())
    table.index.name = frame.index.name if frame.index.name is not None else "row"
    where = args.output if args.output is not None else "the output"
    if args.output is None:
        table.to_csv(out)
    elif kind == "csv":
        table.to_csv(args.output)
    else:
        table.reset_index().to_parquet(args.output, index=False)
    n, failed = len(table), int((~batch.ok).sum())
    if args.output is not None:
        print(f"wrote {args.output}: {count(n, 'case')}", file=out)
    if n == 0:
        print(f"twitchdx: warning: {name} holds no cases; {where} has the columns and no rows", file=sys.stderr)
    if failed:
        theirs = "its reason is" if failed == 1 else "their reasons are"
        print(f"twitchdx: {failed:,} of {count(n, 'row')} failed; {theirs} in the error column of {where}", file=sys.stderr)
        return 1
    return 0
