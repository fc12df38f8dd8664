"""Urgent symptoms always win: a deterministic gate in the NLU pipeline.

The patterns live in knowledge/red_flags.yml, where the clinic can review
them. They are matched with spaCy's PhraseMatcher on lemmas, so "swollen",
"swelling" and "swelled" are one word. A match replaces whatever intent the
classifier chose with `urgent_emergency` or `urgent_clinic`, which the
dialogue answers with the urgent message and nothing else, in any state of
the conversation.

A word that is no word of the language ("swolen", "inchada") is read as the
symptom word one typo away from it, if there is one (SymptomSpeller).

A symptom word does not count when the words around it show it is not the
visitor's symptom now: negated ("no fever"), inside a set phrase ("hay
fever"), or in a clause that asks about the treatment in general, tells of
something over, or of someone else. A symptom the clinic should see (not
an emergency) does not count in a message that asks whether the visitor
can have the treatment and tells of none had ("an infection on my chin
right now, can i still get it?"). These context words are data too.

Every message is checked in English and in Spanish (knowledge/red_flags.es.yml,
on the local Spanish pipeline build/es_clinic_lookup). A message whose small
words are Spanish ("tengo", "la", "y") is judged by the Spanish patterns
alone, one whose small words are English by the English ones alone, and one
with neither ("fiebre alta", "pus") by both, English first. When
the Spanish patterns decide, the message carries `language: es`, and the
action answers with the Spanish urgent reply.

Where the patterns raise no alarm, the learned second net
(components/urgent_net.py, before the gate in the pipeline) may: when it is
sure and a word of the symptom lists stands in the message (`judged`).
Where they raise one a clinic should see (not an emergency), the net and the
intent classifier together may stand it down: the net all but sure the
message is calm, the classifier sure it asks a question, and no treatment
had in it (`RedFlagGate.asked_calmly`).
"""
from __future__ import annotations

import re
from collections import defaultdict
from itertools import product
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Literal, Optional, Set, Text, Tuple

import spacy
import yaml
from pydantic import BaseModel, Extra, StrictStr, ValidationError, conint, conlist, constr
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from clinic.spacy_model import SPANISH
from components import one_typo_away, override_intent
from components.linear_intent import QUESTION_INTENTS
from components.urgent_net import URGENT_NET, URGENT_NET_CALM
from core.intents import URGENT_CLINIC, URGENT_EMERGENCY
from core.language import ENGLISH_TELLS, SPANISH_TELLS, fold
from core.paths import KNOWLEDGE_DIR

RED_FLAGS = KNOWLEDGE_DIR / "red_flags.yml"
RED_FLAGS_ES = KNOWLEDGE_DIR / "red_flags.es.yml"
LANGUAGE = "language"  # the message key that says the Spanish patterns decided
INTENT_FOR_LEVEL = {"emergency": URGENT_EMERGENCY, "clinic": URGENT_CLINIC}
SPACY_DOC = "text_spacy_doc"
NEGATION_WINDOW = 4  # "no fever", "without any pus or oozing"
MAX_ASIDE_WORDS = 2  # "swollen and red but it went away": "and red" is an aside
NEGATION_BREAKS = {"but", "and", "though", "however"}  # "no fever, but pus": pus counts
# A clause ends at these: "my kid had a fever last week | so i had to cancel",
# "asking in general | can it give you a fever?".
CLAUSE_BREAKS = {",", ";", ":", ".", "?", "!", "but", "and", "so"}
# A clause opening with one of these speaks of the symptom before it:
# "a little swelling | but it went away by lunch", "some pinpoint bleeding |
# stopped within minutes".
REFERS_BACK = {"it", "they", "that", "this", "which", "mine", "stopped"}
# "not going down", "no better": an `unless` word right after these does not count.
NOT_WORDS = {"not", "n't", "nt", "no", "never"}
OR = {"or", "o"}  # "... or not?", "... o no?": a question's end, not a negation
AND = {"and", "y", "e"}  # "i read about pus | and infection": the aside goes on with the clause before
# "bleeding on and off since her microneedling": one clause, not two
UNBROKEN = {"on and off", "off and on"}
GAP = " ... "  # "could i have ... if": the parts in this order, anything between
SYMPTOM_PARTS = ("any", "all", "in_message")  # a symptom's lists, not its `unless` or `elsewhere`

