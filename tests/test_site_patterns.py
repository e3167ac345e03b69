"""Site patterns (docs/model.md amended, issue 23), computed exactly from priors/sites.toml.

Given a cause's switch on, its twitching is focal (probability 1 - w: one region, r with
share s_r) or spread (probability w: each region r independently with probability q_r).
Every figure is enumerated over the 64 region subsets from the file's parameters: each site
marginal and P(two or more regions) within 0.05 of the cause's target, also given at least
one region; P(no region) under 0.05; shares summing to 1; w in [0, 1]. (The engine's
version of these figures, read from the compiled network, is a separate test.)
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from model.network.priors import default_priors_dir, load_priors
from model.network.vocabulary import CAUSES, REGIONS

SITES = default_priors_dir() / "sites.toml"
TOLERANCE = 0.05
NONE_MAX = 0.05
NUMBER_KEYS = {"value", "low", "high", "source", "note"}
SOURCE = re.compile(r"^(estimate|S\d+[a-z]?(\s*,\s*S\d+[a-z]?)*)$")
SUBSETS = list(itertools.product((0, 1), repeat=len(REGIONS)))


@pytest.fixture(scope="module")
def sites() -> dict:
    with SITES.open("rb") as fh:
        return tomllib.load(fh)


def parameters(entry: dict) -> tuple[float, dict[str, float], dict[str, float]]:
    w = entry["spread"]["value"]
    s = {r: n["value"] for r, n in entry["focal"].items()}
    q = {r: n["value"] for r, n in entry.get("spread_sites", {}).items()}
    return w, s, q


def subset_probabilities(w: float, s: dict, q: dict) -> dict[tuple[int, ...], float]:
    """P(exactly this set of regions | switch on), for each of the 64 subsets."""
    out = {}
    for subset in SUBSETS:
        size = sum(subset)
        focal = s.get(REGIONS[subset.index(1)], 0.0) if size == 1 else 0.0
        spread = 1.0
        for r, on in zip(REGIONS, subset):
            spread *= q.get(r, 0.0) if on else 1 - q.get(r, 0.0)
        out[subset] = (1 - w) * focal + w * spread
    return out


def figures(entry: dict) -> dict[str, float]:
    p = subset_probabilities(*parameters(entry))
    out = {r: sum(v for k, v in p.items() if k[i]) for i, r in enumerate(REGIONS)}
    out["two_or_more"] = sum(v for k, v in p.items() if sum(k) >= 2)
    out["none"] = p[(0,) * len(REGIONS)]
    out["total"] = sum(p.values())
    return out


def test_the_file_holds_every_cause_and_nothing_else(sites):
    assert set(sites) == set(CAUSES)
    for cause, entry in sites.items():
        assert set(entry) <= {"target", "spread", "focal", "spread_sites"}, cause
        assert {"target", "spread", "focal"} <= set(entry), cause
        assert set(entry["target"]) - {"note"} == {*REGIONS, "two_or_more", "source"}, cause
        assert set(entry["focal"]) <= set(REGIONS), cause
        assert set(entry.get("spread_sites", {})) <= set(REGIONS), cause


def test_every_number_is_a_valid_inline_table(sites):
    for cause, entry in sites.items():
        target = entry["target"]
        assert SOURCE.match(target["source"]), cause
        for key in (*REGIONS, "two_or_more"):
            assert 0 <= target[key] <= 1, (cause, key)
        numbers = {"spread": entry["spread"]}
        numbers.update({f"focal.{r}": n for r, n in entry["focal"].items()})
        numbers.update({f"spread_sites.{r}": n for r, n in entry.get("spread_sites", {}).items()})
        for name, n in numbers.items():
            where = f"{cause}.{name}"
            assert isinstance(n, dict) and set(n) <= NUMBER_KEYS and {"value", "source"} <= set(n), where
            assert SOURCE.match(n["source"]), where
            low = n.get("low", n["value"] / 2)
            high = n.get("high", min(1.0, 2 * n["value"]))
            assert 0 <= low <= n["value"] <= high <= 1, where


def test_the_bundled_priors_load_with_sites_toml():
    # every source key in sites.toml resolves in the bibliography (the loader checks all of priors/)
    load_priors()


@pytest.mark.parametrize("cause", CAUSES)
def test_shares_and_spread_probability(sites, cause):
    w, s, q = parameters(sites[cause])
    assert 0 <= w <= 1
    assert abs(sum(s.values()) - 1) < 1e-9
    assert all(0 <= v <= 1 for v in (*s.values(), *q.values()))
    if w > 0:
        assert q, "a spread pattern with no region"
    # a region the target leaves out appears in neither pattern
    target = sites[cause]["target"]
    assert all(target[r] > 0 for r in (*s, *q) if s.get(r, 0) > 0 or q.get(r, 0) > 0)


@pytest.mark.parametrize("cause", CAUSES)
def test_the_figures_meet_their_targets(sites, cause):
    entry = sites[cause]
    target, fig = entry["target"], figures(entry)
    assert fig["total"] == pytest.approx(1.0, abs=1e-9)
    assert fig["none"] < NONE_MAX
    given_any = 1 - fig["none"]
    for key in (*REGIONS, "two_or_more"):
        assert abs(fig[key] - target[key]) <= TOLERANCE, (key, fig[key], target[key])
        assert abs(fig[key] / given_any - target[key]) <= TOLERANCE, (key, "given at least one region")


def test_stress_no_longer_twitches_in_two_regions_half_the_time(sites):
    # issue 23: independent regions gave 0.54; the Wide-spread column says 0.2
    assert figures(sites["stress_anxiety"])["two_or_more"] == pytest.approx(0.2, abs=TOLERANCE)


def test_eyelid_myokymia_is_the_eyelid_alone(sites):
    w, s, q = parameters(sites["eyelid_myokymia"])
    assert w == 0 and s == {"eyelid": 1.0}


def test_hemifacial_spasm_has_eyelid_and_face_together_in_most(sites):
    p = subset_probabilities(*parameters(sites["hemifacial_spasm"]))
    both = sum(v for k, v in p.items() if k[0] and k[1])
    assert both >= 0.7
    assert sum(v for k, v in p.items() if any(k[2:])) == 0  # nothing beyond the face


def test_the_fitting_script_reproduces_the_file(sites):
    script = Path(__file__).resolve().parent.parent / "tools" / "fit_site_patterns.py"
    if not script.exists():
        pytest.skip("tools/ is not part of this distribution")
    spec = importlib.util.spec_from_file_location("fit_site_patterns", script)
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    for cause, entry in sites.items():
        w, s, q, fig = fit.fit_rounded(entry["target"])
        fw, fs, fq = parameters(entry)
        assert (w, s, q) == (fw, fs, fq), cause
        ours = figures(entry)
        assert all(np.isclose(fig[k], ours[k], atol=1e-12) for k in (*REGIONS, "two_or_more", "none")), cause
