"""The sampler and the engine agree (SPEC §4, §7.8), and batches equal single cases."""

import numpy as np
import pandas as pd
import pytest

from model import infer, load_network
from model.analysis import analyse
from model.evidence import encode
from model.synthetic import evidence_of, sample_cases


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
