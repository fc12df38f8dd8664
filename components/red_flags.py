"""Urgent symptoms always win: a deterministic gate in the NLU pipeline.

The patterns live in knowledge/red_flags.yml, where the clinic can review
them. They are matched with spaCy's PhraseMatcher on lemmas, so "swollen",
"swelling" and "swelled" are one word. A match replaces whatever intent the
classifier chose with `urgent_emergency` or `urgent_clinic`, which the
dialogue answers with the urgent message and nothing else, in any state of
the conversation.
"""
from __future__ import annotations

import os
from collections import defaultdict
from itertools import product
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Text

import yaml
from pydantic import BaseModel, Extra, StrictStr, ValidationError, conint, conlist, constr
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from components import override_intent

RED_FLAGS = Path(os.environ.get(
    "CLINIC_KNOWLEDGE_DIR", Path(__file__).resolve().parent.parent / "knowledge")) / "red_flags.yml"
INTENT_FOR_LEVEL = {"emergency": "urgent_emergency", "clinic": "urgent_clinic"}
SPACY_DOC = "text_spacy_doc"
NEGATION_WINDOW = 4  # "no fever", "without any pus or oozing"
NEGATION_BREAKS = {"but", "and", "though", "however"}  # "no fever, but pus": pus counts

Words = conlist(constr(strip_whitespace=True, min_length=1), min_items=1)


class Symptom(BaseModel, extra=Extra.forbid):
    id: constr(regex=r"^[a-z_]+$")  # type: ignore
    level: Literal["emergency", "clinic"]
    any: List[constr(strip_whitespace=True, min_length=1)] = []  # type: ignore
    all: List[conlist(Words, min_items=2)] = []  # type: ignore
    unless: List[constr(strip_whitespace=True, min_length=1)] = []  # type: ignore


class RedFlags(BaseModel, extra=Extra.forbid):
    negations: List[StrictStr]  # strict: YAML reads a bare `no` as false
    within: conint(ge=1)  # type: ignore
    symptoms: conlist(Symptom, min_items=1)  # type: ignore


def load_red_flags(path: Path = RED_FLAGS) -> RedFlags:
    try:
        return RedFlags.parse_obj(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML: {error}") from error
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ValueError(f"{path}: {problems}") from None


@dataclass(frozen=True)
class Alarm:
    symptom: str
    level: str

    @property
    def intent(self) -> str:
        return INTENT_FOR_LEVEL[self.level]


class RedFlagDetector:
    """Finds the most urgent listed symptom in a lemmatised spaCy Doc."""

    def __init__(self, nlp: Language, red_flags: RedFlags) -> None:
        self.symptoms = sorted(red_flags.symptoms, key=lambda s: s.level != "emergency")
        self.negations = {word.lower() for word in red_flags.negations}
        self.within = red_flags.within
        self.matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        for symptom in self.symptoms:
            self._add(nlp, f"{symptom.id}:any", symptom.any)
            self._add(nlp, f"{symptom.id}:unless", symptom.unless)
            for c, groups in enumerate(symptom.all):
                for g, words in enumerate(groups):
                    self._add(nlp, f"{symptom.id}:all{c}:{g}", words)

    def _add(self, nlp: Language, key: str, phrases: List[str]) -> None:
        if phrases:
            self.matcher.add(key, list(nlp.pipe(phrase.lower() for phrase in phrases)))

    def _negated(self, doc: Doc, start: int) -> bool:
        for token in reversed(doc[max(0, start - NEGATION_WINDOW):start]):
            if token.is_punct or token.lower_ in NEGATION_BREAKS:
                return False
            if token.lower_ in self.negations:
                return True
        return False

    def detect(self, doc: Doc) -> Optional[Alarm]:
        found: Dict[str, List[int]] = defaultdict(list)  # "symptom:part" -> token positions
        for match_id, start, _ in self.matcher(doc):
            key = doc.vocab.strings[match_id]
            if key.endswith(":unless") or not self._negated(doc, start):
                found[key].append(start)
        for symptom in self.symptoms:
            if found.get(f"{symptom.id}:unless"):
                continue
            if found.get(f"{symptom.id}:any") or any(
                    self._together(found, f"{symptom.id}:all{c}", len(groups))
                    for c, groups in enumerate(symptom.all)):
                return Alarm(symptom.id, symptom.level)
        return None

    def _together(self, found: Dict[str, List[int]], combination: str, groups: int) -> bool:
        """One word of each group matched, all within `within` tokens."""
        positions = [found.get(f"{combination}:{g}", []) for g in range(groups)]
        return any(max(chosen) - min(chosen) <= self.within for chosen in product(*positions))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
                          is_trainable=False, model_from="SpacyNLP")
class RedFlagGate(GraphComponent, IntentClassifier):
    """Overrides the intent of any message that names an urgent symptom."""

    def __init__(self, red_flags: RedFlags) -> None:
        self.red_flags = red_flags
        self._detector: Optional[RedFlagDetector] = None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> RedFlagGate:
        return cls(load_red_flags())

    def detector(self, nlp: Language) -> RedFlagDetector:
        if self._detector is None:  # needs the spaCy pipeline, which only `process` receives
            self._detector = RedFlagDetector(nlp, self.red_flags)
        return self._detector

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        detector = self.detector(model.model)
        for message in messages:
            doc = message.get(SPACY_DOC) or model.model((message.get(TEXT) or "").lower())
            alarm = detector.detect(doc)
            if alarm:
                override_intent(message, alarm.intent)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
