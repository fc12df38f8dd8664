"""Erasing visitors' data: on request in the chat, by staff, and by age.

Bookings live in the bookings database (actions/store.py); conversations in
the tracker store's `events` table (TRACKER_DATABASE_URL, by default the
SQLite file var/trackers.db that endpoints.yml names). A visitor's own
request is recorded in `erasures` and carried out by the tracker store when
it next saves that conversation, so the turn that confirms it is not
written back afterwards. Both tables are made by the migrations
(migrations/versions/conversations_*).
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, delete, inspect, select, text
from sqlalchemy.engine import Connection, Engine

import migrations
from actions import booking, store

DEFAULT_TRACKERS = Path(__file__).resolve().parent.parent / "var" / "trackers.db"
metadata = MetaData()
erasures = Table("erasures", metadata, Column("sender_id", String(255), primary_key=True),
                 Column("requested_at", Float, nullable=False))


@dataclass(frozen=True)
class Removed:
    conversations: int
    bookings: int

    def __add__(self, other: "Removed") -> "Removed":
        return Removed(self.conversations + other.conversations, self.bookings + other.bookings)

    def text(self) -> str:
        return f"removed {self.conversations} conversation(s) and {self.bookings} booking request(s)"


def trackers_url() -> str:
    return os.environ.get("TRACKER_DATABASE_URL") or f"sqlite:///{DEFAULT_TRACKERS}"


@lru_cache(maxsize=None)
def trackers(url: Optional[str] = None) -> Engine:
    """The conversations' database, its schema up to date (see store.engine)."""
    url = url or trackers_url()
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    migrations.ensure(engine, migrations.CONVERSATIONS)
    return engine


def _delete_events(connection: Connection, senders: Iterable[str]) -> int:
    senders = list(set(senders))
    if not senders or not inspect(connection).has_table("events"):
        return 0
    for sender in senders:
        connection.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender})
    return len(senders)


def _has_events(connection: Connection, sender: str) -> bool:
    return inspect(connection).has_table("events") and connection.execute(
        text("SELECT 1 FROM events WHERE sender_id = :sender LIMIT 1"), {"sender": sender}).first()


def forget_sender(sender: str, bookings: Optional[Engine] = None,
                  conversations: Optional[Engine] = None) -> Removed:
    with (bookings or store.engine()).begin() as connection:
        removed = connection.execute(delete(store.booking_requests).where(
            store.booking_requests.c.sender_id == sender)).rowcount
    with (conversations or trackers()).begin() as connection:
        found = bool(_has_events(connection, sender))
        _delete_events(connection, [sender])
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
        forgotten = _delete_events(connection, senders)
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
        forgotten = _delete_events(connection, old)
    return Removed(forgotten, removed)


def request_erasure(sender: str, conversations: Optional[Engine] = None) -> None:
    """Ask the tracker store to erase this conversation when it next saves it."""
    with (conversations or trackers()).begin() as connection:
        connection.execute(delete(erasures).where(erasures.c.sender_id == sender))
        connection.execute(erasures.insert().values(
            sender_id=sender, requested_at=datetime.datetime.now().timestamp()))


def carry_out_erasure(connection: Connection, sender: str) -> bool:
    """If the visitor asked, erase their conversation now; True when done."""
    asked = connection.execute(delete(erasures).where(erasures.c.sender_id == sender)).rowcount
    if asked:
        _delete_events(connection, [sender])
    return bool(asked)
