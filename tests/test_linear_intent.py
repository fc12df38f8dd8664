"""How the classifier reads a long or compound message: by its sentences and
clauses (components/linear_intent.py), on hand-built rankings."""
from typing import List

import pytest
import spacy
import yaml
from rasa.nlu.tokenizers.tokenizer import Token

from rasa.shared.nlu.training_data.message import Message

from clinic.spacy_model import TARGET
from components.linear_intent import (BEFORE_AND_AFTER, IF_QUESTION, LinearIntentClassifier, Speller,
                                     asked_before, had, lemmas, parts, said, stated)

pytestmark = pytest.mark.unit


def tokens(text: str) -> List[Token]:
    """Whitespace tokens (punctuation stays on its word, unlike spaCy's)."""
    found, start = [], 0
    for word in text.split():
        start = text.index(word, start)
        found.append(Token(word, start, lemma=word.lower()))
        start += len(word)
    return found


@pytest.mark.parametrize("text, expected", [
    ("what's the price and is there any downtime?",
     [(True, "what's the price"), (True, "is there any downtime?")]),
    ("My wedding is on the 14th. Will my skin have calmed down by then?",
     [(False, "My wedding is on the 14th."), (True, "Will my skin have calmed down by then?")]),
    ("What is it, does it hurt, and how much is it?",
     [(True, "What is it,"), (True, "does it hurt,"), (True, "how much is it?")]),
    ("is it ok for dark skin or will it leave marks",
     [(True, "is it ok for dark skin or will it leave marks")]),
    ("ok what about microneedling, what can it treat?",  # a lead-in asks nothing itself
     [(False, "ok what about microneedling,"), (True, "what can it treat?")]),
    ("does it hurt + what side effects are there",
     [(True, "does it hurt"), (True, "what side effects are there")]),
    ("hmm how long does recovery take and what should i do before",
     [(True, "hmm how long does recovery take"), (True, "what should i do before")]),
    ("When I come in, what do you do first?",  # so is a clause of time or condition
     [(False, "When I come in,"), (True, "what do you do first?")]),
    ("Si me quito las marcas con esto, ¿ya no regresan?",  # in Spanish too
     [(False, "Si me quito las marcas con esto,"), (True, "¿ya no regresan?")]),
    ("what about side effects and who shouldnt get it",
     [(True, "what about side effects"), (True, "who shouldnt get it")]),
    ("Price, pain, downtime?",  # a short list of subjects: each one asked
     [(True, "Price,"), (True, "pain,"), (True, "downtime?")]),
    ("price and hours pls", [(True, "price"), (True, "hours pls")]),
    ("whats the price for face and neck",  # what "for" governs is one subject
     [(True, "whats the price for face and neck")]),
    ("cost for neck and face together?", [(True, "cost for neck and face together?")]),
    ("cuanto me cobrarian por cara y cuello", [(True, "cuanto me cobrarian por cara y cuello")]),
    ("how much for the whole face and neck",  # "for" governs a noun and its adjective
     [(True, "how much for the whole face and neck")]),
    ("cuanto cobran por la cara completa y el cuello?",
     [(True, "cuanto cobran por la cara completa y el cuello?")]),
    ("microneedling vs laser for acne, and how long does it take",  # "vs" asks which
     [(True, "microneedling vs laser for acne,"), (True, "how long does it take")]),
    ("my cat was sick all week. anyway what are your hours",
     [(False, "my cat was sick all week."), (True, "anyway what are your hours")]),
    ("does it help scars? also the price",  # a few words beside a question ask too
     [(True, "does it help scars?"), (True, "also the price")]),
    ("before that, how long is the downtime?",  # a lead-in names no subject
     [(False, "before that,"), (True, "how long is the downtime?")]),
    ("y después, cuánto tiempo ando roja?",
     [(False, "y después,"), (True, "cuánto tiempo ando roja?")]),
    ("sorry my cat walked on my phone 😂 how much is it",  # an emoji ends a sentence
     [(False, "sorry my cat walked on my phone"), (True, "how much is it")]),
    # Spanish: "y", "pero", "también" before a question word or a few verbs
    ("es seguro y cuanto cuesta??", [(True, "es seguro"), (True, "cuanto cuesta??")]),
    # "is that normal" asks of what was told before it
    ("i had it 5 days ago and see no change. is that normal, how long until it shows?",
     [(True, "i had it 5 days ago and see no change. is that normal,"),
      (True, "how long until it shows?")]),
    # how long a state of the skin lasts, not the results
    ("is swelling normal and how long does it last",
     [(True, "is swelling normal how long does it last")]),
    ("la hinchazon es normal? cuanto dura mas o menos",
     [(True, "la hinchazon es normal? cuanto dura mas o menos")]),
    ("whats the price and how long does it last",
     [(True, "whats the price"), (True, "how long does it last")]),
    ("todavia no veo nada, es normal? cuando se ven los resultados",
     [(True, "todavia no veo nada, es normal?"), (True, "cuando se ven los resultados")]),
    ("sirve para cicatrices de acne y se puede combinar con PRP?",
     [(True, "sirve para cicatrices de acne"), (True, "se puede combinar con PRP?")]),
    ("que puede tratar y en que partes del cuerpo se hace",
     [(True, "que puede tratar"), (True, "en que partes del cuerpo se hace")]),
    ("queria preguntar si duele y tambien cuanto tiempo dura",  # "I wanted to ask if"
     [(True, "queria preguntar si duele"), (True, "cuanto tiempo dura")]),
    # a clause joined by "y" to a question asks too ("es mejor ...?")
    ("es mejor que el láser y cuánto sale?",
     [(True, "es mejor que el láser"), (True, "cuánto sale?")]),
    ("I have acne scars and how much is it?",  # English would ask "do ...?"
     [(False, "I have acne scars"), (True, "how much is it?")]),
    ("tengo acne y me dijeron que sirve",  # a statement: no question word after "y"
     [(False, "tengo acne y me dijeron que sirve")]),
    ("quiero saber el precio y si duele", [(True, "quiero saber el precio"), (True, "si duele")]),
    # a question announced, then asked; "the other one"
    ("so my questions are is it painful and do i need time off",
     [(True, "so my questions are is it painful"), (True, "do i need time off")]),
    ("tengo dos preguntas una es si se puede en el cuello y la otra cuanto cuesta",
     [(False, "tengo"), (True, "una es si se puede en el cuello"), (True, "cuanto cuesta")]),
    ("q telefono tienen y a q hora abren", [(True, "q telefono tienen"), (True, "a q hora abren")]),
    ("cual es la direccion y el numero de telefono",  # articles are no words of the item
     [(True, "cual es la direccion"), (True, "el numero de telefono")]),
    ("the price for the face and the neck", [(False, "the price for the face and the neck")]),
    ("whats your phone number then, ill just call",  # what the visitor will do is no item
     [(True, "whats your phone number then, ill just call")]),
    ("que efectos secundarios tiene y es seguro?",
     [(True, "que efectos secundarios tiene"), (True, "es seguro?")]),
    ("telefono y direccion porfa", [(True, "telefono"), (True, "direccion porfa")]),
    ("ok entonces cual es su numero y direccion?",  # after a lead-in
     [(True, "ok entonces cual es su numero"), (True, "direccion?")]),
    ("antes, ¿duele mucho?", [(False, "antes,"), (True, "¿duele mucho?")]),  # "¿" opens a question
    ("me dio pena, no se preocupen jaja, ¿a qué hora cierran?",
     [(False, "me dio pena, no se preocupen jaja,"), (True, "¿a qué hora cierran?")]),
    # the treatment's name beside one thing asked of it, an alternative
    # refused, what "between" governs: one question
    ("microneedling + growth factors?", [(True, "microneedling + growth factors?")]),
    ("por qué microneedling y no láser?", [(True, "por qué microneedling y no láser?")]),
    ("whats the difference between microneedling and laser",
     [(True, "whats the difference between microneedling and laser")]),
    ("microneedling vs laser cuál es mejor",  # an interrogative with its accent
     [(True, "microneedling vs laser cuál es mejor")]),
    # a colon or a dash between spaces ends a sentence (the words before it,
    # beside a question, may name a subject: the classifier decides); lead-ins
    # and typed forms
    ("Two things: does it help hair loss, and is it safe?",
     [(True, "Two things:"), (True, "does it help hair loss,"), (True, "is it safe?")]),
    ("a few qs - does it hurt", [(True, "a few qs"), (True, "does it hurt")]),
    ("hey so does it hurt", [(True, "hey so does it hurt")]),
    ("whos not allowed to get it", [(True, "whos not allowed to get it")]),
    ("come at 10:30 pls", [(False, "come at 10:30 pls")]),
    # asking on someone's behalf, a list whose items have prepositions of their own
    ("my sister wants to know if you do hands and what it costs",
     [(True, "my sister wants to know if you do hands"), (True, "what it costs")]),
    ("three things. 1) does it hurt 2) how much is it",  # a numbered list
     [(True, "three things."), (True, "does it hurt"), (True, "how much is it")]),
    ("qué efectos hay y en cuántos días vuelvo a lo normal",
     [(True, "qué efectos hay"), (True, "en cuántos días vuelvo a lo normal")]),
    ("¿Cuántas sesiones son y a partir de cuándo se ven los resultados?",
     [(True, "¿Cuántas sesiones son"), (True, "a partir de cuándo se ven los resultados?")]),
    ("cuidados despues y cada cuando me toca la otra sesion",
     [(True, "cuidados despues"), (True, "cada cuando me toca la otra sesion")]),
    ("whats better for acne scars, laser or microneedling",  # the choices, no subject
     [(True, "whats better for acne scars, laser or microneedling")]),
    ("precio, número de sesiones y tiempo de recuperación porfa 🙏",
     [(True, "precio,"), (True, "número de sesiones"), (True, "tiempo de recuperación porfa 🙏")]),
    # after a story, the question it leads to; not a last "but i wanted to know"
    ("a mi prima le funcionó, quería saber cuántas sesiones son",
     [(False, "a mi prima le funcionó,"), (True, "quería saber cuántas sesiones son")]),
    ("mine went away already but i wanted to know",
     [(True, "mine went away already but i wanted to know")]),
    # a word of approval or "a ver" ("let's see") before a question names no subject
    ("chido, y duele?", [(False, "chido,"), (True, "duele?")]),
    ("a ver, lo hacen en el cuello?", [(True, "a ver, lo hacen en el cuello?")]),
    ("antes que nada, cuánto cuesta?", [(False, "antes que nada,"), (True, "cuánto cuesta?")]),
    ("hmm before that, roughly what does it cost?",  # a hedge opens the question
     [(False, "hmm before that,"), (True, "roughly what does it cost?")]),
    ("deep scars from high school, realistically how many rounds",
     [(False, "deep scars from high school,"), (True, "realistically how many rounds")]),
    # a scene: a time, a condition, what it is for
    ("y cuando se hace, cuanto dura la recuperacion?",
     [(False, "y cuando se hace,"), (True, "cuanto dura la recuperacion?")]),
    ("cuando se ven resultados y cuanto duran", [(True, "cuando se ven resultados"), (True, "cuanto duran")]),
    ("ok what about after the baby, how long is the downtime",
     [(False, "ok what about after the baby,"), (True, "how long is the downtime")]),
    ("is it permanent? if not how often do you redo it",  # the other way round, asked
     [(True, "is it permanent?"), (True, "if not how often do you redo it")]),
    # "can't" opens no question: "... and honestly can't tell", "... and can't really chat"
    ("im at work and can't really chat, could someone call me",
     [(False, "im at work and can't really chat,"), (True, "could someone call me")]),
    ("what do i do before, and what about after?",  # a question of its own
     [(True, "what do i do before,"), (True, "what about after?")]),
    ("for deep acne scars, is it better than laser?",
     [(False, "for deep acne scars,"), (True, "is it better than laser?")]),
    ("when it's done, can i go back to work",
     [(False, "when it's done,"), (True, "can i go back to work")]),
    ("quienes no se lo pueden hacer, y en general es seguro?",
     [(True, "quienes no se lo pueden hacer,"), (True, "en general es seguro?")]),
    ("great. and the price?", [(False, "great."), (True, "and the price?")]),
    # "like ..." says the question again; a few words about "it" ask of the subject named
    ("will it sting? like how bad", [(True, "will it sting? like how bad")]),
    ("how long do the redness and swelling stick around", [(True, "how long do the redness and swelling stick around")]),
    ("is it normal to be peeling and flaking", [(True, "is it normal to be peeling and flaking")]),
    ("price and swelling?", [(True, "price"), (True, "swelling?")]),
    # whether the clinic does what the question before named
    ("what's a PRP facial? do you offer it here?", [(True, "what's a PRP facial? do you offer it here?")]),
    ("¿qué es el dermapen? ¿lo hacen ahí?", [(True, "¿qué es el dermapen? ¿lo hacen ahí?")]),
    ("que tanto se siente, como piquetes o como?", [(True, "que tanto se siente, como piquetes o como?")]),
    ("stretch marks - does it work on those?", [(True, "stretch marks does it work on those?")]),
    ("alopecia, sirve?", [(True, "alopecia, sirve?")]),
    ("las cicatrices abultadas, esas también se tratan?",
     [(True, "las cicatrices abultadas, esas también se tratan?")]),
    ("¿Y las cicatrices queloides? ¿Esas también se tratan?",
     [(True, "¿Y las cicatrices queloides? ¿Esas también se tratan?")]),
    ("¿cuánto cuesta? ¿y quita las manchas?",  # no word pointing back: a question of its own
     [(True, "¿cuánto cuesta?"), (True, "¿y quita las manchas?")]),
    ("will i be red and puffy after", [(True, "will i be red and puffy after")]),
    ("price, does it hurt?", [(True, "price,"), (True, "does it hurt?")]),
    ("stretch marks - and is it safe for dark skin?",
     [(True, "stretch marks"), (True, "and is it safe for dark skin?")]),
    # when the visitor is free asks nothing; "puedo ...?" does
    ("¿me dan una cita? Puedo cualquier día después de las 4",
     [(True, "¿me dan una cita?"), (False, "Puedo cualquier día después de las 4")]),
    ("can i book? i can do any morning", [(True, "can i book?"), (False, "i can do any morning")]),
    # what it is for, or "the thing is", without a "?" tells
    ("Me podrían dar un estimado del costo? Es para la cara y el cuello",
     [(True, "Me podrían dar un estimado del costo?"), (False, "Es para la cara y el cuello")]),
    ("cuanto dura lo rojo? es para saber si pido dias en el trabajo",
     [(True, "cuanto dura lo rojo?"), (False, "es para saber si pido dias en el trabajo")]),
    ("cuánto cuesta? es para siempre?", [(True, "cuánto cuesta?"), (True, "es para siempre?")]),
    ("¿tienen citas? puedo ir el sábado?", [(True, "¿tienen citas?"), (True, "puedo ir el sábado?")]),
    # "what about X" names the subject a few words after it ask of
    ("what about hair loss, can it help with that",
     [(True, "what about hair loss, can it help with that")]),
    ("y qué tal para las estrías, sirve para eso?",
     [(True, "y qué tal para las estrías, sirve para eso?")]),
    ("what about the price, does it hurt?", [(True, "what about the price,"), (True, "does it hurt?")]),
    # slang and a statement's order ask too: "r u", "y atienden"
    ("what's the price and r u open late", [(True, "what's the price"), (True, "r u open late")]),
    ("hola, cuanto es y hacen en hombres?",
     [(False, "hola,"), (True, "cuanto es"), (True, "hacen en hombres?")]),
    # how the visitor feels, or asks to be answered, names no subject
    ("is it painful?? scared lol", [(True, "is it painful??"), (False, "scared lol")]),
    ("help!!! which areas can you treat?", [(False, "help!!!"), (True, "which areas can you treat?")]),
    ("duele mucho? neta, ayuda", [(True, "duele mucho?"), (False, "neta, ayuda")]),
    # what someone says, and its "y que ...", are told before the question
    ("mi mama dice que eso es peligroso y que me voy a infectar, ¿qué tan seguro es?",
     [(False, "mi mama dice que eso es peligroso"), (False, "que me voy a infectar,"),
      (True, "¿qué tan seguro es?")]),
    # nor does a thing only weighed: "thinking about booking" asks for no form
    ("does it swell after? thinking about booking",
     [(True, "does it swell after?"), (False, "thinking about booking")]),
    # a question word alone asks of what was said; a number, of the street named
    ("so the needles poke holes and that makes collagen? how",
     [(True, "so the needles poke holes and that makes collagen? how")]),
    ("¿Están sobre la calle Main? ¿Qué número?", [(True, "¿Están sobre la calle Main? ¿Qué número?")]),
    ("is it on State Street? what number", [(True, "is it on State Street? what number")]),
    ("what's your phone? what number", [(True, "what's your phone?"), (True, "what number")]),
    # a condition, in the subjunctive or about something, sets the scene
    ("si llegara a salirme una reacción después del tratamiento, a qué número les marco?",
     [(False, "si llegara a salirme una reacción después del tratamiento,"),
      (True, "a qué número les marco?")]),
    ("¿hay cremas que no pueda usar antes? como las de retinol",  # an example, no question
     [(True, "¿hay cremas que no pueda usar antes? como las de retinol")]),
    ("como la cuido despues?", [(True, "como la cuido despues?")]),
    ("if something goes wrong after, who do I call?",
     [(False, "if something goes wrong after,"), (True, "who do I call?")]),
])
def test_a_message_parts_at_sentences_and_at_clauses_that_start_a_question(text, expected):
    found = [(question, said(chunk)) for question, chunk in parts(text, tokens(text))]
    assert found == expected


