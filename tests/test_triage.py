"""Triage from the joint posterior, against enumeration of every cause and finding."""

import numpy as np

from model.inference.analysis import analyse
from model.reference.enumeration import brute_force_triage, random_network, random_query, with_random_triage

TOL = 1e-9


def test_triage_distribution_equals_enumeration_on_random_networks():
    rng = np.random.default_rng(17)
    for _ in range(40):
        net = random_network(rng, n_exposures=2, n_causes=4, n_regions=2, n_binary=2, n_ordinal=1)
        net = with_random_triage(rng, net)
        query = random_query(rng, net, observe=0.4)
        evidence = {f: net.states[f][lo] for f, (lo, hi) in query.findings.items()}
        evidence.update({e: net.states[e][s[0]] for e, s in query.exposures.items()})
        got = analyse(net, evidence).triage
        np.testing.assert_allclose(got, brute_force_triage(net, query), atol=TOL, rtol=0)
        assert abs(got.sum() - 1.0) < TOL
