"""The layers of the code (pyproject.toml's [tool.importlinter]): core/ is
plain Python, the action server needs no Rasa, and the Rasa glue's parts do
not import one another. Checked with import-linter on the code as it is, and
on copies with a wrong-way import, each of which must break its contract."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Set

import pytest
import tomli

pytestmark = pytest.mark.e2e  # runs lint-imports, a program

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"  # the venv's, as `make lint`'s
SETTINGS = tomli.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"]
CONTRACTS = {contract["name"] for contract in SETTINGS["contracts"]}
CORE_IS_PLAIN = "core is plain Python: no Rasa, no Rasa glue, no tools"
GLUE_APART = "the actions, channels, stores and NLU components do not import one another"
NO_RASA_IN_ACTIONS = "the action server runs on rasa_sdk, without Rasa itself"


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    """import-linter on the code in `folder`, with the contracts of its
    pyproject.toml (it puts `folder` first on the import path)."""
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=folder,
                          capture_output=True, text=True, timeout=300)


def broken(result: subprocess.CompletedProcess) -> Set[str]:
    return {line[:-len(" BROKEN")] for line in result.stdout.splitlines()
            if line.endswith(" BROKEN")}


def copy_of_the_code(folder: Path) -> Path:
    for package in SETTINGS["root_packages"]:
        shutil.copytree(ROOT / package, folder / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def test_the_contracts_name_what_this_file_checks():
    assert {CORE_IS_PLAIN, GLUE_APART, NO_RASA_IN_ACTIONS} <= CONTRACTS


def test_the_code_keeps_every_contract():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize("module, wrong_import, contracts", [
    ("core/booking.py", "from rasa_sdk import Tracker", {CORE_IS_PLAIN}),
    ("core/redaction.py", "from rasa.shared.core.events import SlotSet", {CORE_IS_PLAIN}),
    # core -> actions also brings rasa_sdk into core, and into stores through core
    ("core/store.py", "from actions import forms", {CORE_IS_PLAIN, GLUE_APART}),
    ("channels/rest.py", "from actions.replies import KNOWLEDGE", {GLUE_APART}),
    ("actions/replies.py", "from channels import rest", {GLUE_APART, NO_RASA_IN_ACTIONS}),
    ("stores/tracker_store.py", "from channels import rest", {GLUE_APART}),
    ("actions/forms.py", "from rasa.core.agent import Agent", {NO_RASA_IN_ACTIONS}),
])
def test_a_wrong_way_import_breaks_its_contract(tmp_path, module, wrong_import, contracts):
    code = copy_of_the_code(tmp_path)
    with (code / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{wrong_import}  # the wrong way\n")

    result = lint_imports(code)

    assert result.returncode == 1, result.stdout + result.stderr
    assert broken(result) == contracts
