"""Fuzzed evidence (issue #7, items 3 and 6): whatever a user passes to `encode`, `infer`
(single and batch) or the command line ends in a result or in a ValueError whose message
names the key; nothing else escapes, and the CLI exits 0 or 2 with one line on stderr.

Hypothesis runs derandomized (a fixed seed per test), so every run tries the same cases.
Cases per test: see the `max_examples` of each; the total is FUZZ_CASES.
"""

from __future__ import annotations

import contextlib
import io
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from model import BatchResult, Result, infer
from model.cli.main import main
from model.network.evidence import ALL_KEYS, NODE_KEYS, USER_KEYS, encode
from model.network import vocabulary as V

FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLES = {"encode": 600, "infer_single": 300, "infer_batch": 80, "not_a_dict": 30, "cli": 150}
FUZZ_CASES = sum(EXAMPLES.values())

# Strings a person (or a spreadsheet) produces that look like valid answers but are not:
# Cyrillic and Ukrainian letters, full-width forms, zero-width spaces, ligatures, other
# digits, and the words of "missing" and of numbers.
LOOKALIKES = [
    "\u0435yelid",  # Cyrillic e
    "eyel\u0456d",  # Ukrainian i
    "\uff41\uff52\uff4d",  # full-width arm
    "arm\u200b",  # zero-width space
    "h\u0456gh",
    "\uff54\uff52\uff55\uff45",  # full-width true
    "\uff11\uff10",  # full-width 10
    "\u0663",  # Arabic-Indic 3
    "\u2169",  # Roman numeral ten
    "\ufb01",  # fi ligature
    "ARM",
    " arm ",
    "arm;",
    ";",
    ";;",
    "none",
    "None",
    "null",
    "NaN",
    "nan",
    "inf",
    "-1",
    "1e400",
    "",
    " ",
    "true",
    "yes",
    "1",
    "0",
    "widespread",
    "\udcff",  # a lone surrogate (undecodable bytes on a command line)
    "a" * 5000,
]


def _all_state_words() -> list[str]:
    words = set(V.REGIONS) | set(V.REGION_ALIASES) | set(V.MEDICATIONS) | set(V.BINARY_STATES)
    for states in list(V.ORDINAL_FINDINGS.values()) + list(V.CATEGORICAL_EXPOSURES.values()):
        words |= set(states)
    return sorted(words)


STATE_WORDS = _all_state_words()
HUGE = [10**400, -(10**400), 2**63, -(2**63) - 1, 10**20]

text = st.one_of(st.sampled_from(LOOKALIKES + STATE_WORDS), st.text(max_size=12))
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-1000, max_value=1000),
    st.sampled_from(HUGE),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), math.inf, -math.inf, -0.0, 1e308, 5e-324, -7.0, 15.5, 119.999, 16.0]),
    text,
)
json_like = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
    ),
    max_leaves=8,
)
value = st.one_of(
    scalar,
    json_like,
    st.lists(st.sampled_from(STATE_WORDS + LOOKALIKES[:8]), max_size=4),
    st.just([]),
    st.just(""),
    st.sampled_from([np.float64("nan"), np.int64(3), np.bool_(True), np.array([True, False]), pd.NA, pd.NaT]),
)
key = st.one_of(
    st.sampled_from(ALL_KEYS),
    st.sampled_from(["locat\u0456on", "Location", " location", "caffiene", "twitch_arms", "med_aspirin", "", "None"]),
    st.text(max_size=10),
    st.sampled_from([None, 1, 2.5, ("location",), True]),
)
wild_evidence = st.dictionaries(key, value, max_size=5)


