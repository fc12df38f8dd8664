"""Many conversations over the REST channel at once, each message with its
message_id, and the checks on how their turns were stored; the figures a
load test measured, kept for the docs."""
from __future__ import annotations

import json
from typing import Dict, List, Optional

import aiohttp

from tests.support.project import ROOT

TEXTS = ["hello", "does microneedling hurt?", "how many sessions will I need?",
         "is it permanent?", "what's the weather like in Paris", "who should not get it?",
         "how long is the recovery?", "can it help acne scars?", "thanks a lot", "bye"]
CLIENT_RETRIES = 2  # a message the cluster could not answer is sent again, at most twice


def message_ids(sender: str, texts: List[str]) -> List[str]:
    """The message_id a client gives each of a conversation's messages."""
    return [f"{sender}:{index}" for index in range(len(texts))]


async def send(session: aiohttp.ClientSession, url: str, body: Dict[str, str],
               resent: Optional[List[str]] = None) -> list:
    """POST one message; if the cluster could not answer it (no reply, or
    nginx's 502-504 once its own retry failed too), send it again with the
    same message_id, as a client should, noting it in `resent`."""
    attempt = 0
    while True:
        try:
            async with session.post(url, json=body) as reply:
                if reply.status not in (502, 503, 504) or attempt == CLIENT_RETRIES:
                    assert reply.status == 200, await reply.text()
                    return await reply.json()
        except aiohttp.ClientConnectionError:
            if attempt == CLIENT_RETRIES:
                raise
        attempt += 1
        if resent is not None:
            resent.append(body["message_id"])


async def converse(session: aiohttp.ClientSession, url: str, sender: str,
                   texts: List[str], answered: Optional[List[str]] = None,
                   resent: Optional[List[str]] = None) -> List[list]:
    """Send `texts` one after the other, each with its message_id, each once
    the previous is answered (and noted in `answered`)."""
    replies = []
    for text, message_id in zip(texts, message_ids(sender, texts)):
        replies.append(await send(session, url, {"sender": sender, "message": text,
                                                 "message_id": message_id}, resent))
        if answered is not None:
            answered.append(sender)
    return replies


def turns_in_order(events: List[Dict], texts: List[str],
                   ids: Optional[List[str]] = None) -> None:
    """The visitor's messages stored once each (exactly once: none lost,
    none twice), in send order, each answered by the bot before the next
    turn began; with `ids`, each stored with its message_id."""
    users = [index for index, event in enumerate(events) if event["event"] == "user"]
    assert [events[index]["text"] for index in users] == texts
    if ids is not None:
        assert [(events[index].get("metadata") or {}).get("message_id")
                for index in users] == ids
    for this, following in zip(users, users[1:] + [len(events)]):
        turn = events[this + 1:following]
        assert any(event["event"] == "bot" for event in turn), events[this]["text"]
        if following < len(events):
            assert turn[-1]["event"] == "action" and turn[-1]["name"] == "action_listen"


FIGURES = ROOT / "test-artifacts" / "resilience.json"


def record(test: str, **figures) -> None:
    """Keep a test's measured figures in test-artifacts/resilience.json, for
    docs/benchmarks.md and the issue notes."""
    FIGURES.parent.mkdir(exist_ok=True)
    kept = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    kept[test] = figures
    FIGURES.write_text(json.dumps(kept, indent=2, sort_keys=True))
