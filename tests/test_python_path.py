"""The Python around one case (issue 24, item 4): the fast paths give exactly what the
long paths give, and what they precompute lives in each network's own derived store."""

import numpy as np
import pytest

from model import infer, load_network
from model.api import group_keys
from model.inference import analysis
from model.inference.analysis import level_boxes, node_states, row_queries
from model.inference.engine import from_states
from model.network import evidence as E
from model.network import rules as T
from model.network.priors import default_priors_dir
from model.synthetic import evidence_of, sample_cases

CASE = {"location": "eyelid;leg", "duration": "over_3_months", "weakness": "mild", "age": "over_60", "caffeine": "high"}
# what the fast paths keep per network (model/network/derived.py)
KEPT = ("box_layout", "kernel_tables", "group_keys", "rules_by_state_name")


@pytest.fixture(scope="module")
def net():
    return load_network()


def user_rows(net, n: int, seed: int, missing=None) -> list[dict]:
    frame = evidence_of(sample_cases(net, n, rng=np.random.default_rng(seed), missing=missing))
    return [{k: v for k, v in row.items() if not E.is_missing(v)} for row in frame.to_dict(orient="records")]


def test_every_canonical_answer_sets_what_the_parsing_path_sets():
    assert E.CANONICAL_ANSWERS
    for key, table in E.CANONICAL_ANSWERS.items():
        for value, state in table.items():
            assert type(value) in (str, bool)
            assert E._parsed_states(key, value) == {key: state}, (key, value)
            assert E.item_states(key, value) == {key: state}


def test_the_fast_path_leaves_other_answers_to_the_parsing_path():
    # same hash as True, but not a bool: parsed (and for a non yes/no node, refused alike)
    assert E.item_states("numbness", 1) == {"numbness": "present"}
    assert E.item_states("numbness", " Yes ") == {"numbness": "present"}
    assert E.item_states("numbness", np.True_) == {"numbness": "present"}
    assert E.item_states("weakness", "MILD") == {"weakness": "mild"}
    for key, value in (("weakness", True), ("weakness", 1), ("sleep", "yes"), ("numbness", "maybe")):
        with pytest.raises(ValueError) as fast:
            E.item_states(key, value)
        with pytest.raises(ValueError) as parsed:
            E._parsed_states(key, value)
        assert str(fast.value) == str(parsed.value)


def test_is_missing_fast_path():
    assert E.is_missing(None) and E.is_missing(float("nan")) and E.is_missing(np.nan)
    assert not any(E.is_missing(v) for v in ("", "nan", True, False, 0.0, 1.5, float("inf"), 0, [], np.float64(1.0)))
    assert E.is_missing(np.float64("nan"))


@pytest.mark.parametrize("missing", [0.0, None])
def test_encode_equals_the_parsing_path_on_1000_cases(net, monkeypatch, missing):
    rows = user_rows(net, 1000, 11, missing)
    groups = group_keys(net)
    fast = [E.encode(row, groups=groups) for row in rows]
    monkeypatch.setattr(E, "CANONICAL_ANSWERS", {})  # every answer parsed
    for row, got in zip(rows, fast):
        slow = E.encode(row, groups=groups)
        assert dict(got) == dict(slow) and list(got) == list(slow) and got.any_of == slow.any_of


def test_a_clash_and_a_bad_answer_keep_their_messages(net):
    groups = group_keys(net)
    cases = [
        ({"location": "arm", "twitch_arm": "absent"}, "twitch_arm: sets twitch_arm=absent, but location sets twitch_arm=present"),
        ({"location": "arm", "red_flags": "none", "breathing": True}, "breathing: sets breathing=present, but red_flags sets breathing=absent"),
            ({"location": "arm", "breathing": True, "red_flags": "none"}, "red_flags: sets breathing=absent, but breathing sets breathing=present"),
        ({"location": "arm", "weakness": True}, "weakness: True is not a weakness state"),
    ]
    for case, start in cases:
        with pytest.raises(ValueError) as err:
            E.encode(case, groups=groups)
        assert str(err.value).startswith(start), str(err.value)


def test_evidence_reads_like_its_dict(net):
    ev = E.encode(CASE, groups=group_keys(net))
    nodes = ev.nodes()
    assert list(ev.items()) == list(nodes.items()) and list(ev.keys()) == list(nodes)
    assert list(ev.values()) == list(nodes.values())
    assert ("weakness" in ev) and ("wasting" not in ev) and ev.get("wasting", "x") == "x"
    assert ev == nodes and hash(ev) == hash(E.Evidence(nodes))


