"""A message sent again with the same id is stored and answered once
(rasa_patches/once.py), on every channel: REST (its message_id), the website
chat (the id the widget gives each message), Messenger, WhatsApp and Twilio
(the platforms' own ids); over the real servers, also across a restart of
the Rasa server; and on a hand-built conversation."""
from __future__ import annotations

import asyncio
import json
import uuid
from typing import Dict, List, Optional, Tuple

import pytest
import requests
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.actions import KNOWLEDGE
from channels.webchat import DEMO_ORIGINS
from rasa_patches.once import replies_to
from tests.support.assistant import (Assistant, new_sender, start_assistant, stop_all,
                                     stored_by_now, stored_messages)
from tests.support.channels import Channels, FakePlatform, SECRETS, channel_credentials
from tests.support.visitors import (MessengerVisitor, TwilioVisitor, Visitor, WhatsAppVisitor,
                                    messenger_text, messenger_update, new_id, twilio_params,
                                    twilio_signed, whatsapp_message, whatsapp_update)
from tests.support.webchat import emit, open_session, receive

QUESTION = "does microneedling hurt?"
ANSWER = KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"])
NEXT, NEXT_ANSWER = "Where is the clinic?", KNOWLEDGE.clinic.name  # a later message
PLATFORMS = {"messenger": (MessengerVisitor, "m_"), "whatsapp": (WhatsAppVisitor, "wamid."),
             "twilio": (TwilioVisitor, "SM")}


def post(assistant: Assistant, sender: str, text: str,
         message_id: Optional[str] = None) -> List[dict]:
    body = {"sender": sender, "message": text}
    if message_id is not None:
        body["message_id"] = message_id
    reply = requests.post(assistant.webhook, json=body, timeout=30)
    reply.raise_for_status()
    return reply.json()


def webchat(url: str, session: Optional[str],
            messages: List[Tuple[str, str]]) -> Tuple[str, Dict[str, List[dict]]]:
    """Speak as the widget does: ask for `session`, send each (text, id), the
    next once the previous has had a reply; the session and the replies by
    the id they name (`reply_to`; None: an id the server dropped), up to the
    last message's first reply. A message's replies are all in when the next
    message has one: turns of a conversation run one after the other."""
    async def talk() -> Tuple[str, Dict[str, List[dict]]]:
        websocket, issued = await open_session(url, DEMO_ORIGINS[0], session)
        try:
            replies: Dict[str, List[dict]] = {}
            for text, message_id in messages:
                await emit(websocket, "user_uttered", {
                    "message": text, "session_id": issued, "metadata": {"message_id": message_id}})
                while message_id not in replies and None not in replies:
                    event, reply = json.loads((await receive(websocket, 30))[2:])
                    assert event == "bot_uttered"
                    replies.setdefault(reply.get("reply_to"), []).append(reply)
            return issued, replies
        finally:
            await websocket.close()
    return asyncio.run(talk())


def send_on(channels: Channels, visitor: Visitor, text: str, message_id: str) -> None:
    """`text` from `visitor`, as its platform delivers a message of id `message_id`."""
    if isinstance(visitor, MessengerVisitor):
        response = channels.post_meta("messenger", messenger_update(
            messenger_text(visitor.sender, text, message_id)))
    elif isinstance(visitor, WhatsAppVisitor):
        response = channels.post_meta("whatsapp", whatsapp_update(visitor.sender, whatsapp_message(
            visitor.sender, "text", {"body": text}, message_id)))
    else:
        params = twilio_params(visitor.sender, text, MessageSid=message_id)
        response = requests.post(f"{channels.assistant.url}/webhooks/twilio/webhook",
                                 data=params, headers=twilio_signed(params), timeout=10)
    assert response.status_code == 200


def ask(channels: Channels, visitor: Visitor, message_id: str) -> None:
    """QUESTION, answered."""
    mark = visitor.platform.mark()
    send_on(channels, visitor, QUESTION, message_id)
    visitor.wait(mark, ANSWER)


def ask_again(channels: Channels, visitor: Visitor, message_id: str) -> List[str]:
    """QUESTION delivered again with its id, then NEXT; what the visitor was
    sent until NEXT's answer (turns of a conversation run in order)."""
    mark = visitor.platform.mark()
    send_on(channels, visitor, QUESTION, message_id)
    send_on(channels, visitor, NEXT, new_id("next"))
    visitor.wait(mark, NEXT_ANSWER)
    return [reply.text for reply in visitor.turn]


@pytest.mark.e2e
def test_a_message_sent_again_is_stored_once_and_answered_with_the_same_reply(assistant):
    sender = new_sender()
    first = post(assistant, sender, "hello", "m-1")
    answer = post(assistant, sender, QUESTION, "m-2")

    assert post(assistant, sender, QUESTION, "m-2") == answer
    assert post(assistant, sender, "hello", "m-1") == first  # an older one too
    assert first and answer and answer != first
    assert stored_messages(assistant, sender) == [("hello", "m-1"), (QUESTION, "m-2")]