def top(name: str, confidence: float) -> List[dict]:
    return [{"name": name, "confidence": confidence}, {"name": "other", "confidence": 0.01}]


CLASSIFIER = LinearIntentClassifier({"part_threshold": 0.7}, None, None)


def test_two_sure_questions_are_both_kept_in_the_order_asked():
    ranking, questions = CLASSIFIER._by_parts(top("faq_cost", 0.4), [
        (True, top("faq_cost", 0.9)), (True, top("faq_downtime", 0.8))])
    assert questions == ["faq_cost", "faq_downtime"] and ranking[0]["name"] == "faq_cost"


def test_a_part_below_the_threshold_is_no_second_question():
    ranking, questions = CLASSIFIER._by_parts(top("faq_cost", 0.9), [
        (True, top("faq_cost", 0.9)), (True, top("faq_downtime", 0.6))])
    assert questions == [] and ranking[0]["name"] == "faq_cost"


def test_a_compound_takes_its_intent_from_a_sure_part_not_an_unsure_one_of_the_same_topic():
    # "Hola! tres preguntitas: cuánto cuesta, ...": "tres preguntitas" leans to the cost too
    ranking, questions = CLASSIFIER._by_parts(top("faq_sessions", 0.66), [
        (True, top("faq_cost", 0.1)), (True, top("faq_cost", 0.99)),
        (True, top("faq_sessions", 1.0))])
    assert questions == ["faq_cost", "faq_sessions"] and ranking[0]["confidence"] == 0.99


