"""Learning the numbers from case data (model.learning.fit, docs/fitting.md)."""

from __future__ import annotations

import importlib
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from model import load_network
from model.inference.engine import Query, evaluate_many, from_states, query_rows
from model.network.build import compile_network
from model.network.priors import PriorsError
from model.network.draws import priors_with_values
from model.synthetic import sample_cases

F = importlib.import_module("model.learning.fit")  # the module (`from model import fit` is its function)


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def cases(net):
    return sample_cases(net, 300, rng=np.random.default_rng(11))


@pytest.fixture(scope="module")
def fitted(net, cases):
    return F.fit(cases, network=net, max_iter=3, tol=0.0, progress=False, name="test cases")


def _log_likelihood(net, states):
    total, _, _ = evaluate_many(net, from_states(net, states.astype(np.int64)), joint=False)
    p_t, _, _ = evaluate_many(net, query_rows(net, Query()), joint=False)
    return float(np.log(total).sum() - len(states) * np.log(p_t.sum()))


def test_expected_counts_are_the_log_likelihoods_gradient(net, cases):
    """EM's E-step is exact when its counts give the gradient of the observed
    log-likelihood (Fisher's identity): checked against central differences of
    sum log P(case | twitching), each computed by the engine, for a number of each kind."""
    states, labels = F._encode(net, cases, None)
    data = F.estep_chunk(net, states, labels, [])
    null = F.estep_chunk(net, np.full((1, states.shape[1]), -1, dtype=np.int8), np.array([-1]), [])
    total, norm = F._complete(net, data, null)
    assert data["ll"] - norm == pytest.approx(_log_likelihood(net, states), rel=1e-12)
    values = F.values_of(net.priors)

    def numeric(key, move=None, eps=1e-6):
        def at(sign):
            v = dict(values)
            if move is None:
                v[key] = v[key] + sign * eps
            else:
                a = np.array(v[key], dtype=float)
                a[move[0]] += sign * eps
                a[move[1]] -= sign * eps
                v[key] = a
            return _log_likelihood(compile_network(priors_with_values(net.priors, v)), states)

        return (at(1) - at(-1)) / (2 * eps)

    causes = net.causes
    c = causes.index("benign_fasciculation_syndrome")
    j = net.findings.index("cramps")
    p = net.link["cramps"][c, 1]
    hits, trials = total["link"][j, c, 1], total["link"][j, c].sum()
    assert numeric(("link", "cramps", causes[c]), (1, 0)) == pytest.approx(hits / p - (trials - hits) / (1 - p), rel=1e-5)
    s = causes.index("stress_anxiety")
    j = net.findings.index("duration")
    pmf, cnt = net.link["duration"][s], total["link"][j, s]
    assert numeric(("link", "duration", "stress_anxiety"), (2, 0)) == pytest.approx(cnt[2] / pmf[2] - cnt[0] / pmf[0], rel=1e-5)
    tau, on, present = float(net.twitch["stress_anxiety"]), total["on"][s], total["present"][s]
    assert numeric(("twitch", "stress_anxiety")) == pytest.approx(on / tau - (present - on) / (1 - tau), rel=1e-5)
    w, spread = float(net.spread["stress_anxiety"]), total["spread"][s]
    assert numeric(("spread", "stress_anxiety")) == pytest.approx(spread / w - (on - spread) / (1 - w), rel=1e-5)
    q, fired = net.link["twitch_arm"][s, 1], total["fired"][s, 3]
    assert numeric(("spread_site", "stress_anxiety", "arm")) == pytest.approx(fired / q - (spread - fired) / (1 - q), rel=1e-5)
    shares, focal = np.asarray(net.focal["stress_anxiety"]), total["focal"][s]
    assert numeric(("focal", "stress_anxiety"), (0, 4)) == pytest.approx(focal[0] / shares[0] - focal[4] / shares[4], rel=1e-5)
    for cause, exposure, state in [("stimulants", "caffeine", "high"), ("stress_anxiety", "age", "over_60")]:
        n1, nt = total[f"n1:{cause}"], total[f"nt:{cause}"]
        rr = net.priors.causes[cause].relative_risk[exposure][state].value

        def expected(x):
            v = dict(values)
            v[("relative_risk", cause, exposure, state)] = x
            table = np.asarray(compile_network(priors_with_values(net.priors, v)).cause_table[cause])
            return float((n1 * np.log(table)).sum() + ((nt - n1) * np.log(1 - table)).sum())

        want = (expected(rr + 1e-5) - expected(rr - 1e-5)) / 2e-5
        assert numeric(("relative_risk", cause, exposure, state), eps=1e-5) == pytest.approx(want, rel=1e-4)


