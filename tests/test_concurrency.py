"""Concurrency and state (issue #7, item 5): infer() from 8 threads on one network equals
serial calls; nothing observable in a network changes after it is built; importing the
package changes no global state."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType

import numpy as np
import pytest

from model import infer, load_network
from model.inference.engine import evaluate
from model.network.build import Network
from model.network.priors import default_priors_dir
from model.reference.enumeration import random_network, random_query

THREADS = 8
CASES = [
    {"location": "eyelid", "duration": "under_1_week", "sleep": "short", "caffeine": "high"},
    {"location": ["arm", "leg"], "duration": 120, "weakness": "mild", "age": 64, "sex": "male", "diet": "balanced"},
    {"location": "tongue", "weakness": "marked", "bulbar": True},
    {"location": "widespread", "cramps": True, "exercise": "recent_strenuous"},
    {"location": ["face", "eyelid"], "abnormal_posture": True},
    {"location": "leg", "numbness": True, "pain": True, "back_or_neck_problem": True},
    {"location": "arm", "medications": ["corticosteroid", "diuretic"], "fluid_loss": True},
    {"location": "trunk", "alcohol_intake": "heavy", "tremor": True, "sweating": True},
    {"location": "eyelid", "tics": True, "progression": "worsening"},
    {"location": "arm", "seizure_episode": True, "age": 30},
    {"twitch_leg": True, "kidney_disease_known": True, "duration": 40},
    {},
]


def fresh_network() -> Network:
    """A network of its own (the bundled priors compiled anew): its memo starts empty, so
    the threads race to fill it."""
    return load_network(default_priors_dir())


def _answer(net, ev):
    r = infer(ev, network=net)
    return r.causes.sort_index().to_numpy(), r.triage.to_numpy(), r.advice


def test_infer_from_8_threads_equals_serial_calls():
    serial_net = fresh_network()
    serial = [_answer(serial_net, ev) for ev in CASES]
    net = fresh_network()
    barrier = threading.Barrier(THREADS)

    def work(t: int):
        barrier.wait()  # start together, on an empty memo
        order = np.random.default_rng(t).permutation(len(CASES))
        return {int(i): _answer(net, CASES[i]) for i in order}

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    for got in results:
        for i, (causes, triage, advice) in got.items():
            np.testing.assert_array_equal(causes, serial[i][0])
            np.testing.assert_array_equal(triage, serial[i][1])
            assert advice == serial[i][2]


def test_batch_and_questions_from_threads_equal_serial():
    net = fresh_network()
    rows = CASES[:6]
    serial_batch = infer(rows, network=fresh_network()).causes
    serial_q = infer(CASES[1], network=fresh_network()).next_questions(k=3)

    def work(t: int):
        if t % 2:
            return infer(rows, network=net).causes
        return infer(CASES[1], network=net).next_questions(k=3)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(4)))
    for t, got in enumerate(results):
        if t % 2:
            np.testing.assert_array_equal(got.to_numpy(), serial_batch.to_numpy())
        else:
            assert list(got["question"]) == list(serial_q["question"])
            np.testing.assert_array_equal(got["value"].to_numpy(), serial_q["value"].to_numpy())


def test_engine_from_threads_on_random_networks():
    rng = np.random.default_rng(31)
    jobs = []
    for _ in range(6):
        net = random_network(rng, n_causes=6)
        jobs.append((net, [random_query(rng, net) for _ in range(20)]))
    serial = [[evaluate(dataclasses.replace(net), q).joint for q in qs] for net, qs in jobs]

    def work(t: int):
        net, qs = jobs[t % len(jobs)]
        return t % len(jobs), [evaluate(net, q).joint for q in qs]

    with ThreadPoolExecutor(THREADS) as pool:
        for j, got in pool.map(work, range(2 * len(jobs))):
            for a, b in zip(got, serial[j]):
                np.testing.assert_array_equal(a, b)


# ---- immutability ----------------------------------------------------------------------


def _snapshot(net: Network) -> dict:
    """Everything a user can read off a network, as plain data."""
    return {
        "names": (net.causes, net.exposures, net.findings, net.regions),
        "states": dict(net.states),
        "arrays": {f: {k: v.tolist() for k, v in getattr(net, f).items()} for f in ("exposure_prob", "cause_table", "link", "leak")},
        "parents": dict(net.cause_parents),
        "levels": dict(net.cause_level),
        "triage": json.dumps(dict(net.triage_table), sort_keys=True),
        "priors": repr(net.priors),
    }


def test_nothing_in_a_network_changes_when_it_is_used():
    net = fresh_network()
    before = _snapshot(net)
    for ev in CASES:
        r = infer(ev, network=net)
        r.explain()
    infer(CASES[1], network=net).next_questions()
    infer(CASES, network=net)
    assert _snapshot(net) == before


def test_a_network_cannot_be_changed():
    net = fresh_network()
    for field in ("exposure_prob", "cause_table", "link", "leak"):
        for name, array in getattr(net, field).items():
            assert not array.flags.writeable, (field, name)
        name = next(iter(getattr(net, field)))
        with pytest.raises(ValueError, match="read-only"):
            getattr(net, field)[name][...] = 0.5
        with pytest.raises(TypeError):
            getattr(net, field)[name] = np.zeros(2)
    for field in ("states", "cause_parents", "cause_level", "triage_table"):
        with pytest.raises(TypeError):
            getattr(net, field)["als_mnd"] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.causes = ()
    # the priors behind it and the triage table are read-only all the way down
    with pytest.raises(TypeError):
        net.priors.causes["als_mnd"] = None
    with pytest.raises(TypeError):
        net.priors.causes["stress_anxiety"].relative_risk["stress"]["high"] = None
    with pytest.raises(TypeError):
        net.priors.findings["twitch_eyelid"].links.pop("stress_anxiety")
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.priors.causes["als_mnd"].prior.value = 0.5
    with pytest.raises(TypeError):
        net.triage_table["rule"].append({"id": "x"})
    with pytest.raises(TypeError):
        net.triage_table["rule"][0]["level"] = "self_care"
    with pytest.raises(TypeError):
        net.triage_table["loss"]["soon"][2] = 1.0


def test_arrays_given_to_a_network_are_copied_not_frozen_in_place():
    """A network built from the caller's arrays keeps read-only copies: the caller's
    arrays stay writable, and writing them does not reach the network."""
    rng = np.random.default_rng(2)
    base = random_network(rng)
    link = {k: np.array(v) for k, v in base.link.items()}
    net = dataclasses.replace(base, link=MappingProxyType(link))
    q = random_query(rng, net)
    before = evaluate(net, q).joint
    f = next(iter(link))
    assert link[f].flags.writeable
    link[f][:] = [1.0, 0.0]
    assert not net.link[f].flags.writeable
    np.testing.assert_array_equal(evaluate(net, q).joint, before)


def test_a_replaced_network_does_not_read_the_memo_of_the_one_it_came_from():
    """dataclasses.replace(net, cause_table=...) used to share `_cache` with `net`, so a
    warm network's memo gave the new one the old cause probabilities."""
    ev = {"location": "arm", "age": 50}
    warm = fresh_network()
    infer(ev, network=warm)  # fills the memo
    cold = fresh_network()
    tables = dict(warm.cause_table)
    tables["als_mnd"] = np.minimum(1.0, tables["als_mnd"] * 100)
    a = infer(ev, network=dataclasses.replace(warm, cause_table=MappingProxyType(tables)))
    b = infer(ev, network=dataclasses.replace(cold, cause_table=MappingProxyType(dict(tables))))
    np.testing.assert_array_equal(a.causes.to_numpy(), b.causes.to_numpy())
    assert a.causes["als_mnd"] > 10 * infer(ev, network=warm).causes["als_mnd"]


