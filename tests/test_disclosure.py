"""The first reply of every conversation says what the assistant is."""
import pytest

from tests.support.assistant import new_sender
from tests.support.replies import DISCLOSURE

pytestmark = pytest.mark.e2e

PRIVACY = "Privacy notice: ask Biorestoration Medical & Aesthetics at info@biorestoration.com."


def texts(replies):
    return [reply["text"] for reply in replies]


def test_the_first_reply_discloses_an_automated_assistant_and_the_privacy_notice(assistant):
    sender = new_sender()
    first = texts(assistant.say("does it hurt?", sender, keep_disclosure=True))
    assert first[0].startswith(DISCLOSURE)
    assert "not medical advice" in first[0] and PRIVACY in first[0]
    assert first[1].startswith("A numbing cream is applied")
    later = texts(assistant.say("is it permanent?", sender, keep_disclosure=True))
    assert not any(text.startswith(DISCLOSURE) for text in later)


def test_a_greeting_carries_the_disclosure_itself(assistant):
    [greeting] = assistant.say("hello", keep_disclosure=True)
    assert "automated assistant" in greeting["text"] and "not medical advice" in greeting["text"]
    assert "Privacy notice: ask Biorestoration" in greeting["text"]


def test_the_booking_opens_with_the_disclosure_too(assistant):
    first = texts(assistant.say("I'd like to book a consultation", keep_disclosure=True))
    assert first[0].startswith(DISCLOSURE)
    assert first[1].startswith("Happy to help you book a consultation.")


def test_an_urgent_first_message_gets_only_the_urgent_reply_and_the_next_discloses(assistant):
    sender = new_sender()
    [urgent] = assistant.say("my lips are swelling up after microneedling", sender,
                             keep_disclosure=True)
    assert urgent["text"].startswith("Please don't wait with this")
    after = texts(assistant.say("thanks", sender, keep_disclosure=True))
    assert after[0].startswith(DISCLOSURE) and after[1].startswith("You're welcome")
