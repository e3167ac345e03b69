"""The per-cause latents of the bundled network (issue 23): site patterns (docs/model.md)
and the weakness latent that `weakness_where` reads (docs/model.md), computed exactly from the
compiled network, and what the engine and the sampler make of them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from model.inference import engine as E
from model import infer, load_network
from model.network import vocabulary as V
from model.validation.synthetic import sample_cases

# docs/model.md: each cause's site marginals and P(two or more regions) within this of the targets.
SITE_TOLERANCE = 0.05


def _site_figures(net, cause):
    """P(region | cause, switch on) for each region and P(two or more | switch on), by
    enumerating the 64 region subsets of the two patterns."""
    i = net.causes.index(cause)
    w = float(net.spread[cause])
    focal = np.asarray(net.focal[cause], dtype=float)
    q = np.array([float(net.link[r][i, 1]) for r in net.regions])
    marginal = (1 - w) * focal
    two = 0.0
    for subset in itertools.product((0, 1), repeat=len(net.regions)):
        s = np.array(subset, dtype=bool)
        p = w * float(np.prod(np.where(s, q, 1 - q)))
        marginal = marginal + p * s
        if s.sum() >= 2:
            two += p
    return marginal, two


@pytest.mark.parametrize("cause", V.CAUSES)
def test_site_pattern_matches_the_sources(cause):
    net = load_network()
    target = net.priors.sites[cause].target
    marginal, two = _site_figures(net, cause)
    for r, m in zip(V.REGIONS, marginal):
        assert abs(m - target[r]) <= SITE_TOLERANCE, (cause, r, m, target[r])
    assert abs(two - target["two_or_more"]) <= SITE_TOLERANCE, (cause, two, target["two_or_more"])


def test_stress_twitches_in_one_place_mostly():
    """The issue's figure: independent regions put stress in two or more places 54% of
    the time; the sources say 20%."""
    _, two = _site_figures(load_network(), "stress_anxiety")
    assert two == pytest.approx(0.2, abs=SITE_TOLERANCE)


def test_the_engine_reads_the_site_patterns():
    """P(arm and leg | the cause alone, twitching) in the engine equals the patterns'
    figure: exercise fatigue rarely twitches in two places (Wide-spread 0.05), Isaacs'
    syndrome often (0.6)."""
    net = load_network()
    both = {}
    for cause in ("exercise_fatigue", "isaacs_syndrome"):
        others = frozenset(c for c in net.causes if c != cause)
        arm_leg = E.evaluate(net, E.Query(findings={"twitch_arm": (1, 1), "twitch_leg": (1, 1)}, absent=others))
        anywhere = E.evaluate(net, E.Query(absent=others))
        both[cause] = arm_leg.joint[net.causes.index(cause)] / anywhere.joint[net.causes.index(cause)]
    assert both["exercise_fatigue"] < 0.06 < 0.3 < both["isaacs_syndrome"]


def test_a_weakness_pattern_without_weakness_has_no_mass():
    net = load_network()
    for node in V.WEAKNESS_WHERE_NODES:
        a = E.evaluate(net, E.Query(findings={"weakness": (0, 0), node: (1, 1)}))
        assert a.total == 0.0
        b = E.evaluate(net, E.Query(findings={"weakness": (1, 2), node: (1, 1)}))
        assert b.total > 0.0


def test_weakness_where_with_no_weakness_is_an_error():
    with pytest.raises(ValueError, match="weakness"):
        infer({"location": "leg", "weakness": "none", "weakness_where": "one_limb"})


def test_sampled_cases_never_show_a_pattern_without_weakness():
    net = load_network()
    cases = sample_cases(net, 100_000, rng=np.random.default_rng(23), missing=0.0)
    weak = cases["weakness"]
    for option in V.WEAKNESS_WHERE:
        col = cases["weakness_where"].fillna("none").astype(str).str.split(";").map(lambda xs, o=option: o in xs).astype(bool)
        assert not (col & (weak == "none")).any(), option
        assert (col & (weak != "none")).any(), option


def test_one_limb_weakness_points_to_motor_neuron_disease_and_roots_not_neuropathy():
    """Weakness of one limb (ALS onset, a root) against both feet (neuropathy): the
    pattern moves the ranking the way the sources say."""
    base = {"location": ["leg"], "weakness": "mild", "duration": "2_weeks_to_3_months", "age": 62, "sex": "female"}
    one = infer({**base, "weakness_where": ["one_limb"]}).causes
    feet = infer({**base, "weakness_where": ["hands_feet"]}).causes
    assert one["als_mnd"] > feet["als_mnd"]
    assert one["radiculopathy"] > feet["radiculopathy"]
    assert feet["peripheral_neuropathy"] > one["peripheral_neuropathy"]
