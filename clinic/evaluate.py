"""Evaluate the trained NLU on the held-out messages of tests/nlu_heldout.yml
and, in Spanish, tests/nlu_heldout.es.yml: each file on its own.

Reports intent accuracy, the wrong-answer rate (messages the assistant would
answer with another topic, as opposed to asking "Did you mean ...?") and the
most confused pairs of intents.

    python -m clinic.evaluate [--model models/assistant.tar.gz] [--data tests/nlu_heldout.yml]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Tuple

import yaml

from core.intents import FALLBACK_INTENT

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
HELDOUT = ROOT / "tests" / "nlu_heldout.yml"
HELDOUT_FILES = [path for path in (HELDOUT, ROOT / "tests" / "nlu_heldout.es.yml")
                 if path.is_file()]


@dataclass
class Evaluation:
    results: List[Tuple[str, str, str]] = field(default_factory=list)  # text, expected, predicted

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def accuracy(self) -> float:
        return sum(expected == predicted for _, expected, predicted in self.results) / self.total

    @property
    def wrong_answer_rate(self) -> float:
        wrong = [predicted for _, expected, predicted in self.results
                 if predicted not in (expected, FALLBACK_INTENT)]
        return len(wrong) / self.total

    @property
    def fallback_rate(self) -> float:
        return sum(predicted == FALLBACK_INTENT for *_, predicted in self.results) / self.total

    @property
    def urgent_escalations(self) -> int:
        """Held-out questions (none urgent) that the red-flag gate escalated."""
        return sum(predicted.startswith("urgent_") for *_, predicted in self.results)

    def confusions(self, top: int = 5) -> List[Tuple[Tuple[str, str], int]]:
        pairs = Counter((expected, predicted) for _, expected, predicted in self.results
                        if expected != predicted)
        return pairs.most_common(top)

    def summary(self) -> dict:
        return {
            "messages": self.total,
            "accuracy": round(self.accuracy, 4),
            "wrong_answer_rate": round(self.wrong_answer_rate, 4),
            "fallback_rate": round(self.fallback_rate, 4),
            "urgent_escalations": self.urgent_escalations,
            "confusions": [{"expected": e, "predicted": p, "count": n}
                           for (e, p), n in self.confusions()],
        }


def load_heldout(path: Path = HELDOUT) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        (line.strip()[2:].strip(), item["intent"])
        for item in data["nlu"]
        for line in item["examples"].splitlines()
        if line.strip().startswith("- ")
    ]


async def _predict(model: Path, texts: List[str]) -> List[str]:
    from rasa.core.agent import Agent  # heavy: TensorFlow loads here, not at import
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's debug lines would print every message
    agent = Agent.load(str(model))
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def predict(model: Path, texts: List[str]) -> List[str]:
    """The intent the model gives each text (one load of the model)."""
    return asyncio.run(_predict(model, texts))


def evaluate(model: Path = MODEL, data: Path = HELDOUT) -> Evaluation:
    examples = load_heldout(data)
    predicted = predict(model, [text for text, _ in examples])
    return Evaluation([(text, intent, guess) for (text, intent), guess in zip(examples, predicted)])


def report(evaluation: Evaluation) -> str:
    lines = [
        f"held-out messages   {evaluation.total}",
        f"intent accuracy     {evaluation.accuracy:.1%}",
        f"wrong-answer rate   {evaluation.wrong_answer_rate:.1%}  (answered with another topic)",
        f"did-you-mean rate   {evaluation.fallback_rate:.1%}  (asked instead of answering)",
        f"escalated as urgent {evaluation.urgent_escalations}  (none of these messages is urgent)",
        "most confused (expected -> predicted):",
    ]
    lines += [f"  {n:3d}  {expected} -> {predicted}"
              for (expected, predicted), n in evaluation.confusions()] or ["  none"]
    return "\n".join(lines)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--data", type=Path, action="append",
                        help="a held-out file (default: both languages' files)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    summary = {}
    for data in args.data or HELDOUT_FILES:
        evaluation = evaluate(args.model, data)
        print(f"{data.name}\n{report(evaluation)}")
        summary[data.name] = evaluation.summary()
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
