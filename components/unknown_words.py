"""Never guess on a message whose words the assistant has never seen.

A statistical classifier always ranks some intent first, even for "¿Duele
el microneedling?" or a row of emoji. This component learns the vocabulary
(lemmas) of the training examples and turns a message into `nlu_fallback`
when too few of its words are in it: the visitor is asked to rephrase
instead of getting an answer to a question they did not ask. The ranking
stays, so "Did you mean ...?" can still offer the likeliest topics.

Such a message written in a language other than English and Spanish (told
by lingua, which ships its models in the wheel) becomes `other_language`
instead: the visitor is told at once which languages the assistant answers
in, and given the clinic's phone.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import MIN_CORRECTED, MIN_MEANT, one_typo_away, override_intent, unstretched
from components.language import FOREIGN_GREETING, LANGUAGES, LOANWORDS, lingua
from core.intents import OTHER_LANGUAGE_INTENT
from core.language import ENGLISH, ENTITY, SPANISH, STRETCHED, WORD, tells

VOCABULARY_FILE = "vocabulary.json"
# "thnks", "zzzxxcv bnm" or a name say too little of a language; a script
# other than the Latin one ("微针疼吗") says enough.
MIN_WORDS_FOR_LANGUAGE = 3
CURRENCY = re.compile(r"[$€£]")
SERVED = {"ENGLISH", "SPANISH"}
# "u know... the thing", "mmm el coso ese": a word for anything, with only
# small words around it, names nothing to answer
VAGUE = {"thing", "thingy", "things", "stuff", "whatchamacallit", "thingamajig", "coso",
         "cosa", "cosita", "chingadera"}
SMALL = {"the", "a", "an", "that", "this", "with", "of", "u", "you", "know", "ya", "like",
         "hm", "hmm", "m", "mm", "uh", "uhh", "um", "umm", "er", "ah", "oh", "well", "so", "and",
         "ok", "okay", "what", "el", "la", "lo", "los", "las", "del", "de", "ese", "esa", "eso",
         "este", "esta", "con", "un", "una", "mi", "my", "your", "su", "que", "pues", "y",
         # "mmm el de la cosa esa del otro dia pues"
         "otro", "otra", "dia", "día", "other", "day", "from",
         # a call or a laugh: "ey el coso", "el coso ese de la cosa jsjs"
         "ey", "hey", "oye", "oiga", "mira",
         "lol", "haha", "hahaha", "lmao", "jaja", "jajaja", "jeje", "jejeje", "jsjs", "jsjsjs", "xd"}


def names_nothing(found: List[str]) -> bool:
    """A vague word ("the thing") and nothing else but small words."""
    found = {unstretched(word) for word in found}  # "mmm" is "m"
    return bool(VAGUE & found) and found <= VAGUE | SMALL


def words(tokens: Iterable[Token]) -> List[str]:
    """The lemmas of the tokens that contain a letter (no emoji, digits,
    punctuation); a letter typed over and over ("ñññ") as typed: no word."""
    return [token.text if STRETCHED.fullmatch(token.text) else unstretched(token.lemma or token.text)
            for token in tokens if any(character.isalpha() for character in token.text)]


@lru_cache(maxsize=1)
def foreign_stop_words() -> List[Set[str]]:
    """spaCy's lists of the small words of the languages most spoken in Utah
    after English and Spanish, less the words those two share with them
    ("me", "a", "que")."""
    from spacy.lang.de.stop_words import STOP_WORDS as GERMAN
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH
    from spacy.lang.es.stop_words import STOP_WORDS as SPANISH
    from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH
    from spacy.lang.it.stop_words import STOP_WORDS as ITALIAN
    from spacy.lang.pt.stop_words import STOP_WORDS as PORTUGUESE

    return [set(language) - ENGLISH - SPANISH for language in
            (PORTUGUESE, FRENCH, GERMAN, ITALIAN)]


def served_language(message: Message) -> bool:
    """The language tagger tagged the message English or Spanish."""
    return any(entity.get("entity") == ENTITY and entity.get("value") in (ENGLISH, SPANISH)
               for entity in message.get(ENTITIES) or [])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownWordsGuard(GraphComponent, IntentClassifier):
    """Falls back when fewer than `min_known_ratio` of a message's words are known."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "min_known_ratio": 0.5,
            # The languages told apart (components/language.py).
            "languages": list(LANGUAGES),
            # lingua's confidence needed to call an unknown message a language
            # (gibberish and one-word messages score lower).
            "min_language_confidence": 0.5,
            # ... and to call one a language other than English and Spanish
            # however many of its words are known ("oi, vcs fazem
            # microagulhamento pra cicatriz de acne?": "cicatriz", "acne" are)
            "sure_other_language_confidence": 0.7,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage,
                 resource: Resource, vocabulary: Optional[Set[str]] = None) -> None:
        config = {**self.get_default_config(), **config}
        self.min_known_ratio = config["min_known_ratio"]
        self.min_language_confidence = config["min_language_confidence"]
        self.sure_other_language_confidence = config["sure_other_language_confidence"]
        self.languages = config["languages"]
        self.vocabulary = vocabulary or set()
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnknownWordsGuard:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        tokens = [token for example in training_data.intent_examples
                  for token in example.get(TEXT_TOKENS, [])]
        # the lemmas, and the words as written, for typos ("thnks": "thanks")
        self.vocabulary = set(words(tokens)) | {unstretched(token.text) for token in tokens
                                               if token.text.isalpha()}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self.vocabulary)))
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UnknownWordsGuard:
        with model_storage.read_from(resource) as directory:
            vocabulary = set(json.loads((directory / VOCABULARY_FILE).read_text()))
        guard = cls(config, model_storage, resource, vocabulary)
        # lingua's models and spaCy's stop-word lists load at start-up, not on
        # a visitor's message: importing the lists took 3 to 5 s, in which the
        # server answered no one
        guard.language("")
        foreign_stop_words()
        return guard

    def known_ratio(self, message: Message, typos: bool = False) -> float:
        """The share of the message's words seen in training (with `typos`,
        also those one typo away from a word seen: "thnks", "appointmnet")."""
        found = words(message.get(TEXT_TOKENS, []))
        if not found:
            # "$$?": no word, but a sign the classifier has seen (the price)
            return 1.0 if CURRENCY.search(message.get(TEXT) or "") else 0.0
        return sum(self.knows(word, typos) for word in found) / len(found)

    def knows(self, word: str, typos: bool) -> bool:
        if word in self.vocabulary:
            return True
        return typos and len(word) >= MIN_CORRECTED and word.isalpha() and any(
            len(near) >= MIN_MEANT and near in self.vocabulary for near in one_typo_away(word))

    def language(self, text: str) -> Optional[str]:
        """The language of `text` when lingua is confident of it, else None."""
        return lingua(text, self.min_language_confidence, self.languages)

    def other_language(self, message: Message) -> bool:
        """A language the assistant does not serve: it opens with a greeting
        of one (FOREIGN_GREETING), lingua is sure of it, or the unknown words
        are mostly the small words of one ("Quanto custa o tratamento?":
        "o"), which lingua cannot weigh in so short a text.
        Spanish is served (components/language.py)."""
        text = message.get(TEXT) or ""
        if "¿" in text or "¡" in text or STRETCHED.search(text):  # "jjjjj kkkk": no language
            return False
        if FOREIGN_GREETING.match(text):  # "Niltze, ...": a language lingua does not know
            return True
        if len(words(message.get(TEXT_TOKENS, []))) >= MIN_WORDS_FOR_LANGUAGE or any(
                character.isalpha() and not character.isascii() for character in text):
            language = self.language(text)
            if language:
                return language not in SERVED
        unknown = [token.text.lower() for token in message.get(TEXT_TOKENS, [])
                   if any(c.isalpha() for c in token.text)
                   and (token.lemma or token.text).lower() not in self.vocabulary]
        return any(sum(word in stop_words for word in unknown) >= max(1, len(unknown) / 4)
                   for stop_words in foreign_stop_words())

    def surely_other_language(self, message: Message) -> bool:
        """lingua is sure of a language not served, read without the words
        every language borrows ("Quanto costa una seduta di microneedling?"),
        in a message long enough to tell whose small words are not English
        ("im on isotretinoin is it ok" is no French) and that is no keyboard
        mash. A drawn-out word is left out ("... tenho pavor de agulha kkkk").
        Measured on the blind sets: docs/evaluation.md."""
        text = " ".join(word for word in (message.get(TEXT) or "").split()
                        if not STRETCHED.search(word))
        if "¿" in text or "¡" in text or len(WORD.findall(text)) < MIN_WORDS_FOR_LANGUAGE \
                or tells(text) == ENGLISH:
            return False
        if FOREIGN_GREETING.match(text):
            return True
        language = lingua(LOANWORDS.sub(" ", text), self.sure_other_language_confidence,
                          self.languages)
        return bool(language) and language not in SERVED

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            # the language tagger, before this guard, told English or Spanish
            # by its small words ("tengo artritis reumatoide y tomo
            # metotrexato, es seguro?", which lingua reads as Portuguese)
            served = served_language(message)
            if names_nothing(words(message.get(TEXT_TOKENS, []))):
                override_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME)
                continue
            if self.known_ratio(message) >= self.min_known_ratio:
                # every word known, one typo aside ("lo conbinan con sueros?",
                # which lingua reads as Tagalog): a language the assistant speaks
                if (not served and self.known_ratio(message, typos=True) < 1
                        and self.surely_other_language(message)):
                    override_intent(message, OTHER_LANGUAGE_INTENT)
                continue
            if not served and self.other_language(message):
                override_intent(message, OTHER_LANGUAGE_INTENT)
            elif self.known_ratio(message, typos=True) >= self.min_known_ratio:
                continue  # English with typos: the classifier reads them as the words meant
            elif (message.get(INTENT) or {}).get("name") != DEFAULT_NLU_FALLBACK_INTENT_NAME:
                override_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
