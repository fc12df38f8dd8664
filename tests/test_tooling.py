"""The developers' tooling: the kinds of test and their collection check,
what `make test-fast`, `make test`, `make train` and `make lint` run, CI's
order, and the split of the servers' packages from the test tools."""
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Dict

import pytest
import tomli
from packaging.requirements import Requirement

from tests.support.kinds import KINDS
from tests.support.project import ENV, ROOT, VENV_BIN

pytestmark = pytest.mark.unit

# What every Python environment brings; pip freeze leaves them out of a lock.
INSTALLERS = {"pip", "setuptools", "wheel"}
PYPROJECT = tomli.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MARKED = '''
import pytest

@pytest.fixture
def trained_model():
    return None

def test_of_no_kind():
    pass

@pytest.mark.unit
@pytest.mark.e2e
def test_of_two_kinds():
    pass

@pytest.mark.unit
def test_of_one_kind():
    pass

@pytest.mark.unit
def test_unit_asking_for_the_model(trained_model):
    pass

@pytest.mark.e2e
def test_e2e_asking_for_the_model(trained_model):
    pass
'''


def collect(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest with the kinds check, collecting `folder` of its own."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.support.kinds",
                           "--collect-only", "-q", "-p", "no:cacheprovider", *args, str(folder)],
                          cwd=folder, env={**ENV, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)


def make_dry_run(target: str) -> str:
    """The commands `make` would run for `target`, rebuilding everything."""
    return subprocess.run(["make", "--dry-run", "--always-make", "--no-print-directory", target],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, check=True).stdout


def name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def pins(lock: str) -> Dict[str, str]:
    lines = (ROOT / lock).read_text(encoding="utf-8").splitlines()
    return {name(line): line.split("==")[1] for line in lines
            if "==" in line and not line.startswith("#")}


def test_a_test_of_no_kind_of_two_or_a_unit_test_asking_for_the_model_fails_collection(
        tmp_path):
    (tmp_path / "test_kinds.py").write_text(MARKED)
    collected = collect(tmp_path)
    assert collected.returncode == pytest.ExitCode.USAGE_ERROR
    assert "test_of_no_kind: no kind" in collected.stderr
    assert "test_of_two_kinds: two kinds (e2e, unit)" in collected.stderr
    assert "test_unit_asking_for_the_model: a unit test asks for trained_model" in collected.stderr
    assert "test_of_one_kind" not in collected.stderr
    assert "test_e2e_asking_for_the_model" not in collected.stderr


def test_tests_of_one_kind_each_are_collected_and_run_by_kind(tmp_path):
    (tmp_path / "test_kinds.py").write_text(
        "import pytest\n\npytestmark = pytest.mark.e2e\n\n\ndef test_one():\n    pass\n\n\n"
        "def test_two():\n    pass\n")
    assert "2 tests collected" in collect(tmp_path).stdout
    assert "2 deselected" in collect(tmp_path, "-m", "unit").stdout


def test_the_registered_markers_are_the_kinds():
    markers = PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]
    assert [marker.split(":")[0] for marker in markers] == list(KINDS)


def test_make_test_fast_runs_the_unit_tests_without_the_model_or_the_widget():
    commands = make_dry_run("test-fast")
    assert "-m pytest -m unit" in commands
    assert "clinic --project . train" not in commands and "rasa train" not in commands
    assert "npm" not in commands


def test_make_test_builds_the_model_and_the_widget_and_runs_every_test():
    commands = make_dry_run("test").splitlines()
    assert "clinic --project . train" in "\n".join(commands)
    assert any("npm run --silent build" in command for command in commands)
    assert commands[-1].endswith("-m pytest")


def test_make_train_puts_a_model_in_service_only_through_the_quality_gate():
    commands = make_dry_run("train")
    assert ".venv/bin/clinic --project . train" in commands
    assert "rasa train" not in commands


def test_ci_lints_before_it_tests():
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert lines.index("make lint") < lines.index("exec make test")


def test_make_lint_passes_on_the_project():
    # -o: the environment is taken as installed (a test does not reinstall it).
    linted = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "lint"],
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "ruff check ." in linted.stdout


def test_ruff_with_the_projects_rules_finds_an_unused_import(tmp_path):
    (tmp_path / "sloppy.py").write_text("import os\n")
    found = subprocess.run([str(VENV_BIN / "ruff"), "check", "--config",
                            str(ROOT / "pyproject.toml"), "--no-cache", str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 1 and "F401" in found.stdout


def test_the_dev_extra_is_pinned_in_the_dev_lock_and_neither_lock_pins_a_package_twice():
    dev_lock, runtime_lock = pins("requirements-dev.lock"), pins("requirements.lock")
    for requirement in PYPROJECT["project"]["optional-dependencies"]["dev"]:
        assert dev_lock[name(requirement)] == requirement.split("==")[1], requirement
    assert not set(dev_lock) & set(runtime_lock)


def test_the_servers_lock_holds_everything_they_need_and_no_test_tool():
    """Every requirement of every package of requirements.lock (as installed
    here) is pinned there too, so the image has all it runs; the test tools
    are not."""
    runtime_lock = pins("requirements.lock")
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert name(requirement) in runtime_lock, requirement
    missing = []
    for package in runtime_lock:
        for needed in metadata.requires(package) or []:
            requirement = Requirement(needed)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                if name(needed) not in {*runtime_lock, *INSTALLERS}:
                    missing.append(f"{package} needs {requirement.name}")
    assert missing == []
    assert not {"pytest", "playwright", "hypothesis", "ruff"} & set(runtime_lock)


def test_the_image_installs_the_servers_lock_only():
    installs = [line for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
                if "pip install" in line]
    assert any("-r requirements.lock" in line for line in installs)
    assert not any("requirements-dev.lock" in line or "[dev]" in line for line in installs)
