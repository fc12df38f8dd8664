"""A booking over the REST channel, and the bookings as staff list them."""
import json
import subprocess

from tests.support.project import ENV, VENV_BIN
from tests.support.replies import ASK_CONSENT, ASK_CONTACT, ASK_NAME, ASK_TIME, ASK_TREATMENT


def last_text(replies) -> str:
    return replies[-1]["text"]


def staff_list(assistant) -> list:
    """`clinic bookings list --json` on the assistant's booking database."""
    listed = subprocess.run([str(VENV_BIN / "clinic"), "bookings", "list", "--json"],
                            env={**ENV, "DATABASE_URL": assistant.database_url},
                            capture_output=True, text=True, check=True)
    return json.loads(listed.stdout)


def up_to_confirmation(assistant, sender: str, name: str, contact: str = "801-555-0123") -> list:
    """Every step of the booking form, up to the confirmation (its replies)."""
    assert last_text(assistant.say("I'd like to book a consultation", sender)).startswith(ASK_TREATMENT)
    assert last_text(assistant.say("acne scars on my cheeks", sender)).startswith(ASK_CONSENT)
    assert last_text(assistant.say("/affirm", sender)) == ASK_NAME
    assert last_text(assistant.say(name, sender)) == ASK_CONTACT
    assert last_text(assistant.say(contact, sender)).startswith(ASK_TIME)
    return assistant.say("next Tuesday afternoon", sender)
