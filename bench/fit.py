"""The intent classifier's fit in double and in single precision, alternating,
on the training examples (data/nlu*.yml) read as lemmas by the local English
spaCy pipeline, with the classifier's settings of config.yml and its own
vectorizers and fit: seconds per fit, and the largest difference of the two
models' probabilities on the held-out files (tests/nlu_heldout*.yml).

    python -m bench.fit [--rounds 3]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import List, Tuple

import numpy as np
import spacy
import yaml

from clinic.spacy_model import TARGET
from components.linear_intent import LinearIntentClassifier, fit

ROOT = Path(__file__).resolve().parent.parent


def examples(paths: List[Path], nlp) -> Tuple[List[str], List[str]]:
    texts, intents = [], []
    for path in paths:
        for item in yaml.safe_load(path.read_text())["nlu"]:
            for line in item.get("examples", "").splitlines():
                if line.strip().startswith("- "):
                    texts.append(" ".join(token.lemma_.lower() or token.lower_
                                          for token in nlp(line.strip()[2:])))
                    intents.append(item["intent"])
    return texts, intents


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    settings = next(step for step in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
                    if step["name"].endswith("LinearIntentClassifier"))
    nlp = spacy.load(TARGET)
    texts, intents = examples([ROOT / "data" / "nlu.yml", ROOT / "data" / "nlu.es.yml"], nlp)
    heldout, _ = examples([ROOT / "tests" / "nlu_heldout.yml",
                           ROOT / "tests" / "nlu_heldout.es.yml"], nlp)
    classifier = LinearIntentClassifier(settings, None, None)
    classifier.model = {name: vectorizer.fit(texts)
                        for name, vectorizer in classifier.vectorizers().items()}
    train, test = classifier.features(texts), classifier.features(heldout)
    print(f"{len(texts)} examples, {train.shape[1]} features, {train.nnz} non-zero")
    seconds = {np.float64: [], np.float32: []}
    probabilities = {}
    for _ in range(args.rounds):
        for precision in seconds:
            start = time.perf_counter()
            model = fit(train.astype(precision), intents, settings["C"])
            seconds[precision].append(time.perf_counter() - start)
            probabilities[precision] = model.predict_proba(test)
            print(f"{precision.__name__}: {seconds[precision][-1]:.1f} s", flush=True)
    difference = np.abs(probabilities[np.float64] - probabilities[np.float32])
    changed = (probabilities[np.float64].argmax(1) != probabilities[np.float32].argmax(1)).sum()
    for precision, runs in seconds.items():
        print(f"{precision.__name__}: median {np.median(runs):.1f} s of "
              + ", ".join(f"{run:.1f}" for run in runs))
    print(f"held-out probabilities: largest difference {difference.max():.1e}; "
          f"top intent changed on {changed} of {len(heldout)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
