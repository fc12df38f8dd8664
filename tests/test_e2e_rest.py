"""Short conversations with the real Rasa server and action server over REST."""
import json
import re
import subprocess

import pytest
import requests

from actions.actions import KNOWLEDGE
from tests.support.assistant import new_sender
from tests.support.project import ENV, VENV_BIN

pytestmark = pytest.mark.e2e

PHONE = KNOWLEDGE.clinic.phone


def texts(replies):
    return [reply.get("text", "") for reply in replies]


def payloads(replies):
    return [button["payload"] for reply in replies for button in reply.get("buttons", [])]


def test_a_greeting_introduces_an_automated_assistant_not_medical_advice(assistant):
    [reply] = assistant.say("hello")
    assert "automated assistant of Biorestoration Medical & Aesthetics" in reply["text"]
    assert "not medical advice" in reply["text"]
    assert payloads([reply]) == [f"/{topic.intent}" for topic in KNOWLEDGE.suggested]


def test_a_question_is_answered_from_the_knowledge_file_with_related_buttons(assistant):
    replies = assistant.say("does microneedling hurt?")
    pain = KNOWLEDGE.by_id["pain"]
    assert texts(replies) == [KNOWLEDGE.answer(pain)]
    assert payloads(replies) == [f"/{topic.intent}" for topic in KNOWLEDGE.related(pain)]


def test_a_button_payload_asks_its_topic_and_consult_topics_offer_a_consultation(assistant):
    replies = assistant.say("/faq_cost")
    assert texts(replies)[0] == KNOWLEDGE.answer(KNOWLEDGE.by_id["cost"])
    assert PHONE in texts(replies)[0]
    assert "consultation" in texts(replies)[1]
    assert "/book_consultation" in payloads(replies)


def test_a_conversation_of_several_turns(assistant):
    sender = new_sender()
    assistant.say("hi there", sender)
    assert texts(assistant.say("are the results permanent", sender)) == [
        KNOWLEDGE.answer(KNOWLEDGE.by_id["permanence"])]
    assert texts(assistant.say("how many sessions would I need", sender)) == [
        KNOWLEDGE.answer(KNOWLEDGE.by_id["sessions"])]
    [thanks] = assistant.say("thank you!", sender)
    assert thanks["text"].startswith("You're welcome")


def test_clinic_questions_are_answered_from_the_profile(assistant):
    assert PHONE in texts(assistant.say("what's your phone number"))[0]
    assert "Draper, Utah" in texts(assistant.say("where is the clinic located"))[0]
    hours = texts(assistant.say("what are your opening hours"))[0]
    assert "don't have the clinic's opening hours" in hours and PHONE in hours


def test_out_of_scope_is_refused_politely_never_answered(assistant):
    [reply] = assistant.say("can you tell me a joke")
    assert reply["text"].startswith("Sorry, I can only help with microneedling")
    assert all(reply["text"] != KNOWLEDGE.answer(topic) for topic in KNOWLEDGE.topics)


ASK_CONSENT = "Next I'll ask for your name and a phone number or email."
DID_YOU_MEAN = "Sorry, I'm not sure I understood. Did you mean one of these?"
CANNOT_HELP = "Sorry, I didn't understand."


def is_fallback(replies) -> bool:
    """The assistant asked or said what it can do, and answered no topic."""
    return texts(replies)[0] == DID_YOU_MEAN or texts(replies)[0].startswith(CANNOT_HELP)


@pytest.mark.parametrize("opening", ["", " \n", "/get_started", "/greet"])
def test_an_empty_message_or_a_start_payload_is_greeted(assistant, opening):
    """A chat widget's first message (rasa-webchat's initPayload) is no miss."""
    sender = new_sender()
    [greeting] = assistant.say(opening, sender, keep_disclosure=True)
    assert greeting["text"].startswith("Hi! I'm the automated assistant")
    assert payloads([greeting]) == [f"/{topic.intent}" for topic in KNOWLEDGE.suggested]


@pytest.mark.parametrize("thumbs_up", ["👍", "👍🏽", "👍 👍"])
def test_a_thumbs_up_is_acknowledged(assistant, thumbs_up):
    sender = new_sender()
    assistant.say("does it hurt?", sender)
    [reply] = assistant.say(thumbs_up, sender)
    assert reply["text"].startswith("You're welcome")