Phrase = constr(strip_whitespace=True, min_length=1)
Words = conlist(Phrase, min_items=1)


class Symptom(BaseModel, extra=Extra.forbid):
    id: constr(regex=r"^[a-z_]+$")  # type: ignore
    level: Literal["emergency", "clinic"]
    any: List[Phrase] = []  # type: ignore
    all: List[conlist(Words, min_items=2)] = []  # type: ignore
    in_message: List[conlist(Words, min_items=2)] = []  # type: ignore  # `all`, any distance
    unless: List[Phrase] = []  # type: ignore
    elsewhere: List[Phrase] = []  # type: ignore


class Grammar(BaseModel, extra=Extra.forbid):
    """The small words the rules read, by default the English ones."""
    clause_breaks: Set[StrictStr] = CLAUSE_BREAKS
    negation_breaks: Set[StrictStr] = NEGATION_BREAKS
    refers_back: Set[StrictStr] = REFERS_BACK
    not_words: Set[StrictStr] = NOT_WORDS
    not_reach: conint(ge=1) = 2  # type: ignore  # "not going down": 2 words before
    unbroken: Set[StrictStr] = UNBROKEN  # phrases a clause break inside does not cut
    vowels_by_ear: bool = True  # English vowels are spelt many ways: "sevear" is "severe"


class SomeoneElse(BaseModel, extra=Extra.forbid):
    who: Words  # type: ignore
    does: Words  # type: ignore
    unless: Words  # type: ignore
    then: Words = []  # type: ignore
    tells: Words = []  # type: ignore  # of `does`: hearsay, never the visitor's worry
    to: Words = []  # type: ignore  # may open the clause before `who`: "a mi amiga se le ..."


class RedFlags(BaseModel, extra=Extra.forbid):
    negations: List[StrictStr]  # strict: YAML reads a bare `no` as false
    within: conint(ge=1)  # type: ignore
    not_symptoms: List[Phrase] = []  # type: ignore
    asks_about: List[Phrase] = []  # type: ignore
    asks_alone: List[Phrase] = []  # type: ignore
    over: List[Phrase] = []  # type: ignore
    over_when: List[Phrase] = []  # type: ignore
    treatment: List[Phrase] = []  # type: ignore
    ongoing: List[Phrase] = []  # type: ignore
    just_asking: List[Phrase] = []  # type: ignore
    not_ongoing: List[Phrase] = []  # type: ignore
    wants_it: List[Phrase] = []  # type: ignore
    had_it: List[Phrase] = []  # type: ignore
    someone_else: Optional[SomeoneElse] = None
    grammar: Grammar = Grammar()
    symptoms: conlist(Symptom, min_items=1)  # type: ignore

    def phrases(self) -> List[str]:
        """Every phrase of the file: its words are known words."""
        lists = [self.negations, self.not_symptoms, self.asks_about, self.asks_alone, self.over,
                 self.over_when, self.treatment, self.ongoing, self.just_asking,
                 self.not_ongoing, self.wants_it, self.had_it]
        if self.someone_else:
            lists += [self.someone_else.who, self.someone_else.does, self.someone_else.unless,
                      self.someone_else.then, self.someone_else.tells, self.someone_else.to]
        for symptom in self.symptoms:
            lists += [symptom.any, symptom.unless, symptom.elsewhere,
                      *(group for groups in symptom.all + symptom.in_message for group in groups)]
        return [phrase.replace(GAP, " ") for phrases in lists for phrase in phrases]


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
    # the message tells of a treatment had ("after my session"): for asked_calmly
    treatment_told: bool = field(default=False, compare=False)

    @property
    def intent(self) -> str:
        return INTENT_FOR_LEVEL[self.level]


Spans = Dict[str, List[Tuple[int, int]]]  # matcher key -> (start, end) token spans


NET_ALARM = Alarm("reported", "clinic")  # raised by the learned net (components/urgent_net.py)


