"""Visitors' messages as the tracker store keeps them (phone numbers and
emails already masked by stores/tracker_store.py), for `clinic review` and
`clinic report`.

The store is the database of TRACKER_DATABASE_URL, or the project's SQLite
file var/trackers.db (endpoints.yml). Each visitor message is classified by
what the assistant did with it.
"""
from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from typing import Iterator, List, Optional

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from clinic.project import Problem, Project
from core.erasure import trackers_url
from core.intents import FALLBACK_INTENT
from core.language import ENGLISH, ENTITY, tells

OUT_OF_SCOPE = "out_of_scope"
LOW_CONFIDENCE = 0.6  # answered, but below this the answer may well be wrong


@dataclass(frozen=True)
class Message:
    sender: str
    time: datetime.datetime
    text: str
    intent: str
    confidence: float
    guess: str          # the best real intent (for a fallback, the one it was unsure of)
    in_form: Optional[str]  # the form (booking, call-back) the message answered, if any
    language: str = ENGLISH  # as the NLU's language tagger read it (components/language.py)

    @property
    def kind(self) -> str:
        if self.intent.startswith("urgent_"):
            return "urgent"
        if self.in_form:
            return "form"
        if self.intent == FALLBACK_INTENT:
            return "not understood"
        if self.intent == OUT_OF_SCOPE:
            return "out of scope"
        if self.intent.startswith("faq_"):
            return "answered"
        return "other"

    @property
    def needs_review(self) -> bool:
        if self.text.startswith("/"):  # a button the visitor pressed
            return False
        return self.kind in ("not understood", "out of scope") or (
            self.kind == "answered" and self.confidence < LOW_CONFIDENCE)


def engine(project: Project) -> Engine:
    url = trackers_url(project.root)
    if url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///"):]):
        raise Problem(f"there are no stored conversations yet ({url[len('sqlite:///'):]} does "
                      "not exist). Set TRACKER_DATABASE_URL if they are kept elsewhere.")
    return create_engine(url, future=True)


def messages(project: Project, days: Optional[int] = None) -> Iterator[Message]:
    """Visitors' messages of the last `days` days, oldest first."""
    since = 0.0
    if days is not None:
        since = (datetime.datetime.now() - datetime.timedelta(days=days)).timestamp()
    with engine(project).connect() as connection:
        if not inspect(connection).has_table("events"):
            return
        rows = connection.execute(text(
            "SELECT sender_id, type_name, timestamp, data FROM events "
            "WHERE timestamp >= :since AND type_name IN ('user', 'active_loop') "
            "ORDER BY sender_id, id"), {"since": since}).fetchall()
    loops = {}
    for sender, kind, timestamp, data in rows:
        event = json.loads(data)
        if kind == "active_loop":
            loops[sender] = event.get("name")
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        ranking = [ranked for ranked in parse.get("intent_ranking") or []
                   if ranked.get("name") != FALLBACK_INTENT]
        yield Message(sender=sender, time=datetime.datetime.fromtimestamp(timestamp),
                      text=event.get("text") or "", intent=intent.get("name") or "",
                      confidence=float(intent.get("confidence") or 0.0),
                      guess=ranking[0]["name"] if ranking else "", in_form=loops.get(sender),
                      language=_language(parse, event.get("text") or ""))


def _language(parse: dict, text: str) -> str:
    """The tagger's language entity; for a message stored without one (before
    the tagger, or seeded by hand), its small words."""
    for entity in parse.get("entities") or []:
        if entity.get("entity") == ENTITY and entity.get("value"):
            return str(entity["value"])
    return tells(text) or ENGLISH


def all_messages(project: Project, days: Optional[int] = None) -> List[Message]:
    return sorted(messages(project, days), key=lambda message: message.time)
