"""Thin actions: they wire the knowledge module to Rasa and hold no state.

Wording lives in domain.yml (responses) and knowledge/ (answers, titles,
clinic profile); these classes only choose what to say.
"""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import (KNOWLEDGE, URGENT_INTENTS, clinic_reply, disclose_first, handoff,
                             intent_of)

FALLBACK_INTENT = "nlu_fallback"
BOOKING_INTENT = "book_consultation"
MAX_CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.1  # below this a guess is noise, not a candidate


class ActionAnswerFaq(Action):
    """Answers the FAQ intent of the latest message from the knowledge file."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        KNOWLEDGE.refresh()  # a topic added by staff is answered without a restart
        events = disclose_first(dispatcher, tracker)
        topic = KNOWLEDGE.by_intent.get(intent_of(tracker))
        if topic is None:
            dispatcher.utter_message(response="utter_default", **KNOWLEDGE.values)
            return events
        related = KNOWLEDGE.buttons([related.intent for related in KNOWLEDGE.related(topic)])
        if topic.safety == "consult":
            dispatcher.utter_message(text=KNOWLEDGE.answer(topic))
            dispatcher.utter_message(response="utter_offer_consultation",
                                     buttons=KNOWLEDGE.buttons([BOOKING_INTENT]) + related)
        else:
            dispatcher.utter_message(text=KNOWLEDGE.answer(topic), buttons=related)
        return events


class ActionClinicReply(Action):
    """Replies to a non-FAQ intent with its response `utter_<intent>`,
    filled in from the clinic profile."""

    def name(self) -> Text:
        return "action_clinic_reply"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = intent_of(tracker)
        if intent in URGENT_INTENTS:  # the urgent reply stands alone
            clinic_reply(dispatcher, intent)
            return []
        if intent == "greet":  # the greeting says it all itself
            clinic_reply(dispatcher, intent)
            return [SlotSet("disclosed", True)]
        events = disclose_first(dispatcher, tracker)
        clinic_reply(dispatcher, intent)
        return events


class ActionDidYouMean(Action):
    """Low confidence or two close candidates: offer the top candidates.
    A second miss in a row: say what the assistant can do and how to reach
    the clinic."""

    def name(self) -> Text:
        return "action_did_you_mean"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        KNOWLEDGE.refresh()
        candidates = [
            ranked["name"]
            for ranked in tracker.latest_message.get("intent_ranking", [])
            if ranked["name"] in KNOWLEDGE.titles
            and ranked.get("confidence", 0) >= MIN_CANDIDATE_CONFIDENCE
        ][:MAX_CANDIDATES]
        events = disclose_first(dispatcher, tracker)
        if _missed_before(tracker):  # twice not understood: a person can help
            dispatcher.utter_message(response="utter_still_not_understood")
            return events + handoff(dispatcher)
        if candidates:
            buttons = KNOWLEDGE.buttons(candidates)
            buttons.append({"title": "Something else", "payload": "/out_of_scope"})
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        else:
            suggestions = KNOWLEDGE.buttons([topic.intent for topic in KNOWLEDGE.suggested])
            dispatcher.utter_message(response="utter_cannot_help", buttons=suggestions,
                                     **KNOWLEDGE.values)
        return events + [SlotSet("handoff", None)]  # no hand-off after a first miss



def _missed_before(tracker: Tracker) -> bool:
    """True when the visitor's previous message was not understood either."""
    user_turns = [event for event in tracker.events if event.get("event") == "user"]
    if len(user_turns) < 2:
        return False
    previous = (user_turns[-2].get("parse_data") or {}).get("intent") or {}
    return previous.get("name") == FALLBACK_INTENT


class ActionDisclose(Action):
    """Before a reply that is not an action's own (a form's first question)."""

    def name(self) -> Text:
        return "action_disclose"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        return disclose_first(dispatcher, tracker)
