"""Validation metrics: pure functions on arrays (SPEC §4). Plots live in `model.plots`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .vocabulary import TRIAGE_LEVELS

ECE_BINS = 15


def topk_accuracy(posteriors: np.ndarray, responsible: np.ndarray, primary: np.ndarray) -> dict[str, float]:
    """SPEC §7.8: top-1 hit = the top-ranked cause is responsible; top-3 hit = the primary
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
        "cases": int(len(rows)),
        "leak_only": int((~has).sum()),
    }


def _bins(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))
        edges[0], edges[-1] = 0.0, 1.0
    else:
        raise ValueError(f"strategy: {strategy!r} is not one of uniform, quantile")
    # the same binning as sklearn's calibration_curve: right edges open, 1.0 in the last bin
    return np.searchsorted(edges[1:-1], p, side="right")


def reliability(y: np.ndarray, p: np.ndarray, *, n_bins: int = ECE_BINS, strategy: str = "uniform"):
    """Per bin: mean predicted probability, observed frequency and count (empty bins dropped)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    b = _bins(p, n_bins, strategy)
    count = np.bincount(b, minlength=n_bins)
    keep = count > 0
    mean_p = np.bincount(b, weights=p, minlength=n_bins)[keep] / count[keep]
    freq = np.bincount(b, weights=y, minlength=n_bins)[keep] / count[keep]
    return mean_p, freq, count[keep]


def ece(y: np.ndarray, p: np.ndarray, *, n_bins: int = ECE_BINS, strategy: str = "uniform") -> float:
    """Expected calibration error: sum over bins of (bin share) * |frequency - mean p|."""
    mean_p, freq, count = reliability(y, p, n_bins=n_bins, strategy=strategy)
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


def _logistic_fit(x: np.ndarray, y: np.ndarray, offset: np.ndarray, steps: int = 50) -> np.ndarray:
    """Maximum-likelihood logistic regression y ~ x @ beta + offset, by Newton's method."""
    beta = np.zeros(x.shape[1])
    for _ in range(steps):
        eta = x @ beta + offset
        mu = 1.0 / (1.0 + np.exp(-eta))
        grad = x.T @ (y - mu)
        hess = (x * (mu * (1 - mu))[:, None]).T @ x
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        beta += step
        if np.abs(step).max() < 1e-10:
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


def triage_confusion(true_level: np.ndarray, advice: np.ndarray) -> dict[str, Any]:
    """Confusion matrix (rows: true level, columns: advice) with under- and over-triage
    rates apart (under: advice below the true level)."""
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
