"""Messenger through the running server: signed updates in Meta's shapes in,
Send API calls out to the fake Graph server, checked for shape and limits."""
import json
import time

import pytest

from actions.actions import KNOWLEDGE
from tests.support.channels import SECRETS
from tests.support.replies import CANNOT_VIEW, DISCLOSURE
from tests.support.visitors import (MessengerVisitor, PAGE_ID, hold_the_conversation,
                                    messenger_event, messenger_reply, messenger_text,
                                    messenger_update, new_id)

pytestmark = pytest.mark.e2e


def sent_to_messenger(channels, mark=0):
    return [request for request in channels.graph.since(mark) if request.path == "/me/messages"]


def test_a_visitor_asks_chooses_and_books_on_messenger(channels):
    mark = channels.graph.mark()
    hold_the_conversation(MessengerVisitor(channels))
    sent = sent_to_messenger(channels, mark)
    kinds = {messenger_reply(request).kind for request in sent}
    assert {"postback", "quick_reply"} <= kinds  # button templates and quick replies were used
    for request in sent:
        assert request.headers["Authorization"] == f"Bearer {SECRETS['FB_PAGE_ACCESS_TOKEN']}"
        assert request.body["messaging_type"] == "RESPONSE"
        message = request.body["message"]
        assert len(message.get("quick_replies", [])) <= 10
        assert all(len(q["title"]) <= 20 and q["content_type"] == "text"
                   for q in message.get("quick_replies", []))
        template = (message.get("attachment") or {}).get("payload") or {"buttons": []}
        assert len(template["buttons"]) <= 3 and len(template.get("text", "")) <= 640
        assert all(len(b["title"]) <= 20 and b["type"] == "postback" for b in template["buttons"])


def test_every_message_of_a_batch_once_and_no_echo_delivery_or_read(channels):
    ana, ben = MessengerVisitor(channels), MessengerVisitor(channels)
    first_mid = new_id("m_")
    mark = channels.graph.mark()
    batch = messenger_update(
        messenger_text(ana.sender, "Does microneedling hurt?", first_mid),
        {"sender": {"id": PAGE_ID}, "recipient": {"id": ana.sender}, "timestamp": 1,
         "message": {"is_echo": True, "app_id": 1517776481860111, "mid": new_id("m_"),
                     "text": "Does microneedling hurt?"}},
        messenger_event(ana.sender, delivery={"mids": [first_mid], "watermark": 1458668856253}),
        messenger_event(ana.sender, read={"watermark": 1458668856253}))
    batch["entry"].append(messenger_update(
        messenger_text(ben.sender, "How much does it cost?"),
        messenger_text(ana.sender, "Does microneedling hurt?", first_mid))["entry"][0])
    assert channels.post_meta("messenger", batch).status_code == 200
    assert channels.post_meta("messenger", messenger_update(  # Meta redelivers
        messenger_text(ana.sender, "Does microneedling hurt?", first_mid))).status_code == 200
    ben.wait(mark, KNOWLEDGE.answer(KNOWLEDGE.by_id["cost"]))
    ana.say("How long is the downtime?", KNOWLEDGE.answer(KNOWLEDGE.by_id["downtime"]))
    to_ana = [messenger_reply(r).text for r in sent_to_messenger(channels, mark)
              if r.body["recipient"]["id"] == ana.sender]
    assert to_ana.count(KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"])) == 1
    recipients = {r.body["recipient"]["id"] for r in sent_to_messenger(channels, mark)}
    assert PAGE_ID not in recipients  # the echo was not answered


# Each visitor of the batch asks these, in this order.
BATCH_TOPICS = ["pain", "downtime", "sessions", "what_is", "permanence"]
BATCH_QUESTIONS = ["Does microneedling hurt?", "How long is the downtime?",
                   "how many sessions would I need", "What is microneedling?",
                   "are the results permanent"]


def test_a_batch_of_100_messages_is_answered_in_full_and_in_order(channels):
    """Meta batches updates (up to 1000): 20 visitors' 5 questions each, in
    one update of more than 16 KB, every one answered, each visitor's in the
    order asked."""
    visitors = [MessengerVisitor(channels) for _ in range(20)]
    events = [messenger_text(visitor.sender, question)
              for question in BATCH_QUESTIONS for visitor in visitors]
    update = messenger_update(*events)
    assert len(events) == 100 and len(json.dumps(update).encode()) > 16 * 1024
    mark = channels.graph.mark()
    assert channels.post_meta("messenger", update).status_code == 200
    answers = [KNOWLEDGE.answer(KNOWLEDGE.by_id[topic]) for topic in BATCH_TOPICS]

    def last_answer_to(visitor: MessengerVisitor):
        return lambda request: (visitor.to_me(request)
                                and messenger_reply(request).text == answers[-1])

    for visitor in visitors:  # 100 turns on a shared machine: a longer wait
        channels.graph.wait_for(last_answer_to(visitor), mark, timeout=120)
        said = [messenger_reply(request).text for request in sent_to_messenger(channels, mark)
                if visitor.to_me(request)]
        assert said[0].startswith(DISCLOSURE)
        assert [text for text in said if text in answers] == answers


@pytest.mark.parametrize("sticker", ["369239263222822", "369239343222814", "369239383222810"])
def test_a_like_is_acknowledged_never_taken_for_a_photo(channels, sticker):
    """Messenger's like button sends a thumbs-up sticker as an image."""
    visitor = MessengerVisitor(channels)
    visitor.say("Does microneedling hurt?", KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"]))
    mark = channels.graph.mark()
    image = {"url": "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_n.png",
             "sticker_id": int(sticker)}
    like = messenger_event(visitor.sender, message={
        "mid": new_id("m_"), "sticker_id": int(sticker),
        "attachments": [{"type": "image", "payload": image}]})
    assert channels.post_meta("messenger", messenger_update(like)).status_code == 200
    visitor.wait(mark, "You're welcome")
    assert [reply.text for reply in visitor.turn if reply.text.startswith(CANNOT_VIEW)] == []


def test_a_photo_gets_the_polite_reply(channels):
    visitor = MessengerVisitor(channels)
    mark = channels.graph.mark()
    image = messenger_event(visitor.sender, message={"mid": new_id("m_"), "attachments": [
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1/photo.jpg"}}]})
    assert channels.post_meta("messenger", messenger_update(image)).status_code == 200
    visitor.wait(mark, CANNOT_VIEW)
    assert visitor.turn[0].text.startswith(DISCLOSURE)


def test_the_webhook_answers_before_the_turn_and_sending_retries_server_errors(channels):
    visitor = MessengerVisitor(channels)
    mark = channels.graph.mark()
    channels.graph.fail_next = 2  # the first two attempts get HTTP 500
    assert channels.post_meta("messenger", messenger_update(
        messenger_text(visitor.sender, "Where is the clinic?"))).status_code == 200
    acknowledged = time.monotonic()
    visitor.wait(mark, KNOWLEDGE.clinic.name)
    attempts = [r for r in sent_to_messenger(channels, mark)
                if r.body["recipient"]["id"] == visitor.sender]
    assert attempts[0].body == attempts[1].body == attempts[2].body  # retried, then delivered
    assert acknowledged < attempts[2].at  # the platform was answered before the reply went out