def test_in_a_long_message_the_surest_question_wins_over_the_whole():
    ranking, questions = CLASSIFIER._by_parts(top("faq_scars", 0.3), [
        (False, top("faq_contraindications", 0.95)), (True, top("faq_downtime", 0.8))])
    assert questions == [] and ranking[0]["name"] == "faq_downtime"


def test_a_statement_or_small_talk_never_takes_over():
    ranking, _ = CLASSIFIER._by_parts(top("faq_pain", 0.6), [
        (False, top("faq_contraindications", 0.99)), (True, top("greet", 0.95))])
    assert ranking[0]["name"] == "faq_pain"


def test_a_question_with_a_request_answers_first_and_the_request_takes_the_intent():
    ranking, questions = CLASSIFIER._by_parts(top("book_consultation", 0.9), [
        (True, top("faq_cost", 0.9)), (True, top("book_consultation", 0.95))])
    assert questions == ["faq_cost", "book_consultation"]
    assert ranking[0]["name"] == "book_consultation"


def test_two_requests_make_no_compound_the_surest_one_is_done():
    ranking, questions = CLASSIFIER._by_parts(top("request_callback", 0.8), [
        (True, top("book_consultation", 0.95)), (True, top("request_human", 0.9))])
    assert questions == [] and ranking[0]["name"] == "book_consultation"


