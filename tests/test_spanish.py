"""A Spanish-speaking visitor over REST and WhatsApp, with the real Rasa
server and action server: answers, buttons and the booking in Spanish, the
conversation keeping its language through short replies, and switching
back to English."""
import pytest

from actions.actions import KNOWLEDGE
from tests.support.assistant import new_sender
from tests.support.booking import staff_list
from tests.support.replies import ASK_CONSENT, ASK_NAME, in_spanish
from tests.support.visitors import WhatsAppVisitor

pytestmark = pytest.mark.e2e

TOPIC = KNOWLEDGE.by_id


def texts(replies):
    return [reply.get("text", "") for reply in replies]


def titles(replies):
    return [button["title"] for reply in replies for button in reply.get("buttons", [])]


def test_a_spanish_question_gets_the_spanish_answer_and_spanish_buttons(assistant):
    replies = assistant.say("¿cuánto tiempo tarda en recuperarse la piel después?")
    downtime = TOPIC["downtime"]
    assert texts(replies) == [KNOWLEDGE.answer(downtime, "es")]
    assert titles(replies) == [topic.es.title for topic in KNOWLEDGE.related(downtime)]


def test_short_replies_keep_spanish_and_an_english_question_switches_back(assistant):
    sender = new_sender()
    scars = assistant.say("hola, tengo cicatrices de acne, me sirve el microneedling?", sender)
    assert texts(scars) == [KNOWLEDGE.answer(TOPIC["scars"], "es")]
    assert texts(assistant.say("precio?", sender))[0] == KNOWLEDGE.answer(TOPIC["cost"], "es")
    assert texts(assistant.say("gracias", sender))[0].startswith(in_spanish("utter_thanks"))
    english = assistant.say("thanks! and does it hurt?", sender)
    assert texts(english)[-1] == KNOWLEDGE.answer(TOPIC["pain"])
    assert texts(assistant.say("ok", sender))[0].startswith("Great!")


def test_a_question_in_a_third_language_says_which_two_are_served(assistant):
    [reply] = assistant.say("quanto custa o microagulhamento no rosto?")
    assert reply["text"].startswith("Sorry, I can only answer in English or Spanish")
    assert "solo puedo responder en inglés o en español" in reply["text"]
    # its words known from the Spanish examples, Portuguese all the same
    [known] = assistant.say("oi, vcs fazem microagulhamento pra cicatriz de acne? queria saber")
    assert known["text"] == reply["text"]


def test_a_spanish_message_without_small_words_and_a_compound_question(assistant):
    how = TOPIC["how_it_works"]
    assert texts(assistant.say("usan rodillo o pluma?")) == [KNOWLEDGE.answer(how, "es")]
    both = texts(assistant.say("es seguro y cuanto cuesta?"))
    assert both[:2] == [KNOWLEDGE.answer(TOPIC["safety"], "es"),
                        KNOWLEDGE.answer(TOPIC["cost"], "es")]
    # a request said after the "¿...?" is asked too: the price, then the phone
    asked = texts(assistant.say("¿cuánto cuesta? y me pasan su teléfono"))
    assert asked[0] == KNOWLEDGE.answer(TOPIC["cost"], "es") and KNOWLEDGE.clinic.phone in asked[1]


def test_a_spanish_visitor_books_with_a_spanish_date(assistant):
    sender = new_sender()

    def say(text: str) -> str:
        return texts(assistant.say(text, sender))[-1]

    assert say("quiero agendar una cita para una consulta").startswith(
        in_spanish("utter_ask_treatment_area"))
    assert say("las cicatrices de acne en mis mejillas").startswith(in_spanish("utter_ask_consent"))
    digression = texts(assistant.say("espera, ¿duele mucho?", sender))
    assert digression[0] == KNOWLEDGE.answer(TOPIC["pain"], "es")
    assert digression[-1].startswith(in_spanish("utter_ask_consent"))
    assert say("sí").startswith(in_spanish("utter_ask_name"))
    assert say("me llamo Ana López").startswith(in_spanish("utter_ask_contact"))
    assert say("mi cel es 801 555 0143").startswith(in_spanish("utter_ask_preferred_time"))
    confirm = say("el próximo martes por la tarde")
    assert confirm.startswith(in_spanish("utter_ask_confirmed"))
    assert "Ana López" in confirm and "martes" in confirm
    assert say("cambia mi teléfono porfa, ese es el del trabajo").startswith(
        in_spanish("utter_ask_contact"))
    assert say("801 555 0199").startswith(in_spanish("utter_ask_confirmed"))
    assert say("sí").startswith(in_spanish("utter_booking_saved"))
    [booking] = [row for row in staff_list(assistant) if row["sender_id"] == sender]
    assert (booking["name"], booking["contact"]) == ("Ana López", "+18015550199")
    assert booking["preferred_time"].startswith("martes ") and "a las 14:00" in confirm


def test_a_booking_request_that_names_the_treatment_starts_the_booking(assistant):
    """The treatment named ("las estrías") does not make it a question about it."""
    reply = texts(assistant.say("necesito una cita para el tratamiento de las estrías"))
    assert reply[-1].startswith(in_spanish("utter_ask_treatment_area"))


def test_a_spanish_visitor_on_whatsapp_gets_spanish_answers_and_labels(channels):
    visitor = WhatsAppVisitor(channels)
    mark = channels.graph.mark()
    greeting = visitor.say("hola, buenas tardes", in_spanish("utter_greet"))
    assert [option.title for option in greeting.options] == [
        topic.es.title for topic in KNOWLEDGE.suggested]
    [listed] = [request.body["interactive"] for request in channels.graph.since(mark)
                if request.body.get("interactive", {}).get("type") == "list"]
    assert listed["action"]["button"] == in_spanish("utter_list_button")
    pain = TOPIC["pain"]
    answer = visitor.say("y duele mucho?", KNOWLEDGE.answer(pain, "es"))
    assert [option.title for option in answer.options] == [
        topic.es.title for topic in KNOWLEDGE.related(pain)]


def test_a_visitor_who_goes_on_in_spanish_is_answered_in_spanish(assistant):
    replies = assistant.say("is it painful? digo, duele mucho?")
    assert texts(replies) == [KNOWLEDGE.answer(TOPIC["pain"], "es")]


def test_an_english_question_with_spanish_words_mixed_in_is_answered_in_spanish(assistant):
    replies = assistant.say("any side effects? o riesgos")
    assert texts(replies) == [KNOWLEDGE.answer(TOPIC["side_effects"], "es")]


def test_yes_to_the_consent_with_a_switch_to_english_goes_on_in_english(assistant):
    sender = new_sender()
    assistant.say("quiero agendar una cita", sender)
    assistant.say("la cara", sender)
    [name] = texts(assistant.say("yes, that's fine. Can we continue in English?", sender))
    assert name.startswith(ASK_NAME)


def test_an_answer_with_a_switch_to_english_is_kept_and_the_booking_goes_on_in_english(assistant):
    sender = new_sender()
    assistant.say("quiero hacer una cita", sender)
    [consent] = texts(assistant.say(
        "acne scars. sorry my Spanish is not great, can we do this in English?", sender))
    assert consent.startswith(ASK_CONSENT)
    [name] = texts(assistant.say("yes", sender))
    assert name.startswith(ASK_NAME)
