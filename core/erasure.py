"""Erasing visitors' data: on request in the chat, by staff, and by age.

Bookings live in the bookings database (core/store.py); conversations in
the tracker store's `events` table (TRACKER_DATABASE_URL, by default the
SQLite file var/trackers.db that endpoints.yml names).

A visitor's own request ("delete my data") is carried in the conversation
itself: the action deletes their booking requests and sets the slot
ERASURE_SLOT, and the tracker store (stores/tracker_store.py), seeing it at
the end of that turn, deletes the conversation instead of saving it. So the
action server never opens the conversations' database, and the turn that
confirms the erasure is not written back.

The staff's erasures (`clinic forget`, `clinic purge`) open both databases.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from sqlalchemy import create_engine, delete, inspect, select, text
from sqlalchemy.engine import Connection, Engine

import migrations
from core import booking, store
from core.paths import ROOT

ERASURE_SLOT = "erasure_requested"  # domain.yml; set by action_forget_me


@dataclass(frozen=True)
class Removed:
    conversations: int
    bookings: int

    def __add__(self, other: "Removed") -> "Removed":
        return Removed(self.conversations + other.conversations, self.bookings + other.bookings)

    def text(self) -> str:
        return f"removed {self.conversations} conversation(s) and {self.bookings} booking request(s)"


def trackers_url(root: Path = ROOT) -> str:
    """The conversations' database: TRACKER_DATABASE_URL, or the SQLite file
    var/trackers.db of the project at `root`."""
    return os.environ.get("TRACKER_DATABASE_URL") or f"sqlite:///{root / 'var' / 'trackers.db'}"


@lru_cache(maxsize=None)
def trackers(url: Optional[str] = None) -> Engine:
    """The conversations' database, its schema up to date (see store.engine)."""
    url = url or trackers_url()
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    migrations.ensure(engine, migrations.CONVERSATIONS)
    return engine


def delete_conversations(connection: Connection, senders: Iterable[str]) -> int:
    """Delete every stored event of these senders; how many senders."""
    senders = list(set(senders))
    if not senders or not inspect(connection).has_table("events"):
        return 0
    for sender in senders:
        connection.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender})
    return len(senders)


def _has_events(connection: Connection, sender: str) -> bool:
    return inspect(connection).has_table("events") and connection.execute(
        text("SELECT 1 FROM events WHERE sender_id = :sender LIMIT 1"), {"sender": sender}).first()


def forget_bookings(sender: str, bookings: Optional[Engine] = None) -> int:
    """Delete the booking requests made in this conversation; how many."""
    with (bookings or store.engine()).begin() as connection:
        return connection.execute(delete(store.booking_requests).where(
            store.booking_requests.c.sender_id == sender)).rowcount


def forget_sender(sender: str, bookings: Optional[Engine] = None,
                  conversations: Optional[Engine] = None) -> Removed:
    removed = forget_bookings(sender, bookings)
    with (conversations or trackers()).begin() as connection:
        found = bool(_has_events(connection, sender))
        delete_conversations(connection, [sender])
    return Removed(int(found), removed)


def forget_contact(contact: str, region: str, bookings: Optional[Engine] = None,
                   conversations: Optional[Engine] = None) -> Removed:
    """Every booking with this phone or email, and the conversations they came from."""
    try:
        normalised = booking.contact(contact, region).value
    except booking.Invalid:
        normalised = contact.strip()
    table = store.booking_requests
    with (bookings or store.engine()).begin() as connection:
        senders = [row.sender_id for row in connection.execute(
            select(table.c.sender_id).where(table.c.contact == normalised))]
        removed = connection.execute(delete(table).where(table.c.contact == normalised)).rowcount
    with (conversations or trackers()).begin() as connection:
        forgotten = delete_conversations(connection, senders)
    return Removed(forgotten, removed)


def purge(days: int, bookings: Optional[Engine] = None,
          conversations: Optional[Engine] = None) -> Removed:
    """Conversations and booking requests older than `days`."""
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    with (bookings or store.engine()).begin() as connection:
        removed = connection.execute(delete(store.booking_requests).where(
            store.booking_requests.c.created_at < cutoff)).rowcount
    with (conversations or trackers()).begin() as connection:
        if not inspect(connection).has_table("events"):
            return Removed(0, removed)
        old = [row.sender_id for row in connection.execute(text(
            "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),
            {"cutoff": cutoff.timestamp()})]
        forgotten = delete_conversations(connection, old)
    return Removed(forgotten, removed)
