"""Recovery on known truth (docs/md): does `model.learning.fit` find a world's numbers?

A *redrawn world* draws every number the fit learns from its range (as
`model.network.draws.redraw_values` does for the validation's redrawn world); the exposures'
population shares and the weakness findings, which the fit does not learn, keep their
bundled values. Cases sampled from that world are fitted from the bundled priors at
each case count, and each number's error to the truth is compared with the prior's.
Numbers the data cannot inform stay at their prior and are counted apart. Held-out
cases from the same world give the log-likelihood per case and top-1 and the advice
against the true level, before (the bundled network) and after (the fitted one), with
the true network's own figures beside them.

    python -m model.learning.recovery                 # 1,000 and 10,000 cases
    python -m model.learning.recovery --full          # and 100,000
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..network import rules as T
from ..batch import infer_batch
from ..inference.engine import Query, evaluate_many, from_states, query_rows
from .fit import WEAKNESS_FAMILY, fit, numbers_of, value_at, values_of
from ..network.build import Network, compile_network, load_network
from ..network.draws import priors_with_values, redraw_values
from ..validation.synthetic import sample_cases


SIZES = (1_000, 10_000)
FULL_SIZES = (1_000, 10_000, 100_000)
HELD_OUT = 5_000
SEED = 28
# redrawn keys the fit does not learn: they keep the bundled value in the true world
NOT_LEARNED = ("exposure",)


def redrawn_world(net: Network, rng: np.random.Generator) -> Network:
    """A world whose every number the fit learns is redrawn from its range."""
    values = redraw_values(net.priors, rng)
    bundled = values_of(net.priors)
    for key in values:
        if key[0] in NOT_LEARNED or (key[0] in ("link", "leak") and key[1] in WEAKNESS_FAMILY):
            values[key] = bundled[key]
    return compile_network(priors_with_values(net.priors, values))


def _truth_values(truth: Network) -> dict:
    return values_of(truth.priors)


def number_errors(start: Network, truth: Network, result) -> pd.DataFrame:
    """Per number: the truth, the prior and the fitted value, their errors to the truth
    (relative risks on the log scale), and whether the data informed it."""
    true_values = _truth_values(truth)
    p = result.parameters
    rows = []
    for num in numbers_of(start.priors):
        if num.name not in p.index or not p.loc[num.name, "fitted"]:
            continue
        t = value_at(true_values, num)
        prior, fitted = p.loc[num.name, "prior"], p.loc[num.name, "fitted_value"]
        log = num.kind == "relative_risk"
        f = (lambda x: math.log(x)) if log else (lambda x: x)
        rows.append({"name": num.name, "kind": num.kind, "truth": t, "prior": prior, "fitted": fitted,
                     "prior_error": abs(f(prior) - f(t)), "fitted_error": abs(f(fitted) - f(t)),
                     "informed": bool(p.loc[num.name, "informed"]), "informed_share": p.loc[num.name, "informed_share"]})
    return pd.DataFrame(rows).set_index("name")


def expected_closer(share) -> np.ndarray:
    """The probability that an exact Bayesian update lands closer to the truth than the
    prior, for a number whose prior variance the data cut by `share` (`informed_share`),
    when the prior is right (the truth drawn from it) and both are normal.

    With the prior N(m, t^2) and the data's estimate x ~ N(truth, s^2), the update is
    m + k (x - m), k = t^2 / (t^2 + s^2) = share. In units of t, with z1 = truth - m and
    z2 the data's standardised error (independent standard normals), the update's error
    is sqrt(k (1 - k)) z2 - (1 - k) z1 and the prior's is z1; the update is closer when
    the point (z1, z2) falls in a double wedge of angle atan((1 + b) / a) + atan((1 - b) / a),
    a = sqrt(k (1 - k)), b = 1 - k: that angle over pi. It is 0.65 at a share of 0.5,
    0.75 at 0.8, 0.81 at 0.9 and 1 at 1: the share of informed numbers an estimate can
    bring closer than their prior is bounded by how much the data informs them, whatever
    the estimate (docs/fitting.md)."""
    k = np.clip(np.asarray(share, dtype=float), 0.0, 1.0)
    inside = (k > 0) & (k < 1)
    a, b = np.sqrt(np.where(inside, k * (1 - k), 1.0)), 1 - k
    angle = np.arctan((1 + b) / a) + np.arctan((1 - b) / a)
    return np.where(inside, angle / np.pi, np.where(k >= 1, 1.0, 0.0))  # share 0: the update is the prior


def held_out_scores(net: Network, cases: pd.DataFrame) -> dict:
    """Log-likelihood per case, top-1 (the primary cause ranked first) and the advice
    against the true level on held-out cases."""
    batch = infer_batch(cases, network=net)
    states = batch.states
    total, _, _ = evaluate_many(net, from_states(net, states.astype(np.int64)), joint=False)
    p_t, _, _ = evaluate_many(net, query_rows(net, Query()), joint=False)
    ll = float(np.log(total).mean() - np.log(p_t.sum()))
    primary = cases["primary"]
    has = primary.notna().to_numpy()
    top = batch.causes.idxmax(axis=1).to_numpy()
    levels = {lv: i for i, lv in enumerate(T.LEVELS)}
    advice = batch.advice.map(levels).to_numpy()
    true = cases["true_level"].map(levels).to_numpy()
    return {
        "loglik_per_case": ll,
        "top1": float((top[has] == primary.to_numpy()[has]).mean()),
        "advice_exact": float((advice == true).mean()),
        "under_triage": float((advice < true).mean()),
        "over_triage": float((advice > true).mean()),
    }


@dataclass
class Recovery:
    """The recovery table (one row a case count), the per-number errors by case count,
    the held-out scores and the time an iteration took."""

    table: pd.DataFrame
    numbers: dict[int, pd.DataFrame]
    fits: dict[int, object]

    def __repr__(self) -> str:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            return self.table.to_string(float_format=lambda x: f"{x:.4g}")


def recovery(sizes=SIZES, *, seed: int = SEED, held_out: int = HELD_OUT, network: Network | None = None,
             max_iter: int | None = None, client=None, progress: bool | None = None) -> Recovery:
    """Fit cases of a redrawn world at each size and compare with the truth (docs/md)."""
    net = network if network is not None else load_network()
    rng = np.random.default_rng(seed)
    truth = redrawn_world(net, rng)
    test = sample_cases(truth, held_out, rng=np.random.default_rng(seed + 1))
    before = held_out_scores(net, test)
    best = held_out_scores(truth, test)
    rows, numbers, fits = [], {}, {}
    for n in sizes:
        cases = sample_cases(truth, n, rng=np.random.default_rng(seed + 2 + n))
        started = time.perf_counter()
        result = fit(cases, network=net, max_iter=max_iter, client=client, name=f"redrawn world {seed}, {n} cases",
                          progress=progress)
        seconds = time.perf_counter() - started
        errors = number_errors(net, truth, result)
        after = held_out_scores(result.network, test)
        informed = errors[errors.informed]
        rest = errors[~errors.informed]
        rows.append({
            "cases": n,
            "numbers": len(errors),
            "informed": len(informed),
            "informed_improved": float((informed.fitted_error < informed.prior_error).mean()) if len(informed) else np.nan,
            "informed_improved_expected": float(expected_closer(informed.informed_share).mean()) if len(informed) else np.nan,
            "informed_error_prior": float(informed.prior_error.mean()) if len(informed) else np.nan,
            "informed_error_fitted": float(informed.fitted_error.mean()) if len(informed) else np.nan,
            "uninformed_error_prior": float(rest.prior_error.mean()) if len(rest) else np.nan,
            "uninformed_error_fitted": float(rest.fitted_error.mean()) if len(rest) else np.nan,
            "iterations": len(result.log_likelihood) - 1,
            "seconds_per_iteration": result.seconds_per_iteration,
            "seconds_estep": result.seconds_estep,
            "seconds_mstep": result.seconds_mstep,
            "seconds": seconds,
            "heldout_loglik_prior": before["loglik_per_case"],
            "heldout_loglik_fitted": after["loglik_per_case"],
            "heldout_loglik_truth": best["loglik_per_case"],
            "top1_prior": before["top1"], "top1_fitted": after["top1"], "top1_truth": best["top1"],
            "advice_exact_prior": before["advice_exact"], "advice_exact_fitted": after["advice_exact"],
            "advice_exact_truth": best["advice_exact"],
            "under_triage_prior": before["under_triage"], "under_triage_fitted": after["under_triage"],
            "under_triage_truth": best["under_triage"],
        })
        numbers[n] = errors
        fits[n] = result
    return Recovery(pd.DataFrame(rows).set_index("cases"), numbers, fits)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.learning.recovery", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also 100,000 cases (long: see docs/md)")
    parser.add_argument("--sizes", nargs="+", type=int, help="case counts (default: 1,000 and 10,000)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--max-iter", type=int, default=None)
    parser.add_argument("--save", metavar="CSV", help="also write the table (one row a case count) and, beside it, the per-number errors")
    args = parser.parse_args(argv)
    sizes = args.sizes or (FULL_SIZES if args.full else SIZES)
    r = recovery(sizes, seed=args.seed, max_iter=args.max_iter, progress=True)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(r.table.T.to_string(float_format=lambda x: f"{x:.4g}"))
    if args.save:
        r.table.to_csv(args.save)
        numbers = pd.concat({n: e for n, e in r.numbers.items()}, names=["cases", "name"])
        numbers.to_csv(args.save.removesuffix(".csv") + "-numbers.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
