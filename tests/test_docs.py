"""The repository explains itself (issue 26): no file cites a document outside the
repository, every page of docs/ is reachable from docs/README.md, and every relative link
in docs/ reaches a file (and a heading, when it names one) that the repository holds."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
THIS = Path(__file__).resolve()

# Documents outside the repository: the shared folder beside it, the engine notes and
# the contract's section numbers. What a reader needs from them is said in docs/.
OUTSIDE = [
    ("../shared", re.compile(r"\.\./shared")),
    ("ENGINE-NOTES", re.compile(r"ENGINE-NOTES")),
    ("SPEC §", re.compile(r"SPEC\s*§")),
]
# Where to look when git cannot list the files (an unpacked archive).
PATTERNS = ["README.md", "pyproject.toml", "docs/*.md", "model/*.py", "model/*/*.py", "model/data/*.toml", "priors/*.toml",
            "priors/*.md", "notebooks/*.ipynb", "notebooks/*.py", "tests/*.py", "tools/*.py", "benchmarks/*.py"]
TEXT_SUFFIXES = {".md", ".py", ".toml", ".ipynb", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".json", ".csv"}


def repository_files() -> list[Path]:
    """The files of the repository: tracked and new ones not ignored, or the patterns."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        files = [ROOT / line for line in out.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):
        files = [p for pattern in PATTERNS for p in ROOT.glob(pattern)]
    return sorted({p for p in files if p.is_file() and p.suffix in TEXT_SUFFIXES and p.resolve() != THIS})


def test_the_repository_is_listed():
    names = {p.relative_to(ROOT).as_posix() for p in repository_files()}
    assert {"README.md", "model/inference/engine.py", "priors/triage.toml", "docs/README.md"} <= names


def test_no_file_cites_a_document_outside_the_repository():
    hits = []
    for path in repository_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for name, pattern in OUTSIDE:
                if pattern.search(line):
                    hits.append(f"{path.relative_to(ROOT).as_posix()}:{number}: {name}")
    assert not hits, ("cite docs/model.md, docs/engine.md, docs/validation.md or docs/sources.md instead:\n"
                      + "\n".join(hits))


# ---- docs/ ------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def slug(heading: str) -> str:
    """A heading's anchor as GitHub writes it: lower case, punctuation dropped but
    hyphens and underscores, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, seen, fenced = set(), {}, False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m and not fenced:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return LINK.findall(text)


def test_docs_has_an_index_and_the_pages_of_issue_26():
    names = {p.name for p in pages()}
    assert {"README.md", "model.md", "engine.md", "validation.md", "sources.md"} <= names


def test_every_page_is_linked_from_the_index():
    linked = {target.split("#", 1)[0] for target in links(DOCS / "README.md")}
    missing = [p.name for p in pages() if p.name != "README.md" and p.name not in linked]
    assert not missing, f"docs/README.md does not link {missing}"


@pytest.mark.parametrize("page", [p.name for p in pages()])
def test_relative_links_resolve(page):
    path = DOCS / page
    broken = []
    for target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            broken.append(f"{target}: no file {file}")
        elif not dest.resolve().is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT).as_posix()}")
    assert not broken, "\n".join(broken)
