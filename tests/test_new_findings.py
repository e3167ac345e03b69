"""The new items of docs/model.md (issue 23): weakness_where, perioral_tingling, hand_spasm,
heat_or_weight_loss, sudden_one_sided, fever_or_confusion and the exposure
alcohol_stopped, end to end: the vocabulary, the evidence a person types (and its
errors, one case or a batch), the priors that carry them, the amended rules of docs/model.md,
the questions and the command line."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import infer, load_network
from model.network import questions as Q
from model.network import rules as T
from model.network import vocabulary as V
from model.cli.main import main
from model.network.evidence import encode
from model.network.priors import PriorsError, default_priors_dir, load_priors

NEW_BINARY = ("perioral_tingling", "hand_spasm", "heat_or_weight_loss", "sudden_one_sided", "fever_or_confusion")
NEW_EMERGENCY_SIGNS = ("hand_spasm", "sudden_one_sided", "fever_or_confusion")


@pytest.fixture(scope="module")
def net():
    return load_network()


def holding(net, evidence) -> set[str]:
    nodes = net.encode(evidence)
    return {r.id for r in T.rules_holding(net, {n: net.states[n].index(s) for n, s in nodes.items()})}


# -- the vocabulary -----------------------------------------------------------------


def test_the_new_items_are_in_the_vocabulary_and_the_network(net):
    for f in NEW_BINARY:
        assert f in V.BINARY_FINDINGS and f in net.findings and net.states[f] == V.BINARY_STATES
    assert V.WEAKNESS_WHERE == ("one_limb", "shoulders_hips", "hands_feet")
    assert V.WEAKNESS_WHERE_NODES == ("weak_one_limb", "weak_shoulders_hips", "weak_hands_feet")
    assert all(w in net.findings for w in V.WEAKNESS_WHERE_NODES)
    assert "alcohol_stopped" in net.exposures and V.EXPOSURE_EDGES["alcohol_stopped"] == ("alcohol",)
    assert V.ACTS_THROUGH["alcohol_stopped"] == ("alcohol_intake",)


def test_the_pattern_nodes_are_flagged_and_the_leak_only_findings_have_no_link():
    priors = load_priors()
    for w in V.WEAKNESS_WHERE_NODES:
        finding = priors.findings[w]
        assert finding.pattern_of == "weakness"
        # every cause with a pattern link has a weakness link, and every cause with a
        # weakness link has a pattern distribution (hemifacial spasm's weakness is of the face)
        assert set(finding.links) <= set(priors.findings["weakness"].links)
    weak_causes = set(priors.findings["weakness"].links) - {"hemifacial_spasm"}
    assert all(any(c in priors.findings[w].links for w in V.WEAKNESS_WHERE_NODES) for c in weak_causes)
    for f in ("sudden_one_sided", "fever_or_confusion"):
        assert priors.findings[f].leak_only and not priors.findings[f].links
        assert 0 < priors.findings[f].leak.values[1] <= 0.005  # small: every unasked case carries it
    assert all(priors.findings[f].pattern_of is None for f in NEW_BINARY)


def test_the_site_patterns_follow_the_sources():
    """evidence.md §2: ALS starts in one limb, a root weakens one limb, neuropathy is
    distal, myositis, SMA, dystrophy and thyroid weakness proximal."""
    f = load_priors().findings

    def p(node, cause):
        return f[node].links[cause].values[1]

    for cause in ("als_mnd", "radiculopathy"):
        assert p("weak_one_limb", cause) >= 0.7 > p("weak_shoulders_hips", cause)
    assert p("weak_hands_feet", "peripheral_neuropathy") >= 0.8
    for cause in ("myositis_lupus", "spinal_muscular_atrophy", "muscular_dystrophy", "hyperthyroidism"):
        assert p("weak_shoulders_hips", cause) >= 0.7 > max(p("weak_one_limb", cause), p("weak_hands_feet", cause))
    for cause in ("stress_anxiety", "benign_fasciculation_syndrome"):  # subjective, mostly diffuse
        assert max(p(w, cause) for w in V.WEAKNESS_WHERE_NODES) <= 0.2


# -- evidence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, present",
    [
        (["one_limb"], {"weak_one_limb"}),
        ("shoulders_hips;hands_feet", {"weak_shoulders_hips", "weak_hands_feet"}),
        (("hands_feet", "one_limb"), {"weak_hands_feet", "weak_one_limb"}),
        ("none", set()),
        ([], set()),
    ],
)
def test_weakness_where_names_the_patterns_and_the_others_are_absent(value, present):
    ev = encode({"location": "arm", "weakness": "marked", "weakness_where": value})
    assert {w for w in V.WEAKNESS_WHERE_NODES if ev[w] == "present"} == present
    assert all(ev[w] == "absent" for w in V.WEAKNESS_WHERE_NODES if w not in present)


def test_a_pattern_node_is_accepted_alone():
    ev = encode({"location": "arm", "weak_one_limb": True})
    assert ev["weak_one_limb"] == "present" and "weak_hands_feet" not in ev and "weakness" not in ev
    # and with weakness none, absent is no contradiction
    assert encode({"weakness": "none", "weak_one_limb": False})["weak_one_limb"] == "absent"
    assert encode({"weakness": "none", "weakness_where": "none"})["weak_hands_feet"] == "absent"


BAD = [
    (
        {"location": "arm", "weakness": "none", "weakness_where": ["one_limb"]},
        "weakness_where: names 'one_limb', but weakness is none; weakness_where says where the weakness is: "
        "give weakness mild or marked, or leave weakness_where out",
    ),
    (
        {"location": "arm", "weakness": "none", "weakness_where": "one_limb;hands_feet"},
        "weakness_where: names 'one_limb', 'hands_feet', but weakness is none; weakness_where says where the weakness is: "
        "give weakness mild or marked, or leave weakness_where out",
    ),
    (
        {"location": "arm", "weakness": "none", "weak_shoulders_hips": True},
        "weak_shoulders_hips: true, but weakness is none; weak_shoulders_hips says where the weakness is: "
        "give weakness mild or marked, or leave weak_shoulders_hips out",
    ),
    (
        {"location": "arm", "weakness": "mild", "weakness_where": ["one_limbs"]},
        "weakness_where: 'one_limbs' is not a weakness pattern; did you mean 'one_limb'? "
        "allowed: one_limb, shoulders_hips, hands_feet, none",
    ),
    (
        {"location": "arm", "weakness_where": "hips"},
        "weakness_where: 'hips' is not a weakness pattern; allowed: one_limb, shoulders_hips, hands_feet, none",
    ),
    (
        {"location": "arm", "weakness_where": "none;one_limb"},
        "weakness_where: 'none' cannot be given with 'one_limb'; give none alone, or only the places that are weak",
    ),
    (
        {"location": "arm", "alcohol_intake": "none_or_moderate", "alcohol_stopped": True},
        "alcohol_stopped: true, but alcohol_intake is none_or_moderate; alcohol_stopped means heavy drinking "
        "stopped or cut down sharply in the last 3 days: give alcohol_intake heavy (the drinking before it "
        "stopped), or leave alcohol_stopped out",
    ),
    (
        {"location": "arm", "hand_spasm": "sometimes"},
        "hand_spasm: 'sometimes' is not a yes/no answer; allowed: true, false",
    ),
]


@pytest.mark.parametrize("evidence, message", BAD)
def test_bad_new_evidence_is_a_clear_value_error(evidence, message):
    with pytest.raises(ValueError) as info:
        infer(evidence)
    assert str(info.value) == message


def test_a_misspelled_evidence_key_suggests_the_new_one():
    with pytest.raises(ValueError, match=re.escape("'weakness_were' is not an evidence key; did you mean 'weakness_where'?")):
        encode({"weakness_were": "one_limb"})


@pytest.mark.parametrize("evidence, message", BAD[:3] + BAD[6:7])
def test_a_batch_reports_the_same_contradictions(net, evidence, message):
    good = {"location": "arm", "weakness": "mild", "weakness_where": "one_limb", "alcohol_intake": "heavy", "alcohol_stopped": True}
    for rows in ([good, evidence], pd.DataFrame([good, evidence])):
        batch = infer(rows, network=net, errors="collect")
        assert list(batch.errors["row"]) == [1]
        assert batch.errors["error"].iloc[0] == message
        single = infer(good, network=net)
        np.testing.assert_allclose(batch.causes.iloc[0].to_numpy(), single.causes[batch.causes.columns].to_numpy(), atol=1e-9)
        assert batch.advice.iloc[0] == single.advice
        with pytest.raises(ValueError, match=re.escape(f"row 1: {message.split(';')[0]}")):
            infer(rows, network=net)


def test_a_case_set_round_trips_weakness_where_through_text(net):
    rows = pd.DataFrame({"location": ["arm", "leg"], "weakness": ["mild", "marked"], "weakness_where": ["none", "one_limb;hands_feet"]})
    batch = infer(rows, network=net)
    for i in range(2):
        single = infer(rows.iloc[i].to_dict(), network=net)
        np.testing.assert_allclose(batch.causes.iloc[i].to_numpy(), single.causes[batch.causes.columns].to_numpy(), atol=1e-9)


# -- what the patterns and the exposure do ---------------------------------------------


def test_where_the_weakness_is_moves_the_causes_the_sources_name(net):
    base = {"location": "arm", "weakness": "marked", "duration": "over_3_months", "age": 62}

    def p(cause, where):
        return infer({**base, "weakness_where": where}, network=net).causes[cause]

    assert p("als_mnd", ["one_limb"]) > p("als_mnd", ["shoulders_hips"])
    assert p("radiculopathy", ["one_limb"]) > p("radiculopathy", ["hands_feet"])
    assert p("myositis_lupus", ["shoulders_hips"]) > p("myositis_lupus", ["one_limb"])
    assert p("peripheral_neuropathy", ["hands_feet"]) > p("peripheral_neuropathy", ["one_limb"])


def test_perioral_tingling_points_to_low_calcium_and_heat_to_the_thyroid(net):
    base = {"location": ["face", "arm"], "duration": 20}
    assert infer({**base, "perioral_tingling": True}, network=net).causes["hypocalcemia"] > 3 * infer(base, network=net).causes["hypocalcemia"]
    r = infer({"location": "arm", "tremor": True, "heat_or_weight_loss": True}, network=net)
    assert r.causes.index[0] == "hyperthyroidism"


def test_stopping_heavy_drinking_raises_alcohol_only_with_heavy_drinking(net):
    def alcohol(**e):
        return infer({"location": "arm", **e}, network=net).causes["alcohol"]

    def odds(p):
        return p / (1 - p)

    assert odds(alcohol(alcohol_intake="heavy", alcohol_stopped=True)) > 4 * odds(alcohol(alcohol_intake="heavy", alcohol_stopped=False))
    # with none_or_moderate drinking the node acts on nothing: absent changes nothing
    assert alcohol(alcohol_intake="none_or_moderate", alcohol_stopped=False) == pytest.approx(alcohol(alcohol_intake="none_or_moderate"), rel=1e-9)


def test_the_withdrawal_picture_of_the_issue_ranks_alcohol_first_and_is_an_emergency(net):
    """issue 23: a heavy drinker who stopped two days ago, shaking and sweating."""
    r = infer({"location": ["arm"], "alcohol_intake": "heavy", "alcohol_stopped": True, "tremor": True, "sweating": True, "duration": 2}, network=net)
    assert r.causes.index[0] == "alcohol"
    assert r.triage["emergency"] == pytest.approx(1.0, abs=1e-12) and r.advice == "emergency"


# -- the amended rules (docs/model.md) ------------------------------------------------------

CALM = {
    "location": ["arm"],
    "duration": "under_1_week",
    "weakness": "none",
    "progression": "stable_or_improving",
    **{f: False for f in V.BINARY_FINDINGS},
    "alcohol_intake": "none_or_moderate",
    "kidney_disease_known": False,
    "medications": [],
}

# (rule, level, a case built for it, its near miss)
NEW_RULES = [
    ("tetany", "emergency", {"hand_spasm": True}, {"cramps": True, "perioral_tingling": True}),
    ("sudden_one_sided", "emergency", {"sudden_one_sided": True}, {"numbness": True, "weakness": "mild"}),
    ("fever_or_confusion", "emergency", {"fever_or_confusion": True}, {"fatigue": True}),
    ("withdrawal_after_stopping", "emergency",
     {"alcohol_intake": "heavy", "alcohol_stopped": True, "tremor": True},
     {"alcohol_intake": "heavy", "alcohol_stopped": False, "tremor": True}),
    ("withdrawal_after_stopping", "emergency",
     {"alcohol_intake": "heavy", "alcohol_stopped": True, "sweating": True},
     {"alcohol_intake": "heavy", "alcohol_stopped": True}),
    ("bulbar", "soon", {"bulbar": True}, {"vision": True}),
    ("heat_or_weight_loss", "routine", {"heat_or_weight_loss": True}, {"sweating": True}),
]


@pytest.mark.parametrize("rule, level, hit, miss", NEW_RULES, ids=[f"{r[0]}-{i}" for i, r in enumerate(NEW_RULES)])
def test_each_new_rule_fires_on_its_case_and_not_on_its_near_miss(net, rule, level, hit, miss):
    assert rule in holding(net, {**CALM, **hit})
    assert rule not in holding(net, {**CALM, **miss})
    k = T.LEVELS.index(level)
    r = infer({**CALM, **hit}, network=net)
    assert r.triage.iloc[k:].sum() == pytest.approx(1.0, abs=1e-12)  # at least its level
    assert r.advice == level  # nothing else in the calm case raises it further
    assert infer({**CALM, **miss}, network=net).triage.iloc[k:].sum() < 1.0


@pytest.mark.parametrize("sign", NEW_EMERGENCY_SIGNS)
def test_each_new_emergency_sign_unanswered_is_a_small_share(net, sign):
    """with the sign unasked the calm case keeps a small chance of it, not an emergency"""
    calm = {k: v for k, v in CALM.items() if k != sign}
    r = infer(calm, network=net)
    assert 0 < r.triage["emergency"] < 0.01 and r.advice == "self_care"


def test_tremor_while_still_drinking_heavily_is_not_the_withdrawal_emergency(net):
    r = infer({"location": "arm", "alcohol_intake": "heavy", "alcohol_stopped": False, "tremor": True, "sweating": True, **{f: False for f in ("seizure_episode", "breathing", *NEW_EMERGENCY_SIGNS)}}, network=net)
    assert r.triage["emergency"] < 0.05 and r.advice == "soon"  # the soon rule alcohol_withdrawal


def test_bulbar_is_at_least_soon_but_no_emergency_by_itself(net):
    r = infer({"location": "arm", "weakness": "marked", "wasting": True, "duration": 120, "bulbar": True}, network=net)
    assert r.triage[["soon", "emergency"]].sum() == pytest.approx(1.0, abs=1e-12)
    assert r.advice == "soon" and r.triage["emergency"] < 0.2


@pytest.mark.parametrize("age", [35, 50, 62, 75])
@pytest.mark.parametrize("sex", ["female", "male"])
@pytest.mark.parametrize("wasting", [True, False])
def test_an_als_like_presentation_is_soon_and_emergency_with_breathing(net, age, sex, wasting):
    """issue 23's sanity target: marked weakness, with or without wasting, for months, any
    age and sex, breathing not answered: soon; with breathing present: emergency."""
    case = {"location": "arm", "weakness": "marked", "wasting": wasting, "duration": 100, "progression": "worsening", "age": age, "sex": sex}
    assert infer(case, network=net).advice == "soon"
    assert infer({**case, "breathing": True}, network=net).advice == "emergency"


def test_the_bundled_rule_table_has_the_amended_levels(net):
    level = {r.id: T.LEVELS[r.level] for r in T.triage_of(net).rules}
    assert level["bulbar"] == "soon"
    for rule in ("tetany", "sudden_one_sided", "fever_or_confusion", "withdrawal_after_stopping", "seizure_episode", "breathing"):
        assert level[rule] == "emergency"
    assert level["heat_or_weight_loss"] == "routine"
    assert [r for r in level if level[r] == "emergency"] == ["seizure_episode", "breathing", "tetany", "sudden_one_sided", "fever_or_confusion", "withdrawal_after_stopping"]


# -- questions ---------------------------------------------------------------------


def test_the_red_flag_screen_asks_the_emergency_signs_of_the_amended_table(net):
    assert Q.RED_FLAGS == ("breathing", "seizure_episode", "hand_spasm", "sudden_one_sided", "fever_or_confusion")
    questions = T.triage_of(net).questions
    assert set(questions[Q.WHICH].answers) == set(Q.RED_FLAGS)
    assert "bulbar" in questions and "bulbar" not in questions[Q.SCREEN].nodes
    # every emergency rule on a finding is in the screen
    for rule in T.triage_of(net).rules:
        if T.LEVELS[rule.level] == "emergency":
            (conj, *_) = rule.conjunctions
            findings = [n for n, _ in conj if n in net.findings]
            if len(findings) == 1 and len(rule.conjunctions) == 1:
                assert findings[0] in Q.RED_FLAGS


def test_every_new_item_has_words_and_labels(net):
    questions = T.triage_of(net).questions
    for key in (*NEW_BINARY, "weakness_where", "alcohol_stopped"):
        q = questions[key]
        assert q.text and q.text != key and q.cost > 0
    q = questions["weakness_where"]
    assert q.multiple and q.nodes == V.WEAKNESS_WHERE_NODES
    assert list(q.answers) == ["one_limb", "shoulders_hips", "hands_feet", "none"]
    assert all(label != key.replace("_", " ") for key, label in q.answers.items())


@pytest.mark.parametrize("weakness, open_", [(None, False), ("none", False), ("mild", True), ("marked", True)])
def test_weakness_where_is_asked_only_after_a_weakness_answer(net, weakness, open_):
    q = T.triage_of(net).questions["weakness_where"]
    evidence = dict(encode({"location": "arm", **({"weakness": weakness} if weakness else {})}))
    assert Q.is_open(q, evidence) is open_


def test_alcohol_stopped_is_asked_only_after_heavy_drinking(net):
    q = T.triage_of(net).questions["alcohol_stopped"]
    assert not Q.is_open(q, {"twitch_arm": "present"})
    assert not Q.is_open(q, {"twitch_arm": "present", "alcohol_intake": "none_or_moderate"})
    assert Q.is_open(q, {"twitch_arm": "present", "alcohol_intake": "heavy"})


def test_the_interview_takes_a_weakness_pattern(net):
    from model import Interview

    iv = Interview({"location": "leg", "weakness": "mild"}, network=net)
    assert "weakness_where" in [q.key for q in iv._open()]
    iv.answer("weakness_where", ["one_limb"])
    assert iv.result.evidence["weak_one_limb"] == "present" and iv.result.evidence["weak_hands_feet"] == "absent"
    assert "weakness_where" not in [q.key for q in iv._open()]


def test_the_screen_asks_the_new_signs(net):
    from model import Interview

    iv = Interview({"location": "arm"}, network=net)
    assert iv.next_question().key == Q.SCREEN
    iv.answer(Q.SCREEN, "yes")
    assert iv.next_question().key == Q.WHICH
    iv.answer(Q.WHICH, ["hand_spasm"])
    assert iv.result.evidence["hand_spasm"] == "present" and iv.result.evidence["sudden_one_sided"] == "absent"
    assert iv.result.advice == "emergency"


# -- the command line ------------------------------------------------------------------


def run(argv):
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue()


def test_the_command_line_takes_every_new_item():
    code, text = run([
        "infer", "--location", "leg", "--weakness", "mild", "--weakness-where", "one_limb,hands_feet",
        "--perioral-tingling", "no", "--hand-spasm", "no", "--heat-or-weight-loss", "yes", "--sudden-one-sided", "no",
        "--fever-or-confusion", "no", "--alcohol-intake", "heavy", "--alcohol-stopped", "no", "--json",
    ])
    assert code == 0
    evidence = json.loads(text)["evidence"]
    assert evidence["weakness_where"] == ["one_limb", "hands_feet"]
    assert evidence["heat_or_weight_loss"] is True and evidence["hand_spasm"] is False
    assert evidence["alcohol_stopped"] is False


def test_the_command_line_explains_its_new_options(capsys):
    with pytest.raises(SystemExit):
        main(["infer", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--weakness-where", "--perioral-tingling", "--hand-spasm", "--heat-or-weight-loss", "--sudden-one-sided", "--fever-or-confusion", "--alcohol-stopped"):
        assert option in text
    assert "[any of one_limb, shoulders_hips, hands_feet, or none (comma-" in text  # argparse breaks at the hyphen


def test_the_command_line_says_why_a_weakness_pattern_is_refused(capsys):
    code = main(["infer", "--location", "arm", "--weakness", "none", "--weakness-where", "one_limb"], stdout=io.StringIO())
    assert code == 2
    assert capsys.readouterr().err.startswith("twitchdx: error: --weakness-where: names 'one_limb', but weakness is none")


# -- the loader checks the new flags -----------------------------------------------------


def _folder(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "priors"
    shutil.copytree(default_priors_dir(), folder)
    path = folder / "findings.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('[weak_one_limb]\nstates = ["absent", "present"]\npattern_of = "weakness"\n', '[weak_one_limb]\nstates = ["absent", "present"]\n',
         "findings.toml: [weak_one_limb]: missing pattern_of = 'weakness'"),
        ('[weak_one_limb]\nstates = ["absent", "present"]\npattern_of = "weakness"\n', '[weak_one_limb]\nstates = ["absent", "present"]\npattern_of = "duration"\n',
         "findings.toml: [weak_one_limb.pattern_of]: 'duration' is not one of 'weakness'"),
        ('[perioral_tingling]\nstates = ["absent", "present"]\n', '[perioral_tingling]\nstates = ["absent", "present"]\npattern_of = "weakness"\n',
         "findings.toml: [perioral_tingling.pattern_of]: perioral_tingling is not a pattern of weakness"),
        ('[progression]\nstates = ["stable_or_improving", "worsening"]\n', '[progression]\nstates = ["stable_or_improving", "worsening"]\npattern_of = "weakness"\n',
         "findings.toml: [progression.pattern_of]: only a binary finding can be a pattern of another"),
        ("[weak_one_limb.links]\n", '[weak_one_limb.links]\neyelid_myokymia = { value = 0.1, source = "estimate" }\n',
         "findings.toml: [weak_one_limb.links]: eyelid_myokymia has no weakness link"),
        ("[sudden_one_sided.links]\n", '[sudden_one_sided.links]\nseizure = { value = 0.1, source = "estimate" }\n',
         "findings.toml: [sudden_one_sided.links]: a finding marked leak_only = true has no cause links"),
        ("leak_only = true\nleak = { value = 0.001,", "leak = { value = 0.001,",
         "findings.toml: [sudden_one_sided.links]: a finding needs at least one cause link"),
    ],
    ids=["pattern_missing", "pattern_unknown", "pattern_on_other_finding", "pattern_on_ordinal", "pattern_without_weakness", "leak_only_with_links", "no_link_without_leak_only"],
)
def test_the_loader_checks_pattern_of_and_leak_only(tmp_path, old, new, message):
    with pytest.raises(PriorsError) as info:
        load_priors(_folder(tmp_path, old, new))
    assert str(info.value).startswith(message)