def test_a_label_conditions_the_case_on_its_cause(net, cases):
    states, _ = F._encode(net, cases.head(5), None)
    c = net.causes.index("stress_anxiety")
    labelled = F.estep_chunk(net, states, np.full(5, c), [c])
    _, joint, _ = evaluate_many(net, from_states(net, states.astype(np.int64)), joint=True)
    assert labelled["ll"] == pytest.approx(float(np.log(joint[:, c]).sum()), rel=1e-10)
    assert labelled["present"][c] == pytest.approx(5.0, rel=1e-12)


def test_log_posterior_never_falls(fitted):
    lp = np.array(fitted.log_posterior)
    assert len(lp) == 4
    assert (np.diff(lp) >= -1e-8 * abs(lp[0])).all()


@pytest.mark.full
def test_maximum_likelihood_log_likelihood_never_falls(net, cases):
    f = F.fit(cases, network=net, strength=0.0, max_iter=3, tol=0.0, progress=False)
    ll = np.array(f.log_likelihood)
    assert (np.diff(ll) >= -1e-8 * abs(ll[0])).all()
    assert ll[-1] > ll[0]


def test_a_fit_on_the_networks_own_cases_keeps_its_numbers(net, fitted):
    p = fitted.parameters[fitted.parameters.fitted]
    # within their ranges, and the network's own numbers within the fitted intervals
    assert ((p.fitted_value >= p.low - 1e-12) & (p.fitted_value <= p.high + 1e-12)).mean() >= 0.99
    inside = (p.prior >= p.interval_low - 1e-12) & (p.prior <= p.interval_high + 1e-12)
    assert inside.mean() >= 0.95
    assert set(p.columns) >= {"prior", "low", "high", "fitted_value", "interval_low", "interval_high", "change", "informed_share", "informed"}


def test_parameters_name_what_is_not_fitted(fitted):
    p = fitted.parameters
    assert not p.loc["weakness.links.als_mnd[mild]", "fitted"]
    assert p.loc["cramps.links.benign_fasciculation_syndrome", "fitted"]
    assert not p[~p.fitted].informed.any()


def test_a_number_the_data_holds_no_information_about_is_not_informed(fitted):
    """P(twitching | eyelid myokymia) is 1 (range [0.9, 1]): no case and no range informs
    a probability at 1, so it is not informed whatever its share (a ratio of rounding
    errors there); every informed number holds at least fit.toml's informed_cases."""
    p, settings = fitted.parameters, F.load_fit_settings()
    assert p.loc["eyelid_myokymia.twitch", "prior"] == 1.0
    assert p.loc["eyelid_myokymia.twitch", "data"] < settings.informed_cases
    assert not p.loc["eyelid_myokymia.twitch", "informed"]
    assert (p[p.informed].data >= settings.informed_cases).all() and p.informed.any()


def test_expected_closer_is_the_chance_an_exact_update_beats_the_prior():
    """recovery.expected_closer against a simulation: a truth drawn from a normal prior,
    the data's estimate around it, the exact posterior mean; the share of draws where it
    is closer to the truth than the prior's mean."""
    recovery = importlib.import_module("model.learning.recovery")
    rng = np.random.default_rng(28)
    truth, noise = rng.standard_normal(200_000), rng.standard_normal(200_000)
    for share in (0.2, 0.5, 0.8, 0.9, 0.97):
        sd = math.sqrt((1 - share) / share)  # the data's error, in prior sds
        update = share * (truth + sd * noise)
        assert recovery.expected_closer(share) == pytest.approx((np.abs(update - truth) < np.abs(truth)).mean(), abs=0.005)
    assert recovery.expected_closer(0.5) == pytest.approx(0.6476, abs=1e-4)
    np.testing.assert_allclose(recovery.expected_closer([0.0, 1.0]), [0.0, 1.0])