def valid_value(k: str) -> st.SearchStrategy:
    """Values a careful user would give for key k (docs/model.md-7.2)."""
    if k == "location":
        regions = st.lists(st.sampled_from(V.REGIONS + tuple(V.REGION_ALIASES)), min_size=1, max_size=3, unique=True)
        return regions | regions.map(";".join)
    if k == "medications":
        return st.lists(st.sampled_from(V.MEDICATIONS), max_size=2, unique=True) | st.just("none")
    if k == "weakness_where":  # a set item as medications: a list, a ';'-string, or none
        patterns = st.lists(st.sampled_from(V.WEAKNESS_WHERE), min_size=1, max_size=3, unique=True)
        return patterns | patterns.map(";".join) | st.just("none") | st.just([])
    if k == "duration":
        return st.floats(0, 1e4) | st.integers(0, 400) | st.sampled_from(V.ORDINAL_FINDINGS["duration"])
    if k == "age":
        return st.floats(16, 119.99) | st.sampled_from(V.CATEGORICAL_EXPOSURES["age"])
    states = V.node_states(k)
    if states == V.BINARY_STATES:
        return st.booleans() | st.sampled_from(["yes", "no", "true", "false", "present", "absent", 0, 1])
    return st.sampled_from(states) | st.sampled_from(states).map(str.upper)


def coherent(ev: dict) -> dict:
    """Valid evidence keeps docs/model.md's and §7.4's coherence rules: a weakness pattern only
    with weakness mild or marked, alcohol_stopped true only with alcohol_intake heavy
    (a careless mix is still fuzzed by wild_evidence and by the replaced item)."""
    weakness = str(ev.get("weakness", "")).lower()
    if weakness == "none":
        for k in ("weakness_where",) + V.WEAKNESS_WHERE_NODES:
            ev.pop(k, None)
    stopped = str(ev.get("alcohol_stopped", "")).lower() in ("true", "yes", "present", "1")
    if stopped and str(ev.get("alcohol_intake", "")).lower() == "none_or_moderate":
        del ev["alcohol_stopped"]
    return ev


@st.composite
def near_evidence(draw):
    """Valid evidence, with at most one item replaced by a fuzzed key or value."""
    keys = draw(st.lists(st.sampled_from(ALL_KEYS), max_size=5, unique=True))
    ev = coherent({k: draw(valid_value(k)) for k in keys})
    if draw(st.booleans()):
        ev[draw(key)] = draw(value)
    return ev


evidence = st.one_of(wild_evidence, near_evidence(), near_evidence())


def _names(message: str, k) -> bool:
    """The message names the key k (as itself, or quoted when it is not a key)."""
    return message.startswith(f"{k}:") or (isinstance(k, str) and message.startswith(repr(k)[:40])) or (
        not isinstance(k, str) and repr(k)[:40] in message
    )


def _check_error(message: str, keys) -> None:
    assert message and "\n" not in message.strip(), message
    assert len(message) < 2000, f"message of {len(message)} characters"
    named = any(_names(message, k) for k in keys)
    # docs/model.md: evidence in which every region is absent names `location`, whichever key set them
    named |= message.startswith("location: every region is absent") and any(str(k).startswith("twitch_") for k in keys)
    # impossible evidence names the conflicting items (node=state), each from a key given
    named |= message.startswith("evidence is impossible under the model")
    assert named, f"{message!r} names none of {list(keys)!r}"


def _check_result(r: Result) -> None:
    assert isinstance(r, Result)
    assert set(r.causes.index) == set(V.CAUSES)
    assert np.isfinite(r.causes.to_numpy()).all() and ((r.causes >= 0) & (r.causes <= 1)).all()
    assert np.isfinite(r.triage.to_numpy()).all() and abs(r.triage.sum() - 1) < 1e-9
    assert 0 <= r.urgency <= 1 and r.advice in V.TRIAGE_LEVELS


@settings(FUZZ, max_examples=EXAMPLES["encode"])
@given(evidence)
def test_encode_gives_evidence_or_a_value_error_naming_the_key(ev):
    try:
        out = encode(ev)
    except ValueError as e:
        _check_error(str(e), list(ev))
        return
    assert set(out) <= set(V.FINDINGS) | set(V.EXPOSURES)
    for node, state in out.items():
        assert state in V.node_states(node)