def test_stretched_letters_are_read_as_the_word():
    assert lemmas(tokens("hiiii sooo thx 1000")) == "hi so thx 1000"


def test_a_sure_question_after_small_talk_is_what_the_message_asks():
    ranking, _ = CLASSIFIER._by_parts(top("affirm", 0.9), [
        (False, top("affirm", 0.99)), (True, top("clinic_contact", 0.8))])
    assert ranking[0]["name"] == "clinic_contact"


class Ranked(LinearIntentClassifier):
    """The classifier with a fixed ranking for every text it reads."""

    def __init__(self, name: str, confidence: float) -> None:
        super().__init__({}, None, None, model={})
        self.ranking = top(name, confidence)

    def rankings(self, texts: List[str]) -> List[List[dict]]:
        return [self.ranking for _ in texts]


@pytest.mark.parametrize("text, confidence, intent", [
    ("Brenda Lugo", 0.58, "other"),  # a name at the name step, read as "stop" ("luego")
    ("Brenda Lugo", 0.9, "stop"),  # unless the classifier is sure
    ("stop it please", 0.58, "stop"),  # no name
    ("I want to change my name", 0.52, "other"),  # a detail to change, at any step
    ("quiero cambiar la hora", 0.6, "other"),
    ("stop, I want to change my name", 0.9, "stop")])  # unless the classifier is sure