def test_the_same_input_gives_the_same_fit(net, cases, fitted):
    before = cases.copy()
    again = F.fit(cases, network=net, max_iter=3, tol=0.0, progress=False, name="test cases")
    pd.testing.assert_frame_equal(cases, before)
    assert again.log_likelihood == fitted.log_likelihood
    pd.testing.assert_frame_equal(again.parameters, fitted.parameters)


def test_write_priors_round_trips(fitted, tmp_path):
    folder = F.write_priors(fitted.network, tmp_path / "fitted")
    back = load_network(folder)
    a = fitted.network
    for field in ("cause_table", "link", "leak", "twitch", "spread", "focal", "exposure_prob"):
        for k, x in getattr(a, field).items():
            np.testing.assert_allclose(np.asarray(getattr(back, field)[k]), np.asarray(x), rtol=0, atol=1e-12)
    key = next(k for k, s in back.priors.bibliography.items() if "test cases" in s.title)
    assert "300 cases" in back.priors.bibliography[key].title
    assert key in back.priors.causes["stress_anxiety"].prior.source.split(", ")
    assert "strength" in back.priors.bibliography[key].supports
    # a number the fit does not move keeps its source
    assert back.priors.findings["weakness"].links["als_mnd"].source == load_network().priors.findings["weakness"].links["als_mnd"].source


