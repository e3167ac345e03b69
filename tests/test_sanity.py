"""docs/model.md's sanity targets for the bundled priors."""

import numpy as np
import pytest

from model import infer, load_network

SINGLE_SITES = ["eyelid", "face", "arm", "leg", "trunk"]


def test_no_evidence_reproduces_presentation_shares_within_factor_two():
    net = load_network()
    r = infer({})
    for cause, p in r.causes.items():
        share = net.priors.causes[cause].presentation_share.value
        assert share / 2 <= p <= share * 2, f"{cause}: P = {p:.4g}, share {share:.4g}"


@pytest.mark.parametrize("site", ["eyelid", "arm", "leg"])
def test_rare_causes_below_one_percent_on_common_sites(site):
    net = load_network()
    r = infer({"location": site})
    rare = [c for c in net.causes if net.priors.causes[c].group == "rare"]
    assert (r.causes[rare] < 0.01).all(), r.causes[rare].sort_values().tail(3)


@pytest.mark.parametrize("site", SINGLE_SITES)
def test_top_three_are_self_care_or_routine_causes(site):
    net = load_network()
    top = infer({"location": site}).causes.index[:3]
    assert all(net.priors.causes[c].triage in ("self_care", "routine") for c in top), list(top)


def test_common_causes_lead_on_location_alone():
    net = load_network()
    for site in SINGLE_SITES:
        first = infer({"location": site}).causes.index[0]
        assert net.priors.causes[first].group == "common", (site, first)


def test_cause_marginals_equal_their_priors():
    net = load_network()
    for c in net.causes:
        table = net.cause_table[c]
        weight = np.ones_like(table)
        for axis, e in enumerate(net.cause_parents[c]):
            shape = [1] * table.ndim
            shape[axis] = -1
            weight = weight * net.exposure_prob[e].reshape(shape)
        assert float((table * weight).sum()) == pytest.approx(net.priors.causes[c].prior.value, rel=1e-9)