def test_a_full_name_or_a_change_is_no_request_to_stop_unless_the_classifier_is_sure(
        text, confidence, intent):
    message = Message(data={"text": text, "text_tokens": tokens(text)})
    Ranked("stop", confidence).process([message])
    assert message.get("intent")["name"] == intent


@pytest.mark.parametrize("text, intent", [
    ("please change my name, use my full name", "other"),  # read 0.72 as "delete my data"
    ("cambia mi nombre, pon el completo", "other"),
    ("change my number and delete the old one", "delete_my_data")])  # an erasure word
def test_a_detail_to_change_is_no_erasure_request_without_an_erasure_word(text, intent):
    message = Message(data={"text": text, "text_tokens": tokens(text)})
    Ranked("delete_my_data", 0.72).process([message])
    assert message.get("intent")["name"] == intent


class Contact(LinearIntentClassifier):
    """The classifier reading every text as the clinic's contact, a little as an erasure."""

    def __init__(self) -> None:
        super().__init__({}, None, None, model={})

    def rankings(self, texts: List[str]) -> List[List[dict]]:
        return [[{"name": "clinic_contact", "confidence": 0.7},
                 {"name": "delete_my_data", "confidence": 0.29},
                 {"name": "other", "confidence": 0.01}] for _ in texts]


@pytest.mark.parametrize("text, intent", [
    ("I typed my phone number in here by accident, can you erase it?", "delete_my_data"),
    ("borra mi numero porfa, lo puse sin querer", "delete_my_data"),
    ("can you delete my number, and what's your email?", "clinic_contact"),  # theirs too
    ("what's your phone number", "clinic_contact")])
def test_the_visitors_own_detail_and_an_erasure_word_ask_to_erase_it(text, intent):
    message = Message(data={"text": text, "text_tokens": tokens(text)})
    Contact().process([message])
    assert message.get("intent")["name"] == intent
    assert message.get("intent")["confidence"] >= 0.7


def read(text: str, rankings: dict) -> str:
    """The intent of `text` by a classifier that ranks each text (the whole,
    a part) as `rankings` says."""
    message = Message(data={"text": text, "text_tokens": tokens(text)})
    ByText(rankings).process([message])
    return message.get("intent")["name"]


class ByText(LinearIntentClassifier):
    """The classifier with a ranking per text (the whole message or a part)."""

    def __init__(self, rankings: dict) -> None:
        super().__init__({}, None, None, model={})
        self.by_text = rankings

    def spelt(self, tokens: List[Token]) -> str:
        return " ".join(token.text for token in tokens)

    def rankings(self, texts: List[str]) -> List[List[dict]]:
        return [self.by_text[text] for text in texts]


