"""Typed intents are not a way around the conversation, and a message
without words is not a miss.

Rasa reads a message such as `/book_consultation{"name": "x"}` as an intent
with slot values, skipping the NLU and any form. On the public channels only
the exact payloads of the assistant's own buttons are accepted as such;
anything else that starts with "/" is read as ordinary text.

A chat widget opens the conversation with a message of its own: an empty one
(rasa-webchat's `initPayload` is null by default) or a start payload such as
`/get_started` (rasa-webchat's README) or `/greet`. These are greeted, and a
thumbs-up alone is thanked, instead of being read as words not understood.
"""
import re
from pathlib import Path
from typing import Awaitable, Callable, Optional, Set

import yaml
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput

from channels import guard
from core.knowledge import load_knowledge

DOMAIN = Path(__file__).resolve().parent.parent / "domain.yml"
EXTRA_PAYLOADS = {"/out_of_scope"}  # the "Something else" button of "Did you mean ...?"
GREETING = "/greet"
ACKNOWLEDGEMENT = "/thanks"  # "You're welcome!": never a yes to a question asked
START_PAYLOADS = {"", "/get_started", "/greet"}
THUMBS_UP = re.compile(r"(?:\U0001F44D[\U0001F3FB-\U0001F3FF]?\s*)+")  # any skin tone


def button_payloads() -> Set[str]:
    """Every payload a button of the assistant can send."""
    payloads = {f"/{intent}" for intent in load_knowledge().titles}
    for variants in yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["responses"].values():
        payloads |= {button["payload"] for variant in variants
                     for button in variant.get("buttons", [])}
    return payloads | EXTRA_PAYLOADS


ALLOWED = frozenset(button_payloads())


def screen(text: Optional[str]) -> str:
    """The text to process: a button payload as it is, other "/..." as text;
    the greeting for an empty message or a start payload, thanks for a
    thumbs-up."""
    text = text or ""
    if text.strip().lower() in START_PAYLOADS:
        return GREETING
    if THUMBS_UP.fullmatch(text.strip()):
        return ACKNOWLEDGEMENT
    if text.startswith("/") and text.strip() not in ALLOWED:
        return text.lstrip("/")
    return text


class ScreenedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel, screened, and answered even when a part of
    the assistant is down (channels/guard.py)."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]):
        turn = guard.answered(on_new_message)

        async def screened(message: UserMessage) -> None:
            message.text = screen(message.text)
            await turn(message)

        return super().blueprint(screened)