def test_write_priors_refuses_a_folder_in_use(fitted, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an empty folder"):
        F.write_priors(fitted.network, tmp_path / "x")
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("make, labels, message", [
    (lambda c: c.head(0), None, "empty"),
    (lambda c: pd.DataFrame({"colour": ["red", "blue"]}), None, "no column is an evidence key"),
    (lambda c: c.head(3), ["stress_anxiety", "not_a_cause", None], "'not_a_cause' is not a cause"),
    (lambda c: c.head(3), "no_such_column", "not a column"),
    (lambda c: c.head(3), ["stress_anxiety"], "1 labels for 3 cases"),
])
def test_bad_input_is_a_clear_error(net, cases, make, labels, message):
    with pytest.raises(ValueError, match=message):
        F.fit(make(cases), network=net, labels=labels, max_iter=1, progress=False)


def test_bad_settings_name_the_key(net, cases):
    with pytest.raises(ValueError, match="strength"):
        F.fit(cases.head(3), network=net, strength=-1.0, progress=False)
    with pytest.raises(ValueError, match="max_iter"):
        F.fit(cases.head(3), network=net, max_iter=1.5, progress=False)


def test_fit_toml_is_checked(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(load_network().priors.folder, folder)
    text = (folder / "fit.toml").read_text().replace("strength = 1.0", "strength = -2.0")
    (folder / "fit.toml").write_text(text)
    with pytest.raises(PriorsError, match=r"fit.toml: \[fit.strength\]"):
        F.load_fit_settings(folder)


def test_labels_from_a_column(net, cases):
    frame = cases.head(40).copy()
    frame["confirmed"] = np.where(frame["present:stress_anxiety"], "stress_anxiety", None)
    f = F.fit(frame, network=net, labels="confirmed", max_iter=1, progress=False)
    assert np.isfinite(f.log_likelihood).all()


def test_range_count():
    # a range of +-2 sd of 0.05 around 0.5 is worth 0.25 / 0.0025 - 1 = 99 cases
    assert F.range_count(0.4, 0.6, 1.0) == pytest.approx(99.0)
    assert F.range_count(0.4, 0.6, 2.0) == pytest.approx(198.0)
    assert math.isinf(F.range_count(0.3, 0.3, 1.0))


def test_the_fit_command(net, tmp_path, capsys):
    from model.cli.main import main

    cases = sample_cases(net, 60, rng=np.random.default_rng(5))
    path = tmp_path / "clinic.csv"
    cases.to_csv(path, index=False)
    out = tmp_path / "fitted"
    assert main(["fit", str(path), "--out", str(out), "--max-iter", "1", "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert "moved most" in text and "log-likelihood per iteration" in text and f"wrote {out}" in text
    back = load_network(out)
    entry = next(s for s in back.priors.bibliography.values() if "clinic.csv" in s.title)
    assert "60 cases" in entry.title
    # bad input: a clear error, exit 2, nothing written
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"colour": ["red"]}).to_csv(bad, index=False)
    assert main(["fit", str(bad), "--out", str(tmp_path / "never")]) == 2
    assert "no column is an evidence key" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()
    assert main(["fit", str(path), "--out", str(out)]) == 2
    assert "not an empty folder" in capsys.readouterr().err


@pytest.mark.full
def test_a_dask_cluster_gives_the_local_fit(net, cases):
    distributed = pytest.importorskip("distributed", reason="the sweep extra: pip install -e '.[sweep]'")
    local = F.fit(cases.head(120), network=net, max_iter=2, tol=0.0, chunk=40, progress=False)
    # ":0": any free port for the scheduler's web server (the default, 8787, may be another cluster's)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        remote = F.fit(cases.head(120), network=net, max_iter=2, tol=0.0, chunk=40, progress=False, client=client)
    np.testing.assert_allclose(remote.log_likelihood, local.log_likelihood, rtol=0, atol=1e-9)
    a, b = remote.parameters.fitted_value.to_numpy(), local.parameters.fitted_value.to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def _kill_the_first_chunks_worker(distributed, marker):
    """A Dask worker plugin: the worker that starts the first E-step chunk of the fit dies
    there (os._exit, as a crashed or preempted machine), once: a marker file, created
    atomically, says it happened (across the workers and the restarted one). Made here,
    not at import, as `distributed` is an extra; pickled by value to the workers."""

    class KillTheFirstChunksWorker(distributed.WorkerPlugin):
        def __init__(self, marker):
            self.marker = str(marker)

        def transition(self, key, start, finish, **kwargs):
            if finish != "executing" or not str(key).startswith("estep_chunk"):
                return
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, str(key).encode())
            os.close(fd)
            os._exit(1)

    return KillTheFirstChunksWorker(marker)


@pytest.mark.full
def test_a_chunk_lost_with_its_worker_is_recomputed(net, cases, tmp_path):
    """A worker killed while it runs a chunk (its nanny restarts it): the scheduler runs the
    chunk again, and the fit is the local one to 1e-9, not one short of a chunk."""
    distributed = pytest.importorskip("distributed", reason="the sweep extra: pip install -e '.[sweep]'")
    local = F.fit(cases.head(120), network=net, max_iter=1, tol=0.0, chunk=40, progress=False)
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        client.register_plugin(_kill_the_first_chunks_worker(distributed, marker), name="kill-the-first-chunk")
        remote = F.fit(cases.head(120), network=net, max_iter=1, tol=0.0, chunk=40, progress=False, client=client)
    assert marker.read_text().startswith("estep_chunk")  # a worker did die with a chunk
    np.testing.assert_allclose(remote.log_likelihood, local.log_likelihood, rtol=0, atol=1e-9)
    a, b = remote.parameters.fitted_value.to_numpy(), local.parameters.fitted_value.to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_the_datas_information_is_the_sum_of_squared_case_scores(net, cases):
    """`informed` rests on each number's empirical Fisher information: the sum over cases
    of the square of d log P(case | twitching) / d number, checked against central
    differences of each case's log-likelihood (a relative risk on the log scale)."""
    states, labels = F._encode(net, cases.head(150), None)
    data = F.estep_chunk(net, states, labels, [])
    null = F.estep_chunk(net, np.full((1, states.shape[1]), -1, dtype=np.int8), np.array([-1]), [])
    total, _ = F._complete(net, data, null)
    info = F._information(net, data, total)
    values = F.values_of(net.priors)

    def per_case(n):
        t, _, _ = evaluate_many(n, from_states(n, states.astype(np.int64)), joint=False)
        p_t, _, _ = evaluate_many(n, query_rows(n, Query()), joint=False)
        return np.log(t) - np.log(p_t.sum())

    def squared(key, move=None, eps=1e-6, log=False):
        def at(sign):
            v = dict(values)
            if move is None:
                v[key] = v[key] * math.exp(sign * eps) if log else v[key] + sign * eps
            else:
                a = np.array(v[key], dtype=float)
                a[move[0]] += sign * eps
                a[move[1]] -= sign * eps
                v[key] = a
            return per_case(compile_network(priors_with_values(net.priors, v)))

        return float((((at(1) - at(-1)) / (2 * eps)) ** 2).sum())

    c = net.causes
    b, s = c.index("benign_fasciculation_syndrome"), c.index("stress_anxiety")
    # the information matrix's diagonal is the same sum, kept per kind of number
    matrix, layout = F.observed_information(net, data, total), F.score_layout(net)
    assert matrix[layout[("tau", s)], layout[("tau", s)]] == pytest.approx(info["tau"][s], rel=1e-9)
    j = net.findings.index("cramps")
    assert matrix[layout[("link", j, b, 1)], layout[("link", j, b, 1)]] == pytest.approx(info["link"][j, b, 1], rel=1e-9)
    assert np.allclose(matrix, matrix.T) and np.linalg.eigvalsh(matrix).min() > -1e-6 * np.abs(matrix).max()
    assert squared(("link", "cramps", c[b]), (1, 0)) == pytest.approx(info["link"][net.findings.index("cramps"), b, 1], rel=1e-5)
    assert squared(("twitch", "stress_anxiety")) == pytest.approx(info["tau"][s], rel=1e-5)
    assert squared(("spread_site", "stress_anxiety", "arm")) == pytest.approx(info["q"][s, 3], rel=1e-5)
    assert squared(("prior", "exercise_fatigue"), eps=1e-7) == pytest.approx(info["prior"][c.index("exercise_fatigue")], rel=1e-5)
    k = F._rr_masks(net, "stimulants")[0].index(("caffeine", "high"))
    assert squared(("relative_risk", "stimulants", "caffeine", "high"), eps=1e-5, log=True) == pytest.approx(info["rr:stimulants"][k], rel=1e-5)


@pytest.mark.slow
def test_recovery_at_10000_cases(net):
    """On a redrawn world, 10,000 cases move the numbers the data informs toward the truth
    (docs/fitting.md; about 12 minutes on 2 busy cores). Measured (seed 28, 20 iterations):
    211 numbers informed, 69% of them closer than the prior (before the links and leaks
    were freed of the people who do not twitch: 209 and 70%, at a mean error of 0.045),
    their mean error 0.075 -> 0.042. The issue's target, 80% of the informed numbers
    closer than the prior, is not met, and no estimate can meet it at this definition of informed: an exact
    Bayesian update from a correct prior lands closer to the truth than the prior with a
    probability set by the share of the prior's variance the data removed (65% at 0.5,
    81% at 0.9; `recovery.expected_closer`), 72% on average for these numbers. So
    besides the floor measured, the fit must do as well as that bound, within two
    binomial standard errors: a biased fit falls below it (one that stops short of its
    optimum can sit above it: a small step the right way is often "closer"; the error
    ratio checks the size of the steps)."""
    recovery = importlib.import_module("model.learning.recovery")
    r = recovery.recovery((10_000,), held_out=2_000, network=net, max_iter=20, progress=False)
    row = r.table.loc[10_000]
    assert row.informed >= 150
    assert row.informed_improved >= 0.68
    expected = row.informed_improved_expected
    assert row.informed_improved >= expected - 2 * math.sqrt(expected * (1 - expected) / row.informed)
    assert row.informed_error_fitted < 0.7 * row.informed_error_prior
    assert row.uninformed_error_fitted <= row.uninformed_error_prior
    assert row.heldout_loglik_fitted > row.heldout_loglik_prior


@pytest.mark.parametrize("first", ["import model.learning.fit", pytest.param("from model import fit", marks=pytest.mark.full)])
def test_from_model_import_fit_is_the_function(net, cases, first):
    """`from model import fit` and `model.fit` are the function `model.learning.fit.fit`
    (model/__init__.py's lazy `__getattr__`), whichever import came first: checked in a
    fresh interpreter, where nothing of model.learning is loaded yet; then, here, both
    spellings give the same fit."""
    code = "; ".join([
        first,
        "import model, model.learning.fit as m",
        "from model import fit, Fit, write_priors",
        "assert fit is m.fit and model.fit is m.fit and callable(model.fit), (fit, model.fit)",
        "assert Fit is m.Fit and write_priors is m.write_priors",
    ])
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr

    import model
    importlib.import_module("model.learning.fit")
    from model import fit

    assert fit is F.fit and model.fit is F.fit
    a = fit(cases.head(20), network=net, max_iter=1, progress=False)
    b = model.fit(cases.head(20), network=net, max_iter=1, progress=False)
    assert isinstance(a, F.Fit) and isinstance(b, F.Fit)
    assert a.log_likelihood == b.log_likelihood
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
