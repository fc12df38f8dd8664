"""Rasa's SQL tracker store, with phone numbers and email addresses masked in
the messages it writes (see core/redaction.py). Named in endpoints.yml.

Its table (Rasa's `events`) is made by the migrations (migrations/), never
by the servers; on SQLite the store brings the file up to date when it
opens it, elsewhere it checks that `python -m migrations` has.

A visitor's request to be forgotten (core/erasure.py) is carried out here:
a conversation whose `erasure_requested` slot is set is deleted instead of
saved, and nothing of it is written back. Once no booking is open, the
stored slot events that carried the visitor's name and contact are blanked.
Only the stored copy is masked: the conversation in progress keeps its slots
(a booking can continue after a restart), and the booking flow clears them
once the request is saved.

Rasa's store reads and writes through SQLAlchemy's ORM, building its query
anew for each read and making an object per row; here the same SQL is built
once and run with SQLAlchemy Core, a turn's rows written with one INSERT: a
turn's read and write take about a fifth of the time of Rasa's store
(`python -m bench.micro`). Same rows, same order (tests/test_speed.py checks
them against Rasa's own store).
"""
import itertools
import json
import logging
import time
from functools import lru_cache
from typing import Any, Dict, Iterator, Optional

import sqlalchemy
from sqlalchemy import bindparam, func, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, validate_port
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

import migrations
from core.erasure import ERASURE_SLOT, delete_conversations
from core.knowledge import load_knowledge
from core.redaction import redact

logger = logging.getLogger(__name__)
CLINIC = load_knowledge().clinic
PERSONAL_SLOTS = ("name", "contact")  # kept while a booking is open, blanked after


def _mask(text):
    if not text:
        return text
    return redact(text, CLINIC.phone_region, keep=(CLINIC.phone, CLINIC.email))


def _schema_up_to_date(engine: sqlalchemy.engine.Engine) -> None:
    """A SQLite file is brought up to date here; a database server's schema
    must be already (migrations.OutOfDate stops the server). As Rasa did,
    a database server that does not answer yet is waited for."""
    while True:
        try:
            migrations.ensure(engine, migrations.CONVERSATIONS)
            return
        except sqlalchemy.exc.OperationalError as error:
            if engine.dialect.name == "sqlite":
                raise
            logger.warning("tracker_store.database_unreachable error=%s", type(error).__name__)
            time.sleep(5)