class Clauses:
    """One message cut into clauses, with the context phrases found in it."""

    def __init__(self, doc: Doc, context: Spans, grammar: Grammar) -> None:
        self.doc = doc
        self.context = context
        self.grammar = grammar
        self.of: List[int] = []  # the clause number of every token
        self.opening: Dict[int, int] = {}  # clause number -> its first word
        number, after_break = 0, False
        inside = {i for start, end in context.get("unbroken", []) for i in range(start + 1, end - 1)}
        for token in doc:
            is_break = token.lower_ in grammar.clause_breaks and token.i not in inside
            number += is_break and not after_break
            after_break = is_break
            self.of.append(number)
            if not is_break:
                self.opening.setdefault(number, token.i)

    def spans(self, key: str, clause: int) -> List[Tuple[int, int]]:
        return [span for span in self.context.get(key, []) if self.of[span[0]] == clause]

    def opens_with(self, key: str, clause: int) -> List[Tuple[int, int]]:
        return [span for span in self.spans(key, clause) if span[0] == self.opening.get(clause)]

    def refers_back(self, clause: int) -> bool:
        first = self.opening.get(clause)
        return first is not None and self.doc[first].lower_ in self.grammar.refers_back

    def words(self, clause: int) -> int:
        """How many words the clause has, its opening break left out."""
        return sum(number == clause for number in self.of) - (clause > 0)


VOWELS = re.compile(r"[aeiou]")
# Reading a word by its consonants alone ("sevear" is "svr", "severe") takes a
# word of 6 letters or more, toward a symptom word of 3 consonants or more
MIN_BY_EAR = 6
MIN_CONSONANTS = 3
MIN_RESPELT = 5  # shorter words have too many neighbours ("pus": bus, puss, plus)
CLITICS = ("se", "me", "te", "lo", "la", "le", "nos", "los", "las", "les")
# A message with more unknown words than this is another language or a key
# mash: the rest are left as they are (each costs some 500 lookups).
MAX_RESPELT = 30


def consonants(word: str) -> str:
    """The word without its vowels: "sevear" and "severe" are both "svr"."""
    return VOWELS.sub("", word)


def dictionary(language: str, read: Callable[[str], str]) -> Set[str]:
    """The base forms of spaCy's lemma index for the language (nouns, verbs,
    adjectives, adverbs, from spacy-lookups-data), which the lemma table
    leaves out when they are their own lemma: "series", not "sores" spelt
    by ear."""
    index = load_lookups(language, ["lemma_index"]).get_table("lemma_index")
    return {read(word) for words in index.values() for word in words if word.isalpha()}


class SymptomSpeller:
    """Reads a word that is neither a word of the language's lemma table nor
    of the patterns as the symptom word one typo away from it: "swolen" is
    "swollen", "bleding" "bleeding", "inchada" "hinchada"; or else as the one
    with the same consonants in the same order, its vowels spelt by ear:
    "sevear" is "severe". Misspelt symptoms are what each new blind set
    found missed."""

    def __init__(self, nlp: Language, red_flags: RedFlags, read: Callable[[str], str]) -> None:
        self.table = (nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
                      if nlp.has_pipe("lemmatizer") else {})
        self.words = set(self.table.values()) | {read(word) for word in nlp.Defaults.stop_words}
        phrases = [phrase for symptom in red_flags.symptoms
                   for phrase in [*symptom.any, *(word for groups in symptom.all
                                                 for group in groups for word in group)]]
        # toward words of the language only, not toward a misspelling listed ("feber")
        self.symptom_words = {word for phrase in phrases for word in read(phrase).split()
                              if len(word) >= MIN_RESPELT and word.isalpha() and self.is_word(word)}
        self.symptom_lemmas = {self.table.get(word, word) for word in self.symptom_words}
        self.by_consonants: Dict[str, Set[str]] = defaultdict(set)
        for word in self.symptom_words if red_flags.grammar.vowels_by_ear else []:
            if len(consonants(word)) >= MIN_CONSONANTS:
                self.by_consonants[consonants(word)].add(word)
        # a word of the dictionary is no symptom word spelt by ear, though
        # one typo from one it may be ("blistery" is "blister")
        self.dictionary = dictionary(nlp.lang, read) if self.by_consonants else set()
        self.listed = {word for phrase in red_flags.phrases() for word in read(phrase).split()}

    def is_word(self, word: str) -> bool:
        return word in self.table or word in self.words

    def knows(self, word: str) -> bool:
        """A word of the language, of the patterns, or a Spanish verb with its
        pronoun attached ("infectarse", "hincharme")."""
        return self.is_word(word) or word in self.listed or any(
            word.endswith(clitic) and self.is_word(word[:-len(clitic)]) for clitic in CLITICS)

    def respelt(self, doc: Doc) -> Optional[str]:
        """The doc's text with its misspelt symptom words read as meant, or
        None when it has none."""
        words, changed, unknown = [], False, 0
        for token in doc:
            word = token.lower_
            if (len(word) >= MIN_RESPELT and word.isalpha() and unknown < MAX_RESPELT
                    and not self.knows(word)):
                unknown += 1
                meant = sorted({typo for typo in one_typo_away(word) if typo in self.symptom_words
                                or (typo in self.table and self.table[typo] in self.symptom_lemmas)})
                if not meant and len(word) >= MIN_BY_EAR and word not in self.dictionary:
                    meant = sorted(self.by_consonants.get(consonants(word), ()))
                if meant:
                    word, changed = meant[0], True
            words.append(word + token.whitespace_)
        return "".join(words) if changed else None