@pytest.mark.parametrize("whole, intent", [
    (top("faq_skin_types", 0.8), "faq_skin_types"),  # sure of the whole: it says what is asked
    (top("faq_skin_types", 0.3), "faq_contraindications"),  # unsure: the question part
    (top("affirm", 0.9), "faq_contraindications")])  # small talk never hides the question
def test_a_lone_spanish_question_after_context_counts_when_the_whole_is_unsure(whole, intent):
    text = "tengo la piel sensible, ¿me lo puedo hacer?"
    assert read(text, {text: whole, "tengo la piel sensible,": top("faq_skin_types", 0.6),
                       "¿me lo puedo hacer?": top("faq_contraindications", 0.95)}) == intent


@pytest.mark.parametrize("last, intent", [
    ("i'd like to book the next one.", "book_consultation"),  # told, then asked for
    ("i don't want to book yet.", "faq_aftercare")])  # put off: the whole message
def test_a_request_said_last_after_things_told_is_the_request(last, intent):
    told = "my skin felt tight for a few hours after my last session."
    text = f"{told} {last}"
    assert read(text, {text: top("faq_aftercare", 0.8), told: top("faq_aftercare", 0.9),
                       last: top("book_consultation", 0.95)}) == intent


@pytest.mark.parametrize("opening, intent", [
    (top("stop", 0.9), "stop"),  # a stop, whatever reason follows
    (top("stop", 0.5), "faq_contraindications"),  # unsure of the opening: the whole
    (top("deny", 0.9), "faq_contraindications")])  # only a stop opens for the whole
def test_a_message_that_opens_with_a_stop_is_a_stop(opening, intent):
    text = "stop, I'll wait until after the baby arrives"
    assert read(text, {text: top("faq_contraindications", 0.6), "stop,": opening,
                       "I'll wait until after the baby arrives": top("faq_preparation", 0.8)}) == intent


@pytest.mark.parametrize("text, intent", [
    ("ah ok, y con eczema tampoco?", "faq_contraindications"),  # small talk, then a question
    ("ah ok, y con eczema tampoco", "acknowledge")])  # no question asked
def test_small_talk_before_a_question_asks_it(text, intent):
    rest = text.split(", ", 1)[1]
    assert read(text, {text: top("acknowledge", 0.68), "ah ok,": top("acknowledge", 0.99),
                       rest: top("faq_contraindications", 0.8)}) == intent


@pytest.mark.parametrize("whole, intent", [
    (top("greet", 0.5), "book_consultation"),  # the request after the greeting
    (top("faq_sessions", 0.9), "faq_sessions")])  # unless the whole is surer
def test_a_greeting_before_a_request_makes_the_request(whole, intent):
    text = "hola, quiero apartar mi segunda sesion"
    assert read(text, {text: whole, "hola,": top("greet", 0.99),
                       "quiero apartar mi segunda sesion": top("book_consultation", 0.82)}) == intent


@pytest.mark.parametrize("whole, intent", [
    (top("faq_vs_other_treatments", 0.43), "affirm"),  # too unsure to answer: the yes
    (top("faq_vs_other_treatments", 0.8), "faq_vs_other_treatments")])  # sure: the whole
def test_a_yes_opening_a_message_read_unsurely_is_a_yes(whole, intent):
    text = "si, mejor que me vean"
    assert read(text, {text: whole, "si,": top("affirm", 0.99),
                       "mejor que me vean": top("request_callback", 0.4)}) == intent


SPELLER = Speller({"often": ["often", 9], "contact": ["contact", 5], "sessions": ["session", 7],
                   "sessio": ["sessio", 1], "what": ["what", 50], "was": ["be", 40],
                   "data": ["data", 8], "como": ["como", 30], "funciona": ["funcionar", 6],
                   "quien": ["quien", 4], "recuperacion": ["recuperacion", 3]})


@pytest.mark.parametrize("typo, meant", [
    ("offten", "often"),      # a letter too many
    ("contcat", "contact"),   # two letters swapped
    ("sesions", "session"),   # a letter missing: the lemma of the word meant
    ("sessiom", "sessio"),    # one typo from "sessio" only
])
def test_a_word_one_typo_from_a_training_word_is_read_as_it(typo, meant):
    assert SPELLER.correct(typo) == meant


@pytest.mark.parametrize("spelt_by_ear, meant", [
    ("komo", "como"), ("funsiona", "funcionar"), ("kien", "quien"),
    ("rekuperasion", "recuperacion"),  # two letters from it, both as they sound
])
def test_a_word_spelt_as_a_training_word_sounds_in_spanish_is_read_as_it(spelt_by_ear, meant):
    assert SPELLER.correct(spelt_by_ear) == meant


@pytest.mark.parametrize("word", ["wat", "often", "blorpzingle", "covid19", "dana"])
def test_known_short_far_or_non_alphabetic_words_are_left_as_they_are(word):
    assert SPELLER.correct(word) == word


