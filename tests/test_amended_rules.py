"""The amended rule table of docs/model.md and advice a clinician would sign (issue 15):
each rule fires on a case built for it and not on its near miss; the sanity targets of
ordinary and serious presentations; one-shot advice on the model's own population."""

import numpy as np
import pytest

from model import infer, load_network
from model.network import rules as T
from model.validation.synthetic import evidence_of, sample_cases

# every finding and the context answered, none of them a rule: the rules then hold or not
# on what is written, not on what is summed out
CALM = {
    "location": ["arm"],
    "duration": "under_1_week",
    "weakness": "none",
    "progression": "stable_or_improving",
    **{f: False for f in ("numbness", "wasting", "cramps", "stiffness", "pain", "bulbar", "breathing", "vision",
                          "fatigue", "sweating", "tremor", "joint_pain_or_rash", "seizure_episode", "tics", "abnormal_posture",
                          "perioral_tingling", "hand_spasm", "heat_or_weight_loss", "sudden_one_sided", "fever_or_confusion")},
    "alcohol_intake": "none_or_moderate",
    "kidney_disease_known": False,
    "medications": [],
}


def holding(evidence) -> set[str]:
    net = load_network()
    nodes = net.encode(evidence)
    return {r.id for r in T.rules_holding(net, {n: net.states[n].index(s) for n, s in nodes.items()})}


# (rule, a case built for it, its near miss)
RULES = [
    ("alcohol_withdrawal", {"alcohol_intake": "heavy", "tremor": True, "sweating": True},
     {"alcohol_intake": "heavy", "tremor": True, "sweating": False}),
    ("worsening_with_weakness", {"progression": "worsening", "weakness": "mild", "duration": 20},
     {"progression": "worsening", "weakness": "mild", "duration": 10}),
    ("stiffness_with_weakness", {"stiffness": True, "weakness": "mild", "duration": "over_3_months"},
     {"stiffness": True, "weakness": "mild", "duration": "1_to_2_weeks"}),
    ("new_medication", {"medications": ["antihypertensive"], "new_medication": True},
     {"medications": ["antihypertensive"], "new_medication": False}),
    ("several_regions", {"location": ["arm", "leg"]}, {"location": ["arm"]}),
    ("eyelid_and_face", {"location": ["eyelid", "face"]}, {"location": ["eyelid"]}),
    ("long_duration", {"duration": 14}, {"duration": 13}),
    ("tongue", {"location": ["tongue"]}, {"location": ["face"]}),
    ("marked_weakness", {"weakness": "marked"}, {"weakness": "mild"}),
    ("breathing", {"breathing": True}, {"fatigue": True}),
    # docs/model.md as amended by the second review (issue 23; more in test_new_findings.py)
    ("bulbar", {"bulbar": True}, {"vision": True}),
    ("tetany", {"hand_spasm": True}, {"cramps": True}),
    ("sudden_one_sided", {"sudden_one_sided": True}, {"numbness": True}),
    ("fever_or_confusion", {"fever_or_confusion": True}, {"fatigue": True}),
    ("withdrawal_after_stopping", {"alcohol_intake": "heavy", "alcohol_stopped": True, "tremor": True},
     {"alcohol_intake": "heavy", "alcohol_stopped": False, "tremor": True}),
    ("heat_or_weight_loss", {"heat_or_weight_loss": True}, {"sweating": True}),
]


@pytest.mark.parametrize("rule, hit, miss", RULES, ids=[r[0] for r in RULES])
def test_each_amended_rule_fires_on_its_case_and_not_on_the_near_miss(rule, hit, miss):
    assert rule in holding({**CALM, **hit})
    assert rule not in holding({**CALM, **miss})


def test_taking_a_medicine_for_years_or_tingling_alone_is_no_rule():
    assert holding({**CALM, "medications": ["antidepressant", "estrogen"], "new_medication": False}) == set()
    assert holding({**CALM, "numbness": True}) == set()


def test_a_new_medicine_with_none_listed_is_a_clear_error():
    with pytest.raises(ValueError, match="^new_medication: true, but medications lists none of the medicines"):
        infer({"location": "arm", "medications": "none", "new_medication": True})


def test_a_new_medicine_acts_only_through_the_medicines_taken():
    def side_effect(**e):
        return infer({"location": "arm", **e}).causes["medication_side_effect"]

    assert side_effect(medications=["stimulant"], new_medication=True) > 1.5 * side_effect(medications=["stimulant"], new_medication=False)
    assert side_effect(medications=[], new_medication=False) == pytest.approx(side_effect(medications=[]), rel=1e-9)


def test_with_no_medicine_taken_a_new_medicine_changes_nothing():
    base = {"location": "eyelid", "duration": 3, "medications": []}
    a, b = infer(base), infer({**base, "new_medication": False})
    np.testing.assert_allclose(a.triage.to_numpy(), b.triage.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(a.causes.sort_index().to_numpy(), b.causes.sort_index().to_numpy(), atol=1e-12)
    # with a medicine taken, a new one is the routine rule
    assert infer({**base, "medications": ["stimulant"], "new_medication": True}).triage["self_care"] == 0.0


# docs/model.md / issue 15: what a clinician would advise with no red flag answered
@pytest.mark.parametrize(
    "evidence, allowed",
    [
        ({}, {"self_care", "routine"}),
        ({"location": "arm"}, {"self_care", "routine"}),
        ({"location": "eyelid", "duration": "under_1_week", "sleep": "short", "caffeine": "high"}, {"self_care", "routine"}),
        ({"location": "eyelid", "duration": "under_1_week", "sleep": "short", "caffeine": "high", "medications": "none"}, {"self_care"}),
        ({"location": "arm", "weakness": "marked", "wasting": True}, {"soon"}),
        ({"location": "arm", "weakness": "marked", "wasting": True, "breathing": True}, {"emergency"}),
        # docs/model.md (amended): a speech or swallowing change over days is urgent referral, not A&E
        ({"location": "arm", "weakness": "marked", "wasting": True, "bulbar": True}, {"soon"}),
        ({"location": "arm", "weakness": "marked", "wasting": True, "bulbar": True, "breathing": True}, {"emergency"}),
    ],
    ids=["nothing", "arm", "readme_eyelid", "benign_eyelid_no_medicines", "als_like", "als_like_breathing", "als_like_bulbar", "als_like_bulbar_breathing"],
)
def test_sanity_targets(evidence, allowed):
    assert infer(evidence).advice in allowed


@pytest.fixture(scope="module")
def population():
    net = load_network()
    cases = sample_cases(net, 20_000, rng=np.random.default_rng(2026))  # the default missing share
    evidence = evidence_of(cases)
    advice = infer(evidence, network=net).advice.to_numpy()
    return cases["true_level"].to_numpy(), advice, evidence["location"].notna().to_numpy()


@pytest.mark.full
def test_one_shot_advice_on_the_model_population(population):
    truth, advice, located = population
    self_care = truth == "self_care"
    urgent = np.isin(truth, ["soon", "emergency"])
    # Issue 18: with the causes' twitch switches the sites of one cause's twitching travel
    # together, so two or more regions (a routine rule) are likelier when the location is
    # not answered. Self-care advice on self-care cases: 91.6% with the location answered
    # (88.8% before the switches), 38% without it (67% before), 75.4% in all (82.3%).
    assert (advice[self_care & located] == "self_care").mean() >= 0.85
    assert (advice[self_care] == "self_care").mean() >= 0.72
    assert (advice[urgent] == "self_care").mean() <= 0.04
    # most people who twitch do not need a doctor soon (issue 15: 12% + 1.5% before)
    assert urgent.mean() < 0.12