@settings(FUZZ, max_examples=EXAMPLES["encode"] // 2)
@given(st.sampled_from(ALL_KEYS), value)
def test_one_bad_value_names_its_key_and_shows_the_value(k, v):
    try:
        encode({k: v})
    except ValueError as e:
        message = str(e)
        assert message.startswith(f"{k}:"), message
        assert len(message) < 2000


@settings(FUZZ, max_examples=EXAMPLES["infer_single"])
@given(evidence)
def test_infer_single_gives_a_result_or_a_value_error(ev):
    try:
        r = infer(ev)
    except ValueError as e:
        event("ValueError")
        _check_error(str(e), list(ev))
        return
    event("result")
    _check_result(r)


@settings(FUZZ, max_examples=EXAMPLES["infer_batch"])
@given(st.lists(st.one_of(st.dictionaries(st.sampled_from(USER_KEYS + NODE_KEYS), value, max_size=3), near_evidence()), min_size=1, max_size=4))
def test_infer_batch_returns_good_rows_and_names_the_bad_ones(rows):
    # a list holding a list: test_a_list_inside_a_list_in_a_batch_is_a_row_error

    batch = infer(rows, errors="collect")
    assert isinstance(batch, BatchResult)
    bad = list(batch.errors["row"])
    event(f"{len(bad)} of {len(rows)} rows bad")
    assert sorted(bad + list(batch.causes.index[batch.ok])) == list(range(len(rows)))
    every_key = list(dict.fromkeys(k for row in rows for k in row))
    for label, message in zip(batch.errors["row"], batch.errors["error"]):
        # (that it names a key of its own row is test_a_bad_row_is_reported_with_its_own_key)
        _check_error(message, every_key)
    assert np.isfinite(batch.causes[batch.ok].to_numpy()).all()
    assert np.allclose(batch.triage[batch.ok].sum(axis=1), 1, atol=1e-9, rtol=0)
    if bad:
        with pytest.raises(ValueError, match=rf"^{len(bad)} bad rows?: row {bad[0]}: "):
            infer(rows)
    else:
        assert len(infer(rows)) == len(rows)


@settings(FUZZ, max_examples=EXAMPLES["not_a_dict"])
@given(st.one_of(scalar, st.lists(scalar, min_size=1, max_size=3), st.sets(st.integers(), max_size=3), st.frozensets(st.text(max_size=3), max_size=2)))
def test_evidence_that_is_not_a_dict_is_a_value_error(ev):
    with pytest.raises(ValueError):
        infer(ev)


# ---- the command line --------------------------------------------------------------

OPTIONS = [f"--{k.replace('_', '-')}" for k in USER_KEYS]
cli_word = st.one_of(st.sampled_from(LOOKALIKES[:-2] + STATE_WORDS + ["12", "-3", "1e999", "nan", "40", "a,b", "arm,leg"]), st.text(max_size=8))


@st.composite
def cli_pair(draw):
    k = draw(st.sampled_from(USER_KEYS + ("caffiene", "json", "x", "priors", "extra")))
    if k in ("json", "x", "priors", "extra", "caffiene"):
        return ("--json",) if k == "json" else (f"-{k}" if k == "x" else f"--{k}", draw(cli_word))
    option = f"--{k.replace('_', '-')}"
    if draw(st.integers(0, 9)) < 7:  # mostly a valid answer, as the CLI reads it (text)
        v = draw(valid_value(k))
        word = ",".join(v) if isinstance(v, list) else str(v).lower()
        return (option, word)
    return (option, draw(cli_word))


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv, stdout=out)
    return code, out.getvalue(), err.getvalue()


@settings(FUZZ, max_examples=EXAMPLES["cli"])
@given(st.lists(cli_pair(), min_size=0, max_size=4))
def test_cli_exits_0_or_2_with_one_line_on_stderr(pairs):
    argv = ["infer"] + [x for pair in pairs for x in pair]
    code, out, err = run_cli(argv)
    event(f"exit {code}")
    assert code in (0, 2), (argv, code, err)
    if code == 0:
        assert out.startswith("Causes, P(present | evidence):") or out.lstrip().startswith("{"), out[:200]
        assert err == ""
    else:
        assert err.startswith("twitchdx: error: ") and err.endswith("\n") and err.count("\n") == 1, err
        assert "Traceback" not in err


