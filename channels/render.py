"""One place that turns a bot message into what each channel can show.

Actions stay channel-agnostic: they send text and buttons (title and
payload). The web shows them as they are; Messenger and WhatsApp get their
native buttons within the platforms' limits; Twilio, which shows no buttons,
gets a numbered list, and a reply of "1", "2"... is mapped back here to the
payload of the option that was offered.

Limits are Meta's and Twilio's published ones (see the constants).
"""
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import yaml

from core.language import ENGLISH, SPANISH, tells

DOMAIN = Path(__file__).resolve().parent.parent / "domain.yml"

TITLE_MAX = 20  # Messenger quick replies and buttons, WhatsApp reply buttons
ELLIPSIS = "…"

MESSENGER_TEXT_MAX = 2000  # a text message
MESSENGER_TEMPLATE_TEXT_MAX = 640  # the text of a button template
MESSENGER_BUTTONS_MAX = 3  # buttons of a button template
MESSENGER_QUICK_REPLIES_MAX = 10  # Meta allows 13; more than 10 is hard to read on a phone
MESSENGER_PAYLOAD_MAX = 1000

WHATSAPP_TEXT_MAX = 4096  # a text message
WHATSAPP_BODY_MAX = 1024  # the body of an interactive message
WHATSAPP_BUTTONS_MAX = 3  # reply buttons
WHATSAPP_LIST_ROWS_MAX = 10  # rows of a list message, all sections together
WHATSAPP_ROW_TITLE_MAX = 24
WHATSAPP_ID_MAX = 200  # row ids (button ids allow 256)

TWILIO_BODY_MAX = 1600  # a WhatsApp message through Twilio

NUMBERED_REPLY = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


@dataclass(frozen=True)
class Option:
    """A button of a bot message: what the visitor sees and what it sends."""
    title: str
    payload: str


def options(message: Dict[str, Any]) -> List[Option]:
    """The buttons (or quick replies) of a bot message, as Rasa hands them over."""
    raw = message.get("buttons") or message.get("quick_replies") or []
    return [Option(str(button.get("title") or button["payload"]), str(button["payload"]))
            for button in raw if isinstance(button, dict) and button.get("payload")]


def wording(response: str) -> Dict[str, str]:
    """The text of a response of domain.yml (labels the channels need), by
    language: the variation without a condition is English, the one on the
    slot `language` gives that language's (English where there is none)."""
    variations = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["responses"][response]
    texts = {ENGLISH: next(v["text"] for v in variations if not v.get("condition"))}
    for variation in variations:
        for condition in variation.get("condition") or []:
            if condition.get("name") == "language":
                texts[condition["value"]] = variation["text"]
    return {language: texts.get(language, texts[ENGLISH]) for language in (ENGLISH, SPANISH)}


def in_language_of(text: str, labels: Dict[str, str]) -> str:
    """The label in the language of the bot message `text` it goes with."""
    return labels[tells(text) or ENGLISH]


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, an ellipsis marking a cut."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + ELLIPSIS


def split_text(text: str, limit: int) -> List[str]:
    """`text` in pieces of at most `limit` characters, cut between paragraphs
    or words where possible."""
    pieces: List[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        at = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        at = at if at > limit // 2 else limit
        pieces.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    return pieces + [rest] if rest else pieces


def _with_last_within(text: str, limit: int, last_limit: int) -> List[str]:
    """Pieces of at most `limit`, the last of at most `last_limit` (it carries buttons)."""
    pieces = split_text(text, limit)
    if pieces and len(pieces[-1]) > last_limit:
        pieces[-1:] = split_text(pieces[-1], last_limit)
    return pieces


def _text_or_titles(text: str, offered: List[Option]) -> str:
    return text.strip() or "\n".join(option.title for option in offered)


# Messenger ---------------------------------------------------------------

def for_messenger(text: str, offered: Iterable[Option]) -> List[Dict[str, Any]]:
    """Send API `message` objects, in order. Up to 3 options under a short
    text: a button template; otherwise quick replies (at most 10)."""
    offered = [option for option in offered if len(option.payload) <= MESSENGER_PAYLOAD_MAX]
    if not offered:
        return [{"text": piece} for piece in split_text(text, MESSENGER_TEXT_MAX)]
    pieces = split_text(_text_or_titles(text, offered), MESSENGER_TEXT_MAX)
    *before, last = pieces
    messages: List[Dict[str, Any]] = [{"text": piece} for piece in before]
    if len(offered) <= MESSENGER_BUTTONS_MAX and len(last) <= MESSENGER_TEMPLATE_TEXT_MAX:
        buttons = [{"type": "postback", "title": cut(option.title, TITLE_MAX),
                    "payload": option.payload} for option in offered]
        messages.append({"attachment": {"type": "template", "payload": {
            "template_type": "button", "text": last, "buttons": buttons}}})
    else:
        quick_replies = [{"content_type": "text", "title": cut(option.title, TITLE_MAX),
                          "payload": option.payload}
                         for option in offered[:MESSENGER_QUICK_REPLIES_MAX]]
        messages.append({"text": last, "quick_replies": quick_replies})
    return messages


# WhatsApp Cloud API ------------------------------------------------------

def for_whatsapp(text: str, offered: Iterable[Option], list_button: str) -> List[Dict[str, Any]]:
    """Cloud API message objects (without `to`), in order. Up to 3 options:
    reply buttons; more: a list message of at most 10 rows opened by
    `list_button`. The text before the options goes in the interactive body
    (at most 1024 characters); longer text is sent first as text messages."""
    offered = [option for option in offered if len(option.payload) <= WHATSAPP_ID_MAX]
    if not offered:
        return [{"type": "text", "text": {"body": piece}}
                for piece in split_text(text, WHATSAPP_TEXT_MAX)]
    *before, body = _with_last_within(_text_or_titles(text, offered), WHATSAPP_TEXT_MAX,
                                      WHATSAPP_BODY_MAX)
    messages: List[Dict[str, Any]] = [{"type": "text", "text": {"body": piece}}
                                      for piece in before]
    if len(offered) <= WHATSAPP_BUTTONS_MAX:
        action = {"buttons": [{"type": "reply", "reply": {
            "id": option.payload, "title": cut(option.title, TITLE_MAX)}} for option in offered]}
        kind = "button"
    else:
        rows = [{"id": option.payload, "title": cut(option.title, WHATSAPP_ROW_TITLE_MAX)}
                for option in offered[:WHATSAPP_LIST_ROWS_MAX]]
        action = {"button": cut(list_button, TITLE_MAX), "sections": [{"rows": rows}]}
        kind = "list"
    messages.append({"type": "interactive", "interactive": {
        "type": kind, "body": {"text": body}, "action": action}})
    return messages


# Twilio (WhatsApp without buttons) -------------------------------------------

def for_numbered(text: str, offered: Iterable[Option], hint: str) -> List[str]:
    """Message bodies for a channel without buttons: the options as a
    numbered list ("1. ...") after the text, then `hint`."""
    offered = list(offered)
    if offered:
        numbered = "\n".join(f"{number}. {option.title}"
                             for number, option in enumerate(offered, start=1))
        text = "\n\n".join(part for part in (text.strip(), numbered, hint.strip()) if part)
    return split_text(text, TWILIO_BODY_MAX)


def chosen(reply: str, offered: List[Option]) -> Optional[str]:
    """The payload of the option a reply such as "2" picks, if it picks one."""
    match = NUMBERED_REPLY.match(reply or "")
    if not match:
        return None
    number = int(match.group(1))
    return offered[number - 1].payload if 1 <= number <= len(offered) else None


def last_offered(events: Iterable[Dict[str, Any]]) -> List[Option]:
    """The options of the latest bot message with buttons since the visitor's
    last message (none if the bot offered none then). `events` as stored in
    the tracker store, oldest first."""
    for event in reversed(list(events)):
        if event.get("event") == "user":
            return []
        if event.get("event") == "bot":
            found = options(event.get("data") or {})
            if found:
                return found
    return []
