"""WhatsApp Cloud API through the running server: signed updates in Meta's
shapes in, message calls out to the fake Graph server, checked for shape and
limits."""
import json

import pytest

from actions.actions import KNOWLEDGE
from tests.support.channels import SECRETS
from tests.support.replies import CANNOT_VIEW, DISCLOSURE, GREETING, is_urgent_reply
from tests.support.visitors import (WhatsAppVisitor, hold_the_conversation, whatsapp_message,
                                    whatsapp_reply, whatsapp_update)

pytestmark = pytest.mark.e2e

MESSAGES_PATH = f"/{SECRETS['WHATSAPP_PHONE_NUMBER_ID']}/messages"


def sent_to_whatsapp(channels, mark=0):
    return [request for request in channels.graph.since(mark) if request.path == MESSAGES_PATH]


def test_a_visitor_asks_chooses_and_books_on_whatsapp(channels):
    mark = channels.graph.mark()
    hold_the_conversation(WhatsAppVisitor(channels))
    sent = sent_to_whatsapp(channels, mark)
    assert {"button_reply", "list_reply"} <= {whatsapp_reply(r).kind for r in sent}
    for request in sent:
        assert request.headers["Authorization"] == f"Bearer {SECRETS['WHATSAPP_ACCESS_TOKEN']}"
        assert request.body["messaging_product"] == "whatsapp"
        if request.body["type"] == "text":
            assert len(request.body["text"]["body"]) <= 4096
            continue
        interactive = request.body["interactive"]
        assert len(interactive["body"]["text"]) <= 1024
        if interactive["type"] == "button":
            buttons = interactive["action"]["buttons"]
            assert 1 <= len(buttons) <= 3
            assert all(b["type"] == "reply" and len(b["reply"]["title"]) <= 20 for b in buttons)
        else:
            rows = [row for section in interactive["action"]["sections"]
                    for row in section["rows"]]
            assert interactive["type"] == "list" and 4 <= len(rows) <= 10
            assert len(interactive["action"]["button"]) <= 20
            assert all(len(row["title"]) <= 24 and len(row["id"]) <= 200 for row in rows)


