"""The action server's time limit, and an answer when it fails.

What Rasa does: RemoteAction.run calls the action server and waits up to
DEFAULT_REQUEST_TIMEOUT (5 minutes); if the server is down, hung or fails,
it raises, the turn ends, and the visitor gets no reply at all.

What we change: the call gives up after ACTION_TIMEOUT_S, and a failed call
gives the visitor the clinic's phone instead (for an urgent message, the
urgent reply itself, which needs no action server); one apology per turn. A
booking form under way is closed: its details could not be checked or
stored, and the visitor is told to call, never that it was booked. A form's
own refusal (ActionExecutionRejection) is not a failure and goes through.

Why: every message gets an answer within 5 s even with the action server
hung (tests/test_cluster.py, "with the action servers hung replies still
come within 5 s"); needed for correctness, so the channels refuse to start
without it.

Rasa names relied on: RemoteAction.run(self, output_channel, nlg, tracker,
domain); ActionExecutionRejection, matched by its class name;
DialogueStateTracker.active_loop_name.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, List

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.exceptions import RasaException

from core.intents import URGENT_INTENTS
from core.knowledge import load_knowledge
from core.language import ENGLISH, SPANISH
from rasa_patches.change import Change, Replacement

logger = logging.getLogger(__name__)
ACTION_TIMEOUT_S = 4.0  # + Rasa's own work: a reply within 5 s with the action server hung
FALLBACK = "guard_fallback"  # marks the replies given in place of the action server's

_KNOWLEDGE = load_knowledge()
ACTIONS_DOWN = {language: text.format(**_KNOWLEDGE.values) for language, text in {
    ENGLISH: "Sorry, I can't look that up right now. Please call {clinic_name} at "
             "{clinic_phone}; if this is an emergency, call {clinic_emergency_number}.",
    SPANISH: "Lo siento, ahora no puedo consultarlo. Por favor llame a {clinic_name} al "
             "{clinic_phone}; si es una emergencia, llame al {clinic_emergency_number}.",
}.items()}


def with_time_limit(remote_run):
    """RemoteAction.run, given up after ACTION_TIMEOUT_S, with a fallback reply."""
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

    return run_or_fall_back


async def _fallback(output_channel, nlg, tracker) -> List[Any]:
    """One apology per turn; a form under way is closed."""
    events: List[Any] = []
    if tracker.active_loop_name:
        events = [ActiveLoop(None), SlotSet("requested_slot", None)]
    if _apologised_this_turn(tracker):
        return events
    intent = (tracker.latest_message.intent or {}).get("name", "")
    # "es" when the Spanish red-flag patterns matched, else the conversation's
    spanish_urgent = tracker.latest_message.parse_data.get("language") == SPANISH
    language = SPANISH if spanish_urgent else tracker.get_slot("language") or ENGLISH
    if intent in URGENT_INTENTS:
        response = f"utter_{intent}_es" if spanish_urgent else f"utter_{intent}"
        reply = await nlg.generate(response, tracker, output_channel.name(),
                                   **_KNOWLEDGE.values)
        return [BotUttered(reply.get("text"), metadata={FALLBACK: True}), *events]
    return [BotUttered(ACTIONS_DOWN.get(language, ACTIONS_DOWN[ENGLISH]),
                       metadata={FALLBACK: True}), *events]


def _apologised_this_turn(tracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.metadata.get(FALLBACK):
            return True
    return False


CHANGE = Change("action_time_limit", for_correctness=True, replaces=(
    Replacement(RemoteAction, "run", with_time_limit),))
