"""The README and docs/ stay true to the repository: their links resolve, the
files and `make` targets they name exist, and the README's "Where things
are" names every folder."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# What the docs already name while the other branches of issue 19 make or
# remove it (the branch in the value). The lead empties this after merging:
# test_the_planned_paths_are_still_to_come fails once they have landed.
PLANNED: Dict[str, str] = {
    "rasa_patches/": "patches",
    "tests/support/": "testkit",
    "make test-fast": "testkit",
    "make lint": "testkit",
}
LEAVING: Dict[str, str] = {
}
# Made by the commands, never in git.
GENERATED = (".venv/", "build/", "models/", "var/", "web/dist/", "web/node_modules/",
             "test-artifacts/")

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A path from the repository's root: a name, a slash, and on, not inside a
# URL or another path (nothing path-like just before it).
PATH = re.compile(r"(?<![\w./:@~-])(\.?[A-Za-z_][\w.-]*/[\w./-]*)")
MAKE = re.compile(r"(?:^|`)make ([a-z][\w-]*)", re.MULTILINE)


def tracked() -> List[str]:
    listing = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    return listing.splitlines()


def top_level_folders() -> Set[str]:
    return {name.split("/")[0] + "/" for name in tracked() if "/" in name}


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(document: Path) -> Set[str]:
    return {slug(line.lstrip("#")) for line in document.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")}


def links() -> Iterator[Tuple[Path, str]]:
    for document in DOCUMENTS:
        for target in LINK.findall(document.read_text(encoding="utf-8")):
            if not re.match(r"[a-z]+:", target):  # not http:, https:, mailto:
                yield document, target


def named_paths() -> Iterator[Tuple[Path, str]]:
    top = {name.split("/")[0] for name in tracked()} | {
        path.split("/")[0] for path in [*PLANNED, *LEAVING, *GENERATED]}
    for document in DOCUMENTS:
        for path in PATH.findall(document.read_text(encoding="utf-8")):
            path = path.rstrip(".,")
            # "src/" inside a sentence about web/ is not a path from the root.
            if path.split("/")[0] in top:
                yield document, path


def where_things_are() -> List[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return [line.split()[0] for line in block.splitlines() if line and not line[0].isspace()]


def makefile_targets() -> Set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", makefile, re.MULTILINE))


def test_every_relative_link_of_the_readme_and_docs_resolves():
    broken = []
    for document, target in links():
        file, _, anchor = target.partition("#")
        resolved = (document.parent / file).resolve() if file else document
        if not resolved.exists():
            broken.append(f"{document.name}: {target}")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{document.name}: {target} (no such heading)")
    assert not broken


def test_every_path_the_docs_name_exists():
    missing = {f"{document.name}: {path}" for document, path in named_paths()
               if not (ROOT / path).exists()
               and not path.startswith((*PLANNED, *LEAVING, *GENERATED))}
    assert not missing


def test_every_make_target_the_docs_name_exists():
    targets = makefile_targets()
    missing = {f"{document.name}: make {target}" for document in DOCUMENTS
               for target in MAKE.findall(document.read_text(encoding="utf-8"))
               if target not in targets and f"make {target}" not in PLANNED}
    assert not missing


def test_every_folder_is_in_the_readmes_where_things_are():
    listed = set(where_things_are())
    assert top_level_folders() - listed == set()


def test_where_things_are_names_only_folders_that_exist_or_are_planned():
    listed = set(where_things_are())
    assert {folder for folder in listed
            if not (ROOT / folder).is_dir() and folder not in {*PLANNED, *LEAVING}} == set()


@pytest.mark.parametrize("path", [path for path in PLANNED if not path.startswith("make ")])
def test_the_planned_paths_are_still_to_come(path):
    assert not (ROOT / path).exists(), (
        f"{path} has landed: remove it from PLANNED in tests/test_docs.py")


@pytest.mark.parametrize("path", list(LEAVING))
def test_the_leaving_paths_are_still_here(path):
    assert (ROOT / path).exists(), (
        f"{path} is gone: remove it from LEAVING in tests/test_docs.py and from the README")


def test_the_readme_is_a_front_door_of_at_most_250_lines():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250


def test_benchmarks_end_with_the_heading_for_the_changes_to_rasa():
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "\n## Changes to Rasa\n" in text
