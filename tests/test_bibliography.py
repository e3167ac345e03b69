"""The bibliography in priors/: every source key the priors use resolves to an entry
shipped with the package (key, title, address, what it supports), and the source list of
docs/sources.md (the evidence table's keys) is the bibliography, key for key and title for
title. Everything read here is in the repository. The broken folders (an unknown key in
an entry, an entry without a title, no bibliography) are in test_priors_corpus.py's
corpus, which checks the file and entry named in the error."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from model import load_network
from model.network.priors import BIBLIOGRAPHY, FILES, PriorsError, Source, default_priors_dir, load_priors

BUNDLED = default_priors_dir()
DOCS = Path(__file__).resolve().parents[1] / "docs"
SOURCES_MD = DOCS / "sources.md"
KEY = re.compile(r"\bS\d+[a-z]?\b")


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


def source_rows() -> list[list[str]]:
    """The rows of docs/sources.md's source list (the table of its section 4): key,
    title, mirror ("yes" or empty)."""
    section = SOURCES_MD.read_text(encoding="utf-8").split("## 4. The source list", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 3 and KEY.fullmatch(cells[0]):
            rows.append(cells)
    return rows


def test_the_source_list_of_docs_is_the_bibliography():
    """Every key of the evidence table (docs/sources.md section 4), used today or not, is
    in bibliography.toml with the same title and mirror flag, and the bibliography holds
    no other key."""
    rows = source_rows()
    bib = load_priors().bibliography
    keys = [key for key, _, _ in rows]
    assert len(keys) >= 60 and len(keys) == len(set(keys)), "docs/sources.md lists a key twice"
    assert set(keys) == set(bib), sorted(set(keys) ^ set(bib))
    wrong = {key: (title, bib[key].title) for key, title, _ in rows if title != bib[key].title}
    assert not wrong, wrong
    mirrors = {key for key, _, mirror in rows if mirror == "yes"}
    assert mirrors == {key for key, entry in bib.items() if entry.mirror}


def test_every_key_cited_in_the_docs_resolves():
    bib = set(load_priors().bibliography)
    for path in sorted(DOCS.glob("*.md")):
        text = re.sub(r"https?://\S+", "", path.read_text(encoding="utf-8"))
        unknown = set(KEY.findall(text)) - bib
        assert not unknown, f"{path.name} cites {sorted(unknown)}, not in priors/bibliography.toml"


def test_every_key_cited_in_a_priors_note_resolves():
    """Beyond `source` fields: a key cited in any text of a priors file ([S35] in a note)."""
    bib = set(load_priors().bibliography)
    for path in sorted(BUNDLED.glob("*.toml")):
        if path.name == BIBLIOGRAPHY:
            continue
        text = re.sub(r"https?://\S+", "", path.read_text(encoding="utf-8"))
        unknown = set(KEY.findall(text)) - bib
        assert not unknown, f"{path.name} cites {sorted(unknown)}"


def test_every_key_of_the_bundled_case_sets_resolves():
    """The textbook set's `sources` and any key cited in the vignettes' text."""
    from importlib import resources

    bib = set(load_priors().bibliography)
    data = resources.files("model").joinpath("data")
    textbook = tomllib.loads(data.joinpath("textbook.toml").read_text(encoding="utf-8"))["presentation"]
    cited = {s for p in textbook for s in p["sources"] if KEY.fullmatch(s)}
    assert cited, "the textbook set cites no source key"
    assert cited <= bib, sorted(cited - bib)
    seeds = {s for p in textbook for s in p["sources"] if not KEY.fullmatch(s)}
    assert seeds <= {"000", "001", "002", "003", "004"}, seeds
    vignettes = re.sub(r"https?://\S+", "", data.joinpath("vignettes.toml").read_text(encoding="utf-8"))
    assert set(KEY.findall(vignettes)) <= bib


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
