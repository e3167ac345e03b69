"""Case sets that flow into infer(), batches that line up with their input and give each
row's Result, and results that show themselves in a notebook (issue 17, items 1-2)."""

import html
import re

import numpy as np
import pandas as pd
import pytest

from model import BatchResult, infer, load_network
from model.network.evidence import NODE_KEYS, USER_KEYS
from model.synthetic import DEFAULT_SEED, evidence_of, sample_cases, truth_columns, truth_of

TOL = 1e-12


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def cases(net):
    return sample_cases(net, 1000, rng=np.random.default_rng(17))


@pytest.fixture(scope="module")
def batch(net, cases):
    return infer(cases, network=net)


# -- item 1: a sampled case set goes to infer() as it comes -----------------------------


def test_a_sampled_case_set_is_answered_row_for_row(cases, batch, net):
    assert isinstance(batch, BatchResult)
    assert len(batch) == len(cases) and list(batch.causes.index) == list(cases.index)
    assert batch.ok.all() and len(batch.errors) == 0
    assert batch.set_aside == tuple(truth_columns(cases))
    assert {"true_level", "primary", "responsible", "present"} <= set(batch.set_aside)
    # the label columns are set aside, not read: the same numbers as the evidence alone
    alone = infer(evidence_of(cases), network=net)
    np.testing.assert_array_equal(batch.causes.to_numpy(), alone.causes.to_numpy())
    np.testing.assert_array_equal(batch.triage.to_numpy(), alone.triage.to_numpy())
    assert list(truth_of(cases).columns) == truth_columns(cases)


def test_a_case_set_as_a_list_of_dicts_sets_the_labels_aside_too(cases, net):
    rows = cases.head(5).to_dict(orient="records")
    got = infer(rows, network=net)
    assert got.ok.all() and "true_level" in got.set_aside
    np.testing.assert_allclose(got.causes.to_numpy(), infer(evidence_of(cases.head(5)), network=net).causes.to_numpy(), atol=TOL, rtol=0)


def test_sample_cases_without_rng_uses_the_stated_seed(net):
    assert DEFAULT_SEED == 0
    a = sample_cases(net, 40)
    pd.testing.assert_frame_equal(a, sample_cases(net, 40))
    pd.testing.assert_frame_equal(a, sample_cases(net, 40, rng=np.random.default_rng(DEFAULT_SEED)))
    assert not a.equals(sample_cases(net, 40, rng=np.random.default_rng(DEFAULT_SEED + 1)))


def test_rng_that_is_not_a_generator_is_a_value_error(net):
    with pytest.raises(ValueError, match=r"^rng: 3 is not a numpy Generator; pass numpy.random.default_rng\(seed\), or leave it out$"):
        sample_cases(net, 5, rng=3)


def test_a_column_that_is_not_a_key_is_named_once_with_the_allowed_keys_once(net):
    frame = pd.DataFrame({"location": ["arm", "leg", "eyelid"], "true_levle": ["routine", "soon", None]}, index=["a", "b", "c"])
    allowed = f"allowed: {', '.join(USER_KEYS)} (or a node name: {', '.join(NODE_KEYS)})"
    expected = f"2 bad rows: column 'true_levle' is not an evidence key; {allowed} (rows a, b)"
    with pytest.raises(ValueError) as info:
        infer(frame, network=net)
    assert str(info.value) == expected


def test_rows_with_the_same_bad_key_list_the_allowed_keys_once(net):
    rows = [{"location": "arm", "sleeps": "short"}, {"location": "leg", "sleeps": "short"}, {"location": "arm", "sleeps": "long"}, {"locaton": "leg"}]
    with pytest.raises(ValueError) as info:
        infer(rows, network=net)
    message = str(info.value)
    assert message.startswith("4 bad rows: row 0: 'sleeps' is not an evidence key; did you mean 'sleep'? allowed: location, ")
    assert message.count("allowed: location") == 1
    assert message.count("allowed: as above") == 2
    assert message.endswith(" (and 1 more)")


# -- item 2: results that line up -------------------------------------------------------


def test_collect_keeps_every_row_with_the_input_index(net):
    frame = pd.DataFrame(
        {"location": ["arm", "eyelids", "leg;trunk", "eyelid"], "duration": [3, 10, None, "forever"]},
        index=pd.Index(["p1", "p2", "p3", "p4"], name="patient"),
    )
    got = infer(frame, network=net, errors="collect")
    for part in (got.causes, got.triage, got.urgency, got.advice, got.ok):
        assert list(part.index) == list(frame.index)
    assert got.ok.tolist() == [True, False, True, False]
    assert got.causes.loc[["p2", "p4"]].isna().all(axis=None) and got.triage.loc["p2"].isna().all()
    assert np.isnan(got.urgency["p4"]) and got.advice.loc[["p2", "p4"]].isna().all()
    assert got.errors["row"].tolist() == ["p2", "p4"]
    assert got.errors["error"].iloc[0].startswith("location: 'eyelids' is not a location")
    single = infer({"location": ["leg", "trunk"]}, network=net)
    np.testing.assert_allclose(got.causes.loc["p3", single.causes.index].to_numpy(float), single.causes.to_numpy(), atol=TOL, rtol=0)


