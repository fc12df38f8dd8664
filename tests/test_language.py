"""The language tagger: "en" or "es" when a message tells, nothing when it
does not, so that the conversation keeps its language (components/language.py)."""
import functools
import json

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.language import SPANISH_RATIO, VOCABULARY_FILE, LanguageTagger

pytestmark = pytest.mark.unit


@functools.lru_cache(maxsize=None)
def trained() -> LanguageTagger:
    """A tagger that learned its words from the training examples, as in a model."""
    tagger = LanguageTagger({})
    tagger.learn([example.get("text") for path in ("data/nlu.yml", "data/nlu.es.yml")
                  for example in load_data(path).intent_examples])
    return tagger


def tagged(text: str):
    [processed] = trained().process([Message(data={"text": text})])
    return [entity["value"] for entity in processed.get("entities") or []
            if entity["entity"] == "language"]


@pytest.mark.parametrize("text", [
    "¿Duele?", "gracias", "ok gracias", "chao", "ola", "hola buenas tardes", "cuanto cuesta",
    "duele el microneedling",  # lingua says English; the small word "el" does not
    "tengo la cara muy hinchada y me cuesta respirar",
    "kiero una cita para el martes xfa",
    "precio?", "duele?", "telefono?",  # short: lingua, between English and Spanish, is sure
    "holaaa 👋",  # a small word stretched
    "holi", "cuidese", "agendame", "jaja ok, bye", "q tal", "klk",  # chat words
    "is it painful? digo, duele?", "what is it? y cuanto cuesta?",  # goes on in Spanish
    "how many sesiones más o menos", "any side effects? o riesgos",  # Spanish words mixed in
    "is it good for wrinkles y manchas", "laser o micro?",  # "o" between two words
    "es medico o estetico?",  # Italian to lingua, but every word is of the Spanish examples
    "la piel queda reseca o irritada?",  # Portuguese 0.50 to lingua, Spanish 0.39, and "la"
    "numero?",  # one English example has it ("..., a este mismo numero"), 38 Spanish ones
    "contraindicasiones", "a q ora sierran", "presio",  # one typo from a Spanish word alone
])
def test_spanish_is_tagged_spanish(text):
    assert tagged(text) == ["es"]


@pytest.mark.parametrize("text", [
    "how much is it", "thanks!", "wat is micro needling", "is el microneedling safe for me?",
    "my doctor wants blood work first, is that ok?", "hiii",
    "does it hurt? I'm near Plaza del Sol",  # a place name
    "o.k. thanks", "hair los treatment for men",  # a typo, not the Spanish "los"
])
def test_english_is_tagged_english(text):
    assert tagged(text) == ["en"]


@pytest.mark.parametrize("text", [
    "ok", "downtime?", "👍", "",  # too short to tell: the conversation's language stays
    "Carla", "Maria Lopez", "jjjkkk", "asdkfj qwe", "fjfjfjfjf", "jfjfjf ok", "lkjlkj qqq",  # a name, a keyboard mash
    "y",  # "yes" in an English chat
    "bye", "ok bye",  # Spanish speakers sign off in English too
    "Mia", "ya", "yo", "ha ha",  # Spanish small words English speakers type alone
    "je voudrais un rendez-vous",  # a third language ("un" is Spanish too)
    "Quanto custa o tratamento?", "la pelle rimane secca o irritata?",  # Italian, with "la"
    "Bonjour, est-ce que le microneedling fait mal ?",  # a greeting of a third language
    "dale.peterson@outlook.com",  # an email address tells nothing ("dale" is Spanish too)
    "sesions?",  # one typo from "sesiones", and from "sessions" too
    "Dói muito?",  # Portuguese: "muito" is one typo from "quito", but short
    "great tacos near Provo",  # a word only the Spanish examples use, among more English ones
])
def test_a_message_that_does_not_tell_gets_no_tag(text):
    assert tagged(text) == []