def test_statuses_duplicates_and_other_numbers_are_not_answered(channels):
    visitor = WhatsAppVisitor(channels)
    question = whatsapp_message(visitor.sender, "text", {"body": "Does microneedling hurt?"})
    mark = channels.graph.mark()
    update = whatsapp_update(visitor.sender, question, statuses=[{
        "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA", "status": "read",
        "timestamp": "1750263773", "recipient_id": visitor.sender}])
    for _ in range(2):  # Meta redelivers an update it thinks was missed
        assert channels.post_meta("whatsapp", update).status_code == 200
    other_number = whatsapp_update(visitor.sender, whatsapp_message(
        visitor.sender, "text", {"body": "How much does it cost?"}), phone_number_id="999")
    assert channels.post_meta("whatsapp", other_number).status_code == 200
    visitor.say("How long is the downtime?", KNOWLEDGE.answer(KNOWLEDGE.by_id["downtime"]))
    texts = [whatsapp_reply(r).text for r in sent_to_whatsapp(channels, mark)
             if r.body["to"] == visitor.sender]
    assert texts.count(KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"])) == 1
    assert KNOWLEDGE.answer(KNOWLEDGE.by_id["cost"]) not in texts


def test_media_without_a_caption_get_the_polite_reply_also_in_a_booking(channels):
    visitor = WhatsAppVisitor(channels)
    mark = channels.graph.mark()
    photo = whatsapp_message(visitor.sender, "image", {
        "mime_type": "image/jpeg", "id": "1479537139650973",
        "sha256": "HgmLoS3ixwIBdVoxbRjGY3D7zIpPrV3zZrZsMbWQsIg="})
    assert channels.post_meta("whatsapp", whatsapp_update(visitor.sender, photo)).status_code == 200
    visitor.wait(mark, CANNOT_VIEW)
    assert visitor.turn[0].text.startswith(DISCLOSURE)
    visitor.say("I'd like to book a consultation", "Happy to help you book")
    mark = channels.graph.mark()
    document = whatsapp_message(visitor.sender, "document", {
        "filename": "skin.pdf", "mime_type": "application/pdf", "id": "1479537139650974"})
    update = whatsapp_update(visitor.sender, document)
    assert channels.post_meta("whatsapp", update).status_code == 200
    visitor.wait(mark, "Happy to help you book")  # the same question again
    assert visitor.turn[0].text.startswith(CANNOT_VIEW)


def test_a_typed_intent_is_screened_as_on_the_rest_channel(channels):
    visitor = WhatsAppVisitor(channels)
    visitor.say("hello", GREETING)  # the disclosure comes with the greeting
    mark = channels.graph.mark()
    visitor.post("/urgent_emergency")
    first = visitor.wait(mark, "")
    assert not is_urgent_reply([{"text": first.text}])


def media(kind: str, caption: str) -> dict:
    return {"caption": caption, "mime_type": {"image": "image/jpeg", "video": "video/mp4",
                                              "document": "application/pdf"}[kind],
            "id": "1479537139650975", "sha256": "HgmLoS3ixwIBdVoxbRjGY3D7zIpPrV3zZrZsMbWQsIg="}


@pytest.mark.parametrize("kind", ["image", "video", "document"])
def test_a_caption_is_read_an_urgent_one_gets_the_urgent_reply_alone(channels, kind):
    visitor = WhatsAppVisitor(channels)
    mark = channels.graph.mark()
    photo = whatsapp_message(visitor.sender, kind, media(kind, "I have pus and a fever"))
    assert channels.post_meta("whatsapp", whatsapp_update(visitor.sender, photo)).status_code == 200
    urgent = visitor.wait(mark, "")
    assert is_urgent_reply([{"text": urgent.text}])
    visitor.say("thank you", "You're welcome")  # the urgent turn is over: nothing more came
    texts = [whatsapp_reply(r).text for r in sent_to_whatsapp(channels, mark)
             if r.body["to"] == visitor.sender]
    assert texts[0] == urgent.text and texts[1].startswith(DISCLOSURE)  # the thanks' turn
    assert not any(text.startswith(CANNOT_VIEW) for text in texts)


def test_a_captioned_question_is_answered_without_the_attachment_reply(channels):
    visitor = WhatsAppVisitor(channels)
    mark = channels.graph.mark()
    photo = whatsapp_message(visitor.sender, "image", media("image", "Does microneedling hurt?"))
    assert channels.post_meta("whatsapp", whatsapp_update(visitor.sender, photo)).status_code == 200
    answer = visitor.wait(mark, KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"]))
    assert visitor.turn[0].text.startswith(DISCLOSURE) and visitor.turn[1:] == [answer]


def test_a_4000_character_message_in_greek_is_read_to_its_end(channels):
    """Legal on WhatsApp (4096 characters at most), over 16 KB as Meta sends
    it (JSON with \\u escapes): taken, and read to its last sentence, which
    names urgent symptoms."""
    visitor = WhatsAppVisitor(channels)
    words = "Πονάει η θεραπεία με μικροβελόνες; Πόσο κοστίζει και πόσες συνεδρίες χρειάζομαι; "
    last = " Now I have pus and a fever."
    text = (words * 50)[:4000 - len(last)] + last
    assert len(text) == 4000
    update = whatsapp_update(visitor.sender, whatsapp_message(visitor.sender, "text",
                                                              {"body": text}))
    assert len(json.dumps(update).encode()) > 20 * 1024
    mark = channels.graph.mark()
    assert channels.post_meta("whatsapp", update).status_code == 200
    assert is_urgent_reply([{"text": visitor.wait(mark, "").text}])
