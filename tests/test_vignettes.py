"""The bundled clinical vignettes (SPEC §7.9): expected causes in the top three, at least
90% first; advice acceptable, no under-triage of a soon or emergency vignette."""

import pytest

from model.vignettes import load_vignettes, score_vignettes


@pytest.fixture(scope="module")
def scores():
    return score_vignettes()


def test_at_least_twenty_vignettes_covering_every_level():
    vignettes = load_vignettes()
    assert len(vignettes) >= 20
    assert {v["triage"] for v in vignettes} == {"self_care", "routine", "soon", "emergency"}


def test_every_expected_cause_in_top_three(scores):
    misses = scores.loc[~scores["top3"], ["id", "expected", "ranks", "model_top3"]]
    assert misses.empty, "\n" + misses.to_string()


def test_at_least_90_percent_first(scores):
    misses = scores.loc[~scores["top1"], ["id", "expected", "ranks", "model_top3"]]
    assert scores["top1"].mean() >= 0.9, "\n" + misses.to_string()


def test_advice_is_acceptable_and_never_under_triages_urgent_vignettes(scores):
    urgent = scores["triage"].isin(["soon", "emergency"])
    under = scores.loc[urgent & scores["under_triage"], ["id", "triage", "advice", "urgency"]]
    assert under.empty, "\n" + under.to_string()
    bad = scores.loc[~scores["acceptable"], ["id", "triage", "advice", "urgency"]]
    assert bad.empty, "\n" + bad.to_string()
