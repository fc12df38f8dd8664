"""A visitor asking about their own health gets the consultation answer.

"I'm on prednisone for an autoimmune thing, can I have it?": whatever topic
the classifier read in it (the pain, the scars, the treatment), the right
reply is the general answer on who should not have microneedling and the
offer of a consultation, never a yes. The classifier learns the common
conditions from the training examples; this component catches the others,
from the word lists of knowledge/personal_medical.yml (the file says how).
It runs after the classifier and the unknown-words guard, and before the
red-flag gate, so an urgent symptom still wins.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import override_intent
from components.linear_intent import QUESTIONS
from core.language import fold

PERSONAL_MEDICAL = Path(__file__).resolve().parent.parent / "knowledge" / "personal_medical.yml"
ANSWER = "faq_contraindications"
# What the classifier may have read instead: a topic, nothing, "not ours", or
# a booking ("I'm on accutane, can I book?" asks whether they may: the answer
# comes first, and the consultation offer after it). Other clinic requests
# ("can I talk to a person?") keep their reply.
REPLACEABLE = (DEFAULT_NLU_FALLBACK_INTENT_NAME, "out_of_scope", "book_consultation")


def _words(phrases: List[str], prefix: bool = False) -> re.Pattern:
    """Any of the phrases, as whole words; with `prefix`, at the start of a
    word ("pregnan": "pregnant"), except numbers ("16" is not "160")."""
    alternatives = [re.escape(fold(str(phrase))) + ("" if prefix and not str(phrase)[-1].isdigit()
                                                    else r"(?!\w)")
                    for phrase in sorted(phrases, key=len, reverse=True)]
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})")


class Lists:
    """The three lists of one language, compiled."""

    def __init__(self, lists: Dict[str, List[str]]) -> None:
        self.self = _words(lists["self"])
        self.conditions = _words(lists["conditions"], prefix=True)
        self.asks = _words(lists["asks"])
        # "stretch marks from my pregnancy": where a mark came from, not a state now
        self.past = _words(lists["past"]) if lists.get("past") else None
        # "me operaron y me quedó una cicatriz": a scar's origin, not a condition
        self.scar = _words(lists["scar"], prefix=True) if lists.get("scar") else None
        self.origins = _words(lists["origins"], prefix=True) if lists.get("origins") else None

    def match(self, text: str) -> bool:
        now = self.past.sub(" ", text) if self.past else text
        if self.scar and self.origins and self.scar.search(now):
            now = self.origins.sub(" ", now)
        return bool(self.self.search(text) and self.conditions.search(now)
                    and self.asks.search(text))


def load_lists(path: Path = PERSONAL_MEDICAL) -> List[Lists]:
    """Each language's lists; a file missing one says which."""
    languages = yaml.safe_load(path.read_text(encoding="utf-8"))
    for language, lists in languages.items():
        missing = {"self", "conditions", "asks"} - set(lists or {})
        if missing:
            raise ValueError(f"{path}: '{language}' lacks the list(s) {', '.join(sorted(missing))}")
    return [Lists(lists) for lists in languages.values()]


def personal(text: str, languages: List[Lists]) -> bool:
    folded = fold(text).replace("’", "'")
    return any(lists.match(folded) for lists in languages)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class PersonalMedicalGuard(GraphComponent, IntentClassifier):
    """Makes a question about the visitor's own health the contraindications topic."""

    def __init__(self, languages: List[Lists]) -> None:
        self.languages = languages

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> PersonalMedicalGuard:
        return cls(load_lists())

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name") or ""
            if (intent.startswith("faq_") or intent in REPLACEABLE) and personal(
                    message.get(TEXT) or "", self.languages):
                override_intent(message, ANSWER)
                # one answer: "I'm 16, can I get it for my acne scars?" is not
                # also a question about scars
                message.set(QUESTIONS, None, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