PROCESS_CASES = [
    (["infer", "--location", "arm", "--duration", "120"], 0, None),
    (["infer", "--caffiene", "high"], 2, "twitchdx: error: --caffiene is not an option of twitchdx infer; did you mean --caffeine? (see twitchdx infer --help)\n"),
    (["infer", "--location", "arm", "--duration", "-5"], 2, "twitchdx: error: --duration: -5 days is negative\n"),
    (["infer", "--location", "arm", "--age", "1e999"], 2, "twitchdx: error: --age: 1e999 is not an age the model takes: a number of years (16-119), or one of under_40, 40_to_60, over_60\n"),
    (["infer", "--location", "arm", "--priors", "/nonexistent/priors"], 2, "twitchdx: error: priors folder /nonexistent/priors does not exist\n"),
    (["export", "--output", "/nonexistent/dir/net.bif"], 2, "twitchdx: error: /nonexistent/dir/net.bif: No such file or directory\n"),
    ([], 2, "twitchdx: error: the following arguments are required: command (see twitchdx --help)\n"),
]


@pytest.mark.parametrize("argv, code, stderr", PROCESS_CASES)
def test_cli_exit_codes_as_a_process(argv, code, stderr):
    proc = subprocess.run([sys.executable, "-m", "model", *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    if code == 0:
        assert proc.stderr == "" and proc.stdout.startswith("Causes, P(present | evidence):")
    else:
        assert proc.stderr == stderr and proc.stdout == ""


def test_pandas_missing_values_in_a_batch_are_unknown():
    """A CSV read with nullable dtypes gives pd.NA, not NaN: it means unknown too (docs/model.md)."""
    frame = pd.DataFrame({"location": ["arm", "eyelid"], "numbness": pd.array([True, None], dtype="boolean"), "age": pd.array([50, None], dtype="Int64")})
    batch = infer(frame)
    single = infer({"location": "eyelid"})
    np.testing.assert_allclose(batch.causes.loc[1, single.causes.index], single.causes, atol=1e-12)
    with pytest.raises(ValueError, match="^numbness: <NA> is not a value; leave the key out when it is unknown$"):
        infer({"location": "arm", "numbness": pd.NA})


def test_huge_numbers_are_value_errors_not_overflow():
    for k in ("duration", "age"):
        with pytest.raises(ValueError, match=rf"^{k}: 10+\.\.\.0+ is not a finite number of (days|years)$"):
            encode({k: 10**400})
    with pytest.raises(ValueError, match=r"^numbness: .* is not a yes/no answer; allowed: true, false$"):
        encode({"numbness": 10**400})



def test_a_list_inside_a_list_in_a_batch_is_a_row_error():
    with pytest.raises(ValueError, match=r"^location: \[\] in \[\[\]\] is not a name$"):
        infer({"location": [[]]})
    batch = infer([{"location": [[]]}, {"location": "arm"}], errors="collect")
    assert batch.errors.to_dict(orient="records") == [{"row": 0, "error": "location: [] in [[]] is not a name"}]
    assert list(batch.causes.index[batch.ok]) == [1]



def test_a_bad_row_is_reported_with_its_own_key():
    """A row's error names what is wrong with that row, not a key only another row has
    (found by the batch fuzz: rows=[{'locat\u0456on': None}, {'location': False}])."""
    rows = [{"locat\u0456on": "arm"}, {"location": False}, {"location": "arm", "twitch_arm": False}, {"location": "leg"}]
    batch = infer(rows, errors="collect")
    assert list(batch.causes.index[batch.ok]) == [3]
    errors = dict(zip(batch.errors["row"], batch.errors["error"]))
    assert errors[0].startswith("'locat\u0456on' is not an evidence key; did you mean 'location'?")
    assert errors[1] == "location: False is not a list of names or a ';'-separated string"
    assert errors[2] == "twitch_arm: sets twitch_arm=absent, but location sets twitch_arm=present"


def test_a_row_that_is_not_a_dict_is_a_row_error():
    batch = infer([{"location": "arm"}, 3], errors="collect")
    assert list(batch.causes.index[batch.ok]) == [0]
    assert batch.errors.to_dict(orient="records") == [{"row": 1, "error": "expected a dict of evidence, got int"}]
    with pytest.raises(ValueError, match="row 1: expected a dict of evidence, got int"):
        infer([{"location": "arm"}, 3])