@pytest.mark.e2e
def test_the_same_id_in_another_conversation_is_another_message(assistant):
    one, other = new_sender(), new_sender()
    post(assistant, one, QUESTION, "m-1")
    post(assistant, other, QUESTION, "m-1")

    assert stored_messages(assistant, other) == [(QUESTION, "m-1")]


@pytest.mark.e2e
def test_a_message_without_an_id_is_taken_each_time_as_before(assistant):
    sender = new_sender()
    post(assistant, sender, "hello")
    first, second = post(assistant, sender, QUESTION), post(assistant, sender, QUESTION)

    assert first == second and first
    assert stored_messages(assistant, sender) == [("hello", None), (QUESTION, None),
                                                  (QUESTION, None)]


@pytest.mark.e2e
def test_a_website_chat_message_sent_again_is_stored_once_and_answered_again(assistant):
    first, next_ = uuid.uuid4().hex, uuid.uuid4().hex
    session, replies = webchat(assistant.url, None, [(QUESTION, first), (NEXT, next_)])
    # Sent again on a new connection, as the widget does after a reload when
    # no reply had come to it.
    again_next = uuid.uuid4().hex
    _, again = webchat(assistant.url, session, [(QUESTION, first), (NEXT, again_next)])

    assert [reply["text"] for reply in replies[first]][-1] == ANSWER
    assert again[first] == replies[first]
    assert stored_by_now(assistant, session, 3) == [(QUESTION, first), (NEXT, next_),
                                                    (NEXT, again_next)]


@pytest.mark.e2e
def test_a_website_chat_message_id_not_of_the_form_is_dropped(assistant):
    session, replies = webchat(assistant.url, None, [(QUESTION, "not an id!")])

    assert list(replies) == [None]  # the replies name no message
    assert stored_by_now(assistant, session, 1) == [(QUESTION, None)]


@pytest.mark.e2e
@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_a_platform_message_delivered_again_is_stored_and_answered_once(channels, platform):
    visitor_class, prefix = PLATFORMS[platform]
    visitor, message_id = visitor_class(channels), new_id(prefix)
    ask(channels, visitor, message_id)

    assert ANSWER not in ask_again(channels, visitor, message_id)
    [question, next_] = stored_by_now(channels.assistant, visitor.sender, 2)
    assert question == (QUESTION, message_id) and next_[0] == NEXT


@pytest.mark.e2e
def test_a_message_sent_again_after_a_restart_is_stored_once_on_every_channel(
        trained_model, tmp_path):
    """Nothing of the check is kept in memory: the ids are the stored events'.
    (The platforms' ids remembered in the process are gone with it.)"""
    graph, twilio = FakePlatform(), FakePlatform()
    running, servers = start_assistant(tmp_path, trained_model,
                                       channel_credentials(tmp_path, graph, twilio), env=SECRETS)
    rasa, channels = servers[0], Channels(running, graph, twilio)
    rest_sender, web_id = new_sender(), uuid.uuid4().hex
    platforms = {name: (visitor_class(channels), new_id(prefix))
                 for name, (visitor_class, prefix) in PLATFORMS.items()}
    try:
        post(running, rest_sender, "hello", "m-1")
        answer = post(running, rest_sender, QUESTION, "m-2")
        session, replies = webchat(running.url, None, [(QUESTION, web_id), (NEXT, "next-0")])
        for visitor, message_id in platforms.values():
            ask(channels, visitor, message_id)
        for sender, count in [(session, 2), *((visitor.sender, 1)
                                              for visitor, _ in platforms.values())]:
            stored_by_now(running, sender, count)  # before the server stops
        rasa.stop()
        repeats_before = (tmp_path / "rasa.log").read_text().count("turn.repeated")
        rasa.start()
        rasa.wait()

        assert post(running, rest_sender, QUESTION, "m-2") == answer
        assert stored_messages(running, rest_sender) == [("hello", "m-1"), (QUESTION, "m-2")]
        _, again = webchat(running.url, session, [(QUESTION, web_id), (NEXT, "next-1")])
        assert again[web_id] == replies[web_id]
        assert stored_by_now(running, session, 3) == [(QUESTION, web_id), (NEXT, "next-0"),
                                                      (NEXT, "next-1")]
        for name, (visitor, message_id) in platforms.items():
            assert ANSWER not in ask_again(channels, visitor, message_id), name
            [question, next_] = stored_by_now(running, visitor.sender, 2)
            assert question == (QUESTION, message_id) and next_[0] == NEXT, name
        repeats = (tmp_path / "rasa.log").read_text().count("turn.repeated") - repeats_before
        assert repeats == 5  # each found in the store, none in the process's memory
    finally:
        stop_all(servers)
        graph.stop()
        twilio.stop()


def conversation(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("visitor", list(events))


@pytest.mark.unit
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


@pytest.mark.unit
def test_a_message_not_in_the_conversation_has_no_replies():
    tracker = conversation(UserUttered("hello"), BotUttered("Hi!"),
                           UserUttered("hi", metadata={"message_id": "m-1"}))

    assert replies_to(tracker, "m-2") is None
    assert replies_to(tracker, "m-1") == []  # stored, its turn said nothing
    assert replies_to(None, "m-1") is None  # no conversation yet
