"""Rasa's own test stories, run through the trained model with `rasa test core`."""
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.project import ENV, ROOT, VENV_BIN

pytestmark = pytest.mark.e2e


def test_every_test_story_passes(trained_model: Path, tmp_path: Path):
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "test", "core", "--model", str(trained_model),
         "--stories", str(ROOT / "tests" / "stories"), "--out", str(tmp_path),
         "--no-plot", "--successes"],
        cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    failed = yaml.safe_load((tmp_path / "failed_test_stories.yml").read_text()) or {}
    assert not failed.get("stories"), (tmp_path / "failed_test_stories.yml").read_text()
    succeeded = yaml.safe_load((tmp_path / "successful_test_stories.yml").read_text())
    written = sum(len(yaml.safe_load(path.read_text())["stories"])
                  for path in (ROOT / "tests" / "stories").glob("*.yml"))
    assert len(succeeded["stories"]) == written
