"""Exports a pgmpy or pyAgrum user can use unaided (issue 17 item 6)."""

import io
import re
from pathlib import Path

import pytest

from model import infer, load_network
from model.cli import main
from model.export import MAX_TABLE, NETWORK_NAME, NOTES, PREMISE_NODE, SWITCH_PREFIX, switch_node, to_pgmpy

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
    from model.export import write

    with pytest.raises(ValueError, match=r"^format: 'dot' is not one of bif, xmlbif$"):
        write(load_network(), tmp_path / "x", "dot")


# -- the switches (issue 18): a cause is making the person twitch ------------------------


def _chain(model, finding):
    """The finding and the auxiliary nodes `_<finding>_<k>` of its split table."""
    return [finding] + [n for n in model.nodes() if re.fullmatch(rf"_{re.escape(finding)}_\d+", n)]


def test_each_cause_has_an_auxiliary_switch_read_by_the_regions_only():
    net = load_network()
    model = to_pgmpy(net)
    assert model.check_model()
    switches = {switch_node(c): c for c in net.causes}
    for node, cause in switches.items():
        assert node == f"_twitching_{cause}" and node.startswith("_")
        cpd = model.get_cpds(node)
        assert model.get_parents(node) == [cause]
        assert cpd.state_names == {node: ["absent", "present"], cause: ["absent", "present"]}
        tau = float(net.twitch[cause])
        # columns: the cause absent, present; rows: the switch absent, present
        assert cpd.get_values().tolist() == [[1.0, 1.0 - tau], [0.0, tau]]
        assert {child for child in model.get_children(node)} <= {n for r in net.regions for n in _chain(model, r)}
    for f in net.findings:
        chain = _chain(model, f)
        parents = {p for n in chain for p in model.get_parents(n)} - set(chain)
        linked = {c for i, c in enumerate(net.causes) if net.link[f][i, 0] < 1.0}
        # a region reads the switches of its linked causes, every other finding the causes
        assert parents == ({switch_node(c) for c in linked} if f in net.regions else linked), f
    assert max(cpd.values.size for cpd in model.get_cpds()) <= MAX_TABLE


def test_the_notes_and_the_files_name_the_switches(tmp_path):
    assert any(SWITCH_PREFIX + "<cause>" in line for line in NOTES)
    text = _export("bif", tmp_path / "twitchdx.bif")
    assert "variable _twitching_als_mnd {" in text
    assert "probability ( _twitching_als_mnd | als_mnd ) {" in text


@pytest.mark.parametrize("cause", ["alcohol", "exercise_fatigue"])
def test_a_causes_regions_twitch_together_through_its_switch(cause):
    """P(arm and leg twitch | the cause alone) in the exported model, exactly: the switch
    (P = tau) carries both sites, so the sites' part is tau * s_arm * s_leg, not
    (tau * s_arm) * (tau * s_leg); the leaks add the rest."""
    from pgmpy.inference import VariableElimination

    net = load_network()
    i = net.causes.index(cause)
    tau = float(net.twitch[cause])
    assert 0 < tau < 1  # 0.3 in the bundled priors
    s_arm, s_leg = float(net.link["twitch_arm"][i, 1]), float(net.link["twitch_leg"][i, 1])
    l_arm, l_leg = float(net.leak["twitch_arm"][1]), float(net.leak["twitch_leg"][1])
    # a region is absent iff neither the switch's link nor the leak fires
    no_arm = tau * (1 - s_arm) * (1 - l_arm) + (1 - tau) * (1 - l_arm)
    no_leg = tau * (1 - s_leg) * (1 - l_leg) + (1 - tau) * (1 - l_leg)
    neither = tau * (1 - s_arm) * (1 - l_arm) * (1 - s_leg) * (1 - l_leg) + (1 - tau) * (1 - l_arm) * (1 - l_leg)
    both = 1 - no_arm - no_leg + neither
    leaks = both - tau * s_arm * s_leg
    assert 0 < leaks < l_arm + l_leg

    evidence = {c: "present" if c == cause else "absent" for c in net.causes}
    q = VariableElimination(to_pgmpy(net)).query(["twitch_arm", "twitch_leg"], evidence=evidence, show_progress=False)
    got = float(q.get_value(twitch_arm="present", twitch_leg="present"))
    assert abs(got - (tau * s_arm * s_leg + leaks)) <= 1e-12
    assert abs(got - tau**2 * s_arm * s_leg) > 0.01  # not two independent sites
