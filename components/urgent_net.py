"""The second urgent net: a learned classifier that reads "is this an urgent
symptom?" from the whole message, beside the patterns of the red-flag gate.

The patterns (components/red_flags.py) know each symptom by its words and
their combinations, read clause by clause. Visitors write past them: "my
cheeks are dripping yellow and it hurts a lot", "se me está corriendo lo rojo
para el cuello" name no symptom the patterns know whole. This net weighs the
whole message instead, trained on its own examples
(data/urgent.yml, data/urgent.es.yml: urgent reports, and calm messages
that look close to them) and on every NLU training example as not urgent.

The net marks a message it is at least `threshold` sure of (URGENT_NET),
and one it gives less than `calm` (URGENT_NET_CALM): there the gate lets a
clinic-level alarm stand down when the intent classifier is sure of a
question too (RedFlagGate.asked_calmly).
The gate, after it in the pipeline, decides: its patterns' alarm, or, when
the net is sure and a word of the patterns stands in the message ("yellow",
"bleeding", "lips"), `urgent_clinic`, whose reply also names the emergency
number. A message with no such word is never urgent on the net's word alone.

Logistic regression on TF-IDF of words and of characters (scikit-learn),
kept as JSON and numpy arrays, never pickled, like the intent classifier.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from core.language import fold
from core.paths import ROOT

EXAMPLES = [ROOT / "data" / "urgent.yml", ROOT / "data" / "urgent.es.yml"]
URGENT_NET = "urgent_net"  # the message key: the net is sure it is urgent
URGENT_NET_CALM = "urgent_net_calm"  # the message key: the net is all but sure it is not
MODEL_FILE = "urgent_net.json"
WEIGHTS_FILE = "urgent_net.npz"
WORD_PATTERN = r"(?u)\b\w+\b"  # "i", "y", "a": small words count here ("i" is the visitor)
# Words and pairs of words; character 2- to 5-grams within words, of two
# examples or more (a run of one example only is a typo, not a tell). Part
# of the fingerprint: a change here retrains the net.
FEATURES = {"words": (1, 2), "chars": (2, 5), "min_df": 2}


def load_examples(paths: List[Path] = EXAMPLES) -> Dict[str, List[str]]:
    """The urgent and the not urgent examples of every file, each a list of texts."""
    examples: Dict[str, List[str]] = {"urgent": [], "not_urgent": []}
    for path in paths:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for kind, texts in examples.items():
            listed = content.get(kind) or []
            if not all(isinstance(text, str) and text.strip() for text in listed):
                raise ValueError(f"{path}: every entry of `{kind}` must be a message")
            texts.extend(listed)
    return examples


def vectorizers(vocabularies: Optional[Dict[str, Dict[str, int]]] = None) -> Dict:
    vocabularies = vocabularies or {}
    return {
        "words": TfidfVectorizer(sublinear_tf=True, token_pattern=WORD_PATTERN,
                                 ngram_range=FEATURES["words"], vocabulary=vocabularies.get("words")),
        "chars": TfidfVectorizer(sublinear_tf=True, analyzer="char_wb",
                                 ngram_range=FEATURES["chars"], min_df=FEATURES["min_df"],
                                 vocabulary=vocabularies.get("chars")),
    }


def fit(urgent: List[str], calm: List[str], C: float) -> Dict[str, Any]:
    """The net learned from urgent and calm messages."""
    texts = [fold(text) for text in urgent + calm]
    model = {name: vectorizer.fit(texts) for name, vectorizer in vectorizers().items()}
    classifier = LogisticRegression(C=C, max_iter=5000).fit(
        features(model, texts), [1] * len(urgent) + [0] * len(calm))
    return {**model, "coef": classifier.coef_[0], "intercept": float(classifier.intercept_[0]),
            **readers(model)}


def readers(model: Dict[str, Any]) -> Dict[str, Any]:
    """Each vectorizer's analyzer and idf, kept apart: scikit-learn builds both anew on every call."""
    return {f"{name}_{part}": value for name in ("words", "chars")
            for part, value in (("analyzer", model[name].build_analyzer()), ("idf", model[name].idf_))}


def features(model: Dict[str, Any], texts: List[str]) -> Any:
    return hstack([model["words"].transform(texts), model["chars"].transform(texts)], format="csr")


def probability(model: Dict[str, Any], text: str) -> float:
    """How sure the net is that `text` reports an urgent symptom: what
    `features` and the regression give, worked out for one text without
    scikit-learn's checks, which took most of the time (3 ms a message)."""
    text, score, start = fold(text), model["intercept"], 0
    for name in ("words", "chars"):
        vocabulary, idf = model[name].vocabulary_, model[f"{name}_idf"]
        counts = Counter(term for term in model[f"{name}_analyzer"](text) if term in vocabulary)
        columns = np.fromiter((vocabulary[term] for term in counts), dtype=int)
        weights = (1 + np.log(np.fromiter(counts.values(), dtype=float))) * idf[columns]
        if len(weights):
            score += weights @ model["coef"][start + columns] / np.linalg.norm(weights)
        start += len(idf)
    return float(1 / (1 + np.exp(-score)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UrgentNet(GraphComponent, IntentClassifier):
    """Marks the messages the learned net reads as urgent, for the red-flag gate."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"threshold": 0.85, "calm": 0.05, "C": 10.0}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[Dict[str, Any]] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model = model  # fit(): the vectorizers, their analyzers and idf, coef, intercept
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UrgentNet:
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The examples' files are no part of Rasa's training data, nor the
        features part of the config: a change to either retrains the net."""
        digest = hashlib.sha256(repr(FEATURES).encode())
        for path in EXAMPLES:
            digest.update(f"\n{path.name} {path.stat().st_size}\n".encode() + path.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        examples = load_examples()
        calm = examples["not_urgent"] + [message.get(TEXT) for message in training_data.intent_examples]
        self.model = model = fit(examples["urgent"], calm, self.config["C"])
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_text(json.dumps(
                {name: {term: int(index) for term, index in model[name].vocabulary_.items()}
                 for name in ("words", "chars")}))
            np.savez(directory / WEIGHTS_FILE, words_idf=model["words"].idf_,
                     chars_idf=model["chars"].idf_, coef=model["coef"],
                     intercept=model["intercept"])
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UrgentNet:
        with model_storage.read_from(resource) as directory:
            model = vectorizers(json.loads((directory / MODEL_FILE).read_text()))
            with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as weights:
                model["words"].idf_, model["chars"].idf_ = weights["words_idf"], weights["chars_idf"]
                model["coef"], model["intercept"] = weights["coef"], float(weights["intercept"])
        return cls(config, model_storage, resource, {**model, **readers(model)})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            urgent = probability(self.model, text) if text.strip() else 0.0
            message.set(URGENT_NET, urgent >= self.config["threshold"])
            message.set(URGENT_NET_CALM, urgent < self.config["calm"])
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
