"""Further subcommands (validate, sweep) register here."""

from __future__ import annotations

from typing import TextIO


def _add_validate(sub) -> None:
    from .report import WORLDS

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
    from . import report
    from .network import load_network

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
    from . import sweep as S
    from .network import load_network
    from .settings import load_settings

    settings = load_settings(load_network(args.priors))
    grid = {
        "world": list(dict.fromkeys(args.world)),
        "missing": args.missing or [settings.missing],
        "n": args.cases or [settings.cases],
        "seed": args.seed or [settings.seed],
        "draw": args.draws,
    }
    fixed = {"priors": args.priors} if args.priors else None
    retries = S.DEFAULT_RETRIES if args.retries is None else args.retries
    result = S.run_sweep(grid, fixed=fixed, workers=args.workers, scheduler=args.scheduler, serial=args.serial, retries=retries, progress=True)
    path = S.write_sweep_report(args.out, result)
    print(f"{result!r}; {result.cells_per_minute:.1f} cells a minute", file=out)
    if len(result.failures):
        print(f"failed cells:\n{result.failures.to_string()}", file=out)
    print(f"wrote {path} and {path.parent / 'sweep.parquet'}", file=out)
    return 0 if not len(result.failures) else 1


def add_commands(sub) -> None:
    _add_validate(sub)
    _add_sweep(sub)
