"""The bibliography in priors/ (SPEC §7.5): every source key the priors use resolves to an
entry shipped with the package (key, title, address, what it supports). The broken
folders (an unknown key in an entry, an entry without a title, no bibliography) are in
test_priors_corpus.py's corpus, which checks the file and entry named in the error."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from model import load_network
from model.priors import BIBLIOGRAPHY, FILES, PriorsError, Source, default_priors_dir, load_priors

BUNDLED = default_priors_dir()
# evidence.md, where the keys come from, sits beside the repository when it is there
EVIDENCE = Path(__file__).resolve().parents[2] / "shared" / "domain" / "evidence.md"


def sources_used(folder: Path) -> set[str]:
    """Every key of every `source` field in the priors files (not the bibliography)."""
    keys: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "source" and isinstance(v, str):
                    keys.update(part.strip() for part in v.split(","))
                else:
                    visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    for file in FILES:
        if file != BIBLIOGRAPHY:
            visit(tomllib.loads((folder / file).read_text(encoding="utf-8")))
    return keys - {"estimate"}


def test_the_bundled_priors_load_with_their_bibliography():
    priors = load_priors()
    used = sources_used(BUNDLED)
    assert used, "the bundled priors cite no source"
    assert used <= set(priors.bibliography)
    for key, entry in priors.bibliography.items():
        assert isinstance(entry, Source) and entry.key == key
        assert entry.title and entry.supports
        assert re.match(r"^https?://\S+$", entry.address)


@pytest.mark.skipif(not EVIDENCE.is_file(), reason="../shared/domain/evidence.md is not beside the repository")
def test_every_key_of_evidence_md_is_in_the_bibliography():
    """All keys of evidence.md §4, used today or not, so a key added later resolves."""
    section = EVIDENCE.read_text(encoding="utf-8").split("## 4. Sources", 1)[1]
    keys = set(re.findall(r"\bS\d+[a-z]?\b", re.sub(r"https?://\S+", "", section)))
    assert keys == set(load_priors().bibliography)


def test_the_network_cites_its_sources():
    net = load_network()
    bib = net.priors.bibliography
    assert bib["S1"].title.startswith("NHS")
    assert [s.key for s in net.priors.cite("S2, S19")] == ["S2", "S19"]
    assert net.priors.cite("estimate") == ()
    assert str(bib["S60"]).startswith("[S60] NICE NG127")
    with pytest.raises(KeyError, match=r"source key 'S99' is not in bibliography\.toml"):
        net.priors.cite("S99")


def test_the_bibliography_is_read_only():
    bib = load_priors().bibliography
    with pytest.raises(TypeError, match="read-only"):
        bib["S1"] = bib["S2"]


def test_mirrors_and_extra_addresses_are_kept():
    bib = load_priors().bibliography
    assert bib["S4"].mirror and not bib["S2"].mirror
    assert len(bib["S12"].also) == 1 and bib["S12"].also[0].startswith("https://")


def test_a_key_in_any_other_priors_file_must_resolve(tmp_path):
    """Files the network does not read (validation.toml, one added later) are checked too."""
    folder = tmp_path / "priors"
    shutil.copytree(BUNDLED, folder)
    (folder / "extra.toml").write_text('[thing]\nvalue = { value = 0.5, source = "S1, S99" }\n', encoding="utf-8")
    with pytest.raises(PriorsError, match=r"^extra\.toml: \[thing\.value\]: source key 'S99' is not in bibliography\.toml; add it there or use 'estimate'$"):
        load_priors(folder)
    (folder / "extra.toml").write_text('[thing]\nvalue = { value = 0.5, source = "S1, S64" }\n', encoding="utf-8")
    assert load_priors(folder).bibliography["S64"].key == "S64"