def tagged_on_page(text: str, metadata):
    [processed] = trained().process([Message(data={"text": text, "metadata": metadata})])
    return [entity["value"] for entity in processed.get("entities") or []
            if entity["entity"] == "language"]


def test_a_first_message_that_does_not_tell_takes_the_pages_language():
    """The website chat sends its page's language with the first message."""
    assert tagged_on_page("vs laser?", {"lang": "es"}) == ["es"]
    assert tagged_on_page("downtime?", {"lang": "en"}) == ["en"]
    assert tagged_on_page("does it hurt?", {"lang": "es"}) == ["en"]  # the message tells
    assert tagged_on_page("¿duele?", {"lang": "en"}) == ["es"]
    for metadata in (None, {}, {"lang": "fr"}, {"lang": ["es"]}, "es"):  # nothing to go by
        assert tagged_on_page("vs laser?", metadata) == []


def test_the_tag_keeps_the_entities_found_before_it():
    earlier = {"entity": "other", "value": "x", "start": 0, "end": 1}
    [processed] = LanguageTagger({}).process(
        [Message(data={"text": "gracias", "entities": [earlier]})])
    assert processed.get("entities")[0] == earlier
    assert processed.get("entities")[1]["value"] == "es"


def test_words_only_the_spanish_examples_use_tell_a_short_message():
    tagger = LanguageTagger({})
    assert tagger.language("cicatrices?") is None  # lingua is not sure enough
    tagger.learn(["¿sirve para las cicatrices de acné?", "tengo cicatrices en la cara",
                  "does it help with acne scars?", "how much is it for my face"])
    assert "cicatrices" in tagger.spanish_words
    assert not {"acne", "face", "las", "de"} & tagger.spanish_words  # in English, or too short
    assert tagger.language("cicatrices?") == "es"
    assert tagger.language("cicatricesss??") == "es"  # drawn out
    assert tagger.language("Cicatrices Lopez") is None  # a name
    assert tagger.language("cicatrices pls") == "es"  # "pls" is a Spanish speaker's chat word too


def test_a_word_the_english_examples_hardly_use_is_spanish():
    spanish = ["¿me pasan su numero de telefono?"] * SPANISH_RATIO
    tagger = LanguageTagger({})
    english = "what is your phone numero please"
    tagger.learn(spanish + [english])
    assert tagger.language(english) == "en" and "numero" in tagger.spanish_words
    tagger.learn(spanish[1:] + [english])
    assert "numero" not in tagger.spanish_words


def test_a_model_trained_before_the_tagger_kept_every_word_still_loads(tmp_path):
    """Its word list loads; a keyboard mash is then judged as before (by lingua)."""
    storage, resource = LocalModelStorage(tmp_path), Resource("tagger")
    with storage.write_to(resource) as directory:
        (directory / VOCABULARY_FILE).write_text(json.dumps(["cicatrices"]))
    old = LanguageTagger.load({}, storage, resource, ExecutionContext(GraphSchema({}), "t"))
    assert old.spanish_words == {"cicatrices"} and old.spanish_vocabulary is None
    assert old.language("cicatrices?") == "es"


def test_the_words_the_tagger_learned_load_with_the_model(tmp_path):
    storage, resource = LocalModelStorage(tmp_path), Resource("tagger")
    context = ExecutionContext(GraphSchema({}), "t")
    tagger = LanguageTagger.create({}, storage, resource, context)
    tagger.train(TrainingData([Message(data={"text": text, "intent": "faq_scars"}) for text in
                               ["¿sirve para las cicatrices de acné?", "does it help acne scars?"]]))
    loaded = LanguageTagger.load({}, storage, resource, context)
    assert loaded.spanish_words == tagger.spanish_words
    assert loaded.spanish_vocabulary == tagger.spanish_vocabulary >= {"cicatrices", "para"}
    assert loaded.english_vocabulary == tagger.english_vocabulary >= {"scars", "help"}
