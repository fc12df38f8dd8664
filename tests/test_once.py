"""A message sent again with the same message_id is stored and answered once
(channels/once.py): over the real REST server, across a restart of the Rasa
server, and on a hand-built conversation."""
from __future__ import annotations

import json
import sqlite3
from typing import List, Optional, Tuple

import requests
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.once import replies_to
from tests.conftest import Assistant, new_sender, start_assistant, stop_all

QUESTION = "does microneedling hurt?"


def post(assistant: Assistant, sender: str, text: str,
         message_id: Optional[str] = None) -> List[dict]:
    body = {"sender": sender, "message": text}
    if message_id is not None:
        body["message_id"] = message_id
    reply = requests.post(assistant.webhook, json=body, timeout=30)
    reply.raise_for_status()
    return reply.json()


def stored_messages(assistant: Assistant, sender: str) -> List[Tuple[str, Optional[str]]]:
    """The visitor's stored messages: (text, message_id) in stored order."""
    with sqlite3.connect(assistant.trackers) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' "
                          "ORDER BY id", (sender,)).fetchall()
    events = [json.loads(data) for (data,) in rows]
    return [(event["text"], (event.get("metadata") or {}).get("message_id"))
            for event in events]


def test_a_message_sent_again_is_stored_once_and_answered_with_the_same_reply(assistant):
    sender = new_sender()
    first = post(assistant, sender, "hello", "m-1")
    answer = post(assistant, sender, QUESTION, "m-2")

    assert post(assistant, sender, QUESTION, "m-2") == answer
    assert post(assistant, sender, "hello", "m-1") == first  # an older one too
    assert first and answer and answer != first
    assert stored_messages(assistant, sender) == [("hello", "m-1"), (QUESTION, "m-2")]


def test_the_same_id_in_another_conversation_is_another_message(assistant):
    one, other = new_sender(), new_sender()
    post(assistant, one, QUESTION, "m-1")
    post(assistant, other, QUESTION, "m-1")

    assert stored_messages(assistant, other) == [(QUESTION, "m-1")]


def test_a_message_without_an_id_is_taken_each_time_as_before(assistant):
    sender = new_sender()
    post(assistant, sender, "hello")
    first, second = post(assistant, sender, QUESTION), post(assistant, sender, QUESTION)

    assert first == second and first
    assert stored_messages(assistant, sender) == [("hello", None), (QUESTION, None),
                                                  (QUESTION, None)]


def test_a_message_sent_again_after_a_restart_is_stored_once(trained_model, tmp_path):
    """Nothing of the check is kept in memory: the ids are the stored events'."""
    sender = new_sender()
    running, servers = start_assistant(tmp_path, trained_model)
    rasa = servers[0]
    try:
        post(running, sender, "hello", "m-1")
        answer = post(running, sender, QUESTION, "m-2")
        rasa.stop()
        rasa.start()
        rasa.wait()

        assert post(running, sender, QUESTION, "m-2") == answer
        assert stored_messages(running, sender) == [("hello", "m-1"), (QUESTION, "m-2")]
    finally:
        stop_all(servers)


def conversation(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("visitor", list(events))


def test_the_replies_to_a_message_are_the_bots_utterances_up_to_the_next_message():
    tracker = conversation(
        ActionExecuted("action_listen"),
        UserUttered("hello", metadata={"message_id": "m-1"}),
        ActionExecuted("utter_greet"), BotUttered("Hi!"), BotUttered("How can I help?"),
        SlotSet("disclosed", True), ActionExecuted("action_listen"),
        UserUttered("does it hurt?", metadata={"message_id": "m-2"}),
        ActionExecuted("action_faq"), BotUttered("A numbing cream..."),
        ActionExecuted("action_listen"))

    assert [bot.text for bot in replies_to(tracker, "m-1")] == ["Hi!", "How can I help?"]
    assert [bot.text for bot in replies_to(tracker, "m-2")] == ["A numbing cream..."]


def test_a_message_not_in_the_conversation_has_no_replies():
    tracker = conversation(UserUttered("hello"), BotUttered("Hi!"),
                           UserUttered("hi", metadata={"message_id": "m-1"}))

    assert replies_to(tracker, "m-2") is None
    assert replies_to(tracker, "m-1") == []  # stored, its turn said nothing
    assert replies_to(None, "m-1") is None  # no conversation yet
