"""The sampler and the engine agree (SPEC §4, §7.8), and batches equal single cases."""

import numpy as np
import pandas as pd
import pytest

from model import infer, load_network
from model.analysis import analyse
from model.evidence import encode
from model import vocabulary as V
from model.synthetic import _draw_causes, _draw_twitches, evidence_of, perturbed_network, redraw_values, sample_cases


def test_same_seed_same_cases_and_every_case_twitches():
    net = load_network()
    a = sample_cases(net, 500, rng=np.random.default_rng(4), missing=0.0)
    b = sample_cases(net, 500, rng=np.random.default_rng(4), missing=0.0)
    pd.testing.assert_frame_equal(a, b)
    assert (a["location"].str.len() > 0).all()
    # a primary cause is responsible, and responsible causes are present
    for row in a.itertuples():
        if not pd.isna(row.primary):
            assert row.primary in row.responsible.split(";")
        assert set(filter(None, row.responsible.split(";"))) <= set(row.present.split(";"))


def _alone(net, cause):
    """P(region pattern | `cause` the only cause present), exactly, from the network's
    arrays: the switch is on with P(twitching | cause); given it, each region fires with
    P(site | cause, twitching) or its leak; given it off, with its leak alone.
    Returns (P(no region), P(region r), P(regions r and s)) with the last two as dicts."""
    i = net.causes.index(cause)
    tau = float(net.twitch[cause])
    leak = {r: net.leak[r][1] for r in net.regions}
    on = {r: 1 - (1 - net.link[r][i, 1]) * (1 - leak[r]) for r in net.regions}
    none = (1 - tau) * np.prod([1 - leak[r] for r in net.regions]) + tau * np.prod([1 - on[r] for r in net.regions])
    one = {r: (1 - tau) * leak[r] + tau * on[r] for r in net.regions}
    two = {(r, s): (1 - tau) * leak[r] * leak[s] + tau * on[r] * on[s] for r in net.regions for s in net.regions if r < s}
    return none, one, two


@pytest.mark.parametrize("cause", ["stress_anxiety", "exercise_fatigue"])
def test_a_cause_alone_twitches_its_regions_together(cause):
    """Issue #18: one switch per cause. Among sampled cases whose only present cause is
    `cause` (P(twitching | cause) < 1), each region and each pair of regions twitches
    as often as the network says given twitching somewhere: P(arm and leg) is
    tau s_arm s_leg (+ leak), not (tau s_arm)(tau s_leg), which the test rejects."""
    net = load_network()
    i = net.causes.index(cause)
    assert float(net.twitch[cause]) < 1
    frame = sample_cases(net, 8000, rng=np.random.default_rng(18), missing=0.0)
    present = frame[[f"present:{c}" for c in net.causes]].to_numpy(dtype=bool)
    rows = frame[present[:, i] & (present.sum(axis=1) == 1)]
    n = len(rows)
    assert n > 500, n
    said = [set(loc.split(";")) for loc in rows["location"]]
    region = dict(zip(net.regions, V.REGIONS))
    none, one, two = _alone(net, cause)

    def check(label, regions, p):  # p: the exact P(regions all twitch | cause alone, twitching somewhere)
        freq = np.mean([set(regions) <= s for s in said])
        tolerance = 4 * np.sqrt(p * (1 - p) / n)  # 4 binomial standard deviations
        assert abs(freq - p) <= tolerance, (label, freq, p, tolerance)

    for r in net.regions:
        check(r, [region[r]], one[r] / (1 - none))
    for (r, q), p in two.items():
        check(f"{r} and {q}", [region[r], region[q]], p / (1 - none))
    # the old model (a region link of tau x site, independent per region) is far outside
    tau = float(net.twitch[cause])
    arm, leg = net.link["twitch_arm"][i, 1], net.link["twitch_leg"][i, 1]
    independent = [1 - (1 - tau * net.link[r][i, 1]) * (1 - net.leak[r][1]) for r in net.regions]
    old = (1 - (1 - tau * arm) * (1 - net.leak["twitch_arm"][1])) * (1 - (1 - tau * leg) * (1 - net.leak["twitch_leg"][1])) / (1 - np.prod([1 - x for x in independent]))
    new = two[("twitch_arm", "twitch_leg")] / (1 - none)
    freq = np.mean([{"arm", "leg"} <= s for s in said])
    assert abs(freq - old) > 3 * abs(freq - new) and abs(freq - old) > 4 * np.sqrt(new * (1 - new) / n)


