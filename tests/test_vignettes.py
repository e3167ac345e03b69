"""The bundled clinical vignettes (docs/validation.md): expected causes in the top three, at least
90% first; advice acceptable, no under-triage of a soon or emergency vignette; and each
vignette's expected level is the clinical one, docs/model.md on its evidence and expected
causes."""

import pytest

from model import load_network
from model.network.rules import rules_holding, triage_of
from model.validation.vignettes import load_vignettes, score_vignettes
from model.network.vocabulary import TRIAGE_LEVELS

LONG = {"2_weeks_to_3_months", "over_3_months"}
REGIONS = ("twitch_eyelid", "twitch_face", "twitch_tongue", "twitch_arm", "twitch_leg", "twitch_trunk")


@pytest.fixture(scope="module")
def scores():
    return score_vignettes()


@pytest.fixture(scope="module")
def net():
    return load_network()


def observed(net, evidence) -> dict[str, int]:
    """Node -> state index, as the triage rules read it."""
    return {node: net.states[node].index(state) for node, state in net.encode(evidence).items()}


def network_level(net, v) -> str:
    """The highest of the expected causes' levels and of every rule of priors/triage.toml
    that holds on the evidence."""
    levels = [0] + [net.cause_level[c] for c in v["expected"]]
    levels += [rule.level for rule in rules_holding(net, observed(net, v["evidence"]))]
    return TRIAGE_LEVELS[max(levels)]


def spec_level(net, v) -> str:
    """The same level from docs/model.md's table written out here, independently of
    priors/triage.toml (the amended table: no rule on taking a medicine or on numbness;
    withdrawal needs tremor and sweating; the two "with weakness" rules need 2 weeks;
    since the second review bulbar is a soon sign, and tetany, sudden one-sided weakness,
    fever or confusion and withdrawal after stopping are emergencies)."""
    e = dict(net.encode(v["evidence"]))
    on = lambda node: e.get(node) == "present"  # noqa: E731
    weak = e.get("weakness") in ("mild", "marked")
    long = e.get("duration") in LONG
    worsening = e.get("progression") == "worsening"
    heavy = e.get("alcohol_intake") == "heavy"
    emergency = (
        on("seizure_episode") or on("breathing") or on("hand_spasm") or on("sudden_one_sided")
        or on("fever_or_confusion") or (on("alcohol_stopped") and (on("tremor") or on("sweating")))
    )
    soon = (
        on("bulbar")
        or e.get("weakness") == "marked"
        or on("wasting")
        or on("twitch_tongue")
        or (on("stiffness") and weak and long)
        or (worsening and weak and long)
        or (on("tics") and worsening)
        or (heavy and on("tremor") and on("sweating"))
    )
    routine = (
        long
        or sum(on(r) for r in REGIONS) >= 2
        or e.get("weakness") == "mild"
        or on("stiffness")
        or on("new_medication")
        or heavy
        or on("kidney_disease_known")
        or (on("twitch_face") and on("twitch_eyelid"))
        or on("heat_or_weight_loss")
    )
    rules = 3 if emergency else 2 if soon else 1 if routine else 0
    return TRIAGE_LEVELS[max([rules] + [net.cause_level[c] for c in v["expected"]])]


def test_at_least_twenty_vignettes_covering_every_level():
    vignettes = load_vignettes()
    assert len(vignettes) >= 20
    assert {v["triage"] for v in vignettes} == {"self_care", "routine", "soon", "emergency"}


def test_expected_level_is_spec_7_6_on_the_evidence_and_expected_causes(net):
    wrong = [
        (v["id"], v["triage"], network_level(net, v), spec_level(net, v))
        for v in load_vignettes()
        if not v["triage"] == network_level(net, v) == spec_level(net, v)
    ]
    assert not wrong, "(id, vignettes.toml, priors/triage.toml's rules, docs/model.md table):\n" + "\n".join(map(str, wrong))


def test_every_rule_holds_on_some_vignette(net):
    held = {rule.id for v in load_vignettes() for rule in rules_holding(net, observed(net, v["evidence"]))}
    missing = [rule.id for rule in triage_of(net).rules if rule.id not in held]
    assert not missing, f"no vignette exercises the rules {missing}"


def test_every_expected_cause_in_top_three_but_the_listed_misses(scores):
    """A rank miss is listed in vignettes.toml (rank_miss, with its reason), not hidden;
    a listed miss that the model now gets right must drop its note."""
    cols = ["id", "expected", "ranks", "model_top3"]
    misses = scores.loc[~scores["top3"] & ~scores["listed_rank_miss"], cols]
    assert misses.empty, "\n" + misses.to_string()
    fixed = scores.loc[scores["top3"] & scores["listed_rank_miss"], cols]
    assert fixed.empty, "\n" + fixed.to_string()
    assert scores["listed_rank_miss"].sum() <= 1


def test_at_least_90_percent_first(scores):
    misses = scores.loc[~scores["top1"], ["id", "expected", "ranks", "model_top3"]]
    assert scores["top1"].mean() >= 0.9, "\n" + misses.to_string()


def test_exact_and_acceptable_are_as_documented(scores):
    advised = scores["advice"].map(TRIAGE_LEVELS.index)
    expected = scores["triage"].map(TRIAGE_LEVELS.index)
    assert (scores["exact"] == (advised == expected)).all()
    assert (scores["acceptable"] == ((advised == expected) | (advised == expected + 1))).all()
    assert (scores["under_triage"] == (advised < expected)).all()


def test_advice_is_acceptable_and_never_under_triages_urgent_vignettes_but_the_listed_misses(scores):
    """An advice miss is listed in vignettes.toml (advice_miss, with its reason), not
    hidden; a listed miss that the model now gets right must drop its note."""
    urgent = scores["triage"].isin(["soon", "emergency"])
    missed = ~scores["acceptable"] | (urgent & scores["under_triage"])
    cols = ["id", "triage", "advice", "urgency"]
    assert not (missed & ~scores["listed_miss"]).any(), "\n" + scores.loc[missed & ~scores["listed_miss"], cols].to_string()
    assert not (scores["listed_miss"] & ~missed).any(), "\n" + scores.loc[scores["listed_miss"] & ~missed, cols].to_string()
    # Isaacs' full picture (rare at its prior); the housebound woman's hypocalcaemia,
    # listed since the twitch switches (issue 18), is found since perioral_tingling
    # (issue 23) says what her lips do
    assert scores["listed_miss"].sum() <= 1
