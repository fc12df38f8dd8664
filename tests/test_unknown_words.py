"""The unknown-words guard, on hand-built tokenised messages."""
from typing import List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from components.unknown_words import (VOCABULARY_FILE, UnknownWordsGuard, foreign_stop_words,
                                      words)

pytestmark = pytest.mark.unit

VOCABULARY = {"do", "microneedling", "hurt", "how", "much", "cost"}


def message(text: str, intent: str = "faq_pain") -> Message:
    tokens: List[Token] = []
    start = 0
    for part in text.split():
        tokens.append(Token(part, start, lemma=part.lower().rstrip("?")))
        start += len(part) + 1
    return Message(data={"text": text, "text_tokens": tokens,
                         "intent": {"name": intent, "confidence": 0.8},
                         "intent_ranking": [{"name": intent, "confidence": 0.8}]})


def guard() -> UnknownWordsGuard:
    return UnknownWordsGuard({"min_known_ratio": 0.5}, model_storage=None, resource=None,
                             vocabulary=VOCABULARY)


def test_words_are_lemmas_of_tokens_with_letters():
    assert words(message("Does 😍 123 microneedling hurt?").get("text_tokens")) == [
        "does", "microneedling", "hurt"]


@pytest.mark.parametrize("text", ["do microneedling hurt", "how much", "microneedlingg hurt",
                                  "blorp microneedlin hurt", "$$?"])
def test_a_message_of_mostly_known_words_keeps_its_intent(text):
    [processed] = guard().process([message(text)])
    assert processed.get("intent")["name"] == "faq_pain"


@pytest.mark.parametrize("text", ["blorp zingle microneedling", "😍 😍 😍", "", "qwx zzv",
                                  "jjjjj kkkk llll"])
def test_a_message_of_mostly_unknown_words_falls_back_and_keeps_the_ranking(text):
    [processed] = guard().process([message(text)])
    assert processed.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert [r["name"] for r in processed.get("intent_ranking")] == ["nlu_fallback", "faq_pain"]


@pytest.mark.parametrize("text", ["hmm the thing", "ya know, the stuff with the thingy",
                                  "mmm el coso ese", "la cosa esa del otro dia pues",
                                  "ey el coso"])
def test_a_vague_word_amid_small_words_names_nothing_and_falls_back(text):
    [processed] = guard().process([message(text)])
    assert processed.get("intent")["name"] == "nlu_fallback"


def test_a_laugh_beside_a_vague_word_names_nothing_though_every_word_is_known():
    text = "el coso ese de la cosa jsjs"
    knowing = UnknownWordsGuard({}, model_storage=None, resource=None,
                                vocabulary=VOCABULARY | set(text.split()))
    [processed] = knowing.process([message(text)])
    assert processed.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", ["how much stuff", "do the thing hurt"])
def test_a_vague_word_beside_a_real_one_keeps_its_intent(text):
    [processed] = guard().process([message(text)])
    assert processed.get("intent")["name"] == "faq_pain"


def test_a_fallback_already_decided_is_left_alone():
    original = message("blorp zingle microneedling", intent="nlu_fallback")
    [processed] = guard().process([original])
    assert processed.get("intent_ranking") == [{"name": "nlu_fallback", "confidence": 0.8}]


@pytest.mark.parametrize("text", [
    "doi o microagulhamento",  # too short for lingua: the small word "o" tells
    "tut das weh",
    "quanto custa o tratamento para o rosto",  # lingua is sure
    "微针疼吗",  # another script
])
def test_a_message_in_another_language_is_marked_so_whatever_the_classifier_thought(text):
    for intent in ("faq_pain", "nlu_fallback"):
        [processed] = guard().process([message(text, intent)])
        assert processed.get("intent") == {"name": "other_language", "confidence": 1.0}


@pytest.mark.parametrize("text", [
    "duele el microneedling", "cuanto cuesta el tratamiento para la cara", "¿Duele?"])
def test_spanish_is_served_not_another_language(text):
    """Spanish unknown to the model asks "Did you mean" (in Spanish), never
    says the assistant cannot answer in the visitor's language."""
    [processed] = guard().process([message(text, "faq_pain")])
    assert processed.get("intent")["name"] == "nlu_fallback"