def test_responsible_causes_are_present_with_their_switch_on():
    """SPEC §7.8: the responsible causes fired a twitch link, so they are present and
    their switch ("making the person twitch") is on. A cause alone is responsible as
    often as t_i / P(twitching somewhere) says; a present cause that fired nothing has
    its switch on as often as P(on, every site quiet) / P(no site fires) says."""
    net = load_network()
    rng = np.random.default_rng(7)
    _, c = _draw_causes(net, rng, 20000, 0.0)
    regions, responsible, switch = _draw_twitches(net, rng, c)
    assert regions.any(axis=1).all()  # conditioned on twitching somewhere
    assert not (responsible & ~switch).any() and not (switch & ~c).any()
    assert responsible.any()
    cause = "stress_anxiety"
    i = net.causes.index(cause)
    tau = float(net.twitch[cause])
    quiet = np.prod([1 - net.link[r][i, 1] for r in net.regions])  # switch on, no site fires
    alone = c[:, i] & (c.sum(axis=1) == 1)
    none, _, _ = _alone(net, cause)
    got = responsible[alone, i]  # alone: it fired some region, P(t_i) / P(twitching somewhere)
    p = tau * (1 - quiet) / (1 - none)
    assert len(got) > 500 and abs(got.mean() - p) <= 4 * np.sqrt(p * (1 - p) / len(got)), (got.mean(), p, len(got))
    # a present cause that fired nothing (another source did): its switch is on with
    # P(on, every site quiet | present, no site fired), summed over all such (case, cause)
    taus = np.array([float(net.twitch[k]) for k in net.causes])
    quiets = np.array([np.prod([1 - net.link[r][k, 1] for r in net.regions]) for k in range(len(net.causes))])
    t = taus * (1 - quiets)  # P(the cause fires some region | present)
    silent = c & ~responsible
    assert not silent[:, t == 1].any()  # a cause that always fires is never silent
    p_on = np.broadcast_to(taus * quiets / np.where(t < 1, 1 - t, 1), c.shape)[silent]
    expected, sd = p_on.sum(), np.sqrt((p_on * (1 - p_on)).sum())
    assert sd > 5 and abs(switch[silent].sum() - expected) <= 4 * sd, (switch[silent].sum(), expected, sd)
    # a region outside every responsible cause's sites came from the leak: with a
    # responsible cause, that is as rare as the leak firing (unconditioned) at all
    has_site = np.array([[net.link[r][k, 1] > 0 for r in net.regions] for k in range(len(net.causes))])
    stray = (regions & ~(responsible.astype(int) @ has_site.astype(int) > 0)).any(axis=1)[responsible.any(axis=1)]
    leak = 1 - np.prod([1 - net.leak[r][1] for r in net.regions])
    assert stray.mean() <= leak + 4 * np.sqrt(leak / len(stray)), (stray.mean(), leak)


def test_a_perturbed_network_carries_its_redrawn_twitch_in_its_switches():
    """The perturbed world redraws P(twitching | cause) into `Network.twitch`; a region's
    link stays P(site | cause, twitching), its own redrawn value."""
    net = load_network()
    values = redraw_values(net.priors, np.random.default_rng(5))
    moved = perturbed_network(net, np.random.default_rng(5))
    for i, c in enumerate(net.causes):
        assert float(moved.twitch[c]) == values[("twitch", c)]
        for r in net.regions:
            if c in net.priors.findings[r].links:
                np.testing.assert_allclose(moved.link[r][i], values[("link", r, c)], rtol=0, atol=1e-15)
    assert any(float(moved.twitch[c]) != float(net.twitch[c]) for c in net.causes)


def test_mean_posterior_matches_sampled_frequency():
    """E[P(c | evidence)] over cases drawn from the model equals the frequency of c:
    fails if either the sampler or the engine is wrong."""
    net = load_network()
    frame = sample_cases(net, 3000, rng=np.random.default_rng(8), missing=0.5)
    evidence = evidence_of(frame).to_dict(orient="records")
    post = np.array([analyse(net, encode(row, batch=True), triage=False).causes for row in evidence])
    truth = frame[[f"present:{c}" for c in net.causes]].to_numpy(dtype=float)
    sd = np.sqrt((post * (1 - post)).sum(axis=0)) / len(post)
    gap = np.abs(post.mean(axis=0) - truth.mean(axis=0))
    assert (gap <= 4 * sd + 1e-4).all(), dict(zip(net.causes, np.round(gap / np.maximum(sd, 1e-12), 1)))


def test_batch_equals_single_and_collects_bad_rows():
    rows = [
        {"location": "eyelid", "caffeine": "high"},
        {"location": "arm;leg", "duration": 100, "weakness": None},
        {"location": "tongue", "weakness": "marked"},
        {"location": "eyelids"},
    ]
    with pytest.raises(ValueError, match=r"^1 bad rows: row 3: location: 'eyelids' is not a location"):
        infer(rows)
    batch = infer(rows, errors="collect")
    assert list(batch.errors["row"]) == [3]
    for i, row in enumerate(rows[:3]):
        single = infer({k: v for k, v in row.items() if v is not None})
        np.testing.assert_allclose(batch.causes.loc[i, single.causes.index], single.causes, atol=1e-12)
        np.testing.assert_allclose(batch.triage.loc[i], single.triage, atol=1e-12)
        assert batch.advice[i] == single.advice
    frame = infer(pd.DataFrame(rows[:3]))
    pd.testing.assert_frame_equal(frame.causes, batch.causes.iloc[:3])
    assert batch.causes.loc[3].isna().all() and not batch.ok[3]


def test_impossible_evidence_names_the_conflict_single_and_batch():
    import dataclasses
    from types import MappingProxyType

    net = load_network()
    link = dict(net.link)
    leak = dict(net.leak)
    link["breathing"] = np.tile([1.0, 0.0], (len(net.causes), 1))
    leak["breathing"] = np.array([1.0, 0.0])
    never = dataclasses.replace(net, link=MappingProxyType(link), leak=MappingProxyType(leak))
    message = "evidence is impossible under the model: breathing=present cannot occur together"
    with pytest.raises(ValueError) as info:
        infer({"location": "arm", "caffeine": "high", "breathing": True}, network=never)
    assert str(info.value) == message
    batch = infer([{"location": "arm"}, {"location": "arm", "breathing": True}], network=never, errors="collect")
    assert list(batch.causes.index[batch.ok]) == [0]
    assert batch.errors.to_dict(orient="records") == [{"row": 1, "error": message}]
    assert np.isfinite(batch.causes[batch.ok].to_numpy()).all()


def test_the_default_share_of_missing_answers_is_validation_toml_s():
    from model.settings import load_settings

    net = load_network()
    default = sample_cases(net, 200, rng=np.random.default_rng(8))
    explicit = sample_cases(net, 200, rng=np.random.default_rng(8), missing=load_settings(net).missing)
    pd.testing.assert_frame_equal(default, explicit)
