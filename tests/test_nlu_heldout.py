"""Held-out NLU accuracy: messages written apart from the training data."""
from pathlib import Path

import pytest

from clinic.evaluate import evaluate

pytestmark = pytest.mark.e2e

MIN_ACCURACY = 0.90


def test_heldout_accuracy_stays_at_or_above_90_percent(trained_model: Path):
    evaluation = evaluate(trained_model)
    assert evaluation.total >= 200
    assert evaluation.accuracy >= MIN_ACCURACY, evaluation.summary()