class RedFlagDetector:
    """Finds the most urgent listed symptom in a lemmatised spaCy Doc, made of
    the text as `read` gives it (lower case; for Spanish, also without accents)."""

    def __init__(self, nlp: Language, red_flags: RedFlags,
                 read: Callable[[str], str] = str.lower) -> None:
        self.nlp = nlp
        self.read = read
        self.speller = SymptomSpeller(nlp, red_flags, read)
        self.grammar = red_flags.grammar
        self.symptoms = sorted(red_flags.symptoms, key=lambda s: s.level != "emergency")
        self.within = red_flags.within
        self.asks_about = [phrase.split(GAP) for phrase in red_flags.asks_about]
        self.asks_alone = [phrase.split(GAP) for phrase in red_flags.asks_alone]
        self.someone_else = red_flags.someone_else
        # Symptoms on word stems ("swelling" is "swell"), context on the exact
        # words ("stopped" is over, "won't stop" is not).
        self.matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.context = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._add(self.matcher, nlp, "not_symptom", red_flags.not_symptoms)
        for symptom in self.symptoms:
            self._add(self.matcher, nlp, f"{symptom.id}:any", symptom.any)
            self._add(self.matcher, nlp, f"{symptom.id}:unless", symptom.unless)
            self._add(self.matcher, nlp, f"{symptom.id}:elsewhere", symptom.elsewhere)
            for c, groups in enumerate(symptom.all):
                for g, words in enumerate(groups):
                    self._add(self.matcher, nlp, f"{symptom.id}:all{c}:{g}", words)
            for c, groups in enumerate(symptom.in_message):
                for g, words in enumerate(groups):
                    self._add(self.matcher, nlp, f"{symptom.id}:in_message{c}:{g}", words)
        self._add(self.context, nlp, "negation", red_flags.negations)
        self._add(self.context, nlp, "over", red_flags.over)
        self._add(self.context, nlp, "over_when", red_flags.over_when)
        self._add(self.context, nlp, "treatment", red_flags.treatment)
        self._add(self.context, nlp, "ongoing", red_flags.ongoing)
        self._add(self.context, nlp, "just_asking", red_flags.just_asking)
        self._add(self.context, nlp, "not_ongoing", red_flags.not_ongoing)
        self._add(self.context, nlp, "wants_it", red_flags.wants_it)
        self._add(self.context, nlp, "had_it", red_flags.had_it)
        self._add(self.context, nlp, "unbroken", sorted(self.grammar.unbroken))
        for name, phrases in (("asks", self.asks_about), ("alone", self.asks_alone)):
            for a, parts in enumerate(phrases):
                for p, part in enumerate(parts):
                    self._add(self.context, nlp, f"{name}{a}:{p}", [part])
        if self.someone_else:
            for key in ("who", "does", "unless", "then", "tells"):
                self._add(self.context, nlp, f"someone_{key}", getattr(self.someone_else, key))

    def _add(self, matcher: PhraseMatcher, nlp: Language, key: str, phrases: List[str]) -> None:
        if phrases:
            matcher.add(key, list(nlp.pipe(self.read(phrase) for phrase in phrases)))

    @staticmethod
    def _spans(matcher: PhraseMatcher, doc: Doc) -> Spans:
        spans: Spans = defaultdict(list)
        for match_id, start, end in matcher(doc):
            spans[doc.vocab.strings[match_id]].append((start, end))
        return spans

    def _words(self, doc: Doc) -> Tuple[Doc, Spans, Set[int]]:
        """The doc with its typos respelt, its matched words by key, and the
        positions inside set phrases ("hay fever"), where no word counts."""
        respelt = self.speller.respelt(doc)
        if respelt is not None:
            doc = self.nlp(respelt)
        words = self._spans(self.matcher, doc)
        masked = {i for start, end in words.pop("not_symptom", []) for i in range(start, end)}
        return doc, words, masked

    def before_treatment(self, doc: Doc) -> bool:
        """The visitor asks whether they can have the treatment and tells of
        none had ("i have an infection on my chin right now, can i still get
        it?"): what they have is no complication of a treatment."""
        return self._before_treatment(self._spans(self.context, doc))

    @staticmethod
    def _before_treatment(context: Spans) -> bool:
        return bool(context.get("wants_it")) and not context.get("had_it")

    def net_may_alarm(self, doc: Doc) -> bool:
        """Whether the learned net's alarm stands for this message: a word of
        the symptom lists stands in it, and not in a question about having
        the treatment (before_treatment)."""
        return self.mentions(doc) and not self.before_treatment(doc)

    def mentions(self, doc: Doc) -> bool:
        """Whether a word of the symptom lists stands in the message, whatever
        stands around it, negation included ("bleeding", "yellow"; the lists'
        combinations hold places and times too: "face", "today")."""
        _, words, masked = self._words(doc)
        return any(key.split(":", 1)[1].startswith(SYMPTOM_PARTS) and not masked & set(range(*span))
                   for key, spans in words.items() for span in spans)

    def detect(self, doc: Doc) -> Optional[Alarm]:
        doc, words, masked = self._words(doc)
        context = self._spans(self.context, doc)
        # "blisters on my back": a body part, not "now it's back"; nor is a
        # symptom word inside such a phrase one ("todavia no me lo hago": not had it yet)
        inside = {i for start, end in context.get("not_ongoing", []) for i in range(start, end)}
        context["ongoing"] = [span for span in context.get("ongoing", []) if span[0] not in inside]
        masked = masked | inside
        clauses = Clauses(doc, context, self.grammar)
        found: Dict[str, List[int]] = defaultdict(list)  # "symptom:part" -> token positions
        for key, spans in words.items():
            part = key.split(":", 1)[1]
            for start, end in spans:
                if self._counts(part, clauses, masked, start, end):
                    found[key].append(start)
        # a clinic-level symptom of someone asking to have the treatment is no
        # complication of one; an emergency (breathing, throat, high fever) still is
        before_treatment = self._before_treatment(context)
        for symptom in self.symptoms:
            if found.get(f"{symptom.id}:unless") or (before_treatment and symptom.level == "clinic"):
                continue
            elsewhere = {clauses.of[i] for i in found.get(f"{symptom.id}:elsewhere", [])}
            here = {key: [i for i in found.get(key, []) if clauses.of[i] not in elsewhere]
                    for key in found if key.startswith(f"{symptom.id}:")}
            if here.get(f"{symptom.id}:any") or any(
                    self._together(here, f"{symptom.id}:all{c}", len(groups), self.within)
                    for c, groups in enumerate(symptom.all)) or any(
                    self._together(here, f"{symptom.id}:in_message{c}", len(groups))
                    for c, groups in enumerate(symptom.in_message)):
                return Alarm(symptom.id, symptom.level, treatment_told=bool(context.get("had_it")))
        return None

    def _counts(self, part: str, clauses: Clauses, masked: Set[int],
                start: int, end: int) -> bool:
        """Whether a matched word counts where it stands in the message."""
        if part == "elsewhere":
            return True
        if part == "unless":  # "not going down" is no reason to wait
            before = clauses.doc[max(0, start - self.grammar.not_reach):start]
            return not any(token.lower_ in self.grammar.not_words for token in before)
        return not (masked & set(range(start, end)) or self._negated(clauses, start)
                    or self._not_now(clauses, clauses.of[start], start))

    def _negated(self, clauses: Clauses, start: int) -> bool:
        """A negation ends at most NEGATION_WINDOW words before, nothing breaking between."""
        for _, end in clauses.context.get("negation", []):
            if start - NEGATION_WINDOW < end <= start and not any(
                    token.is_punct or token.lower_ in self.grammar.negation_breaks
                    for token in clauses.doc[end:start]):
                return True
        return False

    def _not_now(self, clauses: Clauses, clause: int, start: int) -> bool:
        return (self._asks_about(clauses, clause) or self._asked_aside(clauses, clause)
                or self._over(clauses, clause) or self._someone_else(clauses, clause, start))

    def _asked_aside(self, clauses: Clauses, clause: int) -> bool:
        """An aside of a word or two after "and", with no `ongoing` word,
        goes with the question before it: "i read something about pus | and
        infection online, how common is that?"."""
        opening = clauses.opening.get(clause)
        return (clause > 0 and opening is not None and 0 < clauses.words(clause) <= MAX_ASIDE_WORDS
                and clauses.doc[opening - 1].lower_ in AND and not clauses.spans("ongoing", clause)
                and clause - 1 in clauses.opening  # not a message opening "and ..."
                and self._asks_about(clauses, clause - 1))

    def _asks_about(self, clauses: Clauses, clause: int) -> bool:
        """The clause opens with a general question ("what if my lips swell"),
        and has no `ongoing` word ("if i press on it, it keeps bleeding"); one
        after "or" asks the other way round ("¿se hincha la cara después o
        no?", "can it cause swollen lips or is that not a thing"); nor does
        one the next clause answers about now ("what if my lips swell? mine
        are huge since my session", "... they are still huge"). A question
        on its own (_question_alone) may open with an `asks_alone` phrase
        too ("¿sangra mucho?", Spanish asking without an auxiliary)."""
        opening = clauses.opening.get(clause, 0)
        if any(not any(token.lower_ in OR for token in clauses.doc[opening:start])
               for start, _ in clauses.spans("ongoing", clause)):
            return False
        after = clause + 1
        if clauses.refers_back(after) and any(
                clauses.doc[start].lower_ not in self.grammar.not_words
                for start, _ in clauses.spans("ongoing", after)):
            return False
        return any(self._in_order(clauses, clause, f"asks{a}", len(parts))
                   for a, parts in enumerate(self.asks_about)) or (
            self._question_alone(clauses, clause) and any(
                self._in_order(clauses, clause, f"alone{a}", len(parts))
                for a, parts in enumerate(self.asks_alone)))

    @staticmethod
    def _question_alone(clauses: Clauses, clause: int) -> bool:
        """The clause is a question on its own that ends the message: the
        only clause ("¿sangra mucho?" asks what the treatment does) or one
        opened by "¿" after clauses with no `ongoing` word ("me dan miedo las
        agujas, ¿sangra mucho?"; not "me sangra desde ayer, ¿sangra mucho?").
        "sangra mucho?? que hago" and "¿sangra mucho y no para?" tell. A
        question that opens the message or a "¿", closed by "?", may be
        followed by more when the clause after it says it only asks
        (`just_asking`: "¿provoca fiebre? solo pregunto antes de agendar")
        and the message has no `ongoing` word."""
        start = clauses.opening[clause]
        opened = clauses.doc[start - 1].text == "¿" if start else True
        if clause == max(clauses.opening):
            return clauses.doc.text.rstrip().endswith("?") and (
                len(clauses.opening) == 1 or (opened and not clauses.context.get("ongoing")))
        breaks_after = [token.text for token in clauses.doc[start:clauses.opening[clause + 1]]
                        if clauses.of[token.i] == clause + 1]
        return (opened and "?" in breaks_after and bool(clauses.opens_with("just_asking", clause + 1))
                and not clauses.context.get("ongoing"))

    @staticmethod
    def _in_order(clauses: Clauses, clause: int, key: str, parts: int) -> bool:
        """The first part opens the clause, and every next part comes later."""
        ends = [end for _, end in clauses.opens_with(f"{key}:0", clause)]
        for p in range(1, parts):
            ends = [end for start, end in clauses.spans(f"{key}:{p}", clause)
                    if ends and start >= min(ends)]
        return bool(ends)

    def _over(self, clauses: Clauses, clause: int) -> bool:
        """The clause, or the next one if it speaks of the same thing ("but it
        went away"), says it is over, and neither they nor the clause after
        them says it goes on ("..., and now it's back")."""
        # "swollen | and red | but it went away": an aside of a word or two may
        # lie between the symptom and the clause that says what became of it
        after = clause + 1
        while (after in clauses.opening and not clauses.refers_back(after)
               and clauses.words(after) <= MAX_ASIDE_WORDS):
            after += 1
        told = list(range(clause, after + 1)) if clauses.refers_back(after) else [clause]
        over = [span for c in told for span in clauses.spans("over", c)] + [
            span for c in told if not clauses.spans("treatment", c)  # when it was treated
            for span in clauses.spans("over_when", c)]
        around = told + [told[-1] + 1]
        # "now" in "it's gone now", "back" in "back in january": part of what is over
        inside_over = {i for c in around for key in ("over", "over_when")
                       for start, end in clauses.spans(key, c) for i in range(start, end)}
        ongoing = [start for c in around for start, _ in clauses.spans("ongoing", c)
                   if start not in inside_over]
        return bool(over) and not ongoing

    def _someone_else(self, clauses: Clauses, clause: int, start: Optional[int] = None) -> bool:
        """The clause opens with someone else's symptom ("my cat has a fever"),
        or with "his" or "her" after such a clause ("... and his face swelled
        up"), or is an aside of a word or two after one ("my son has a fever
        | and chills, can we move my appointment?"), or opens with the
        symptom word at `start`, which goes on with theirs ("my son has had a
        fever | and chills since yesterday (flu going around his school)"),
        and does not bring in
        the visitor or the treatment after that, nor does a later clause
        bring in the treatment without the visitor ("mi tía tiene los labios
        inflamados y le cuesta hablar después de la cita", not "my son has a
        fever, can i move my appointment?", nor what they tell: "mi prima
        dice que a una conocida se le infectó y ... después del
        microneedling"). A later general question about the treatment
        (`asks_about`) brings in nothing: "my friend had a fever after her
        flu shot. is microneedling safe overall?"."""
        tells = {start for start, _ in clauses.spans("someone_tells", clause)}

        def told_from(end: int, start: int) -> bool:
            return not any(s >= end for s, _ in clauses.spans("someone_unless", clause)) and (
                start in tells or not any(self._treated_alone(clauses, later)
                                          and not self._asks_about(clauses, later)
                                          for later in range(clause + 1, clauses.of[-1] + 1)))

        opening = clauses.opening.get(clause)
        after_to = (self.someone_else is not None and opening is not None
                    and clauses.doc[opening].lower_ in self.someone_else.to)
        for who_start, who_end in clauses.spans("someone_who", clause):
            if who_start != opening and not (after_to and who_start == opening + 1):
                continue
            for does_start, does_end in clauses.spans("someone_does", clause):
                if does_start == who_end and told_from(does_end, does_start):
                    return True
        # "my son has a fever | and chills": an aside of a word or two goes on about them
        aside = (0 < clauses.words(clause) <= MAX_ASIDE_WORDS
                 or start == clauses.opening.get(clause)) and not clauses.spans(
            "someone_unless", clause)
        return clause > 0 and (aside or any(told_from(end, start) for start, end in
                                            clauses.opens_with("someone_then", clause))) \
            and self._someone_else(clauses, clause - 1)

    @staticmethod
    def _treated_alone(clauses: Clauses, clause: int) -> bool:
        """The clause names the treatment, and the visitor only in its words."""
        treatment = {i for start, end in clauses.spans("treatment", clause) for i in range(start, end)}
        return bool(treatment) and all(start in treatment for start, _ in
                                       clauses.spans("someone_unless", clause))

    @staticmethod
    def _together(found: Dict[str, List[int]], combination: str, groups: int,
                  within: Optional[int] = None) -> bool:
        """One word of each group matched, all within `within` tokens if given."""
        positions = [found.get(f"{combination}:{g}", []) for g in range(groups)]
        return any(within is None or max(chosen) - min(chosen) <= within
                   for chosen in product(*positions))


