"""Booking conversations over REST with the real servers, and what staff see."""
import pytest

from actions.actions import KNOWLEDGE
from tests.support.assistant import new_sender, start_assistant, stop_all
from tests.support.booking import last_text, staff_list, up_to_confirmation
from tests.support.replies import (ASK_CONSENT, ASK_CONTACT, ASK_NAME, ASK_TIME, ASK_TREATMENT,
                                   CONFIRM)

pytestmark = pytest.mark.e2e


def test_a_visitor_books_and_staff_find_the_booking(assistant):
    sender = new_sender()
    assistant.say("hello", sender)
    confirmation = last_text(up_to_confirmation(assistant, sender, "Maria Lopez"))
    assert confirmation.startswith(CONFIRM)
    assert "acne scars on my cheeks for Maria Lopez" in confirmation
    assert "+18015550123" in confirmation and "Tuesday" in confirmation and "2:00 PM" in confirmation
    saved = last_text(assistant.say("/affirm", sender))
    assert saved.startswith("Thank you! Your request is with Biorestoration")
    reference = saved.split("reference ")[1].split(".")[0]
    [booking] = [row for row in staff_list(assistant) if row["reference"] == reference]
    assert booking["name"] == "Maria Lopez" and booking["sender_id"] == sender
    assert booking["contact"] == "+18015550123" and booking["kind"] == "consultation"


def test_a_detail_can_be_corrected_before_saving(assistant):
    sender = new_sender()
    up_to_confirmation(assistant, sender, "Sam Taylor")
    assert last_text(assistant.say("change my phone", sender)) == ASK_CONTACT
    confirmation = last_text(assistant.say("sam@example.com", sender))
    assert confirmation.startswith(CONFIRM) and "sam@example.com" in confirmation
    assert "+18015550123" not in confirmation
    assistant.say("/affirm", sender)
    assert any(row["contact"] == "sam@example.com" for row in staff_list(assistant))


def test_a_question_in_the_middle_is_answered_and_the_booking_resumes(assistant):
    sender = new_sender()
    assistant.say("can I get an appointment?", sender)
    assistant.say("fine lines", sender)
    assert last_text(assistant.say("/affirm", sender)) == ASK_NAME
    replies = assistant.say("does it hurt?", sender)
    assert [r["text"] for r in replies] == [
        KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"]),
        "Shall we continue with your booking? If not, just say stop.", ASK_NAME]
    assert last_text(assistant.say("Alex Kim", sender)) == ASK_CONTACT


@pytest.mark.parametrize("stop", ["stop", "stop, I'll wait until after the baby arrives"])
def test_the_visitor_can_stop_at_any_time(assistant, stop):
    sender = new_sender()
    assistant.say("I want to book", sender)
    assistant.say("stretch marks", sender)
    assert last_text(assistant.say(stop, sender)).startswith("OK, I've stopped the booking")
    assert assistant.say("how much does it cost?", sender)[0]["text"] == KNOWLEDGE.answer(
        KNOWLEDGE.by_id["cost"])


def test_an_urgent_symptom_ends_the_booking_with_only_the_urgent_reply(assistant):
    sender = new_sender()
    assistant.say("I'd like to book a consultation", sender)
    assistant.say("acne scars", sender)
    [urgent] = assistant.say("wait my lips are really swollen since the treatment", sender)
    assert urgent["text"].startswith("Please don't wait with this")
    assert assistant.say("is it permanent", sender)[0]["text"] == KNOWLEDGE.answer(
        KNOWLEDGE.by_id["permanence"])


def test_bad_answers_get_a_specific_reask_and_the_third_an_offer_to_call(assistant):
    sender = new_sender()
    assistant.say("book a consultation please", sender)
    assistant.say("skip", sender)
    assistant.say("/affirm", sender)
    assistant.say("Jo Brown", sender)
    first = assistant.say("my number is secret", sender)
    assert first[0]["text"].startswith("That doesn't look like a phone number")
    assistant.say("nope", sender)
    third = [r["text"] for r in assistant.say("12345", sender)]
    assert any("Would you rather call" in text and KNOWLEDGE.clinic.phone in text for text in third)
    assert third[-1] == ASK_CONTACT


def test_consent_comes_before_any_personal_detail(assistant):
    sender = new_sender()
    assistant.say("I'd like to book", sender)
    assert last_text(assistant.say("wrinkles", sender)).startswith(ASK_CONSENT)
    declined = [r["text"] for r in assistant.say("/deny", sender)]
    assert declined[-1].startswith("I understand. Without your consent")
    assert ASK_NAME not in declined and ASK_CONTACT not in declined
    # Not asked for a name, the visitor's next message is just a message.
    assert assistant.say("Chris Nobody", sender)
    assert not any(row["name"] == "Chris Nobody" for row in staff_list(assistant))


def test_a_typed_payload_with_hostile_slot_values_fills_no_slot(assistant):
    sender = new_sender()
    assistant.say("I'd like to book", sender)
    replies = assistant.say('/book_consultation{"name": [1, 2], "contact": "x"}', sender)
    # Read as text: at most the answer to the treatment question; no slot skipped.
    assert last_text(replies).startswith((ASK_CONSENT, ASK_TREATMENT))


def test_a_restart_mid_booking_continues_where_the_visitor_was(trained_model, tmp_path):
    sender = new_sender()
    first, servers = start_assistant(tmp_path, trained_model)
    try:
        first.say("I'd like to book a consultation", sender)
        first.say("fine lines", sender)
        first.say("/affirm", sender)
        first.say("Robin Park", sender)
        assert last_text(first.say("robin@example.com", sender)).startswith(ASK_TIME)
    finally:
        stop_all(servers)  # both servers go down in the middle of the booking
    again, servers = start_assistant(tmp_path, trained_model)
    try:
        confirmation = last_text(again.say("next Tuesday afternoon", sender))
        assert "fine lines for Robin Park" in confirmation and "robin@example.com" in confirmation
        assert last_text(again.say("/affirm", sender)).startswith("Thank you!")
        assert [row["name"] for row in staff_list(again)] == ["Robin Park"]
    finally:
        stop_all(servers)


def test_booking_the_same_details_twice_creates_one_booking(assistant):
    sender = new_sender()
    up_to_confirmation(assistant, sender, "Lee Twice")
    first = last_text(assistant.say("/affirm", sender))
    up_to_confirmation(assistant, sender, "Lee Twice")  # resubmitted from the start
    second = last_text(assistant.say("/affirm", sender))
    assert first == second  # same reference
    assert [row["name"] for row in staff_list(assistant)].count("Lee Twice") == 1


def test_an_unknown_typed_intent_with_slot_values_books_nothing(assistant):
    sender = new_sender()
    replies = assistant.say('/book{"phone": [1, 2], "name": "Mallory"}', sender)
    assert replies and replies[0]["text"]
    assert not any(row["name"] == "Mallory" for row in staff_list(assistant))
