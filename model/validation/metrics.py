"""Validation metrics: pure functions on arrays (docs/validation.md). Their plots live in `model.validation.plots`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..network.vocabulary import TRIAGE_LEVELS

ECE_BINS = 15
# Intervals: the share of repeated samples a 95% interval should cover, and the
# bootstrap's resamples when no other number is given (`twitchdx validate` reads both
# from priors/validation.toml). 200 resamples put the 2.5% and 97.5% points within about
# a tenth of the interval's width of where 10,000 would.
CONFIDENCE = 0.95
BOOTSTRAP_REPLICATES = 200


def binomial_interval(k: int, n: int, *, level: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a proportion: k successes in n trials.

    It covers the true proportion in at least `level` of repeated samples (it is
    conservative); (nan, nan) when n is 0.
    """
    from scipy.stats import beta

    _check_level(level)
    k, n = int(k), int(n)
    if not 0 <= k <= n:
        raise ValueError(f"k: {k} is outside [0, n={n}]")
    if n == 0:
        return (float("nan"), float("nan"))
    alpha = 1.0 - level
    lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return (lo, hi)


def _check_level(level: float) -> None:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.0 < level < 1.0:
        raise ValueError(f"level: {level!r} is outside (0, 1)")


def bootstrap_interval(statistic, arrays, *, rng: np.random.Generator | None = None,
                       replicates: int = BOOTSTRAP_REPLICATES, level: float = CONFIDENCE, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic(*arrays)`: the cases (rows of every
    array together) resampled with replacement `replicates` times.

    rng : the Generator of the resamples; by default one seeded with `seed`, so that the
        same data give the same interval.
    """
    _check_level(level)
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 1:
        raise ValueError(f"replicates: {replicates!r} is not a whole number >= 1")
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if n == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed) if rng is None else rng
    values = np.array([statistic(*(a[idx] for a in arrays)) for idx in rng.integers(0, n, size=(int(replicates), n))])
    alpha = 1.0 - level
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return (float(lo), float(hi))


def ece_interval(y, p, *, n_bins: int = ECE_BINS, strategy: str = "uniform", **bootstrap) -> tuple[float, float]:
    """Bootstrap interval of `ece(y, p)` (keywords: those of `bootstrap_interval`)."""
    return bootstrap_interval(lambda a, b: ece(a, b, n_bins=n_bins, strategy=strategy), (y, p), **bootstrap)


def brier_interval(y, p, **bootstrap) -> tuple[float, float]:
    """Bootstrap interval of the Brier score mean((p - y)^2)."""
    return bootstrap_interval(lambda a, b: float(np.mean((np.asarray(b, float) - np.asarray(a, float)) ** 2)), (y, p), **bootstrap)


def reliability_intervals(y, p, *, n_bins: int = ECE_BINS, strategy: str = "uniform", level: float = CONFIDENCE, min_count: int = 1):
    """Per non-empty bin (as `reliability`): the exact binomial interval of the observed
    frequency, as two arrays (lower, upper). y must be 0/1."""
    y = np.asarray(y, dtype=float)
    b = _bins(np.asarray(p, dtype=float), n_bins, strategy, min_count)
    count = np.bincount(b, minlength=n_bins)
    hits = np.rint(np.bincount(b, weights=y, minlength=n_bins)).astype(int)
    keep = np.flatnonzero(count > 0)
    ends = np.array([binomial_interval(hits[i], count[i], level=level) for i in keep]).reshape(-1, 2)
    return ends[:, 0], ends[:, 1]


def topk_accuracy(posteriors: np.ndarray, responsible: np.ndarray, primary: np.ndarray, *, level: float = CONFIDENCE) -> dict[str, Any]:
    """docs/validation.md: top-1 hit = the top-ranked cause is responsible; top-3 hit = the primary
    cause is among the three highest. Cases with no primary cause (leak only) are left
    out and counted apart.

    posteriors (N, n); responsible (N, n) bool; primary (N,) cause index or -1.
    """
    posteriors = np.asarray(posteriors, dtype=float)
    primary = np.asarray(primary)
    has = primary >= 0
    order = np.argsort(-posteriors, axis=1, kind="stable")
    rows = np.flatnonzero(has)
    top1 = np.asarray(responsible)[rows, order[rows, 0]]
    top3 = (order[rows, :3] == primary[rows, None]).any(axis=1)
    return {
        "top1": float(top1.mean()) if len(rows) else float("nan"),
        "top3": float(top3.mean()) if len(rows) else float("nan"),
        "top1_ci": list(binomial_interval(int(top1.sum()), len(rows), level=level)),
        "top3_ci": list(binomial_interval(int(top3.sum()), len(rows), level=level)),
        "cases": int(len(rows)),
        "leak_only": int((~has).sum()),
    }


def supported_bins(n: int, n_bins: int = ECE_BINS, min_count: int = 1) -> int:
    """As many bins as n cases support with at least `min_count` each, up to `n_bins`."""
    return max(1, min(n_bins, n // max(1, min_count)))


def _merge_small(b: np.ndarray, n_bins: int, min_count: int) -> np.ndarray:
    """Bin indices with neighbouring bins merged, left to right, until each holds at
    least `min_count` cases (a short last group joins the one before it)."""
    count = np.bincount(b, minlength=n_bins)
    group = np.zeros(n_bins, dtype=np.int64)
    g, held = 0, 0
    for i in range(n_bins):
        group[i] = g
        held += count[i]
        if held >= min_count and i < n_bins - 1:
            g, held = g + 1, 0
    if 0 < held < min_count and g > 0:  # the last group is short: join it to the one before
        group[group == g] = g - 1
    elif held == 0 and g > 0:  # the last group is empty
        group[group == g] = g - 1
    return group[b]


def _bins(p: np.ndarray, n_bins: int, strategy: str, min_count: int = 1) -> np.ndarray:
    if min_count > 1:
        return _merge_small(_bins(p, n_bins, strategy), n_bins, min_count)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))
        edges[0], edges[-1] = 0.0, 1.0
    else:
        raise ValueError(f"strategy: {strategy!r} is not one of uniform, quantile")
    # the same binning as sklearn's calibration_curve: right edges open, 1.0 in the last bin
    return np.searchsorted(edges[1:-1], p, side="right")


def reliability(y: np.ndarray, p: np.ndarray, *, n_bins: int = ECE_BINS, strategy: str = "uniform", min_count: int = 1):
    """Per bin: mean predicted probability, observed frequency and count (empty bins dropped).
    `min_count` > 1 merges neighbouring bins until each holds at least that many cases."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    b = _bins(p, n_bins, strategy, min_count)
    count = np.bincount(b, minlength=n_bins)
    keep = count > 0
    mean_p = np.bincount(b, weights=p, minlength=n_bins)[keep] / count[keep]
    freq = np.bincount(b, weights=y, minlength=n_bins)[keep] / count[keep]
    return mean_p, freq, count[keep]


def ece(y: np.ndarray, p: np.ndarray, *, n_bins: int = ECE_BINS, strategy: str = "uniform", min_count: int = 1) -> float:
    """Expected calibration error: sum over bins of (bin share) * |frequency - mean p|."""
    mean_p, freq, count = reliability(y, p, n_bins=n_bins, strategy=strategy, min_count=min_count)
    return float(np.sum(count * np.abs(freq - mean_p)) / count.sum())


def brier(y: np.ndarray, p: np.ndarray, *, n_bins: int = ECE_BINS) -> dict[str, float]:
    """Brier score and Murphy's split into reliability - resolution + uncertainty (binned:
    the identity holds exactly when the predictions in each bin are equal)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    mean_p, freq, count = reliability(y, p, n_bins=n_bins)
    w = count / count.sum()
    base = y.mean()
    return {
        "brier": float(np.mean((p - y) ** 2)),
        "reliability": float(np.sum(w * (mean_p - freq) ** 2)),
        "resolution": float(np.sum(w * (freq - base) ** 2)),
        "uncertainty": float(base * (1 - base)),
    }


def _logit(p):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def _log_likelihood(x, y, offset, beta) -> float:
    eta = x @ beta + offset
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def _logistic_fit(x: np.ndarray, y: np.ndarray, offset: np.ndarray, steps: int = 100) -> np.ndarray:
    """Maximum-likelihood logistic regression y ~ x @ beta + offset, by Newton's method
    with step halving (each step must not lower the likelihood: plain Newton can run off
    when a few predictions sit at the clipped ends of the logit scale)."""
    beta = np.zeros(x.shape[1])
    ll = _log_likelihood(x, y, offset, beta)
    for _ in range(steps):
        eta = x @ beta + offset
        mu = np.exp(-np.logaddexp(0.0, -eta))  # 1 / (1 + e^-eta) without overflow where the data separate
        grad = x.T @ (y - mu)
        hess = (x * (mu * (1 - mu))[:, None]).T @ x
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-8:
            trial = beta + t * step
            trial_ll = _log_likelihood(x, y, offset, trial)
            if trial_ll >= ll - 1e-12:
                break
            t /= 2
        else:
            break
        beta, ll = trial, trial_ll
        if np.abs(t * step).max() < 1e-10:
            break
    return beta


def calibration_intercept_slope(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Calibration slope (y ~ a + b logit p) and intercept (calibration-in-the-large:
    y ~ a + offset(logit p)); perfect calibration gives slope 1, intercept 0."""
    y = np.asarray(y, dtype=float)
    lp = _logit(np.asarray(p, dtype=float))
    ones = np.ones((len(y), 1))
    slope = _logistic_fit(np.column_stack([ones, lp]), y, np.zeros(len(y)))[1]
    intercept = _logistic_fit(ones, y, lp)[0]
    return {"intercept": float(intercept), "slope": float(slope)}


def triage_confusion(true_level: np.ndarray, advice: np.ndarray, *, level: float = CONFIDENCE) -> dict[str, Any]:
    """Confusion matrix (rows: true level, columns: advice) with under- and over-triage
    rates apart (under: advice below the true level), each with its exact binomial
    interval at `level` (`under_triage_ci`, `over_triage_ci`, `exact_ci`)."""
    from sklearn.metrics import confusion_matrix

    levels = list(TRIAGE_LEVELS)
    t = np.array([levels.index(x) for x in true_level])
    a = np.array([levels.index(x) for x in advice])
    matrix = confusion_matrix(t, a, labels=range(len(levels)))
    urgent = t >= levels.index("soon")
    return {
        "matrix": matrix.tolist(),
        "levels": levels,
        "under_triage": float(np.mean(a < t)),
        "over_triage": float(np.mean(a > t)),
        "exact": float(np.mean(a == t)),
        "under_triage_ci": list(binomial_interval(int(np.sum(a < t)), len(t), level=level)),
        "over_triage_ci": list(binomial_interval(int(np.sum(a > t)), len(t), level=level)),
        "exact_ci": list(binomial_interval(int(np.sum(a == t)), len(t), level=level)),
        "urgent_under_triaged": int(np.sum(urgent & (a < t))),
        "urgent_cases": int(urgent.sum()),
    }


@dataclass(frozen=True)
class Recalibration:
    """A monotone map of urgency fitted on one case set (isotonic regression).

    Call it on an urgency; pass it to `infer(..., recalibration=...)`.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, urgency: float) -> float:
        return float(np.interp(urgency, self.x, self.y))

    def to_dict(self) -> dict:
        return {"x": list(self.x), "y": list(self.y)}


def fit_recalibration(urgency: np.ndarray, urgent: np.ndarray) -> Recalibration:
    """Fit an isotonic map from predicted urgency to the observed share of urgent cases."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(np.asarray(urgency, dtype=float), np.asarray(urgent, dtype=float))
    return Recalibration(tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_)))
