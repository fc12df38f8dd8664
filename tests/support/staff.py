"""A temporary copy of the project for the staff command's tests, and the
command run as staff run it: `.venv/bin/clinic` in a subprocess."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Dict, Optional

import yaml

from tests.support.project import ENV, ROOT, VENV_BIN

COPIED = ["knowledge", "data", "domain.yml", "config.yml", "credentials.yml", "endpoints.yml"]
COMMAND_TIMEOUT_S = 1200  # clinic train: a training and two evaluations


def copy_project(target: Path, with_model: bool = False) -> Path:
    """The files the staff commands read and write, in `target`; the spaCy
    pipeline is shared (a symlink), and with `with_model` the model in service
    is copied too. (Rasa's training cache is not: the intent classifier takes
    all but seconds of a training, and a data change always retrains it.)"""
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    (target / "tests").mkdir()
    for heldout in ("nlu_heldout.yml", "nlu_heldout.es.yml"):
        shutil.copy2(ROOT / "tests" / heldout, target / "tests" / heldout)
    shutil.copytree(ROOT / "tests" / "red_flags", target / "tests" / "red_flags")
    (target / "build").symlink_to(ROOT / "build")
    if with_model:
        (target / "models").mkdir()
        shutil.copy2(ROOT / "models" / "assistant.tar.gz", target / "models" / "assistant.tar.gz")
    return target


def clinic(project: Path, *args: str, stdin: Optional[str] = None,
           env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "clinic"), *args], cwd=project, input=stdin,
                          env={**ENV, "CLINIC_PROJECT": str(project), **(env or {})},
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)


def examples(path: Path) -> Dict[str, list]:
    """Intent -> example texts of an NLU file, read with plain PyYAML."""
    found: Dict[str, list] = {}
    for item in yaml.safe_load(path.read_text())["nlu"]:
        found.setdefault(item["intent"], []).extend(
            line.strip()[2:] for line in item["examples"].splitlines() if line.strip())
    return found
