"""What several actions say alike: clinic replies filled from the profile,
and handing a visitor over to a person. Loads the knowledge once."""
import datetime
from typing import Any, Dict, List, Text
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import load_knowledge

KNOWLEDGE = load_knowledge()  # a few kilobytes of YAML, validated at start-up
SUGGEST_WITH = {"greet", "out_of_scope"}
URGENT_INTENTS = {"urgent_emergency", "urgent_clinic"}


def intent_of(tracker: Tracker) -> Text:
    """The intent of the visitor's latest message ("" before the first)."""
    return (tracker.latest_message.get("intent") or {}).get("name", "")


def disclose_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
    """The first reply of a conversation says what the assistant is: automated,
    general information, not medical advice, and where the privacy notice is."""
    if tracker.get_slot("disclosed"):
        return []
    dispatcher.utter_message(response="utter_disclosure", **KNOWLEDGE.values)
    return [SlotSet("disclosed", True)]


def clinic_reply(dispatcher: CollectingDispatcher, intent: Text) -> None:
    """Utter `utter_<intent>` with the clinic profile's values."""
    response = f"utter_{intent}"
    if intent == "clinic_hours" and not KNOWLEDGE.clinic.opening_hours.confirmed:
        response = "utter_clinic_hours_unpublished"
    buttons = []
    if intent in SUGGEST_WITH:
        buttons = KNOWLEDGE.buttons([topic.intent for topic in KNOWLEDGE.suggested])
    dispatcher.utter_message(response=response, buttons=buttons, **KNOWLEDGE.values)


def now() -> datetime.datetime:
    return datetime.datetime.now(ZoneInfo(KNOWLEDGE.clinic.timezone))


def next_opening_text() -> str:
    return KNOWLEDGE.clinic.opening_hours.next_opening(now()).strftime("%A %-d %B at %-I:%M %p")


def handoff(dispatcher: CollectingDispatcher) -> List[Dict[Text, Any]]:
    """During opening hours: the phone and an offer to be called back.
    Outside them: a call-back request, and when the clinic opens."""
    if KNOWLEDGE.clinic.opening_hours.is_open(now()):
        dispatcher.utter_message(response="utter_handoff_open",
                                 buttons=KNOWLEDGE.buttons(["request_callback"]),
                                 **KNOWLEDGE.values)
        return [SlotSet("handoff", "open")]
    dispatcher.utter_message(response="utter_handoff_closed",
                             clinic_next_opening=next_opening_text(), **KNOWLEDGE.values)
    return [SlotSet("handoff", "closed")]  # a rule starts the call-back request
