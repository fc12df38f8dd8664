"""Rasa's SQL tracker store, with phone numbers and email addresses masked in
the messages it writes (see privacy/redaction.py). Named in endpoints.yml.

A visitor's request to be forgotten (privacy/erase.py) is carried out here,
when the conversation is next saved. Only the stored copy is masked: the conversation in progress keeps its slots
(a booking can continue after a restart), and the booking flow clears them
once the request is saved.
"""
import copy
from typing import Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered, UserUttered

from actions.knowledge import load_knowledge
from privacy.erase import carry_out_erasure
from privacy.redaction import redact

CLINIC = load_knowledge().clinic


def _mask(text):
    if not text:
        return text
    return redact(text, CLINIC.phone_region, keep=(CLINIC.phone, CLINIC.email))


class RedactingSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker) -> None:
        with self.engine.begin() as connection:
            if carry_out_erasure(connection, tracker.sender_id):
                return  # the visitor asked to be forgotten: nothing is written back
        await super().save(tracker)

    def _additional_events(self, session, tracker) -> Iterator:
        for event in super()._additional_events(session, tracker):
            if isinstance(event, (UserUttered, BotUttered)):
                event = copy.deepcopy(event)
                event.text = _mask(event.text)
                if isinstance(event, UserUttered) and event.parse_data:
                    event.parse_data["text"] = _mask(event.parse_data.get("text"))
            yield event