def test_batch_row_is_the_result_of_infer_on_that_row(cases, batch, net):
    evidence = evidence_of(cases)
    for i in np.random.default_rng(3).choice(len(cases), size=12, replace=False):
        row = {k: v for k, v in evidence.iloc[i].items() if not pd.isna(v)}
        single = infer(row, network=net)
        got = batch[int(i)]
        np.testing.assert_allclose(got.causes.to_numpy(), single.causes.to_numpy(), atol=TOL, rtol=0)
        assert list(got.causes.index) == list(single.causes.index)
        np.testing.assert_allclose(got.triage.to_numpy(), single.triage.to_numpy(), atol=TOL, rtol=0)
        assert got.urgency == pytest.approx(single.urgency, abs=TOL) and got.advice == single.advice
        assert dict(got.evidence) == dict(single.evidence)
        # and the batch's own row holds the same numbers
        np.testing.assert_allclose(batch.causes.iloc[i][single.causes.index].to_numpy(float), single.causes.to_numpy(), atol=TOL, rtol=0)


def test_loc_and_negative_positions_and_a_row_explains_itself(net):
    frame = pd.DataFrame({"location": ["arm", "eyelid", "tongue"], "weakness": ["none", None, "mild"]}, index=[10, 20, 30])
    got = infer(frame, network=net)
    assert got.loc[30].causes.equals(got[-1].causes) and got.loc[10].advice == got[0].advice
    assert len(got[1].explain()) > 0 and len(got[1].next_questions(3)) == 3
    with pytest.raises(IndexError, match=r"^row position 3 is outside the batch of 3 rows$"):
        got[3]
    with pytest.raises(KeyError, match="40 is not a row label of this batch"):
        got.loc[40]
    with pytest.raises(TypeError, match="use batch.loc"):
        got["a"]


def test_a_failed_row_has_no_result_and_says_why(net):
    got = infer([{"location": "arm"}, {"location": "eyelids"}], network=net, errors="collect")
    with pytest.raises(ValueError, match=r"^row 1: no result: location: 'eyelids' is not a location"):
        got[1]


# -- item 2: results that show themselves ----------------------------------------------


def test_result_html_names_top_cause_advice_reason_and_next_question(net):
    r = infer({"location": "eyelid", "duration": "under_1_week", "sleep": "short"}, network=net)
    page = r._repr_html_()
    assert page.startswith("<div") and page.endswith("</div>")
    text = html.unescape(page)
    top = r.causes.index[0]
    assert top in text and f"{r.causes.iloc[0]:.1%}" in text
    assert r.advice.replace("_", " ") in text and r.advice_reason in text
    assert f"{r.urgency:.1%}" in text
    nxt = r.next_questions(1).iloc[0]["question"]
    assert re.search(r"Next question: <b>" + re.escape(nxt) + "</b>", text)
    for level, p in r.triage.items():
        assert f"{level} {p:.1%}" in text
    # the bars are as long as the posteriors
    widths = [float(w) for w in re.findall(r"width:([0-9.]+)px;height:11px", page)]
    np.testing.assert_allclose(np.array(widths) / widths[0], r.causes.head(10).to_numpy() / r.causes.iloc[0], atol=1e-3)


def test_batch_html_summarises_cases_failures_and_advice(net):
    got = infer([{"location": "arm"}, {"location": "eyelids"}, {"location": "eyelid", "sleep": "short"}], network=net, errors="collect")
    text = html.unescape(got._repr_html_())
    assert "3 cases, 2 answered, 1 failed" in re.sub("<[^>]+>", "", text)
    assert "(failed)" in text
    counts = got.advice.value_counts()
    for level, k in counts.items():
        assert f"{level.replace('_', ' ')}</span> {k} " in text
    assert got.causes.loc[0].idxmax() in text


def test_result_html_shows_the_intervals_it_carries(net):
    r = infer({"location": "arm", "age": 50, "sex": "male", "diet": "balanced"}, network=net, intervals=30, rng=np.random.default_rng(2))
    text = html.unescape(r._repr_html_())
    assert "5% to 95% over 30 redrawn networks" in text
    for cause in r.causes.index[:10]:
        lo, hi = r.intervals.loc[cause, "5%"], r.intervals.loc[cause, "95%"]
        assert f"{lo:.1%} to {hi:.1%}" in text


def test_perturbed_network_and_redraw_priors_default_to_the_stated_seed(net):
    from model.synthetic import perturbed_network, redraw_priors

    a, b = perturbed_network(net), perturbed_network(net, np.random.default_rng(DEFAULT_SEED))
    assert all(np.array_equal(a.cause_table[c], b.cause_table[c]) for c in net.causes)
    assert redraw_priors(net.priors).causes["als_mnd"].prior == redraw_priors(net.priors, np.random.default_rng(DEFAULT_SEED)).causes["als_mnd"].prior
