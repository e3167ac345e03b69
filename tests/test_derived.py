"""Derived state lives with its network: built lazily, bounded, clearable; a `Network`
and a `Result` pickle; two networks share nothing mutable."""

import pickle

import numpy as np
import pandas as pd
import pytest

from model import infer, load_network
from model.inference import analysis
from model.inference.analysis import row_queries
from model.network.build import Network
from model.network.priors import default_priors_dir

CASE = {"location": "eyelid;leg", "duration": "over_3_months", "weakness": "mild", "age": "over_60", "caffeine": "high"}
ARRAYS = ("exposure_prob", "cause_table", "link", "leak", "twitch", "spread", "focal")


def same_network(a: Network, b: Network) -> None:
    for name in ("causes", "exposures", "findings", "regions", "weak_finding", "weak_patterns"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("states", "cause_parents", "cause_level"):
        assert dict(getattr(a, name)) == dict(getattr(b, name)), name
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.keys() == y.keys(), name
        for k in x:
            np.testing.assert_array_equal(x[k], y[k], err_msg=f"{name}[{k}]")
    assert a.triage.rules == b.triage.rules
    np.testing.assert_array_equal(a.triage.loss, b.triage.loss)


def test_a_network_pickles_to_an_equal_network():
    net = load_network()
    infer(CASE, network=net)  # with derived state built
    back = pickle.loads(pickle.dumps(net))
    assert len(net.derived) > 0 and len(back.derived) == 0  # the store stays behind; the copy builds its own
    same_network(net, back)
    pd.testing.assert_series_equal(infer(CASE, network=back).causes, infer(CASE, network=net).causes, rtol=0, atol=0)
    with pytest.raises(ValueError, match="read-only"):
        back.link["weakness"][0, 0] = 0.5  # still read-only


def test_a_result_pickles_to_an_equal_result():
    r = infer(CASE)
    back = pickle.loads(pickle.dumps(r))
    pd.testing.assert_series_equal(back.causes, r.causes, rtol=0, atol=0)
    pd.testing.assert_series_equal(back.triage, r.triage, rtol=0, atol=0)
    assert (back.urgency, back.advice, back.advice_reason) == (r.urgency, r.advice, r.advice_reason)
    assert dict(back.evidence) == dict(r.evidence)
    same_network(back.network, r.network)
    pd.testing.assert_frame_equal(back.explain(), r.explain())


def test_two_networks_from_the_same_priors_share_no_mutable_state():
    a, b = load_network(default_priors_dir()), load_network(default_priors_dir())
    same_network(a, b)
    assert a.derived is not b.derived
    for name in ARRAYS:
        for k, x in getattr(a, name).items():
            y = getattr(b, name)[k]
            assert not np.shares_memory(x, y), f"{name}[{k}]"
            assert not x.flags.writeable
    infer(CASE, network=a)
    assert "tables" in a.derived.keys() and "tables" not in b.derived.keys()
    a.clear_derived()
    assert len(a.derived) == 0
    pd.testing.assert_series_equal(infer(CASE, network=a).causes, infer(CASE, network=b).causes, rtol=0, atol=0)


def random_rows(net: Network, n: int, rng: np.random.Generator) -> np.ndarray:
    """State rows (exposures + findings), each entry unknown a third of the time."""
    nodes = net.exposures + net.findings
    sizes = np.array([len(net.states[x]) for x in nodes])
    rows = (rng.random((n, len(nodes))) * sizes).astype(np.int8)
    rows[rng.random(rows.shape) < 1 / 3] = -1
    return rows


def box_memos(net: Network):
    return [net.derived.memo(key, analysis.BOX_MEMO) for key in net.derived.keys() if isinstance(key, tuple) and key[0].startswith("boxes")]


@pytest.mark.full
def test_the_box_memos_stay_under_their_bound_on_200000_cases(monkeypatch):
    rows = random_rows(load_network(), 200_000, np.random.default_rng(7))
    net = load_network(default_priors_dir())
    row_queries(net, rows)
    memos = box_memos(net)
    assert memos and all(len(m) <= m.bound == analysis.BOX_MEMO for m in memos)
    # a small bound is kept, and the queries are the same as with every pattern memoised
    monkeypatch.setattr(analysis, "BOX_MEMO", 500)
    small = load_network(default_priors_dir())
    part = rows[:20_000]
    asked = row_queries(small, part)
    assert max(len(m) for m in box_memos(small)) == 500
    full = row_queries(net, part)
    for field in ("lo", "hi", "exposure", "absent"):
        np.testing.assert_array_equal(getattr(asked.queries, field), getattr(full.queries, field))
    np.testing.assert_array_equal(asked.box_row, full.box_row)