@pytest.mark.parametrize("text, is_request", [
    ("y me pasan su telefono", True), ("and i'd like to book", True),
    ("i don't want to book yet", False), ("todavía no quiero agendar", False),
    # only weighed: "does it swell? thinking about booking" asks no form
    ("thinking about booking", False), ("estoy pensando en agendar", False),
    # naming nothing asked for, had already, a condition
    ("I want to make sure I'm in good hands", False), ("ya tengo mi cita para el viernes", False),
    ("if I schedule it midweek", False)])
def test_a_request_said_as_a_statement_counts_unless_put_off(text, is_request):
    assert stated(tokens(text), top("book_consultation", 0.9)) is is_request
    assert not stated(tokens(text), top("faq_scars", 0.9))


@pytest.mark.parametrize("text, is_request", [
    ("quiero hablar con una persona", True), ("a real person please", True),
    # how they will come, not whom they ask for
    ("prefiero ir en persona", False), ("i'd rather come in person", False),
    # who is to treat them, not whom they ask for
    ("quiero que sea alguien preparado", False), ("i want it to be someone qualified", False),
    ("quiero hablar con alguien", True)])
def test_how_they_come_or_who_treats_them_is_no_request_for_a_person(text, is_request):
    assert stated(tokens(text), top("request_human", 0.9)) is is_request


@pytest.mark.parametrize("text, is_request", [
    ("and please call me back", True), ("ill just call", False), ("yo les marco", False)])
def test_a_call_the_visitor_will_make_is_no_call_back_request(text, is_request):
    assert stated(tokens(text), top("request_callback", 0.9)) is is_request


def test_before_and_after_asks_both_but_before_and_after_photos_do_not():
    assert BEFORE_AND_AFTER.search("what do i do before and after?")
    assert BEFORE_AND_AFTER.search("que hago antes y después del tratamiento")
    assert not BEFORE_AND_AFTER.search("do you have before and after photos?")


def test_the_whole_message_threshold_is_the_fallback_threshold():
    """A lone "¿...?" defers to the whole message exactly when the whole is
    sure enough not to be a "Did you mean" (config.yml)."""
    pipeline = {step["name"]: step for step in yaml.safe_load(open("config.yml"))["pipeline"]}
    ours = pipeline["components.linear_intent.LinearIntentClassifier"]
    assert ours["whole_threshold"] == pipeline["FallbackClassifier"]["threshold"]


def test_the_english_lemmas_read_number_as_number_not_numb():
    """spaCy's lookup table has "number" as the comparative of "numb": a
    visitor's "number?" read as a question on pain; and "mas" as the plural
    of "ma" (clinic/spacy_model.py)."""
    assert [token.lemma_ for token in spacy.load(TARGET)("number numbers numbing mas")] == [
        "number", "number", "numb", "mas"]


@pytest.mark.parametrize("text, asks", [("y si funciona de verdad?", True),
                                        ("pero si sirve para las manchas?", True),
                                        ("y si, agéndeme", False), ("si", False)])
def test_y_si_with_a_question_asks_rather_than_agrees(text, asks):
    assert bool(IF_QUESTION.match(text)) == asks


@pytest.mark.parametrize("text, before", [
    ("hola, ayer les dejé mis datos para que me llamaran", True),
    ("I left my number on your website last week", True),
    ("i already booked online yesterday", True),
    ("ayer les dejé mis datos, me pueden llamar hoy?", False),  # asked again now
    ("i left my number yesterday, can someone call me back", False),
    ("quiero agendar una cita", False)])
def test_a_request_made_before_and_only_told_is_no_new_request(text, before):
    assert asked_before(text) is before


@pytest.mark.parametrize("text, told", [
    ("Ya tengo mi cita para el viernes", True), ("Mi comadre me quiere llevar a su cita", True),
    ("I already have an appointment on friday", True), ("can i get an appointment friday", False)])
def test_an_appointment_had_already_or_someone_elses_is_no_request(text, told):
    assert had(tokens(text), top("book_consultation", 0.9)) is told
    assert not had(tokens(text), top("faq_aftercare", 0.9))


