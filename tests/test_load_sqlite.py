"""One instance on SQLite under 50 concurrent conversations of 20 messages:
every message stored once, in send order, and answered."""
import asyncio
import json
import sqlite3

import aiohttp
import pytest

from tests.support.assistant import new_sender
from tests.support.load import TEXTS, converse, record, turns_in_order

pytestmark = pytest.mark.e2e

MESSAGES = TEXTS + [f"{text}!" for text in TEXTS]  # 20 different messages


def test_50_conversations_of_20_messages_all_stored_in_order(assistant):
    senders = [new_sender() for _ in range(50)]

    async def run_all() -> list:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300),
                                         connector=aiohttp.TCPConnector(limit=0)) as session:
            return await asyncio.gather(*(converse(session, assistant.webhook, sender, MESSAGES)
                                          for sender in senders))

    replies = asyncio.run(run_all())

    assert all(reply for conversation in replies for reply in conversation)
    with sqlite3.connect(assistant.trackers) as db:
        placeholders = ",".join("?" * len(senders))
        rows = db.execute(f"SELECT sender_id, data FROM events WHERE sender_id IN "
                          f"({placeholders}) ORDER BY id", senders).fetchall()
    events = {sender: [] for sender in senders}
    for sender, data in rows:
        events[sender].append(json.loads(data))
    assert sum(event["event"] == "user" for stored in events.values() for event in stored) == 1000
    for sender in senders:
        turns_in_order(events[sender], MESSAGES)
    record("sqlite_50x20", user_events=1000, lost=0, reordered=0)