def test_a_language_lingua_is_sure_of_is_another_language_though_its_words_are_known():
    """"cicatriz", "acne", "de" are known (Spanish and English examples); the
    message is Portuguese all the same."""
    vocabulary = VOCABULARY | {"oi", "cicatriz", "de", "acne", "saber", "o", "queria", "pra"}
    sure = UnknownWordsGuard({}, model_storage=None, resource=None, vocabulary=vocabulary)
    text = "oi queria saber o preço do microagulhamento pra cicatriz de acne"
    assert sure.known_ratio(message(text)) >= 0.5
    [processed] = sure.process([message(text)])
    assert processed.get("intent") == {"name": "other_language", "confidence": 1.0}
    [spanish] = sure.process([message("queria saber el precio para cicatriz de acne")])
    assert spanish.get("intent")["name"] == "faq_pain"
    # a drawn-out word is read as no language, not as a keyboard mash of the whole
    [laughing] = sure.process([message(text + " kkkk")])
    assert laughing.get("intent") == {"name": "other_language", "confidence": 1.0}


def test_a_greeting_of_another_language_opening_a_message_tells_it():
    """lingua reads this 0.6 French, below its sure threshold; "Bonjour" tells."""
    vocabulary = VOCABULARY | {"est", "que", "le", "fait", "mal", "microneedling"}
    sure = UnknownWordsGuard({}, model_storage=None, resource=None, vocabulary=vocabulary)
    text = "Bonjour, est-ce que le microneedling fait mal ?"
    assert sure.known_ratio(message(text)) >= 0.5
    [processed] = sure.process([message(text)])
    assert processed.get("intent") == {"name": "other_language", "confidence": 1.0}
    [spanish] = sure.process([message("ola, que le hacen a la cara")])  # "hola" misspelt
    assert spanish.get("intent")["name"] != "other_language"


@pytest.mark.parametrize("text", ["Niltze, quezqui tomin ipatiuh in tlapatilli?",  # Nahuatl
                                  "Malo e lelei, 'oku fiha ho'o ofisi?"])  # Tongan
def test_a_greeting_of_a_language_lingua_does_not_know_tells_it(text):
    for intent in ("faq_cost", "nlu_fallback"):
        [processed] = guard().process([message(text, intent)])
        assert processed.get("intent") == {"name": "other_language", "confidence": 1.0}


def test_a_message_the_language_tagger_told_spanish_is_never_another_language():
    """lingua reads "tengo artritis reumatoide y tomo metotrexato, es seguro
    para mí?" as Portuguese; the tagger, before the guard, told it Spanish by
    its small words, and that stands."""
    text = "tengo artritis reumatoide y tomo metotrexato, es seguro para mí?"
    untagged = message(text)
    tagged = message(text)
    tagged.set("entities", [{"entity": "language", "value": "es", "start": 0, "end": len(text)}])
    assert guard().process([untagged])[0].get("intent")["name"] == "other_language"
    assert guard().process([tagged])[0].get("intent")["name"] == "nlu_fallback"


def test_a_letter_typed_over_and_over_is_no_known_word():
    """"ñññ" drawn out is "n", a word of the examples ("n/a"); typed thrice
    alone it is no word, so "ajsjd ñññ" falls back instead of reading as a no."""
    known_n = UnknownWordsGuard({}, model_storage=None, resource=None,
                                vocabulary=VOCABULARY | {"n"})
    [processed] = known_n.process([message("ajsjd ñññ", "deny")])
    assert processed.get("intent")["name"] == "nlu_fallback"


def test_the_lists_of_other_languages_load_with_the_model_not_on_a_message(tmp_path):
    """Importing spaCy's stop-word lists took 3 to 5 s: done on the first
    message that needed them ("Dana Cole"), the server answered no one
    meanwhile, and other conversations' actions ran out of time."""
    storage, resource = LocalModelStorage(tmp_path), Resource("guard")
    with storage.write_to(resource) as directory:
        (directory / VOCABULARY_FILE).write_text('["hurt"]')
    foreign_stop_words.cache_clear()
    UnknownWordsGuard.load({}, storage, resource, ExecutionContext(GraphSchema({}), "t"))
    assert foreign_stop_words.cache_info().currsize == 1