def judged(detector: RedFlagDetector, doc: Doc, net_sure: bool) -> Optional[Alarm]:
    """The patterns' alarm; else, when the learned net reads the message as
    urgent (`net_sure`) and a word of the patterns' symptom lists stands in
    it, the clinic's: "won't quit bleeding, I've held a tissue on it for 40
    mins and it's still going" names no symptom the patterns know whole."""
    alarm = detector.detect(doc)
    if alarm is None and net_sure and detector.net_may_alarm(doc):
        return NET_ALARM
    return alarm


def language_of(doc: Doc) -> Optional[str]:
    """"es" or "en" when the message's small words are mostly of one language,
    else None ("fiebre alta", "short of breath")."""
    spanish = sum(token.lower_ in SPANISH_TELLS for token in doc)
    english = sum(token.lower_ in ENGLISH_TELLS for token in doc)
    return "es" if spanish > english else "en" if english > spanish else None


def load_spanish_pipeline(path: Path = SPANISH) -> Language:
    if not (path / "meta.json").exists():
        raise ValueError(f"{path}: the Spanish spaCy pipeline is missing; "
                         "build it with `python -m clinic.spacy_model`")
    return spacy.load(path)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
                          is_trainable=False, model_from="SpacyNLP")
class RedFlagGate(GraphComponent, IntentClassifier):
    """Overrides the intent of any message that names an urgent symptom."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # the intent classifier's confidence in a question for asked_calmly
        return {"sure_question": 0.9}

    def __init__(self, red_flags: RedFlags, spanish: Optional[RedFlagDetector] = None,
                 config: Optional[Dict[Text, Any]] = None) -> None:
        self.red_flags = red_flags
        self.spanish = spanish
        self.config = {**self.get_default_config(), **(config or {})}
        self._detector: Optional[RedFlagDetector] = None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> RedFlagGate:
        spanish = load_spanish_pipeline()
        return cls(load_red_flags(), RedFlagDetector(spanish, load_red_flags(RED_FLAGS_ES), fold),
                   config)

    def detector(self, nlp: Language) -> RedFlagDetector:
        if self._detector is None:  # needs the spaCy pipeline, which only `process` receives
            self._detector = RedFlagDetector(nlp, self.red_flags)
        return self._detector

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        detector = self.detector(model.model)
        for message in messages:
            text = message.get(TEXT) or ""
            doc = message.get(SPACY_DOC) or model.model(text.lower())
            alarm, language = self.detect(detector, doc, text, bool(message.get(URGENT_NET)))
            if alarm and self.asked_calmly(message, alarm):
                alarm = None
            if alarm:
                override_intent(message, alarm.intent)
                if language == "es":
                    message.set(LANGUAGE, "es", add_to_output=True)
        return messages

    def detect(self, english: RedFlagDetector, doc: Doc, text: str,
               net_sure: bool = False) -> Tuple[Optional[Alarm], Optional[str]]:
        """The alarm and the language of the patterns that raised it: the
        patterns' own first, in either language, then the net's (judged)."""
        if self.spanish is None:
            return judged(english, doc, net_sure), None
        spanish_doc = self.spanish.nlp(self.spanish.read(text))
        language = language_of(spanish_doc)
        readings = [(english, doc, "en"), (self.spanish, spanish_doc, "es")]
        if language:  # the message's small words are of one language: its patterns alone
            readings = [reading for reading in readings if reading[2] == language]
        for detector, read, language in readings:
            alarm = detector.detect(read)
            if alarm:
                return alarm, language
        for detector, read, language in readings if net_sure else []:
            if detector.net_may_alarm(read):
                return NET_ALARM, language
        return None, readings[-1][2]  # the language judged last, as when an alarm is raised

    def asked_calmly(self, message: Message, alarm: Alarm) -> bool:
        """Whether a clinic-level alarm stands down because both learned models
        read a calm question: the net all but sure nothing is urgent
        (URGENT_NET_CALM), the intent classifier sure of a question about the
        treatment or the clinic, and the visitor tells of no treatment had
        ("The side effects list says 'bleeding'. Like a lot, or just a tiny
        bit?"). An emergency never stands down. On the suites and blind
        sets, none of 4,707 urgent messages would (docs/evaluation.md,
        "Figures, session 39")."""
        intent = message.get(INTENT) or {}
        return (alarm.level == "clinic" and bool(message.get(URGENT_NET_CALM))
                and str(intent.get("name") or "").startswith(QUESTION_INTENTS)
                and (intent.get("confidence") or 0.0) >= self.config["sure_question"]
                and not alarm.treatment_told)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
