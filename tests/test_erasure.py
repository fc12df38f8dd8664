"""Erasing visitors' data: in the chat, by staff, and by age; others untouched.

A visitor's own erasure travels in the conversation: action_forget_me
deletes their bookings and sets the erasure slot, and the tracker store
deletes the conversation instead of saving that turn."""
import asyncio
import datetime
import sqlite3
import subprocess
from pathlib import Path

from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, update

from actions.forms import ActionForgetMe
from core import erasure, store
from core.erasure import ERASURE_SLOT
from stores.tracker_store import RedactingSQLTrackerStore
from tests.conftest import ENV, ROOT, VENV_BIN, new_sender
from tests.test_booking_e2e import staff_list, up_to_confirmation


def events_in(trackers: Path, sender: str) -> int:
    with sqlite3.connect(trackers) as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


def events_of(assistant, sender: str) -> int:
    return events_in(assistant.trackers, sender)


def bookings_of(assistant, sender: str) -> int:
    with sqlite3.connect(assistant.database_url[len("sqlite:///"):]) as db:
        return db.execute("SELECT COUNT(*) FROM booking_requests WHERE sender_id = ?",
                          (sender,)).fetchone()[0]


def request(sender: str, name: str) -> store.BookingRequest:
    return store.BookingRequest("consultation", sender, name, "+18015550123", "phone",
                                "acne scars", "Tuesday")


def test_forget_me_deletes_the_bookings_and_leaves_the_conversation_to_the_tracker_store(
        tmp_path, monkeypatch):
    """The action server opens the bookings' database only."""
    bookings = create_engine(f"sqlite:///{tmp_path / 'clinic.db'}", future=True)
    store.metadata.create_all(bookings)
    store.save(request("visitor", "Dana Dale"), bookings)
    store.save(request("other", "Olive Other"), bookings)
    monkeypatch.setattr(store, "engine", lambda url=None: bookings)

    def no_conversations(url=None):
        raise AssertionError("the action server opened the conversations' database")

    monkeypatch.setattr(erasure, "trackers", no_conversations)
    dispatcher = CollectingDispatcher()
    tracker = Tracker("visitor", {}, {"intent": {"name": "affirm"}}, [], False, None, {},
                      "utter_confirm_delete")

    events = asyncio.run(ActionForgetMe().run(dispatcher, tracker, {}))

    assert events[-1] == {"event": "slot", "name": ERASURE_SLOT, "value": True,
                          "timestamp": None}
    [said] = dispatcher.messages
    assert said["response"] == "utter_data_deleted" and said["bookings_removed"] == 1
    assert [booking.name for booking in store.newest_first(bookings)] == ["Olive Other"]


class RecordingBroker(EventBroker):
    """An event broker that keeps what it is sent."""

    def __init__(self) -> None:
        self.published = []

    def publish(self, event) -> None:
        self.published.append(event)


def test_the_tracker_store_deletes_a_conversation_to_be_forgotten_and_writes_nothing_back(
        tmp_path):
    domain = Domain.load(ROOT / "domain.yml")
    broker = RecordingBroker()
    trackers = RedactingSQLTrackerStore(domain=domain, dialect="sqlite",
                                        db=str(tmp_path / "trackers.db"), event_broker=broker)

    async def conversation() -> int:
        for sender in ("visitor", "other"):
            await trackers.save(DialogueStateTracker.from_events(
                sender, [ActionExecuted("action_listen"), UserUttered("my name is Jo")],
                domain.slots))
        streamed = len(broker.published)
        tracker = await trackers.retrieve("visitor")
        tracker.update(UserUttered("/affirm", {"name": "affirm", "confidence": 1}))
        tracker.update(ActionExecuted("action_forget_me"))
        tracker.update(BotUttered("Done: I deleted this conversation"))
        tracker.update(SlotSet(ERASURE_SLOT, True))
        tracker.update(ActionExecuted("action_listen"))
        await trackers.save(tracker)
        return streamed

    streamed = asyncio.run(conversation())

    assert events_in(tmp_path / "trackers.db", "visitor") == 0
    assert asyncio.run(trackers.retrieve("visitor")) is None
    assert len(broker.published) == streamed  # nothing of the erasing turn left the store
    assert events_in(tmp_path / "trackers.db", "other") == 2


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
    assert events_of(assistant, sender) == 0  # nor was the turn that erased it written back
    assert bookings_of(assistant, sender) == 0
    names = [row["name"] for row in staff_list(assistant)]
    assert "Dana Dale" not in names and "Olive Other" in names
    assert events_of(assistant, other) > 0


def test_after_erasure_the_same_visitor_starts_a_new_conversation_that_is_kept(assistant):
    sender = book(assistant, "Erin Again")
    assistant.say("delete my data", sender)
    assistant.say("/affirm", sender)

    assert assistant.say("how much does it cost?", sender)
    with sqlite3.connect(assistant.trackers) as db:
        stored = " ".join(data for (data,) in db.execute(
            "SELECT data FROM events WHERE sender_id = ?", (sender,)))
    assert "how much does it cost?" in stored
    assert "Erin Again" not in stored and ERASURE_SLOT not in stored
    assert bookings_of(assistant, sender) == 0


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
