"""Every message gets an answer, even when a part of the assistant is down.

- The action server down, slow or failing: Rasa 3.6 waits up to 5 minutes
  for it and then says nothing. Here a call to it gives up after
  ACTION_TIMEOUT_S, and the visitor is given the clinic's phone instead (for
  an urgent message, the urgent reply itself, which needs no action server).
  A booking form under way is closed: its details could not be checked or
  stored, and the visitor is told to call, never that it was booked.
- The conversation store or the lock store (database, Redis) down: the turn
  fails, and the channel answers "temporarily unavailable, please call".
  (Rasa's FailSafeTrackerStore would carry on with an empty conversation
  kept in memory: the visitor's history forgotten, the turn never stored.)
  Both stores reconnect by themselves once back.
- A visitor sending faster than a person types is slowed down (the REST
  channel's rate limit, channels/memory.py).

The channels wrap their turns with `answered()` when the Rasa server
registers them, which also installs the action server's guard (and the
speed-ups of channels/speed.py, which patch the same Rasa class, and the
check of channels/once.py that runs no turn twice for one message id).
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Awaitable, Callable, List

from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.exceptions import RasaException

from channels import once, speed
from core.intents import URGENT_INTENTS
from core.knowledge import load_knowledge

logger = logging.getLogger(__name__)
ACTION_TIMEOUT_S = 4.0  # + Rasa's own work: a reply within 5 s with the action server hung
MAX_BODY_BYTES = 16 * 1024  # a visitor's message is at most a few hundred characters
FALLBACK = "guard_fallback"  # marks the replies given in place of the action server's

_KNOWLEDGE = load_knowledge()
ACTIONS_DOWN = (
    "Sorry, I can't look that up right now. Please call {clinic_name} at {clinic_phone}; "
    "if this is an emergency, call {clinic_emergency_number}.").format(**_KNOWLEDGE.values)
UNAVAILABLE = (
    "Sorry, the assistant is temporarily unavailable and could not take your message. "
    "Please call {clinic_name} at {clinic_phone}; if this is an emergency, call "
    "{clinic_emergency_number}.").format(**_KNOWLEDGE.values)
SLOW_DOWN = "You're sending messages very quickly: please wait a moment, then try again."


def max_body_bytes() -> int:
    """The cap on a visitor's message, REST body or website chat packet
    (MAX_BODY_BYTES, or the environment's MAX_BODY_BYTES)."""
    return int(os.environ.get("MAX_BODY_BYTES", MAX_BODY_BYTES))


def install() -> None:
    """Put the time limit and the fallback on every call to the action
    server; make a failure of the conversation store fail the turn."""
    if getattr(RemoteAction.run, "guarded", False):
        return
    FailSafeTrackerStore.on_tracker_store_error = _fail_the_turn
    FailSafeTrackerStore.on_tracker_store_retrieve_error = _fail_the_turn
    remote_run = RemoteAction.run

    async def run_or_fall_back(self, output_channel, nlg, tracker, domain) -> List[Any]:
        try:
            return await asyncio.wait_for(remote_run(self, output_channel, nlg, tracker, domain),
                                          ACTION_TIMEOUT_S)
        except (RasaException, asyncio.TimeoutError) as error:
            if type(error).__name__ == "ActionExecutionRejection":
                raise  # a form's own refusal, not a failure
            logger.error("action_server.failed action=%s error=%s", self.name(),
                         type(error).__name__)
            return await _fallback(output_channel, nlg, tracker)

    run_or_fall_back.guarded = True
    RemoteAction.run = run_or_fall_back


def _fail_the_turn(_store, error: Exception) -> None:
    raise error


async def _fallback(output_channel, nlg, tracker) -> List[Any]:
    """One apology per turn; a form under way is closed."""
    events: List[Any] = []
    if tracker.active_loop_name:
        events = [ActiveLoop(None), SlotSet("requested_slot", None)]
    if _apologised_this_turn(tracker):
        return events
    intent = (tracker.latest_message.intent or {}).get("name", "")
    if intent in URGENT_INTENTS:
        reply = await nlg.generate(f"utter_{intent}", tracker, output_channel.name(),
                                   **_KNOWLEDGE.values)
        return [BotUttered(reply.get("text"), metadata={FALLBACK: True}), *events]
    return [BotUttered(ACTIONS_DOWN, metadata={FALLBACK: True}), *events]


def _apologised_this_turn(tracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.metadata.get(FALLBACK):
            return True
    return False


def answered(on_new_message: Callable[[UserMessage], Awaitable[Any]]
             ) -> Callable[[UserMessage], Awaitable[bool]]:
    """on_new_message, with "temporarily unavailable" said when the turn
    fails; True when it did not. Installs the action server's guard, the
    speed-ups and the once-only check of message ids too."""
    install()
    speed.install()
    once.install()

    async def turn(message: UserMessage) -> bool:
        try:
            await on_new_message(message)
            return True
        except Exception as error:  # noqa: BLE001 - whatever broke, the visitor gets an answer
            logger.error("turn.failed channel=%s error=%s", message.input_channel,
                         type(error).__name__)
            await message.output_channel.send_text_message(message.sender_id, UNAVAILABLE)
            return False
    return turn

