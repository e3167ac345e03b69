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
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers: {args.workers!r} is not a positive number of processes")
    validations, vignettes, seconds = report.run(
        network=net, n=args.cases, worlds=worlds, missing=args.missing, seed=args.seed,
        workers=args.workers, vignettes=not args.no_vignettes, progress=True,
    )
    path = report.write_report(args.out, validations, vignettes, seconds)
    table = report.summary_table(validations)
    with_pd_options(lambda: print(table.to_string(float_format=lambda x: f"{x:.3f}"), file=out))
    if vignettes:
        s = vignettes[0]
        print(
            f"vignettes: {s['vignettes']}, top-1 {s['top1']:.1%}, top-3 {s['top3']:.1%}, "
            f"acceptable advice {s['acceptable_advice']:.1%}, under-triaged {s['under_triaged']}",
            file=out,
        )
    print(f"wrote {path} ({seconds:.1f} s)", file=out)
    return 0


def with_pd_options(fn):
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        return fn()


def add_commands(sub) -> None:
    _add_validate(sub)
