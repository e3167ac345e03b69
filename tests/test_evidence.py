"""Evidence parsing: aliases, bands, lists, and whole error messages (docs/model.md-7.3)."""

import math
import re

import pytest

from model.network.evidence import encode


def test_aliases_bands_and_lists():
    ev = encode({"location": "widespread", "duration": 10, "age": 59.9, "medications": "diuretic;estrogen", "numbness": True})
    assert ev["twitch_arm"] == ev["twitch_leg"] == ev["twitch_trunk"] == "present"
    assert ev["twitch_eyelid"] == ev["twitch_face"] == ev["twitch_tongue"] == "absent"
    assert ev["duration"] == "1_to_2_weeks"
    assert ev["age"] == "40_to_60"
    assert ev["med_diuretic"] == ev["med_estrogen"] == "present"
    assert ev["med_stimulant"] == "absent"
    assert ev["numbness"] == "present"


@pytest.mark.parametrize(
    "days, band",
    [(0, "under_1_week"), (6.99, "under_1_week"), (7, "1_to_2_weeks"), (14, "2_weeks_to_3_months"), (89.5, "2_weeks_to_3_months"), (90, "over_3_months"), (10_000, "over_3_months")],
)
def test_duration_bands_are_half_open(days, band):
    assert encode({"location": "arm", "duration": days})["duration"] == band


@pytest.mark.parametrize("age, band", [(16, "under_40"), (39.99, "under_40"), (40, "40_to_60"), (60, "over_60"), (119.9, "over_60")])
def test_age_bands_are_half_open(age, band):
    assert encode({"age": age})["age"] == band


def test_node_names_and_none_medications():
    ev = encode({"twitch_arm": True, "medications": "none"})
    assert ev["twitch_arm"] == "present" and "twitch_leg" not in ev
    assert all(ev[f"med_{m}"] == "absent" for m in ("corticosteroid", "diuretic"))
    assert encode({"medications": []})["med_diuretic"] == "absent"


def test_input_is_not_changed():
    evidence = {"location": ["arm", "leg"], "medications": ["diuretic"]}
    copy = {"location": ["arm", "leg"], "medications": ["diuretic"]}
    encode(evidence)
    assert evidence == copy


BAD = [
    ({"location": "eyelids"}, "location: 'eyelids' is not a location; did you mean 'eyelid'? allowed: eyelid, face, tongue, arm, leg, trunk, widespread"),
    ({"caffiene": "high"}, "'caffiene' is not an evidence key; did you mean 'caffeine'? allowed: "),
    ({"caffeine": "hgh"}, "caffeine: 'hgh' is not a caffeine state; did you mean 'high'? allowed: low, moderate, high"),
    ({"caffeine": "lots"}, "caffeine: 'lots' is not a caffeine state; allowed: low, moderate, high"),
    ({"weakness": "strong"}, "weakness: 'strong' is not a weakness state; allowed: none, mild, marked"),
    ({"numbness": "sometimes"}, "numbness: 'sometimes' is not a yes/no answer; allowed: true, false"),
    ({"medications": ["aspirin"]}, "medications: 'aspirin' is not a medication; allowed: corticosteroid, stimulant, estrogen, diuretic, antidepressant, antihypertensive, none"),
    ({"duration": -3}, "duration: -3 days is negative"),
    ({"duration": math.inf}, "duration: inf is not a finite number of days"),
    ({"duration": [3]}, "duration: [3] is not a duration state or a number of days; allowed: under_1_week, 1_to_2_weeks, 2_weeks_to_3_months, over_3_months"),
    ({"age": 12}, "age: 12 is outside [16, 120) years; the model is for adults"),
    ({"age": 120}, "age: 120 is outside [16, 120) years; the model is for adults"),
    ({"age": True}, "age: True is not a number of years or an age band; allowed: under_40, 40_to_60, over_60"),
    ({"caffeine": None}, "caffeine: None is not a value; leave the key out when it is unknown"),
    ({"duration": float("nan")}, "duration: nan is not a value; leave the key out when it is unknown"),
    ({"location": []}, "location: names no region; the model assumes twitching in at least one region (leave location out if unknown)"),
    (
        {f"twitch_{r}": False for r in ("eyelid", "face", "tongue", "arm", "leg", "trunk")},
        "location: every region is absent; the model assumes twitching in at least one region",
    ),
    ({"location": "arm", "twitch_arm": False}, "twitch_arm: sets twitch_arm=absent, but location sets twitch_arm=present"),
    ({"location": [1]}, "location: 1 in [1] is not a name"),
]


@pytest.mark.parametrize("evidence, message", BAD)
def test_bad_input_names_key_and_allowed_values(evidence, message):
    with pytest.raises(ValueError) as info:
        encode(evidence)
    text = str(info.value)
    if message.endswith("allowed: "):
        assert text.startswith(message)
    else:
        assert text == message


def test_not_a_dict():
    with pytest.raises(ValueError, match=re.escape("evidence must be a dict of key: value, got str")):
        encode("eyelid")


def test_missing_values_in_a_batch_row_are_unknown():
    ev = encode({"location": "arm", "caffeine": None, "duration": float("nan")}, batch=True)
    assert "caffeine" not in ev and "duration" not in ev
