"""Booking requests in a database: SQLite by default, PostgreSQL when
DATABASE_URL says so (SQLAlchemy 1.4, the line Rasa pins).

The table is made by the migrations (migrations/versions/bookings_*), never
here; its definition below is what the code reads and writes, and the tests
check that the two agree.

Writing is idempotent: a request's key is derived from the conversation and
its details, so a resubmission, a retried HTTP call or a double click finds
the booking already stored and returns it instead of adding another.
"""
from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import List, Optional

from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, create_engine,
                        select)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

import migrations
from core.paths import VAR

DEFAULT_DATABASE = VAR / "clinic.db"
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone

metadata = MetaData()
booking_requests = Table(
    "booking_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(12), nullable=False, unique=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),  # consultation | callback
    Column("sender_id", String(255), nullable=False, index=True),
    Column("name", String(80), nullable=False),
    Column("contact", String(254), nullable=False, index=True),
    Column("contact_kind", String(10), nullable=False),
    Column("treatment_area", String(200), nullable=False),
    Column("preferred_time", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("notified_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class BookingRequest:
    kind: str
    sender_id: str
    name: str
    contact: str
    contact_kind: str
    treatment_area: str
    preferred_time: str

    def key(self) -> str:
        details = "\x1f".join(asdict(self).values())
        return hashlib.sha256(details.encode("utf-8")).hexdigest()

    def make_reference(self) -> str:
        digest = int(self.key(), 16)
        letters = []
        for _ in range(6):
            digest, index = divmod(digest, len(REFERENCE_ALPHABET))
            letters.append(REFERENCE_ALPHABET[index])
        return "MN-" + "".join(letters)


@dataclass(frozen=True)
class StoredBooking(BookingRequest):
    reference: str
    created_at: datetime.datetime
    notified_at: Optional[datetime.datetime]


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE}"


@lru_cache(maxsize=None)
def engine(url: Optional[str] = None) -> Engine:
    """The database, its schema up to date: a SQLite file is brought up to
    date here; any other database must have been (migrations.OutOfDate)."""
    url = url or database_url()
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    created = create_engine(url, future=True, pool_pre_ping=True)
    migrations.ensure(created, migrations.BOOKINGS)
    return created


def save(request: BookingRequest, db: Optional[Engine] = None) -> StoredBooking:
    """Store the request once; a repeat returns the booking already stored."""
    db = db or engine()
    row = dict(reference=request.make_reference(), idempotency_key=request.key(),
               created_at=datetime.datetime.now(datetime.timezone.utc), notified_at=None,
               **asdict(request))
    try:
        with db.begin() as connection:
            connection.execute(booking_requests.insert().values(**row))
    except IntegrityError:
        pass  # stored before: the same conversation sent the same details again
    with db.connect() as connection:
        found = connection.execute(select(booking_requests).where(
            booking_requests.c.idempotency_key == request.key())).mappings().one()
    return stored(found)


def newest_first(db: Optional[Engine] = None) -> List[StoredBooking]:
    db = db or engine()
    with db.connect() as connection:
        rows = connection.execute(select(booking_requests).order_by(
            booking_requests.c.created_at.desc(), booking_requests.c.id.desc())).mappings()
        return [stored(row) for row in rows]


def stored(row) -> StoredBooking:
    """A database row as a StoredBooking."""
    fields = {name: row[name] for name in StoredBooking.__dataclass_fields__}
    return StoredBooking(**fields)
