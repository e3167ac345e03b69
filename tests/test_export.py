"""Exports a pgmpy or pyAgrum user can use unaided (issue 17 item 6)."""

import io
import re
from pathlib import Path

import numpy as np
import pytest

from model import infer, load_network
from model.cli.main import main
from model.network.export import (MAX_TABLE, NETWORK_NAME, NOTES, PREMISE_NODE, SITES_PREFIX, SWITCH_PREFIX, WEAK_PREFIX, site_states,
                          sites_node, switch_node, to_pgmpy, weak_node)
from model.reference.enumeration import arm_and_leg_alone

README = Path(__file__).resolve().parents[1] / "README.md"


def _export(fmt, path):
    out = io.StringIO()
    assert main(["export", "--format", fmt, "--output", str(path)], stdout=out) == 0
    return path.read_text()


def test_bif_is_named_twitchdx_and_documents_the_premise_node(tmp_path):
    text = _export("bif", tmp_path / "twitchdx.bif")
    lines = text.splitlines()
    assert lines[: len(NOTES)] == [f"// {line}" for line in NOTES]
    assert lines[len(NOTES)] == "network twitchdx {"
    assert any(f"premise node {PREMISE_NODE}" in line for line in NOTES)
    assert f"variable {PREMISE_NODE} {{" in text
    gum = pytest.importorskip("pyagrum")  # pyAgrum reads it, comments and all
    bn = gum.loadBN(str(tmp_path / "twitchdx.bif"))
    assert bn.property("name") == NETWORK_NAME and PREMISE_NODE in bn.names()


def test_xmlbif_is_named_twitchdx_and_carries_the_notes_as_a_comment(tmp_path):
    from pgmpy.readwrite import XMLBIFReader

    text = _export("xmlbif", tmp_path / "twitchdx.xml")
    assert text.startswith("<?xml") and "<!--\n  " + NOTES[0] in text
    assert "<NAME>twitchdx</NAME>" in text
    model = XMLBIFReader(str(tmp_path / "twitchdx.xml")).get_model()
    assert model.name == NETWORK_NAME and PREMISE_NODE in model.nodes()


def test_the_readme_pgmpy_example_reproduces_infer(tmp_path, monkeypatch):
    readme = README.read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "XMLBIFReader" in b)
    command = re.search(r"```bash\n(twitchdx export [^\n]*)\n```", readme).group(1).split()
    monkeypatch.chdir(tmp_path)
    assert main(command[1:], stdout=io.StringIO()) == 0
    namespace = {}
    exec(block, namespace)
    expected = infer({"twitch_eyelid": True, "sleep": "short"}, network=load_network()).causes["als_mnd"]
    assert abs(namespace["q"].get_value(als_mnd="present") - expected) < 1e-9
    assert 'infer({"twitch_eyelid": True, "sleep": "short"}).causes["als_mnd"]' in readme


def test_export_rejects_an_unknown_format(tmp_path):
    from model.network.export import write

    with pytest.raises(ValueError, match=r"^format: 'dot' is not one of bif, xmlbif$"):
        write(load_network(), tmp_path / "x", "dot")


# -- the switches (issue 18): a cause is making the person twitch ------------------------


def _chain(model, finding):
    """The finding and the auxiliary nodes `_<finding>_<k>` of its split table; for a
    twitch region, the chain `_regions_<k>` of the sets of regions twitching."""
    own = [n for n in model.nodes() if re.fullmatch(rf"_{re.escape(finding)}_\d+", n)]
    shared = [n for n in model.nodes() if re.fullmatch(r"_regions_\d+", n)] if finding.startswith("twitch_") else []
    return [finding] + own + shared