def test_node_states_fills_the_columns_of_each_node(net):
    rows = [E.encode(r) for r in user_rows(net, 200, 3)]
    got = node_states(net, rows)
    columns = net.exposures + net.findings
    want = np.full((len(rows), len(columns)), -1, dtype=np.int8)
    for i, row in enumerate(rows):
        for node, state in row.items():
            want[i, columns.index(node)] = net.states[node].index(state)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int8 and node_states(net, []).shape == (0, len(columns))


def test_rules_by_state_name_equal_rules_by_index(net):
    for row in user_rows(net, 1000, 12, 0.3):
        ev = E.encode(row)
        by_index = T.rules_holding(net, {n: net.states[n].index(s) for n, s in ev.items()})
        assert T.rules_holding_states(net, ev) == by_index


def test_a_single_rows_boxes_equal_its_boxes_in_a_batch(net):
    """The one-case path of `level_boxes` (its pattern read from a list) against the
    batch path (patterns by np.unique): the same pieces for each row and level."""
    states = node_states(net, [E.encode(r) for r in user_rows(net, 300, 13)])
    batch = row_queries(net, states)
    for i in range(len(states)):
        one = row_queries(net, states[i : i + 1])
        mine = batch.box_row == i
        np.testing.assert_array_equal(one.holds[0], batch.holds[i])
        for level in range(3):
            a = one.box_level == level
            b = mine & (batch.box_level == level)
            for field in ("lo", "hi", "exposure", "absent"):
                np.testing.assert_array_equal(getattr(one.queries, field)[1:][a], getattr(batch.queries, field)[len(states):][b])


def test_level_boxes_with_no_boxes(net):
    states = node_states(net, [E.encode({"location": "arm", "sudden_one_sided": True})])
    q = from_states(net, states)
    boxes, rows, level, holds = level_boxes(net, q, states)
    assert holds.all() and len(boxes) == len(rows) == len(level) == 0


def test_what_the_fast_paths_keep_is_per_network():
    a, b = load_network(default_priors_dir()), load_network(default_priors_dir())
    infer(CASE, network=a)
    infer({**CASE, "weakness": "marked", "progression": "worsening"}, network=a)  # a reason naming a rule
    assert all(k in a.derived.keys() for k in KEPT), a.derived.keys()
    assert not any(k in b.derived.keys() for k in KEPT)
    ra = infer(CASE, network=a)
    a.clear_derived()
    assert not any(k in a.derived.keys() for k in KEPT)
    for r in (infer(CASE, network=a), infer(CASE, network=b)):
        np.testing.assert_array_equal(r.causes.to_numpy(), ra.causes.to_numpy())
        assert list(r.causes.index) == list(ra.causes.index) and r.advice_reason == ra.advice_reason
    # group_keys hands out a copy: changing it changes nothing infer reads
    keys = group_keys(a)
    keys.clear()
    assert group_keys(a) and infer({**CASE, "red_flags": "none"}, network=a).advice


def test_no_box_memo_key_is_taken(net):
    """tests/test_derived.py reads every key starting with "boxes" as a box memo."""
    infer(CASE, network=net)
    for key in net.derived.keys():
        if isinstance(key, tuple) and key[0].startswith("boxes"):
            assert isinstance(net.derived.memo(key, analysis.BOX_MEMO), type(net.derived.memo(("boxes", 1), 1)))
    assert not any(isinstance(k, str) and k.startswith("boxes") for k in net.derived.keys())


@pytest.mark.parametrize("missing", [0.0, None])
def test_single_cases_equal_the_batch_exactly_on_1000_cases(net, missing):
    rows = user_rows(net, 1000, 14, missing)
    batch = infer(rows, network=net)
    frame = batch.to_frame()
    for i, row in enumerate(rows):
        r = infer(row, network=net)
        assert r.causes.is_monotonic_decreasing and r.causes.dtype == np.float64
        assert isinstance(r.urgency, float) and isinstance(r.advice, str) and isinstance(r.advice_reason, str)
        assert r.advice == frame["advice"].iloc[i]
        assert r.urgency == frame["urgency"].iloc[i]
        for c, p in r.causes.items():
            assert p == frame[c].iloc[i], (i, c)
