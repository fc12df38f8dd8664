"""Never guess on a message whose words the assistant has never seen.

A statistical classifier always ranks some intent first, even for "¿Duele
el microneedling?" or a row of emoji. This component learns the vocabulary
(lemmas) of the training examples and turns a message into `nlu_fallback`
when too few of its words are in it: the visitor is asked to rephrase
instead of getting an answer to a question they did not ask. The ranking
stays, so "Did you mean ...?" can still offer the likeliest topics.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import override_intent

VOCABULARY_FILE = "vocabulary.json"


def words(tokens: Iterable[Token]) -> List[str]:
    """The lemmas of the tokens that contain a letter (no emoji, digits, punctuation)."""
    return [(token.lemma or token.text).lower() for token in tokens
            if any(character.isalpha() for character in token.text)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownWordsGuard(GraphComponent, IntentClassifier):
    """Falls back when fewer than `min_known_ratio` of a message's words are known."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_known_ratio": 0.5}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage,
                 resource: Resource, vocabulary: Optional[Set[str]] = None) -> None:
        self.min_known_ratio = config["min_known_ratio"]
        self.vocabulary = vocabulary or set()
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnknownWordsGuard:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.vocabulary = {word for example in training_data.intent_examples
                           for word in words(example.get(TEXT_TOKENS, []))}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self.vocabulary)))
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UnknownWordsGuard:
        with model_storage.read_from(resource) as directory:
            vocabulary = set(json.loads((directory / VOCABULARY_FILE).read_text()))
        return cls(config, model_storage, resource, vocabulary)

    def known_ratio(self, message: Message) -> float:
        found = words(message.get(TEXT_TOKENS, []))
        if not found:
            return 0.0
        return sum(word in self.vocabulary for word in found) / len(found)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") == DEFAULT_NLU_FALLBACK_INTENT_NAME:
                continue
            if self.known_ratio(message) < self.min_known_ratio:
                override_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