# ---- import ------------------------------------------------------------------------------

SNAPSHOT = r"""
import hashlib, importlib, json, locale, logging, os, random, sys, warnings
import numpy as np, pandas as pd, matplotlib

def snap():
    return {
        "numpy print options": repr(np.get_printoptions()),
        "numpy errors": repr(np.geterr()),
        "numpy global random state": hashlib.sha1(np.random.get_state()[1].tobytes()).hexdigest(),
        "random state": hashlib.sha1(repr(random.getstate()).encode()).hexdigest(),
        "warning filters": repr(warnings.filters),
        "sys.path": repr(sys.path),
        "environment": repr(sorted(os.environ.items())),
        "locale": repr(locale.setlocale(locale.LC_ALL)),
        "logging": repr((logging.root.level, logging.root.handlers)),
        "recursion limit": sys.getrecursionlimit(),
        "pandas display": repr(pd.get_option("display.max_rows")),
        "matplotlib": repr((matplotlib.get_backend(), sorted(matplotlib.rcParams.items()))),
        "working directory": os.getcwd(),
        "hooks": repr((sys.excepthook, sys.displayhook, sys.stdout, sys.stderr)),
    }

before = snap()
for m in sys.argv[1:]:
    importlib.import_module(m)
after = snap()
print(json.dumps({k: [before[k][:300], after[k][:300]] for k in before if before[k] != after[k]}))
"""
MODULES = ["model", "model.api", "model.cli.main", "model.inference.engine", "model.network.evidence", "model.network.build", "model.network.priors", "model.network.rules", "model.batch", "model.validation.synthetic", "model.validation.metrics", "model.validation.vignettes", "model.network.export"]