def trained(tmp_path, **config) -> LinearIntentClassifier:
    """A classifier trained on a few examples of three intents."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = {"faq_pain": ["does it hurt", "is microneedling painful", "will the needles hurt"],
                "faq_cost": ["how much does it cost", "what is the price", "is it expensive"],
                "out_of_scope": ["what is the weather", "tell me a joke", "do you sell cars"]}
    classifier = LinearIntentClassifier.create(
        {"C": 100, **config}, LocalModelStorage(tmp_path), Resource("classifier"),
        ExecutionContext(GraphSchema({}), "test"))
    classifier.train(TrainingData([
        Message(data={"text": text, "text_tokens": tokens(text), "intent": intent})
        for intent, texts in examples.items() for text in texts]))
    return classifier


def test_the_nearest_examples_vote_for_their_own_intents(tmp_path):
    classifier = trained(tmp_path, neighbours=2)
    votes = classifier.neighbour_votes(["does it hurt", "what is the price"])
    classes = list(classifier.model["classifier"].classes_)
    assert votes[0].argmax() == classes.index("faq_pain")
    assert votes[1].argmax() == classes.index("faq_cost")
    assert votes.sum(axis=1) == pytest.approx([1, 1])


def test_the_vote_takes_its_share_of_the_probabilities_and_leaves_out_of_scope_alone(tmp_path):
    classifier = trained(tmp_path, neighbours=2, neighbour_weight=0.3)
    texts = ["does it hurt or is the price", "tell me a joke about cars"]
    probabilities, votes = classifier.probabilities(texts), classifier.neighbour_votes(texts)
    blended = classifier.blended(texts)
    assert blended[0] == pytest.approx(0.7 * probabilities[0] + 0.3 * votes[0])
    assert blended[1] == pytest.approx(probabilities[1])  # out_of_scope, first: not voted on
    assert classifier.model["classifier"].classes_[probabilities[1].argmax()] == "out_of_scope"


def test_the_examples_the_vote_reads_are_kept_in_the_model_files(tmp_path):
    import numpy as np
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    classifier = trained(tmp_path, neighbours=2, neighbour_weight=0.3)
    loaded = LinearIntentClassifier.load(
        {"C": 100, "neighbours": 2, "neighbour_weight": 0.3}, LocalModelStorage(tmp_path),
        Resource("classifier"), ExecutionContext(GraphSchema({}), "test"))
    texts = ["does it hurt", "price of the needles", "do you sell jokes"]
    assert loaded.blended(texts) == pytest.approx(classifier.blended(texts), abs=1e-12)
    # kept in single precision, as fitted: Rasa's gzip packs doubles made
    # from singles sixteen times slower
    with np.load(tmp_path / "classifier" / "weights.npz") as weights:
        assert weights["coef"].dtype == weights["examples_data"].dtype == np.float32
    assert loaded.model["classifier"].coef_.dtype == loaded.examples.dtype == np.float64


def test_fitted_in_single_precision_it_keeps_double_coefficients_and_the_same_answers(tmp_path):
    """A float32 model would make every message's product copy the
    coefficients; and the single-precision fit reaches the same optimum."""
    import numpy as np

    from components.linear_intent import fit

    classifier = trained(tmp_path)
    fitted = classifier.model["classifier"]
    assert fitted.coef_.dtype == np.float64 and fitted.intercept_.dtype == np.float64
    texts = ["does it hurt", "price of the needles", "do you sell jokes"]
    examples = ["does it hurt", "is microneedling painful", "will the needles hurt",
                "how much does it cost", "what is the price", "is it expensive",
                "what is the weather", "tell me a joke", "do you sell cars"]
    intents = ["faq_pain"] * 3 + ["faq_cost"] * 3 + ["out_of_scope"] * 3
    double = fit(classifier.features([lemmas(tokens(text)) for text in examples]), intents, 100)
    assert classifier.probabilities(texts) == pytest.approx(
        double.predict_proba(classifier.features(texts)), abs=1e-4)


def test_a_model_trained_before_the_vote_loads_and_ranks_by_the_classifier_alone(tmp_path):
    """The model in service, or one rolled back to, may have no examples stored."""
    import numpy as np
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    trained(tmp_path, neighbours=2, neighbour_weight=0.3)
    weights_file = tmp_path / "classifier" / "weights.npz"
    with np.load(weights_file) as weights:
        older = {key: weights[key] for key in ("words_idf", "chars_idf", "coef", "intercept")}
    np.savez(weights_file, **older)
    loaded = LinearIntentClassifier.load(
        {"C": 100, "neighbours": 2, "neighbour_weight": 0.3}, LocalModelStorage(tmp_path),
        Resource("classifier"), ExecutionContext(GraphSchema({}), "test"))
    texts = ["does it hurt or is the price"]
    assert loaded.examples is None
    assert loaded.blended(texts) == pytest.approx(loaded.probabilities(texts), abs=0)


def test_a_request_made_before_takes_the_confidence_of_every_request_and_the_contact():
    """Each gets the same reply, the clinic's contact details: together they
    are surer than the data deletion the words "mis datos" lean to."""
    text = "ayer les dejé mis datos para que me llamaran"
    message = Message(data={"text": text, "text_tokens": tokens(text)})
    ByText({text: [{"name": "request_callback", "confidence": 0.45},
                   {"name": "delete_my_data", "confidence": 0.36},
                   {"name": "clinic_contact", "confidence": 0.12},
                   {"name": "book_consultation", "confidence": 0.07}]}).process([message])
    assert [(ranked["name"], round(ranked["confidence"], 2))
            for ranked in message.get("intent_ranking")] == [
        ("clinic_contact", 0.64), ("delete_my_data", 0.36)]
