"""Personal data in stored conversations: masked, and cleared from slots."""
import json
import sqlite3

import pytest

from core.redaction import redact
from tests.conftest import new_sender
from tests.test_booking_e2e import up_to_confirmation

CLINIC_CONTACT = ("801-501-9797", "info@biorestoration.com")


@pytest.mark.parametrize("text, masked", [
    ("call me on 801-555-0123 or me@example.com", "call me on [phone] or [email]"),
    ("my number is +44 20 7946 0958", "my number is [phone]"),
    ("reach me: (801) 555 0199!", "reach me: [phone]!"),
    ("my cell 8015550123", "my cell [phone]"),
    ("first.last+tag@mail.example.org", "[email]"),
])
def test_phone_numbers_and_emails_are_masked(text, masked):
    assert redact(text, "US", keep=CLINIC_CONTACT) == masked


@pytest.mark.parametrize("text", ["I need 3 sessions, 2 weeks apart", "next tuesday at 2pm",
                                  "on 12/03/2026 at 11",
                                  "call 801-501-9797 or info@biorestoration.com"])
def test_ordinary_numbers_and_the_clinics_own_contact_are_kept(text):
    assert redact(text, "US", keep=CLINIC_CONTACT) == text


def stored_messages(assistant, sender):
    with sqlite3.connect(assistant.trackers) as db:
        rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ?",
                          (sender,)).fetchall()
    return [(kind, json.loads(data)) for kind, data in rows]


def test_stored_conversations_hold_no_visitor_phone_or_email(assistant):
    sender = new_sender()
    assistant.say("hi, my number is 801-555-0123 and my email is pat@example.com", sender)
    up_to_confirmation(assistant, sender, "Pat Private")  # gives 801-555-0123 again
    assistant.say("/affirm", sender)
    rows = stored_messages(assistant, sender)
    messages = [data.get("text") or "" for kind, data in rows if kind in ("user", "bot")]
    assert any("[phone]" in text for text in messages)
    for kind, data in rows:
        if kind in ("user", "bot"):
            dumped = json.dumps(data)
            assert "555-0123" not in dumped and "5550123" not in dumped
            assert "pat@example.com" not in dumped


def test_personal_details_are_cleared_from_the_slots_once_saved(assistant):
    sender = new_sender()
    up_to_confirmation(assistant, sender, "Sam Slots")
    assistant.say("/affirm", sender)
    slots = {}
    for kind, data in stored_messages(assistant, sender):
        if kind == "slot":
            slots[data["name"]] = data["value"]
    for slot in ("name", "contact", "preferred_time", "treatment_area", "consent", "confirmed"):
        assert slots[slot] is None, slot
    personal = [data for kind, data in stored_messages(assistant, sender)
                if kind == "slot" and data["name"] in ("name", "contact")]
    assert personal and all(event["value"] is None for event in personal)


def test_no_log_holds_a_visitors_message_or_details(assistant):
    """A canary: unique details go in through every path, errors included,
    and must come out in no server log."""
    import requests

    name, phone, email = "Zelda Quokkafield", "801-555-0177", "zelda.quokka@example.com"
    sender = new_sender()
    up_to_confirmation(assistant, sender, name, email)
    assistant.say(f"and my phone is {phone}", sender)
    assistant.say(f'/book_consultation{{"name": "{name}", "contact": "{phone}"}}', sender)
    assistant.say(f"my lips are swollen, call {phone}", new_sender())
    assistant.say(f"{name} " * 700, new_sender())  # long, under the 16 KB cap
    requests.post(assistant.webhook, data=f'{{"sender": "{email}", "message": "{name}',
                  headers={"Content-Type": "application/json"}, timeout=10)
    assistant.say("delete my data", sender)
    assistant.say("/affirm", sender)
    for log in assistant.logs:
        written = log.read_text()
        for secret in (name, "Quokkafield", phone, "5550177", email):
            assert secret not in written, f"{secret!r} found in {log.name}"