def test_importing_the_package_changes_no_global_state():
    proc = subprocess.run([sys.executable, "-c", SNAPSHOT, *MODULES], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {}


# -- one compile notice a process tree; throughput without the compile (issue 26 item 3) --

from pathlib import Path  # noqa: E402

from model.inference import engine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_validate_on_forked_workers_announces_a_compile_once_before_the_bars(tmp_path):
    """Every first kernel call made to count as a compile (the notice after 0 s): the
    parent loads both kernels before forking, so its two workers (and the interviews'
    workers) inherit them and say nothing."""
    code = (
        "import model.inference.engine as E\n"
        "E.COMPILE_NOTICE_AFTER = 0.0\n"
        "from model.validation.report import run\n"
        "run(n=200, worlds=['model', 'misreport'], workers=2, interviews=4, vignettes=False, progress=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    err = done.stderr
    assert err.count(engine.COMPILE_NOTICE.strip()) == 1, err
    assert err.startswith(engine.COMPILE_NOTICE), err[:500]  # before any progress bar


def test_cases_per_second_leaves_the_engines_first_load_out(monkeypatch):
    import time

    from model.validation import report

    calls = []

    def slow_warm(net):  # a compile that takes 2 s
        calls.append(net)
        time.sleep(2.0)
        engine.warm(net)

    monkeypatch.setattr(report, "warm", slow_warm)
    v = report.validate(network=load_network(), n=100, world="model", seed=2, workers=1, interviews=0)
    assert calls and v.seconds < 2.0
    assert v.flat()["cases_per_second"] == pytest.approx(100 / v.seconds)


@pytest.mark.slow
def test_twitchdx_validate_with_an_empty_compile_cache_announces_it_once(tmp_path):
    """The real first use after install: an empty NUMBA_CACHE_DIR (a minute or more)."""
    import os

    cache = tmp_path / "numba-cache"
    cache.mkdir()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["twitchdx", "validate", "--cases", "200", "--world", "model", "--world", "misreport",
                           "--interviews", "5", "--no-vignettes", "--out", str(tmp_path / "report")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.count(engine.COMPILE_NOTICE.strip()) == 1, done.stderr
    assert done.stderr.startswith(engine.COMPILE_NOTICE)
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics
