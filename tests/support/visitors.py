"""A visitor on each platform channel, speaking in the platform's own update
shapes (from Meta's and Twilio's documentation) and reading what the
assistant sent to the fake platform; and the conversation every channel
must carry: an FAQ, a suggested question, a booking."""
from __future__ import annotations

import itertools
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import requests
from twilio.request_validator import RequestValidator

from actions.actions import KNOWLEDGE
from channels.render import Option
from tests.support.booking import staff_list
from tests.support.channels import SECRETS, Channels, Received
from tests.support.replies import (ASK_CONSENT, ASK_CONTACT, ASK_NAME, ASK_TIME, ASK_TREATMENT,
                                   CONFIRM, DISCLOSURE, GREETING, SAVED)

PAGE_ID = "1067280970047460"
WABA_ID = "102290129340398"
_ids = itertools.count(1)


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}{next(_ids)}"


@dataclass
class Reply:
    """A message the assistant sent: its text and the options it offered."""
    text: str
    options: List[Option] = field(default_factory=list)
    kind: str = "text"  # how the options are chosen on the platform

    def option(self, payload_or_title: str) -> Option:
        return next(option for option in self.options
                    if payload_or_title in (option.payload, option.title))


# Messenger -----------------------------------------------------------------

def messenger_update(*events: Dict[str, Any]) -> Dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": now_ms(),
                                         "messaging": list(events)}]}


def messenger_event(psid: str, **content: Any) -> Dict[str, Any]:
    return {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms(),
            **content}


def messenger_text(psid: str, text: str, mid: Optional[str] = None) -> Dict[str, Any]:
    return messenger_event(psid, message={"mid": mid or new_id("m_"), "text": text})


def messenger_reply(request: Received) -> Optional[Reply]:
    message = request.body.get("message") or {}
    template = ((message.get("attachment") or {}).get("payload") or {})
    if template.get("template_type") == "button":
        return Reply(template["text"], [Option(b["title"], b["payload"])
                                        for b in template["buttons"]], "postback")
    if "text" in message:
        return Reply(message["text"], [Option(q["title"], q["payload"])
                                       for q in message.get("quick_replies", [])], "quick_reply")
    return None


# WhatsApp Cloud API --------------------------------------------------------------

def whatsapp_update(wa_id: str, *messages: Dict[str, Any], statuses: Optional[List] = None,
                    phone_number_id: str = SECRETS["WHATSAPP_PHONE_NUMBER_ID"]) -> Dict:
    value: Dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": wa_id}]}
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}]}


def whatsapp_message(wa_id: str, kind: str, content: Dict[str, Any],
                     message_id: Optional[str] = None) -> Dict[str, Any]:
    return {"from": wa_id, "id": message_id or new_id("wamid."),
            "timestamp": str(int(time.time())), "type": kind, kind: content}


def whatsapp_reply(request: Received) -> Optional[Reply]:
    body = request.body
    if body.get("type") == "text":
        return Reply(body["text"]["body"])
    interactive = body.get("interactive") or {}
    if interactive.get("type") == "button":
        return Reply(interactive["body"]["text"], [
            Option(b["reply"]["title"], b["reply"]["id"])
            for b in interactive["action"]["buttons"]], "button_reply")
    if interactive.get("type") == "list":
        return Reply(interactive["body"]["text"], [
            Option(row["title"], row["id"]) for section in interactive["action"]["sections"]
            for row in section["rows"]], "list_reply")
    return None


# Twilio ------------------------------------------------------------------------

NUMBERED = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)


def twilio_reply(request: Received) -> Optional[Reply]:
    body = request.body.get("Body")
    if body is None:
        return None
    return Reply(body, [Option(title, number) for number, title in NUMBERED.findall(body)],
                 "number")


def twilio_signed(params: Dict[str, str], url: str = SECRETS["TWILIO_WEBHOOK_URL"],
                  token: str = SECRETS["TWILIO_AUTH_TOKEN"]) -> Dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def twilio_params(sender: str, body: str, **extra: str) -> Dict[str, str]:
    return {"MessageSid": new_id("SM"), "AccountSid": SECRETS["TWILIO_ACCOUNT_SID"],
            "From": sender, "To": SECRETS["TWILIO_WHATSAPP_NUMBER"], "Body": body,
            "NumMedia": "0", **extra}


# Visitors ----------------------------------------------------------------------

class Visitor:
    """A visitor on one channel; `say` and `choose` return the reply that
    starts with the expected text, once the fake platform received it."""

    def __init__(self, channels: Channels) -> None:
        self.channels = channels
        self.sender = ""
        self.turn: List[Reply] = []  # what the assistant sent in the latest turn

    platform_name = ""

    @property
    def platform(self):
        return getattr(self.channels, self.platform_name)

    def read(self, request: Received) -> Optional[Reply]:
        raise NotImplementedError

    def to_me(self, request: Received) -> bool:
        raise NotImplementedError

    def post(self, text: str, option: Optional[Option] = None, kind: str = "") -> None:
        raise NotImplementedError

    def wait(self, mark: int, expected: str) -> Reply:
        def found(request: Received) -> bool:
            reply = self.to_me(request) and self.read(request)
            return bool(reply) and reply.text.startswith(expected)
        last = self.platform.wait_for(found, mark)
        self.turn = [self.read(request) for request in self.platform.since(mark)
                     if self.to_me(request)]
        return self.read(last)

    def say(self, text: str, expected: str) -> Reply:
        mark = self.platform.mark()
        self.post(text)
        return self.wait(mark, expected)

    def choose(self, reply: Reply, option: Option, expected: str) -> Reply:
        mark = self.platform.mark()
        self.post(option.title, option, reply.kind)
        return self.wait(mark, expected)


