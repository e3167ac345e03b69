"""Exports a pgmpy or pyAgrum user can use unaided (issue 17 item 6)."""

import io
import re
from pathlib import Path

import pytest

from model import infer, load_network
from model.cli import main
from model.export import NETWORK_NAME, NOTES, PREMISE_NODE

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
