"""model.learning.fit's estimators against pgmpy's on a small network of plain tables.

twitchdx's own network cannot be made plain (every finding is a noisy-OR/MAX of 25
causes under the premise), so the agreement is checked on what the fit is made of: its
M-step (`_map`: the posterior mode under a Dirichlet whose weight comes from a range)
against pgmpy's BayesianEstimator with the same pseudo-counts on complete data, and EM
with that M-step and an exact E-step against pgmpy's ExpectationMaximization with a
latent cause, from the same starting tables. The exactness of model.learning.fit's E-step on the
real network is checked in test_fit.py (its counts are the log-likelihood's gradient).
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

F = importlib.import_module("model.learning.fit")  # the module (model.learning.fit is also the function)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.estimators import BayesianEstimator, ExpectationMaximization
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

# pgmpy 1.1 deprecates the estimators' old names (the issue's names): they still work
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

FINDINGS = ("f1", "f2", "f3")
# P(cause), and P(finding | cause absent), P(finding | cause present): one cause a finding, no leak term
# EM iterations both run from the same starting tables (pgmpy with atol 0 runs them all)
ITERATIONS = 60
TRUE = {"c": 0.3, "f1": (0.1, 0.8), "f2": (0.2, 0.7), "f3": (0.05, 0.6)}


def _sample(n: int, rng: np.random.Generator) -> pd.DataFrame:
    c = (rng.random(n) < TRUE["c"]).astype(int)
    out = {"c": c}
    for f in FINDINGS:
        p = np.where(c == 1, TRUE[f][1], TRUE[f][0])
        out[f] = (rng.random(n) < p).astype(int)
    return pd.DataFrame(out)


def _model(latent: bool) -> DiscreteBayesianNetwork:
    return DiscreteBayesianNetwork([("c", f) for f in FINDINGS], latents={"c"} if latent else set())


def test_the_map_step_is_pgmpys_bayesian_estimator_on_complete_data():
    data = _sample(500, np.random.default_rng(0))
    prior_c, (low, high) = 0.25, (0.1, 0.4)
    n0 = F.range_count(low, high, 1.0)
    est = BayesianEstimator(_model(False), data)
    cpd = est.estimate_cpd("c", prior_type="dirichlet", pseudo_counts=[[n0 * (1 - prior_c)], [n0 * prior_c]])
    counts = np.bincount(data.c, minlength=2).astype(float)
    np.testing.assert_allclose(F._map(counts, np.array([1 - prior_c, prior_c]), n0), cpd.values.ravel(), rtol=0, atol=1e-12)
    for f in FINDINGS:
        v = np.array([[0.9, 0.3], [0.1, 0.7]])  # prior P(f | c) columns c = 0, 1
        cpd = est.estimate_cpd(f, prior_type="dirichlet", pseudo_counts=n0 * v)
        for c in (0, 1):
            got = np.bincount(data[f][data.c == c], minlength=2).astype(float)
            np.testing.assert_allclose(F._map(got, v[:, c], n0), cpd.get_values()[:, c], rtol=0, atol=1e-12)


def test_em_with_a_latent_cause_is_pgmpys():
    data = _sample(2000, np.random.default_rng(1))[list(FINDINGS)]
    start = {"c": np.array([0.6, 0.4]), **{f: np.array([[0.7, 0.4], [0.3, 0.6]]) for f in FINDINGS}}  # P(f | c) columns
    init = {"c": TabularCPD("c", 2, start["c"].reshape(2, 1))}
    for f in FINDINGS:
        init[f] = TabularCPD(f, 2, start[f], evidence=["c"], evidence_card=[2])
    em = ExpectationMaximization(_model(True), data)
    cpds = {c.variable: c for c in em.get_parameters(latent_card={"c": 2}, max_iter=ITERATIONS, atol=0.0, init_cpds=init,
                                                     show_progress=False, seed=0)}
    # EM with the fit's M-step (strength 0: maximum likelihood) and the exact posterior of c
    x = data.to_numpy()
    theta = {k: v.copy() for k, v in start.items()}
    for _ in range(ITERATIONS):
        like = np.stack([theta["c"][c] * np.prod([theta[f][x[:, i], c] for i, f in enumerate(FINDINGS)], axis=0)
                         for c in (0, 1)], axis=1)
        post = like / like.sum(axis=1, keepdims=True)
        new = {"c": F._map(post.sum(axis=0), theta["c"], 0.0)}
        for i, f in enumerate(FINDINGS):
            new[f] = np.stack([F._map(np.array([post[x[:, i] == 0, c].sum(), post[x[:, i] == 1, c].sum()]), theta[f][:, c], 0.0)
                               for c in (0, 1)], axis=1)
        theta = new
    np.testing.assert_allclose(cpds["c"].values.ravel(), theta["c"], atol=1e-9)
    for f in FINDINGS:
        np.testing.assert_allclose(cpds[f].get_values(), theta[f], atol=1e-9)