def test_each_cause_has_a_switch_and_a_site_pattern_read_by_the_regions_and_a_weakness_latent():
    """The latents as auxiliary nodes: each cause's switch `_twitching_<c>` (P(twitching |
    c)), read by its site pattern `_sites_<c>` (none; spread; only_<region>), read by the
    regions; each weak cause's `_weak_<c>` and the leak's `_weak_leak`, read by `weakness`
    (given the latent) and its patterns; every other finding reads the causes."""
    net = load_network()
    model = to_pgmpy(net)
    assert model.check_model()
    assert set(net.spread) == set(net.causes)  # every bundled cause has a site pattern
    regions = {n for r in net.regions for n in _chain(model, r)}
    weak_readers = [net.weak_finding, *net.weak_patterns]
    for cause in net.causes:
        node = switch_node(cause)
        assert node == f"_twitching_{cause}" and node.startswith("_")
        cpd = model.get_cpds(node)
        assert model.get_parents(node) == [cause]
        assert cpd.state_names == {node: ["absent", "present"], cause: ["absent", "present"]}
        tau = float(net.twitch[cause])
        # columns: the cause absent, present; rows: the switch absent, present
        assert cpd.get_values().tolist() == [[1.0, 1.0 - tau], [0.0, tau]]
        sites = sites_node(cause)
        assert sites == f"_sites_{cause}" and set(model.get_children(node)) == {sites}
        assert model.get_parents(sites) == [node]
        cpd = model.get_cpds(sites)
        states = ["none", "spread"] + [f"only_{r}" for r in net.regions]
        assert list(site_states(net)) == states and cpd.state_names == {sites: states, node: ["absent", "present"]}
        sp, focal = float(net.spread[cause]), np.asarray(net.focal[cause], dtype=float)
        # the switch off: no twitching; on: spread with sp, else focal on one region by its share
        np.testing.assert_allclose(cpd.get_values(), np.column_stack([np.eye(len(states))[0], [0.0, sp, *((1 - sp) * focal)]]),
                                   rtol=0, atol=1e-15)
        assert set(model.get_children(sites)) <= regions and model.get_children(sites)
    weak_on = 1.0 - net.link[net.weak_finding][:, 0]
    for i, cause in enumerate(net.causes):
        node = weak_node(cause)
        if weak_on[i] == 0:  # no weakness from this cause: no latent
            assert node not in model.nodes()
            continue
        assert model.get_parents(node) == [cause]
        np.testing.assert_allclose(model.get_cpds(node).get_values(), [[1.0, 1.0 - weak_on[i]], [0.0, weak_on[i]]], rtol=0, atol=1e-15)
    leak_on = 1.0 - float(net.leak[net.weak_finding][0])
    assert 0 < leak_on < 1 and model.get_parents(weak_node(None)) == []
    np.testing.assert_allclose(model.get_cpds(weak_node(None)).get_values().ravel(), [1.0 - leak_on, leak_on], rtol=0, atol=1e-15)
    for f in net.findings:
        chain = _chain(model, f)
        parents = {p for n in chain for p in model.get_parents(n)} - set(chain)
        linked = {c for i, c in enumerate(net.causes) if net.link[f][i, 0] < 1.0}
        if f in net.regions:  # through the chain of region sets: the site patterns of the causes that reach a region
            reach = {c for i, c in enumerate(net.causes) for r, region in enumerate(net.regions)
                     if (net.link[region][i, 0] < 1 and net.spread[c] > 0) or (net.spread[c] < 1 and net.focal[c][r] > 0)}
            assert parents == {sites_node(c) for c in reach} and reach >= linked, f
            assert model.get_parents(f) == [f"_regions_{len(reach)}"]  # its digit of the last set
        elif f in weak_readers:  # the weakness latents of its linked weak causes, and the leak's
            weak = {c for c in linked if weak_on[net.causes.index(c)] > 0}
            leak = {weak_node(None)} if net.leak[f][0] < 1.0 else set()
            assert parents == {weak_node(c) for c in weak} | leak and weak, f
        else:
            assert parents == linked, f
    assert max(cpd.values.size for cpd in model.get_cpds()) <= MAX_TABLE


def test_the_regions_read_one_chain_of_region_sets():
    """`_regions_<k>`: the set of regions twitching from the leak and the first k causes
    (states b<one digit a region>); each region is its digit of the last node, and the
    chain's first node given no cause twitching is the leaks' noisy-OR."""
    from model.network.export import region_set_states

    net = load_network()
    model = to_pgmpy(net)
    chain = sorted((n for n in model.nodes() if n.startswith("_regions_")), key=lambda n: int(n.rsplit("_", 1)[1]))
    states = list(region_set_states(net))
    assert len(states) == 2 ** len(net.regions) and states[0] == "b" + "0" * len(net.regions)
    first = model.get_cpds(chain[0])
    assert model.get_parents(chain[0]) == [sites_node(net.causes[0])]
    leak = np.array([net.leak[r][1] for r in net.regions])
    bits = (np.arange(len(states))[:, None] >> np.arange(len(net.regions))[None]) & 1
    want = np.prod(np.where(bits == 1, leak, 1 - leak), axis=1)
    np.testing.assert_allclose(first.get_values()[:, 0], want, rtol=0, atol=1e-15)  # the first cause's pattern none
    for k, node in enumerate(chain[1:], start=1):
        assert model.get_parents(node)[0] == chain[k - 1] and model.get_cpds(node).state_names[node] == states
    for r, region in enumerate(net.regions):
        values = model.get_cpds(region).get_values()
        assert values[1].tolist() == bits[:, r].tolist()


