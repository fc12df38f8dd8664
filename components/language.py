"""The language of a visitor's message: English, Spanish, or not sure.

The assistant serves English and Spanish. This component tags each message
it can tell with the entity `language` ("en" or "es"), which fills the slot
of the same name (domain.yml): the conversation keeps its language until a
message is told to be in the other one, and every response with a Spanish
variation follows it. Short messages ("ok", "precio?") carry no tag, so
they keep the conversation's language; an English message with Spanish
mixed in ("how many sesiones más o menos") is a Spanish speaker's.

How it tells, measured on the blind sets (docs/evaluation.md, "Telling the
language"): a message opening the Spanish way ("¿", "¡") is Spanish; else
its small words decide (spaCy's stop words of one language that are not
words of the other, and a few chat words: "gracias", "thanks"); where they
are even, lingua (which ships its models in the wheel) decides messages of
three words or more. A message lingua is sure is in a third language is
neither.

A message the small words do not decide and lingua is unsure of
("cicatrices?", "precio?", "usan rodillo o pluma?") is Spanish when it has
a word only the Spanish training examples use ("cicatrices", learned at
training from the examples the rules above tell), or when lingua, choosing
between English and Spanish alone, is sure of it and one of its words is a
word of the Spanish examples (a keyboard mash is neither language). It is
never made English that way, so "ok" or "downtime?" in a Spanish
conversation keeps it Spanish, and a name ("Maria Lopez") tags nothing.
A first message that tells nothing takes the language of the web page it
was written on, which the website chat sends with it.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import MIN_CORRECTED, MIN_MEANT, one_typo_away
from core.language import (ENGLISH, ENTITY, SPANISH, SPANISH_TELLS, STRETCHED, WORD, fold,
                           tell_counts, tells)

ENGLISH_NAME, SPANISH_NAME = "ENGLISH", "SPANISH"  # lingua's names of them
LINGUA_NAMES = {ENGLISH_NAME: ENGLISH, SPANISH_NAME: SPANISH}
# Words of the trade every language writes alike: they make lingua read English.
LOANWORDS = re.compile(r"\b(?:micro[- ]?needling|dermapen|derma ?roller|prp|botox|acne|laser|"
                       r"d[eé]colletage|ok|okay)\b", re.IGNORECASE)
# "Bonjour, est-ce que le microneedling fait mal ?": a greeting of another
# language opens the message (lingua, unsure of a short text full of
# borrowed words, reads it 0.6 French). Greetings of languages lingua does
# not know tell them too: Utah's Pacific and Native American languages and
# those of Mexico and Guatemala ("Talofa", Samoan; "Niltze", Nahuatl).
FOREIGN_GREETING = re.compile(r"^\W*(?:bonjour|bonsoir|salut|hallo|moin|servus|talofa|ol[áa]\b(?<!ola)|"
                              r"buongiorno|buonasera|salve|xin ch[àa]o|konnichiwa|annyeong|privet|"
                              r"namaste|marhaba|hej|hoi|dzie[ńn] dobry|kumusta|mabuhay|"
                              r"m[aā]l[oō] e lelei|fakal[aā]lelei|kia ora|iokwe|y[aá]'?[aá]t'?[eé][eé]h|"
                              r"niltze|niltse|piyali|saqarik|xsaqer|ba'ax ka wa'alik)\b",
                              re.IGNORECASE)
# "hair los treatment": English with a typo, not the Spanish "los"
LOSS_TYPO = re.compile(r"(?<=\bhair )los\b|(?<=\bweight )los\b", re.IGNORECASE)
PAGE_LANGUAGE = "lang"  # the metadata key of the website chat's page language
CLOSE_SECOND = 0.15  # lingua's first language less sure than its second by this: a near tie
SURE_TELLS = 2  # small words of one language, none of the other: lingua's doubt cannot outweigh
SENTENCE_END = re.compile(r"[?!.]+")
# An email or web address tells no language ("dale.peterson@outlook.com")
ADDRESS = re.compile(r"\S+@\S+|\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
VOCABULARY_FILE = "spanish_words.json"
MIN_SPANISH_WORD = 4  # shorter words are too often both ("con", "mas")
MIN_MISSPELT = 6  # shorter words are as often another language's ("muito" is one typo from "quito")
# A word the Spanish examples use this many times as often as the English
# ones is Spanish ("numero": 38 to 1, the one a Spanish speaker's "please
# call me back, a este mismo numero")
SPANISH_RATIO = 10
# English, Spanish and the languages most spoken in Utah after them: lingua
# picks among these. Fewer languages load faster (docs/benchmarks.md).
LANGUAGES = ("ENGLISH", "SPANISH", "PORTUGUESE", "FRENCH", "GERMAN", "ITALIAN", "VIETNAMESE",
             "CHINESE", "KOREAN", "JAPANESE", "ARABIC", "RUSSIAN", "TAGALOG", "DUTCH", "POLISH",
             "UKRAINIAN", "HINDI", "PERSIAN")


@lru_cache(maxsize=None)  # one detector for every component that asks
def _detector(languages: Sequence[str]):
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        *(getattr(Language, name) for name in languages)).with_preloaded_language_models().build()


@lru_cache(maxsize=256)  # the tagger and the unknown-words guard ask of the same message
def _ranked(text: str, languages: Sequence[str]) -> tuple:
    """lingua's (language name, confidence) pairs, surest first."""
    return tuple((ranked.language.name, ranked.value)
                 for ranked in _detector(languages).compute_language_confidence_values(text))


