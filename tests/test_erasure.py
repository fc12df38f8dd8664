"""Erasing visitors' data: in the chat, by staff, and by age; others untouched."""
import datetime
import sqlite3
import subprocess

import pytest
from sqlalchemy import update

from actions import store
from tests.support.assistant import new_sender
from tests.support.booking import staff_list, up_to_confirmation
from tests.support.project import ENV, VENV_BIN

pytestmark = pytest.mark.e2e


def events_of(assistant, sender: str) -> int:
    with sqlite3.connect(assistant.trackers) as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


def book(assistant, name: str, contact: str = "801-555-0123") -> str:
    sender = new_sender()
    up_to_confirmation(assistant, sender, name, contact)
    assistant.say("/affirm", sender)
    return sender


def test_delete_my_data_in_the_chat_erases_only_that_visitor(assistant):
    other = book(assistant, "Olive Other")
    sender = book(assistant, "Dana Dale")
    assert events_of(assistant, sender) > 0
    confirm = assistant.say("please delete my data", sender)
    assert confirm[0]["text"].startswith("Do you want me to delete this conversation")
    [done] = assistant.say("/affirm", sender)
    assert done["text"].startswith("Done: I deleted this conversation and 1 booking request(s)")
    assert events_of(assistant, sender) == 0
    names = [row["name"] for row in staff_list(assistant)]
    assert "Dana Dale" not in names and "Olive Other" in names
    assert events_of(assistant, other) > 0


def test_not_confirming_deletes_nothing(assistant):
    sender = book(assistant, "Kim Keep")
    assistant.say("delete my data", sender)
    assert assistant.say("/deny", sender)[0]["text"] == "OK, I haven't deleted anything."
    assert "Kim Keep" in [row["name"] for row in staff_list(assistant)]
    assert events_of(assistant, sender) > 0


def clinic(assistant, *args: str) -> str:
    env = {**ENV, "DATABASE_URL": assistant.database_url,
           "TRACKER_DATABASE_URL": f"sqlite:///{assistant.trackers}"}
    return subprocess.run([str(VENV_BIN / "clinic"), *args], env=env, capture_output=True,
                          text=True, check=True).stdout


def test_staff_forget_a_visitor_by_sender_or_contact(assistant):
    other = book(assistant, "Nora Neighbour")
    by_sender = book(assistant, "Sid Sender")
    assert clinic(assistant, "forget", by_sender) == (
        "Forgot: removed 1 conversation(s) and 1 booking request(s).\n")
    by_contact = book(assistant, "Cora Contact", contact="cora@example.com")
    assert clinic(assistant, "forget", "--contact", "cora@EXAMPLE.com") == (
        "Forgot: removed 1 conversation(s) and 1 booking request(s).\n")
    names = [row["name"] for row in staff_list(assistant)]
    assert "Sid Sender" not in names and "Cora Contact" not in names
    assert events_of(assistant, by_sender) == 0 and events_of(assistant, by_contact) == 0
    assert "Nora Neighbour" in names and events_of(assistant, other) > 0


def test_purge_removes_only_what_is_older(assistant):
    old = book(assistant, "Oscar Old")
    book(assistant, "Nina New")
    long_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=200)
    store.engine.cache_clear()
    with store.engine(assistant.database_url).begin() as connection:
        connection.execute(update(store.booking_requests)
                           .where(store.booking_requests.c.sender_id == old)
                           .values(created_at=long_ago))
    store.engine.cache_clear()
    with sqlite3.connect(assistant.trackers) as db:
        db.execute("UPDATE events SET timestamp = ? WHERE sender_id = ?", (long_ago.timestamp(), old))
    out = clinic(assistant, "purge", "--older-than", "90")
    assert out.startswith("Purged what is older than 90 days: removed")
    names = [row["name"] for row in staff_list(assistant)]
    assert "Oscar Old" not in names and "Nina New" in names
    assert events_of(assistant, old) == 0
