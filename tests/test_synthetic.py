"""The sampler and the engine agree (docs/validation.md), and batches equal single cases."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from model import infer, load_network
from model.inference.analysis import analyse
from model.network.evidence import encode
from model.network import vocabulary as V
from model.network.draws import perturbed_network, redraw_values
from model.validation.synthetic import _draw_causes, _draw_twitches, evidence_of, sample_cases


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


def _subsets(net, cause):
    """P(exactly this set of regions twitches | `cause` the only cause present), over all
    2^regions sets (bit r: region r), exactly from the network's arrays: the switch is on
    with P(twitching | cause) = tau; given it, the site pattern is spread (P = sp: each
    region fires by its link or its leak) or focal on region q (P = (1 - sp) f_q: q
    fires, the others by their leaks); given it off, each region by its leak alone."""
    i = net.causes.index(cause)
    n_r = len(net.regions)
    tau, sp = float(net.twitch[cause]), float(net.spread[cause])
    focal = np.asarray(net.focal[cause], dtype=float)
    leak = np.array([net.leak[r][1] for r in net.regions])
    on = 1 - (1 - np.array([net.link[r][i, 1] for r in net.regions])) * (1 - leak)
    bits = (np.arange(2**n_r)[:, None] >> np.arange(n_r)[None]) & 1  # (sets, regions)

    def independent(p):  # each region r with p[r], independently
        return np.prod(np.where(bits == 1, p[None], 1 - p[None]), axis=1)

    pattern = sp * independent(on) + (1 - sp - (1 - sp) * focal.sum()) * independent(leak)
    for q in range(n_r):
        pattern = pattern + (1 - sp) * focal[q] * independent(np.where(np.arange(n_r) == q, 1.0, leak))
    return tau * pattern + (1 - tau) * independent(leak), bits


def _alone(net, cause):
    """(P(no region), P(region r), P(regions r and s)) for `cause` alone (`_subsets`),
    the last two as dicts, and P(two or more regions)."""
    p, bits = _subsets(net, cause)
    regions = list(net.regions)
    one = {r: float(p[bits[:, k] == 1].sum()) for k, r in enumerate(regions)}
    two = {(r, s): float(p[(bits[:, k] == 1) & (bits[:, m] == 1)].sum())
           for k, r in enumerate(regions) for m, s in enumerate(regions) if r < s}
    return float(p[0]), one, two, float(p[bits.sum(axis=1) >= 2].sum())


@pytest.mark.parametrize("cause", ["stress_anxiety", "exercise_fatigue"])
def test_a_cause_alone_twitches_its_regions_by_its_site_pattern(cause):
    """Issues 18 and 23: one switch and one site pattern per cause. The figures of
    `_alone` are the engine's, exactly; among sampled cases whose only present cause is
    `cause` (P(twitching | cause) < 1, both patterns possible), each region and each pair
    of regions twitches as often as they say given twitching somewhere, and two or more
    regions as often as the pattern says, not as regions independent given the switch."""
    from model.inference import engine as E

    net = load_network()
    i = net.causes.index(cause)
    assert 0 < float(net.twitch[cause]) < 1 and 0 < float(net.spread[cause]) < 1
    none, one, two, several = _alone(net, cause)
    # the exact figures are the engine's (premise on: a region implies it)
    alone = dataclasses.replace(net, cause_table={c: np.full(np.shape(t), float(c == cause)) for c, t in net.cause_table.items()})
    assert E.evaluate(alone, E.Query()).total == pytest.approx(1 - none, rel=1e-12)
    for r in net.regions:
        assert E.evaluate(alone, E.Query(findings={r: (1, 1)})).total == pytest.approx(one[r], rel=1e-12)
    for (r, q), p in two.items():
        assert E.evaluate(alone, E.Query(findings={r: (1, 1), q: (1, 1)})).total == pytest.approx(p, rel=1e-12, abs=1e-300)

    frame = sample_cases(net, 8000, rng=np.random.default_rng(18), missing=0.0)
    present = frame[[f"present:{c}" for c in net.causes]].to_numpy(dtype=bool)
    rows = frame[present[:, i] & (present.sum(axis=1) == 1)]
    n = len(rows)
    assert n > 500, n
    said = [set(loc.split(";")) for loc in rows["location"]]
    region = dict(zip(net.regions, V.REGIONS))

    def check(label, freq, p):  # p: the exact P(... | cause alone, twitching somewhere)
        tolerance = 4 * np.sqrt(p * (1 - p) / n)  # 4 binomial standard deviations
        assert abs(freq - p) <= tolerance, (label, freq, p, tolerance)

    for r in net.regions:
        check(r, np.mean([region[r] in s for s in said]), one[r] / (1 - none))
    for (r, q), p in two.items():
        check(f"{r} and {q}", np.mean([{region[r], region[q]} <= s for s in said]), p / (1 - none))
    freq = np.mean([len(s) >= 2 for s in said])
    new = several / (1 - none)
    check("two or more regions", freq, new)
    # regions independent given the switch (issue 18's model, every region by its link
    # when the switch is on) is far outside
    free = dataclasses.replace(net, spread={}, focal={})
    none_free, _, _, several_free = _alone_free(free, cause)
    old = several_free / (1 - none_free)
    assert abs(freq - old) > 3 * abs(freq - new) and abs(freq - old) > 4 * np.sqrt(new * (1 - new) / n), (freq, old, new)


def _alone_free(net, cause):
    """`_alone` for a network whose cause has no site pattern (spread always)."""
    net = dataclasses.replace(net, spread={cause: np.array(1.0)}, focal={cause: np.zeros(len(net.regions))})
    return _alone(net, cause)


def test_responsible_causes_are_present_with_their_switch_on():
    """docs/validation.md: the responsible causes fired a twitch link, so they are present and
    their switch ("making the person twitch") is on. A cause alone is responsible as
    often as t_i / P(twitching somewhere) says (t_i: the switch on and the pattern firing
    some region: focal always, spread unless every link is quiet); a present cause that
    fired nothing has its switch on as often as P(on, quiet | present, fired nothing)."""
    net = load_network()
    rng = np.random.default_rng(7)
    _, c = _draw_causes(net, rng, 20000, 0.0)
    regions, responsible, switch = _draw_twitches(net, rng, c)
    assert regions.any(axis=1).all()  # conditioned on twitching somewhere
    assert not (responsible & ~switch).any() and not (switch & ~c).any()
    assert responsible.any()
    taus = np.array([float(net.twitch[k]) for k in net.causes])
    sp = np.array([float(net.spread[k]) for k in net.causes])
    focal = np.array([np.asarray(net.focal[k], dtype=float) for k in net.causes])
    links = np.array([[net.link[r][k, 1] for r in net.regions] for k in range(len(net.causes))])
    # switch on, no region from the pattern: spread with every link quiet, or focal on no region
    quiets = sp * np.prod(1 - links, axis=1) + (1 - sp) * (1 - focal.sum(axis=1))
    t = taus * (1 - quiets)  # P(the cause fires some region | present)
    cause = "stress_anxiety"
    i = net.causes.index(cause)
    alone = c[:, i] & (c.sum(axis=1) == 1)
    none, _, _, _ = _alone(net, cause)
    got = responsible[alone, i]  # alone: it fired some region, P(t_i) / P(twitching somewhere)
    p = t[i] / (1 - none)
    assert len(got) > 500 and abs(got.mean() - p) <= 4 * np.sqrt(p * (1 - p) / len(got)), (got.mean(), p, len(got))
    # a present cause that fired nothing (another source did): its switch is on with
    # P(on, quiet | present, fired nothing), summed over all such (case, cause); given
    # the causes the sources are independent, so every cause present gives the most pairs
    every = np.ones((20000, len(net.causes)), dtype=bool)
    _, fired, on_every = _draw_twitches(net, rng, every)
    silent = every & ~fired
    assert not silent[:, t == 1].any()  # a cause that always fires is never silent
    p_on = np.broadcast_to(taus * quiets / np.where(t < 1, 1 - t, 1), every.shape)[silent]
    on = on_every[silent]
    # certain where the cause twitches whenever present (tau 1: silent only when quiet)
    # or is never quiet when on; else as often as the figures say
    assert on[p_on == 1].all() and not on[p_on == 0].any()
    unsure = (p_on > 0) & (p_on < 1)
    expected, sd = p_on[unsure].sum(), np.sqrt((p_on[unsure] * (1 - p_on[unsure])).sum())
    assert expected > 8 * sd and abs(on[unsure].sum() - expected) <= 4 * sd, (on[unsure].sum(), expected, sd)
    # a region no responsible cause's pattern can reach came from the leak: with a
    # responsible cause, that is as rare as the leak firing (unconditioned) at all
    has_site = ((sp[:, None] > 0) & (links > 0)) | ((sp[:, None] < 1) & (focal > 0))
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
    with pytest.raises(ValueError, match=r"^1 bad rows?: row 3: location: 'eyelids' is not a location"):
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
    from model.validation.settings import load_settings

    net = load_network()
    default = sample_cases(net, 200, rng=np.random.default_rng(8))
    explicit = sample_cases(net, 200, rng=np.random.default_rng(8), missing=load_settings(net).missing)
    pd.testing.assert_frame_equal(default, explicit)