def _best(text: str, languages: Sequence[str]) -> Optional[tuple]:
    ranked = _ranked(text, languages)
    return ranked[0] if ranked else None


def lingua(text: str, min_confidence: float, languages: Sequence[str] = LANGUAGES) -> Optional[str]:
    """lingua's name of the language of `text` ("SPANISH") when it is at
    least `min_confidence` sure, else None."""
    best = _best(text, tuple(languages))
    return best[0] if best and best[1] >= min_confidence else None


def page_language(message: Message) -> Optional[str]:
    """The language of the web page the visitor writes from, which the
    website chat sends with a conversation's first message only
    (web/src/widget.js): "vs laser?" on the clinic's Spanish page is a
    Spanish speaker's."""
    metadata = message.get(METADATA)
    language = metadata.get(PAGE_LANGUAGE) if isinstance(metadata, dict) else None
    return language if language in (ENGLISH, SPANISH) else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class LanguageTagger(GraphComponent, EntityExtractorMixin):
    """Tags a message "en" or "es" when it can tell (the module's docstring says how)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "languages": list(LANGUAGES),
            "min_confidence": 0.5,
            "min_words": 3,  # below this lingua is too unsure: the small words decide
            "short_spanish_confidence": 0.8,  # ... unless it is this sure of Spanish
        }

    def __init__(self, config: Dict[Text, Any], model_storage: Optional[ModelStorage] = None,
                 resource: Optional[Resource] = None,
                 spanish_words: Optional[Set[str]] = None,
                 spanish_vocabulary: Optional[Set[str]] = None,
                 english_vocabulary: Optional[Set[str]] = None) -> None:
        config = {**self.get_default_config(), **config}
        self.languages = config["languages"]
        self.min_confidence = config["min_confidence"]
        self.min_words = config["min_words"]
        self.short_spanish_confidence = config["short_spanish_confidence"]
        self.spanish_words = spanish_words or set()
        # every word of the Spanish examples; None in a model trained before it was kept
        self.spanish_vocabulary = spanish_vocabulary
        # every word of the English examples; None in a model trained before it was kept
        self.english_vocabulary = english_vocabulary
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LanguageTagger:
        return cls(config, model_storage, resource)

    def learn(self, texts: List[str]) -> None:
        """The words the examples told Spanish use ("cicatrices", "morena")
        and those told English hardly ever (SPANISH_RATIO)."""
        found: Dict[str, Counter] = {ENGLISH: Counter(), SPANISH: Counter()}
        for text in texts:
            language = self.language(text)
            if language:
                found[language].update(WORD.findall(fold(text)))
        self.spanish_words = {word for word, count in found[SPANISH].items()
                              if len(word) >= MIN_SPANISH_WORD
                              and count >= SPANISH_RATIO * found[ENGLISH][word]}
        self.spanish_vocabulary = set(found[SPANISH])
        self.english_vocabulary = set(found[ENGLISH])

    def train(self, training_data: TrainingData) -> Resource:
        self.learn([example.get(TEXT) or "" for example in training_data.intent_examples])
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps({
                "spanish_only": sorted(self.spanish_words),
                "spanish": sorted(self.spanish_vocabulary),
                "english": sorted(self.english_vocabulary)}))
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LanguageTagger:
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((directory / VOCABULARY_FILE).read_text())
        except ValueError:  # a model trained before the tagger learned words
            words = []
        if isinstance(words, list):  # ... or before it kept every word
            words = {"spanish_only": words, "spanish": None}
        tagger = cls(config, model_storage, resource, set(words["spanish_only"]),
                     None if words["spanish"] is None else set(words["spanish"]),
                     set(words["english"]) if words.get("english") else None)
        # lingua's models load at start-up, not on a visitor's message
        lingua("", tagger.min_confidence, tagger.languages)
        lingua("", tagger.short_spanish_confidence, (ENGLISH_NAME, SPANISH_NAME))
        return tagger

    def language(self, text: str) -> Optional[str]:
        """"en", "es", or None (not sure, or another language)."""
        text = LOSS_TYPO.sub("loss", ADDRESS.sub(" ", text))
        if "¿" in text or "¡" in text:
            return SPANISH
        if FOREIGN_GREETING.match(text):  # "que", "le" of French are Spanish tells too
            return None
        small_words = tells(text)
        words = WORD.findall(text)
        if len(words) < self.min_words:
            return small_words or self.spanish_by_words(text, words)
        plain = LOANWORDS.sub(" ", text)
        detected = lingua(plain, self.min_confidence, self.languages)
        if detected and detected not in LINGUA_NAMES and not (
                self.small_words_sure(text)  # "necesito una appointment para hacerme
                and not lingua(plain, self.short_spanish_confidence, self.languages)  # el"
        ) and not self.all_spanish(words) and not (
                small_words == SPANISH and self.close_second(plain, SPANISH_NAME)):
            return None  # "tut es weh" is German, whatever "es" says
        if self.goes_on_in_spanish(text) or self.mixes_in_spanish(text):
            return SPANISH
        # the small words first: "duele el microneedling" is Spanish to
        # them, English to lingua; then lingua, and where it is unsure among
        # all its languages, lingua between English and Spanish alone
        # ("usan rodillo o pluma?")
        return small_words or LINGUA_NAMES.get(detected) or self.spanish_by_words(text, words)

    @staticmethod
    def goes_on_in_spanish(text: str) -> bool:
        """"is it painful? digo, duele?", "what is it? y cuanto cuesta": a
        sentence after the first, of two words or more, in Spanish by its
        small words. A visitor who goes on in Spanish is answered in it."""
        later = SENTENCE_END.split(text)[1:]
        return any(len(WORD.findall(sentence)) >= 2 and tells(sentence) == SPANISH
                   for sentence in later)

    def mixes_in_spanish(self, text: str) -> bool:
        """"how many sesiones más o menos", "any side effects? o riesgos",
        "laser o micro?": an English message with Spanish in it is a Spanish
        speaker's. Two words only Spanish has, one after "y" or "o", or an
        "o" between two words count ("is el microneedling safe?" does not); a
        capitalised word inside the sentence may be a name ("Plaza del Sol").
        No message of the English blind sets A-M was one but Portuguese and
        Samoan, which lingua tells first (docs/evaluation.md)."""
        words = WORD.findall(text)
        count = 0
        for i, word in enumerate(words):
            folded = fold(STRETCHED.sub(r"\1", word))
            if word == "o" and 0 < i < len(words) - 1:
                count += SURE_TELLS  # "laser o micro?": English has no such "o"
            elif (i == 0 or not word[0].isupper()) and (
                    folded in SPANISH_TELLS or folded in self.spanish_words):
                count += 2 if i and words[i - 1].lower() in ("y", "o") else 1
        return count >= SURE_TELLS

    def all_spanish(self, words: List[str]) -> bool:
        """"es medico o estetico?" (Italian to lingua): every word is a word
        of the Spanish examples, or one typo from one ("lo conbinan con
        sueros?", Tagalog to lingua), and one of them a word only they use."""
        if self.spanish_vocabulary is None:
            return False
        folded = {fold(word) for word in words}
        unknown = folded - self.spanish_vocabulary
        return (len(unknown) <= 1 and all(len(word) >= MIN_CORRECTED and any(
                    len(near) >= MIN_MEANT and near in self.spanish_vocabulary
                    for near in one_typo_away(word)) for word in unknown)
                and bool(folded & self.spanish_words))

    def close_second(self, text: str, name: str) -> bool:
        """lingua's second language is `name`, nearly as sure as its first:
        "la piel queda reseca o irritada?" (Portuguese 0.50, Spanish 0.39),
        whose one small word is Spanish."""
        ranked = _ranked(text, tuple(self.languages))
        return (len(ranked) > 1 and ranked[1][0] == name
                and ranked[0][1] - ranked[1][1] <= CLOSE_SECOND)

    @staticmethod
    def small_words_sure(text: str) -> bool:
        """Several small words of one language and none of the other: lingua,
        unsure of a third language (Tagalog at 0.66), does not outweigh them."""
        spanish, english = tell_counts(text)
        return max(spanish, english) >= SURE_TELLS and min(spanish, english) == 0

    def spanish_by_words(self, text: str, words: List[str]) -> Optional[str]:
        """"es" for a message with a word only the Spanish examples use, or
        one lingua is sure is Spanish rather than English and that has a
        word the Spanish examples use. Nothing to tell by: a name ("Carla",
        "Maria Lopez": every word capitalised, no question mark), a drawn-out
        word or keyboard mash ("hiii", "jjjkkk", "asdkfj qwe", "jfjfjf ok"), unless, read
        without the drawn-out letters, it is a word only the Spanish examples
        use ("dueleee??")."""
        if not words or (all(word[0].isupper() for word in words) and "?" not in text):
            return None
        folded = {fold(STRETCHED.sub(r"\1", word)) for word in words}
        spanish = folded & self.spanish_words | {word for word in folded if self.misspelt_spanish(word)}
        if spanish:
            # "best tacos near Draper?": more words only the English examples
            # use, and no small word of Spanish ("thank u, gracias"), say English
            return None if (len(self.english_only(folded)) > len(spanish)
                            and not folded & SPANISH_TELLS) else SPANISH
        if any(STRETCHED.search(word) for word in words):
            return None
        own = {word for word in folded if not LOANWORDS.fullmatch(word)}  # "jfjfjf ok": no Spanish
        if self.spanish_vocabulary is not None and not own & self.spanish_vocabulary:
            return None
        sure = lingua(" ".join(words), self.short_spanish_confidence, (ENGLISH_NAME, SPANISH_NAME))
        return SPANISH if sure == SPANISH_NAME else None

    def english_only(self, words: Set[str]) -> Set[str]:
        """The words the English examples use and the Spanish ones do not."""
        if self.english_vocabulary is None or self.spanish_vocabulary is None:
            return set()
        return words & self.english_vocabulary - self.spanish_vocabulary

    def misspelt_spanish(self, word: str) -> bool:
        """A word of no example, one typo from a word only the Spanish
        examples use and from no word of the English ones: "contraindicasiones",
        "sierran" (cierran); not "sesions", as near "sessions" as "sesiones"."""
        if (self.english_vocabulary is None or len(word) < MIN_MISSPELT
                or word in self.english_vocabulary or word in self.spanish_vocabulary):
            return False
        near = [respelt for respelt in one_typo_away(word) if len(respelt) >= MIN_MEANT]
        return (any(respelt in self.spanish_words for respelt in near)
                and not any(respelt in self.english_vocabulary for respelt in near))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            language = self.language(message.get(TEXT) or "") or page_language(message)
            if language in (ENGLISH, SPANISH):
                tag = {"entity": ENTITY, "value": language, "start": 0,
                       "end": len(message.get(TEXT) or ""), "extractor": self.__class__.__name__}
                message.set(ENTITIES, (message.get(ENTITIES) or []) + [tag], add_to_output=True)
        return messages