def _write_ahead_log(connection, _record) -> None:
    """SQLite in WAL mode: a commit appends to the log instead of syncing a
    rollback journal, and reads don't wait for writes. A crash of the process
    loses nothing committed; synchronous=NORMAL only risks the last commits
    on a power cut."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class RedactingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Optional[Domain] = None, dialect: str = "sqlite",
                 host: Optional[str] = None, port: Optional[int] = None, db: str = "rasa.db",
                 username: Optional[str] = None, password: Optional[str] = None,
                 event_broker: Optional[EventBroker] = None, login_db: Optional[str] = None,
                 query: Optional[Dict] = None, **kwargs: Any) -> None:
        # Not SQLTrackerStore.__init__, which makes Rasa's tables at start:
        # replicas starting together raced to make them. They are the
        # migrations' (migrations/), made before any server starts.
        if login_db:
            raise ValueError("login_db is not supported: the database is made before the "
                             "servers start (cluster/launch.py, deploy/)")
        url = sqlalchemy.engine.make_url(self.get_db_url(
            dialect, host, validate_port(port), db, username, password, None, query))
        if url.get_backend_name() == "sqlite":
            # Rasa opens a new SQLite connection for every read and write; a
            # pool of open ones makes a turn's read and save faster
            # (docs/benchmarks.md).
            self.engine = sqlalchemy.create_engine(
                url, poolclass=QueuePool, connect_args={"check_same_thread": False})
            sqlalchemy.event.listen(self.engine, "connect", _write_ahead_log)
        else:
            # A database server restarted: each pooled connection is tested
            # before use, so the first message after it works again.
            self.engine = sqlalchemy.create_engine(url, pool_pre_ping=True)
        _schema_up_to_date(self.engine)
        self.sessionmaker = sessionmaker(bind=self.engine)
        TrackerStore.__init__(self, domain, event_broker, **kwargs)

    async def save(self, tracker) -> None:
        if tracker.get_slot(ERASURE_SLOT):
            # The visitor asked to be forgotten (action_forget_me): the stored
            # conversation goes, and nothing of this turn is written back or
            # streamed to an event broker.
            with self.engine.begin() as connection:
                delete_conversations(connection, [tracker.sender_id])
            return
        if self.event_broker is not None:  # none in endpoints.yml
            await self.stream_events(tracker)
        with self.engine.begin() as connection:
            rows = [_row(tracker.sender_id, event)
                    for event in self._new_events(connection, tracker)]
            if rows:
                connection.execute(self.SQLEvent.__table__.insert(), rows)
        if all(tracker.get_slot(slot) is None for slot in PERSONAL_SLOTS) and any(
                isinstance(event, SlotSet) and event.key in PERSONAL_SLOTS
                and event.value is not None for event in tracker.events):
            self._blank_personal_slots(tracker.sender_id)  # only while values remain

    def _blank_personal_slots(self, sender: str) -> None:
        """Once no booking is open, the slot events that carried the visitor's
        name and contact keep no value (replaying them gives the same state)."""
        with self.engine.begin() as connection:
            rows = connection.execute(text(
                "SELECT id, data FROM events WHERE sender_id = :sender AND type_name = 'slot' "
                "AND action_name IN ('name', 'contact')"), {"sender": sender}).fetchall()
            for row_id, data in rows:
                event = json.loads(data)
                if event.get("value") is not None:
                    event["value"] = None
                    connection.execute(text("UPDATE events SET data = :data WHERE id = :id"),
                                       {"data": json.dumps(event), "id": row_id})

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool):
        if fetch_events_from_all_sessions:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.engine.connect() as connection:
            rows = connection.execute(_latest_session(self.SQLEvent.__table__),
                                      {"sender": sender_id}).scalars().all()
        if not (self.domain and rows):
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for data in rows], self.domain.slots)
        # What the database holds of this session: what save() need not write
        # again. Rasa counts it with a query at each save instead.
        tracker.stored_events = len(tracker.events)
        return tracker

    def _new_events(self, connection: Connection, tracker) -> Iterator:
        """The events of `tracker` not stored yet. For a tracker read from the
        store, those after the ones read (a turn holds the conversation's
        lock, so no one else wrote them); for any other, Rasa's count."""
        # Once: a second save of the same tracker counts.
        stored: Optional[int] = vars(tracker).pop("stored_events", None)
        if stored is None:
            latest = _latest_session(self.SQLEvent.__table__).subquery()
            stored = connection.execute(select(func.count()).select_from(latest),
                                        {"sender": tracker.sender_id}).scalar_one()
        return itertools.islice(tracker.events, stored, len(tracker.events))


@lru_cache(maxsize=None)
def _latest_session(events: sqlalchemy.Table) -> Any:
    """Rasa's query of a conversation's latest session (SQLTrackerStore.
    _event_query): its events from the last `session_started` on, or all
    of them when there is none."""
    session_start = select(func.max(events.c.timestamp)).where(
        events.c.sender_id == bindparam("sender"),
        events.c.type_name == SessionStarted.type_name).scalar_subquery()
    return select(events.c.data).where(
        events.c.sender_id == bindparam("sender"),
        or_(events.c.timestamp >= session_start, session_start.is_(None)),
    ).order_by(events.c.id)


def _row(sender: str, event) -> Dict[str, Any]:
    """An `events` row as Rasa's store writes it, with the message text masked."""
    data = event.as_dict()
    if isinstance(event, (UserUttered, BotUttered)):
        data["text"] = _mask(data.get("text"))
        if isinstance(event, UserUttered) and data.get("parse_data"):
            # as_dict() shares parse_data with the event in the conversation
            parse_data = data["parse_data"]
            data["parse_data"] = {**parse_data, "text": _mask(parse_data.get("text"))}
    return {"sender_id": sender, "type_name": event.type_name, "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"), "data": json.dumps(data)}
