"""`twitchdx fit cases.csv --out priors-fitted/`: learn the numbers from a case file
(`model.learning.fit`, docs/fitting.md) and write them as a priors folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO


def _positive_float(raw: str) -> float:
    try:
        x = float(raw)
    except ValueError:
        x = None
    if x is None or not x >= 0 or x != x or x == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {raw}")
    return x


def _whole(what: str):
    def parse(raw: str) -> int:
        try:
            x = int(raw)
        except ValueError:
            x = 0
        if x < 1:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what} >= 1, got {raw}")
        return x

    return parse


def add_fit_command(sub) -> None:
    """Register `twitchdx fit` on the command line's subparsers."""
    p = sub.add_parser(
        "fit",
        help="learn the model's numbers from a case file and write them as a priors folder",
        description="Fit the network's numbers to a case file by EM (exact E-step, each number's prior "
        "from its range in priors/), write the fitted priors folder to --out (every fitted number's "
        "source names the fit's bibliography entry: the file, its size, the date, the settings), and "
        "print what moved most and the log-likelihood trace. Defaults come from the priors' fit.toml.",
    )
    p.add_argument("cases", metavar="CASES", help="a case file, .csv or .parquet: one case a row, a column an evidence key")
    p.add_argument("--out", required=True, metavar="FOLDER", help="the fitted priors folder to write (new or empty)")
    p.add_argument("--labels", metavar="COLUMN", help="a column of confirmed causes (a cause name, or empty)")
    p.add_argument("--strength", type=_positive_float, help="how much each range is worth (default: fit.toml; 0: maximum likelihood)")
    p.add_argument("--max-iter", type=_whole("iterations"), help="EM iterations at most (default: fit.toml)")
    p.add_argument("--tol", type=_positive_float, help="stop below this rise of the log posterior per case (default: fit.toml)")
    p.add_argument("--index-col", metavar="COLUMN", help="a column of the case file that names the cases")
    p.add_argument("--top", type=_whole("numbers"), default=10, help="numbers shown in the summary (default: 10)")
    p.add_argument("--priors", help="the starting priors folder (default: the bundled one)")
    p.set_defaults(run=cmd_fit)


def cmd_fit(args, out: TextIO) -> int:
    from .commands import read_cases
    from ..learning.fit import fit, write_priors
    from ..network.build import load_network

    folder = Path(args.out)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"--out: {args.out} exists and is not an empty folder; give a new one")
    net = load_network(args.priors)
    cases = read_cases(args.cases, index_col=args.index_col)
    name = "standard input" if args.cases == "-" else Path(args.cases).name
    result = fit(cases, network=net, labels=args.labels, strength=args.strength, max_iter=args.max_iter,
                 tol=args.tol, name=name, progress=True)
    write_priors(result.network, folder)
    print(result.summary(top=args.top), file=out)
    print(f"wrote {folder} ({result.seconds_per_iteration:.1f} s an iteration)", file=out)
    return 0
