"""Metrics with uncertainty (issue 17 item 4): the intervals of model.validation.metrics cover the
true value at their nominal rate on repeated seeded draws of worlds whose answer is known
exactly.

Tolerances: with R repetitions the observed coverage of a 95% interval has a Monte Carlo
standard deviation of sqrt(0.95 * 0.05 / R) (0.011 at R = 400, 0.02 at R = 120); each
test allows about 2.5 of those below 95% (the exact binomial interval is conservative,
so its coverage sits at or above 95%), and bounds the mean width, so that an interval
that covers by being wide fails too.
"""

import numpy as np
import pytest

from model.validation import metrics as M
from model.network.vocabulary import TRIAGE_LEVELS


def _coverage(draw, interval, truth, reps):
    hits, widths = 0, []
    for _ in range(reps):
        lo, hi = interval(*draw())
        hits += lo <= truth <= hi
        widths.append(hi - lo)
    return hits / reps, float(np.mean(widths))


def test_top1_interval_covers_the_exact_accuracy_of_a_known_world():
    rng = np.random.default_rng(101)
    n_cases, n_causes, accuracy, reps = 200, 6, 0.7, 400

    def draw():
        posteriors = rng.uniform(size=(n_cases, n_causes))
        top = posteriors.argmax(axis=1)
        responsible = np.zeros((n_cases, n_causes), dtype=bool)
        hit = rng.uniform(size=n_cases) < accuracy  # the top-ranked cause made the twitch
        responsible[np.arange(n_cases), top] = hit
        others = (top + 1 + rng.integers(0, n_causes - 1, size=n_cases)) % n_causes
        responsible[np.arange(n_cases), others] |= ~hit
        primary = np.where(hit, top, others)
        return posteriors, responsible, primary

    coverage, width = _coverage(draw, lambda *a: M.topk_accuracy(*a)["top1_ci"], accuracy, reps)
    assert coverage >= 0.95 - 2.5 * 0.011, coverage
    normal_width = 2 * 1.96 * np.sqrt(accuracy * (1 - accuracy) / n_cases)
    assert width < 1.15 * normal_width, (width, normal_width)


def test_under_triage_interval_covers_the_exact_rate():
    rng = np.random.default_rng(102)
    n, reps = 150, 400
    truth = 6 / 16  # true level and advice independent and uniform: P(advice below) = 6/16

    def draw():
        return rng.choice(TRIAGE_LEVELS, size=n), rng.choice(TRIAGE_LEVELS, size=n)

    coverage, width = _coverage(draw, lambda t, a: M.triage_confusion(t, a)["under_triage_ci"], truth, reps)
    assert coverage >= 0.95 - 2.5 * 0.011, coverage
    assert width < 1.15 * 2 * 1.96 * np.sqrt(truth * (1 - truth) / n)


def test_brier_bootstrap_interval_covers_the_expected_score():
    rng = np.random.default_rng(103)
    n, reps = 800, 120
    truth = 1 / 6  # calibrated p ~ U(0, 1): E[(p - y)^2] = E[p (1 - p)] = 1/6

    def draw():
        p = rng.uniform(size=n)
        return (rng.uniform(size=n) < p).astype(float), p

    coverage, width = _coverage(draw, lambda y, p: M.brier_interval(y, p, rng=rng, replicates=200), truth, reps)
    assert coverage >= 0.95 - 2.5 * 0.02, coverage
    y, p = draw()
    sd = np.std((p - y) ** 2)  # the normal-theory width of a mean of n scores
    assert width < 1.2 * 2 * 1.96 * sd / np.sqrt(n), width


def test_ece_bootstrap_interval_covers_the_population_ece_of_a_miscalibrated_world():
    rng = np.random.default_rng(104)
    n, reps = 2000, 120
    # y ~ Bernoulli(p^2) with p ~ U(0, 1): p^2 - p <= 0 everywhere, so the binned
    # population ECE is the integral of p - p^2 over [0, 1] = 1/6 whatever the bins
    truth = 1 / 6

    def draw():
        p = rng.uniform(size=n)
        return (rng.uniform(size=n) < p**2).astype(float), p

    coverage, width = _coverage(draw, lambda y, p: M.ece_interval(y, p, rng=rng, replicates=200), truth, reps)
    assert coverage >= 0.95 - 2.5 * 0.02, coverage
    assert width < 0.06, width


def test_bootstrap_is_deterministic_and_checks_its_arguments():
    rng = np.random.default_rng(105)
    p = rng.uniform(size=300)
    y = (rng.uniform(size=300) < p).astype(float)
    assert M.ece_interval(y, p) == M.ece_interval(y, p)
    lo, hi = M.ece_interval(y, p)
    assert lo <= M.ece(y, p) <= hi
    with pytest.raises(ValueError, match=r"^replicates: 0 is not a whole number >= 1$"):
        M.brier_interval(y, p, replicates=0)
    with pytest.raises(ValueError, match=r"^level: 1.5 is outside \(0, 1\)$"):
        M.binomial_interval(3, 10, level=1.5)
    assert M.binomial_interval(0, 10)[0] == 0.0 and M.binomial_interval(10, 10)[1] == 1.0
    assert all(np.isnan(M.binomial_interval(0, 0)))
