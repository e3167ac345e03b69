"""The interview scored on the model's own world (docs/model.md, issue 15 item 5): cases
answer from their own full rows; the validation reports the advice figures with their
intervals for one-shot advice and for the interview."""

import numpy as np
import pandas as pd
import pytest

from model import infer, load_network
from model.validation.report import advice_section, validate
from model.validation.synthetic import evidence_of, sample_cases
from model.validation.scoring import advice_figures, full_information_figures, interview_cases

LEVELS = ["self_care", "routine", "soon", "emergency"]


def stratified(net, n, n_urgent, seed):
    rng = np.random.default_rng(seed)
    cases = sample_cases(net, 20 * n, rng=rng, missing=0.0)
    urgent = cases["true_level"].isin(["soon", "emergency"]).to_numpy()
    pick = np.concatenate([rng.choice(np.flatnonzero(urgent), n_urgent, replace=False),
                           rng.choice(np.flatnonzero(~urgent), n - n_urgent, replace=False)])
    cases = cases.iloc[np.sort(pick)]
    full = evidence_of(cases)
    start = full.mask(rng.random(full.shape) < 0.3)
    return cases, full, start


def interviewed(n, n_urgent, seed, workers=1, goal="causes"):
    net = load_network()
    cases, full, start = stratified(net, n, n_urgent, seed)
    got = interview_cases(net, start, full, workers=workers, goal=goal)
    knowing_all = infer(full, network=net).advice  # the advice with every answer known
    return cases["true_level"], got, knowing_all


def check(truth, got, knowing_all, *, self_care_share):
    advice = got["advice"]
    figures = advice_figures(truth, advice)
    assert figures.loc["self_care_advised_self_care", "share"] >= self_care_share
    urgent = truth.isin(["soon", "emergency"])
    level = knowing_all.map(LEVELS.index)
    # the interview misses an urgent case only where every answer would miss it too: a
    # serious cause present with no sign any question can find (asking all would not
    # have advised soon)
    missed = urgent & (advice == "self_care")
    assert (level[missed] < 2).all(), pd.concat([truth, got, knowing_all], axis=1)[missed]
    emergency_missed = (truth == "emergency") & advice.isin(["self_care", "routine"])
    assert (level[emergency_missed] < 2).all(), pd.concat([truth, got, knowing_all], axis=1)[emergency_missed]
    assert (got["asked"].str.split(";").map(lambda k: len(k) == len(set(k)))).all(), "a question asked twice"
    return figures


@pytest.mark.full
@pytest.mark.parametrize("goal", ["causes", "triage"])
def test_interview_on_the_model_world_misses_only_silent_urgent_cases(goal):
    truth, got, knowing_all = interviewed(60, 25, seed=3, goal=goal)
    check(truth, got, knowing_all, self_care_share=0.8)


def against_full_information(truth, got, knowing_all):
    """docs/validation.md: of the cases full information advises soon or more, none
    advised self_care and at most 1% below soon; true self_care kept at least 90%."""
    f = full_information_figures(truth, knowing_all, got)
    assert f["full"]["self_care_when_soon"]["count"] == 0, f["full"]
    assert f["full"]["below_soon_when_soon"]["share"] <= 0.01, f["full"]
    assert f["truth"]["self_care_kept"]["share"] >= 0.9, f["truth"]
    return f


# Measured (seed 25, 577 of the 2,000 advised soon or more on full information): none
# advised self_care under either goal (1, case 39642, while the muscles group cost 0.03);
# below soon 0 under goal=causes, 4 (0.69%) under goal=triage; true self_care kept 99.1%
# (530 of 535), against full information 100% (553 of 553).
@pytest.mark.slow
@pytest.mark.parametrize("goal", ["causes", "triage"])
def test_2000_model_world_cases_against_full_information(goal):
    truth, got, knowing_all = interviewed(2000, 600, seed=25, workers=2, goal=goal)
    assert truth.isin(["soon", "emergency"]).sum() >= 500
    f = against_full_information(truth, got, knowing_all)
    print(goal, {k: (v["count"], v["of"]) for k, v in f["full"].items()}, f["silent"], f["questions_mean"])


@pytest.mark.slow
def test_interview_on_2000_model_world_cases_600_urgent():
    truth, got, knowing_all = interviewed(2000, 600, seed=7, workers=2)
    figures = check(truth, got, knowing_all, self_care_share=0.8)
    print(figures.drop(columns="meaning").to_string())
    # issue 15 asks at most 0.5% of urgent cases advised self_care and 1% of emergencies
    # advised below soon. On the cases an interview can reach (those that advice on every
    # answer sends to soon or more) check() asserts none; the rest are silent (a serious
    # cause present with no sign: a seizure cause without a seizure episode, kidney
    # disease or MS with only a twitch), 0.5-1% of urgent cases at these seeds, which
    # the closing note reports with their intervals.


def test_validation_reports_one_shot_and_interview_figures_with_intervals():
    v = validate(n=300, world="model", workers=1, interviews=30)
    iv = v.metrics["interview"]
    assert iv["cases"] == 30 and iv["questions_mean"] >= 1
    for side in ("one_shot", "interview"):
        f = iv[side]
        # exact, over and under partition the cases; each share is its count over its base
        assert f["exact"]["count"] + f["over_triage"]["count"] + f["under_triage"]["count"] == 30
        assert all(x["of"] == 0 or x["share"] == pytest.approx(x["count"] / x["of"]) for x in f.values())
    assert v.metrics["advice"]["exact"]["of"] == v.metrics["answered"]
    for goal in ("causes", "triage"):
        g = iv["goals"][goal]
        assert g["full"]["self_care_when_soon"]["of"] + g["full"]["self_care_kept"]["of"] <= 30
        assert g["questions_mean"] >= 1 and 0 <= g["silent"]["count"] <= g["silent"]["of"]
    text = "\n".join(advice_section([v]))
    assert "The interview against full information" in text and "goal=triage" in text
    assert "acceptable* when it is the true level or one level more cautious" in text
    assert "true soon or emergency advised self_care" in text and "interview, the same cases" in text