def test_the_weakness_finding_given_its_latent():
    """`weakness` given the latents: none when no latent is on; a latent on contributes
    its cause's weakness beyond none (the link's mild and marked over P(not none)).
    Summed over the latents it is the finding's noisy-MAX, exactly (pgmpy)."""
    from pgmpy.inference import VariableElimination

    net = load_network()
    model = to_pgmpy(net)
    ve = VariableElimination(model)
    f = net.weak_finding
    i = next(i for i, c in enumerate(net.causes) if 0 < net.link[f][i, 0] < 1)
    cause = net.causes[i]
    alone = {c: "present" if c == cause else "absent" for c in net.causes}
    got = ve.query([f], evidence=alone, show_progress=False).values
    link, leak = net.link[f][i], net.leak[f]
    want = np.diff(np.cumsum(link) * np.cumsum(leak), prepend=0.0)  # the max of the two contributions
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # the latent on: weakness is not none whatever else
    on = ve.query([f], evidence={**alone, weak_node(cause): "present"}, show_progress=False).values
    assert on[0] == 0.0 and on.sum() == pytest.approx(1.0)
    # a pattern without weakness has probability 0
    for p in net.weak_patterns:
        q = ve.query([f, p], evidence=alone, show_progress=False)
        assert q.get_value(**{f: net.states[f][0], p: "present"}) == 0.0, p


def test_the_notes_and_the_files_name_the_switches_and_the_latents(tmp_path):
    assert any(SWITCH_PREFIX + "<cause>" in line for line in NOTES)
    assert any(SITES_PREFIX + "<cause>" in line for line in NOTES)
    assert any(WEAK_PREFIX + "<cause>" in line for line in NOTES) and any(weak_node(None) in line for line in NOTES)
    text = _export("bif", tmp_path / "twitchdx.bif")
    assert "variable _twitching_als_mnd {" in text
    assert "probability ( _twitching_als_mnd | als_mnd ) {" in text
    assert "variable _sites_als_mnd {" in text
    assert "probability ( _sites_als_mnd | _twitching_als_mnd ) {" in text
    assert "probability ( _weak_als_mnd | als_mnd ) {" in text and "probability ( _weak_leak ) {" in text
    readme = README.read_text()
    paragraph = readme[readme.index("**The exported network**"):readme.index("## How it works")]
    assert any("_regions_<n>" in line for line in NOTES)
    for name in ("_twitching_<cause>", "_sites_<cause>", "_regions_<k>", "_weak_<cause>", "_weak_leak", PREMISE_NODE):
        assert name in paragraph, name


@pytest.mark.parametrize("cause", ["alcohol", "exercise_fatigue"])
def test_a_causes_regions_twitch_by_its_switch_and_site_pattern(cause):
    """P(arm and leg twitch | the cause alone) in the exported model, exactly: the switch
    (P = tau), then the pattern: spread (both by their links), or focal (one region, the
    other from its leak); off, the leaks. Not the regions independent given the switch."""
    from pgmpy.inference import VariableElimination

    net = load_network()
    assert 0 < float(net.twitch[cause]) < 1 and 0 < float(net.spread[cause]) < 1
    want, independent = arm_and_leg_alone(net, cause)
    evidence = {c: "present" if c == cause else "absent" for c in net.causes}
    q = VariableElimination(to_pgmpy(net)).query(["twitch_arm", "twitch_leg"], evidence=evidence, show_progress=False)
    got = float(q.get_value(twitch_arm="present", twitch_leg="present"))
    assert abs(got - want) <= 1e-12
    assert abs(got - independent) > 1e-6  # the pattern, not independent regions