class MessengerVisitor(Visitor):
    platform_name = "graph"

    def __init__(self, channels: Channels) -> None:
        super().__init__(channels)
        self.sender = str(uuid.uuid4().int)[:16]

    def read(self, request: Received) -> Optional[Reply]:
        return messenger_reply(request)

    def to_me(self, request: Received) -> bool:
        return request.path == "/me/messages" and request.body["recipient"]["id"] == self.sender

    def post(self, text: str, option: Optional[Option] = None, kind: str = "") -> None:
        if kind == "postback":
            event = messenger_event(self.sender, postback={
                "title": option.title, "payload": option.payload, "mid": new_id("m_")})
        elif kind == "quick_reply":
            event = messenger_event(self.sender, message={
                "mid": new_id("m_"), "text": option.title,
                "quick_reply": {"payload": option.payload}})
        else:
            event = messenger_text(self.sender, text)
        assert self.channels.post_meta("messenger", messenger_update(event)).status_code == 200


class WhatsAppVisitor(Visitor):
    platform_name = "graph"

    def __init__(self, channels: Channels) -> None:
        super().__init__(channels)
        self.sender = "1555" + str(uuid.uuid4().int)[:7]

    def read(self, request: Received) -> Optional[Reply]:
        return whatsapp_reply(request)

    def to_me(self, request: Received) -> bool:
        return request.path.endswith("/messages") and request.body.get("to") == self.sender

    def post(self, text: str, option: Optional[Option] = None, kind: str = "") -> None:
        if option is not None:
            message = whatsapp_message(self.sender, "interactive", {
                "type": kind, kind: {"id": option.payload, "title": option.title}})
        else:
            message = whatsapp_message(self.sender, "text", {"body": text})
        update = whatsapp_update(self.sender, message)
        assert self.channels.post_meta("whatsapp", update).status_code == 200


class TwilioVisitor(Visitor):
    platform_name = "twilio"

    def __init__(self, channels: Channels) -> None:
        super().__init__(channels)
        self.sender = "whatsapp:+1555" + str(uuid.uuid4().int)[:7]

    def read(self, request: Received) -> Optional[Reply]:
        return twilio_reply(request)

    def to_me(self, request: Received) -> bool:
        return request.body.get("To") == self.sender

    def post(self, text: str, option: Optional[Option] = None, kind: str = "",
             **extra: str) -> requests.Response:
        params = twilio_params(self.sender, option.payload if option else text, **extra)
        response = requests.post(f"{self.channels.assistant.url}/webhooks/twilio/webhook",
                                 data=params, headers=twilio_signed(params), timeout=10)
        assert response.status_code == 200
        return response


def titles(intents: List[str]) -> List[str]:
    return [KNOWLEDGE.titles[intent] for intent in intents]


def hold_the_conversation(visitor: Visitor) -> None:
    """An FAQ, a suggested question chosen, the greeting's suggestions, and a
    booking that staff then find."""
    pain = KNOWLEDGE.by_id["pain"]
    answer = visitor.say("Does microneedling hurt?", KNOWLEDGE.answer(pain))
    assert visitor.turn[0].text.startswith(DISCLOSURE) and visitor.turn[-1] == answer
    related = [topic.intent for topic in KNOWLEDGE.related(pain)]
    assert [option.title for option in answer.options] == titles(related)
    visitor.choose(answer, answer.options[0], KNOWLEDGE.answer(KNOWLEDGE.by_intent[related[0]]))

    greeting = visitor.say("hello", GREETING)
    suggested = [topic.intent for topic in KNOWLEDGE.suggested]
    assert [option.title for option in greeting.options] == titles(suggested)
    visitor.choose(greeting, greeting.options[2],
                   KNOWLEDGE.answer(KNOWLEDGE.by_intent[suggested[2]]))

    visitor.say("I'd like to book a consultation", ASK_TREATMENT)
    consent = visitor.say("acne scars on my cheeks", ASK_CONSENT)
    visitor.choose(consent, consent.option("Yes, I agree"), ASK_NAME)
    visitor.say("Dana Whitfield", ASK_CONTACT)
    visitor.say("801-555-0123", ASK_TIME)
    confirmation = visitor.say("next Tuesday afternoon", CONFIRM)
    assert "acne scars on my cheeks for Dana Whitfield" in confirmation.text
    saved = visitor.choose(confirmation, confirmation.option("Yes, send it"), SAVED)
    reference = saved.text.split("reference ")[1].split(".")[0]
    [booking] = [row for row in staff_list(visitor.channels.assistant)
                 if row["reference"] == reference]
    assert booking["name"] == "Dana Whitfield" and booking["sender_id"] == visitor.sender
    assert booking["contact"] == "+18015550123"