@pytest.mark.parametrize("miss", ["blorptastic zinglewomp", "what about that other thing"])
def test_the_first_miss_never_says_still(assistant, miss):
    """"Still" would blame the visitor for a miss that never happened."""
    sender = new_sender()
    assistant.say("", sender)  # a widget's empty opening message
    replies = assistant.say(miss, sender)
    assert is_fallback(replies)
    assert not re.search(r"\bstill\b", " ".join(texts(replies)), re.IGNORECASE)


def test_two_misses_in_a_row_offer_a_person_and_start_no_form(assistant):
    sender = new_sender()
    assert is_fallback(assistant.say("blorptastic zinglewomp", sender))
    # nothing has told the visitor's language yet: the same, in short, in Spanish
    second, in_spanish = assistant.say("frumious bandersnatch", sender)
    assert in_spanish["text"].startswith("Perdón, no entendí")
    assert second["text"].startswith(CANNOT_HELP) and "in English" in second["text"]
    assert PHONE in second["text"]
    assert second["buttons"][-1]["payload"] == "/request_callback"
    assert texts(assistant.say("does it hurt?", sender)) == [
        KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"])]


def test_a_call_back_request_is_stored_for_the_clinic(assistant):
    sender = new_sender()
    [consent] = texts(assistant.say("/request_callback", sender))
    assert consent.startswith(ASK_CONSENT)
    assert texts(assistant.say("/affirm", sender)) == ["What name should the clinic use for you?"]
    assistant.say("Pat Lee", sender)
    saved = texts(assistant.say("pat@example.com", sender))[-1]
    assert saved.startswith("Thank you! The team at Biorestoration Medical & Aesthetics will call")
    reference = saved.split("reference is ")[1].rstrip(".")
    listed = subprocess.run([str(VENV_BIN / "clinic"), "bookings", "list", "--json"],
                            env={**ENV, "DATABASE_URL": assistant.database_url},
                            capture_output=True, text=True, check=True)
    [row] = [row for row in json.loads(listed.stdout) if row["reference"] == reference]
    assert (row["kind"], row["name"], row["contact"]) == ("callback", "Pat Lee", "pat@example.com")
    # Asked again, the call back is one the clinic has: its reference, no new form.
    [again] = texts(assistant.say("so when will you call me back?", sender))
    assert again.startswith("The clinic already has your request") and reference in again
    assistant.say("delete my data", sender)
    assistant.say("/affirm", sender)
    assert texts(assistant.say("/request_callback", sender))[-1].startswith(ASK_CONSENT)


def test_a_personal_medical_question_gets_general_information_and_a_consultation(assistant):
    replies_ = assistant.say("I'm pregnant, can I have microneedling?")
    said = texts(replies_)
    assert said[0] == KNOWLEDGE.answer(KNOWLEDGE.by_id["contraindications"])
    assert "consultation" in said[1] and "/book_consultation" in payloads(replies_)
    assert not any(text.lower().startswith("yes") for text in said)


def test_emoji_are_never_answered_with_a_guess(assistant):
    assert is_fallback(assistant.say("😍😍😍"))


@pytest.mark.parametrize("message", ["Dói o microagulhamento?", "Tut das Microneedling weh?",
                                     "微针疼吗", "هل يؤلم الوخز بالإبر الدقيقة"])
def test_another_language_gets_a_clear_reply_in_english_with_the_phone(assistant, message):
    [reply] = assistant.say(message)
    assert reply["text"].startswith("Sorry, I can only answer in English or Spanish for now.")
    assert PHONE in reply["text"]


def test_a_huge_message_gets_a_reply(assistant):
    replies = assistant.say("does it hurt " * 1000)
    assert replies and replies[0]["text"]


def test_an_empty_message_gets_a_reply(assistant):
    replies = assistant.say("")
    assert replies and replies[0]["text"]


def test_malformed_json_is_refused_with_a_client_error(assistant):
    response = requests.post(assistant.webhook, data="{not json",
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert 400 <= response.status_code < 500
