"""Every message gets an answer, even when a part of the assistant is down.

- The action server down, slow or failing: the visitor is given the
  clinic's phone instead, within 5 s (rasa_patches/action_time_limit.py).
- The conversation store or the lock store (database, Redis) down: the turn
  fails (rasa_patches/store_failure.py), and the channel answers
  "temporarily unavailable, please call" (`answered` below). Both stores
  reconnect by themselves once back.
- A visitor sending faster than a person types is slowed down (the REST
  channel's rate limit, channels/memory.py).

The channels wrap their turns with `answered()` when the Rasa server
registers them. It installs nothing: it refuses to start a channel in a
Rasa server without this project's changes to Rasa (a plain `rasa run`
instead of `python -m rasa_patches run`), since without them a visitor could
wait five minutes for no reply, lose their conversation or be booked twice.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage

import rasa_patches
from core.knowledge import load_knowledge
from core.language import ENGLISH, SPANISH, tells

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 16 * 1024  # a visitor's message is at most a few hundred characters

_KNOWLEDGE = load_knowledge()
# The conversation's language is out of reach when the turn failed: the
# message's own small words choose (core/language.py).
UNAVAILABLE = {language: text.format(**_KNOWLEDGE.values) for language, text in {
    ENGLISH: "Sorry, the assistant is temporarily unavailable and could not take your "
             "message. Please call {clinic_name} at {clinic_phone}; if this is an "
             "emergency, call {clinic_emergency_number}.",
    SPANISH: "Lo siento, el asistente no está disponible en este momento y no pudo recibir "
             "su mensaje. Por favor llame a {clinic_name} al {clinic_phone}; si es una "
             "emergencia, llame al {clinic_emergency_number}.",
}.items()}


def max_body_bytes() -> int:
    """The cap on a visitor's message, REST body or website chat packet
    (MAX_BODY_BYTES, or the environment's MAX_BODY_BYTES)."""
    return int(os.environ.get("MAX_BODY_BYTES", MAX_BODY_BYTES))


def answered(on_new_message: Callable[[UserMessage], Awaitable[Any]]
             ) -> Callable[[UserMessage], Awaitable[bool]]:
    """on_new_message, with "temporarily unavailable" said when the turn
    fails; True when it did not. Refuses to start without rasa_patches."""
    rasa_patches.require_installed("This project's channels")

    async def turn(message: UserMessage) -> bool:
        try:
            await on_new_message(message)
            return True
        except Exception as error:  # noqa: BLE001 - whatever broke, the visitor gets an answer
            logger.error("turn.failed channel=%s error=%s", message.input_channel,
                         type(error).__name__)
            language = tells(message.text or "") or ENGLISH
            await message.output_channel.send_text_message(message.sender_id,
                                                           UNAVAILABLE[language])
            return False
    return turn
