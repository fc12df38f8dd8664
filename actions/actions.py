"""Thin actions: they wire the knowledge module to Rasa and hold no state.

Wording lives in domain.yml (responses) and knowledge/ (answers, titles,
clinic profile); these classes only choose what to say.
"""
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import (CLINIC_QUESTIONS, CONTINUE_INTENT, KNOWLEDGE, answer, asked_in,
                             clinic_reply, disclose_first, goes_on, in_context, intent_of, is_short,
                             language_of, language_told, likeliest, next_in_time, refers_back,
                             urgent_again)
from core.intents import BOOKING_INTENT, FALLBACK_INTENT, URGENT_INTENTS
from core.knowledge import Topic
from core.language import ASKS_FOR_SPANISH, ENTITY, SPANISH

SOMETHING_ELSE = {"en": "Something else", "es": "Otra cosa"}  # the last "Did you mean" button
KEEPS_TOPIC = {"deny", "thanks", "affirm"}  # small talk that leaves the topic under discussion
# "muchas gracias, que tenga buen día": thanks or goodbye, either reply is right
PARTING = {"thanks", "goodbye"}
SURE_PARTING = 0.8  # the two together at least this sure


def answered(topic_ids: List[Text], offered: bool) -> List[Dict[Text, Any]]:
    """Remember the topic just answered, if any (for "tell me more" and "is
    that permanent?"), and whether a consultation was just offered (so that
    "yes" books one)."""
    return [SlotSet("offered", offered), SlotSet("topic", topic_ids[-1] if topic_ids else None)]


class ActionAnswerFaq(Action):
    """Answers the questions of the latest message, in the order asked, from
    the knowledge file. "tell me more" gets more of the topic just answered
    (its `more`), and after that the next topic."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        KNOWLEDGE.refresh()  # a topic added by staff is answered without a restart
        events = disclose_first(dispatcher, tracker)
        language = language_of(tracker)
        if urgent_again(dispatcher, tracker, understood=True):
            return events + answered([], False)
        asked = asked_in(tracker)
        if intent_of(tracker) == CONTINUE_INTENT:
            topic = KNOWLEDGE.by_id.get(tracker.get_slot("topic") or "")
            if topic and topic.more and tracker.get_slot("told_more") != topic.id:
                return events + tell_more(dispatcher, topic, language)
            asked = follow_up(tracker.get_slot("topic"))
        if not asked:
            dispatcher.utter_message(response="utter_help",
                                     buttons=KNOWLEDGE.buttons(suggestions(), language),
                                     **KNOWLEDGE.values_in[language])
            return events + answered([], False)
        return events + answer_all(dispatcher, asked, language)


def answer_all(dispatcher: CollectingDispatcher, asked: List[Text],
               language: Text = "en") -> List[Dict[Text, Any]]:
    """Answer `asked` in order; remember the last topic and any consultation offer."""
    topics = answer(dispatcher, asked, language=language)
    return answered(topics, any(KNOWLEDGE.by_id[topic].safety == "consult" for topic in topics))


def tell_more(dispatcher: CollectingDispatcher, topic, language: Text = "en") -> List[Dict[Text, Any]]:
    """The `more` of `topic`, with its related topics as buttons (or the
    consultation offer, for a topic of safety class `consult`)."""
    related = [other.intent for other in KNOWLEDGE.related(topic)]
    consult = topic.safety == "consult"
    dispatcher.utter_message(text=KNOWLEDGE.more(topic, language),
                             buttons=[] if consult else KNOWLEDGE.buttons(related, language))
    if consult:
        dispatcher.utter_message(response="utter_offer_consultation",
                                 buttons=KNOWLEDGE.buttons([BOOKING_INTENT] + related, language))
    return answered([topic.id], consult) + [SlotSet("told_more", topic.id)]


def suggestions() -> List[Text]:
    return [topic.intent for topic in KNOWLEDGE.suggested]


def follow_up(topic_id: Optional[Text]) -> List[Text]:
    """What "tell me more" after `topic_id` answers: its first related topic."""
    topic = KNOWLEDGE.by_id.get(topic_id or "")
    related = KNOWLEDGE.related(topic) if topic else []
    return [related[0].intent] if related else []


class ActionClinicReply(Action):
    """Replies to a non-FAQ intent with its response `utter_<intent>`,
    filled in from the clinic profile."""

    def name(self) -> Text:
        return "action_clinic_reply"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = intent_of(tracker)
        language = language_of(tracker)
        if intent in URGENT_INTENTS:  # the urgent reply stands alone, in the visitor's language
            clinic_reply(dispatcher, intent, language)
            return answered([], False)
        if intent == "greet":  # the greeting says it all itself
            clinic_reply(dispatcher, intent, language)
            return [SlotSet("disclosed", True)] + answered([], False)
        events = disclose_first(dispatcher, tracker)
        if intent == "acknowledge":
            if tracker.get_slot("offered"):  # "ok" to "Would you like to book ...?": ask
                dispatcher.utter_message(response="utter_offer_again")
                return events  # the offer stands: "yes" books
            clinic_reply(dispatcher, intent, language)
            return events + [SlotSet("offered", False)]
        if intent in CLINIC_QUESTIONS:  # "where are you, and what are your hours?": both
            return events + answer_all(dispatcher, asked_in(tracker), language)
        if intent == "out_of_scope":
            if urgent_again(dispatcher, tracker, understood=True):  # "should I go to the ER?"
                return events + answered([], False)
            if speaks_spanish(dispatcher, tracker):  # "do you speak spanish?"
                return events + [SlotSet(ENTITY, SPANISH)] + answered([], False)
            if in_context(tracker):  # "what about the sauna?" just after the aftercare
                return events + answer_all(dispatcher, asked_in(tracker), language)
        clinic_reply(dispatcher, intent, language)
        if intent == "out_of_scope" and not language_told(tracker):  # "jajsjsj ñ" first
            dispatcher.utter_message(response="utter_not_understood_es")
        if intent in KEEPS_TOPIC:  # "no thanks" to the offer, then "tell me more": the same topic
            return events + [SlotSet("offered", False)]
        return events + answered([], False)


class ActionDidYouMean(Action):
    """Not understood. The first miss offers the likeliest topics ("Did you
    mean ...?"); a second in a row says what the assistant can help with,
    with topic buttons, the clinic's phone and a call-back offered as a
    button. It never starts a form: the next message is a new question."""

    def name(self) -> Text:
        return "action_did_you_mean"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        KNOWLEDGE.refresh()
        candidates = likeliest(tracker, set(KNOWLEDGE.titles))
        events = disclose_first(dispatcher, tracker)
        language = language_of(tracker)
        topic = KNOWLEDGE.by_id.get(tracker.get_slot("topic") or "")
        text = tracker.latest_message.get("text") or ""
        if parting := _parting(tracker):
            clinic_reply(dispatcher, parting, language)
            return events + [SlotSet("offered", False)]
        if urgent_again(dispatcher, tracker, understood=False):  # "ya se calmó un poco"
            return events + answered([], False)
        asked = asked_in(tracker)
        if not asked and speaks_spanish(dispatcher, tracker):  # "¿hablan español?"
            return events + [SlotSet(ENTITY, SPANISH)] + answered([], False)
        if len(asked) > 1:  # "what should i do before and after": each part was clear
            return events + answer_all(dispatcher, asked, language)
        if later := next_in_time(tracker):  # "y luego? cómo me veo" just after the pain
            topic = KNOWLEDGE.by_id[later]
        if topic and (later or refers_back(text) or in_context(tracker)
                      or (goes_on(text) and topic.intent in candidates)
                      or (is_short(text) and topic.intent in candidates[:2])):
            # "does that include big pores?", "and how far apart?", "can i wear
            # makeup by monday" (aftercare or preparation?): the topic just answered
            answer(dispatcher, [topic.intent], language=language)
            return events + answered([topic.id], topic.safety == "consult")
        if topic and is_short(text) and (near := related_of_two(topic, candidates)):
            # "can i wear makeup then?" just after the downtime (aftercare or
            # preparation?): the one of the two related to the topic just answered
            answer(dispatcher, [near.intent], language=language)
            return events + answered([near.id], near.safety == "consult")
        if candidates and not _missed_before(tracker):
            buttons = KNOWLEDGE.buttons(candidates, language)
            buttons.append({"title": SOMETHING_ELSE[language], "payload": "/out_of_scope"})
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        else:
            dispatcher.utter_message(
                response="utter_help", **KNOWLEDGE.values_in[language],
                buttons=KNOWLEDGE.buttons(suggestions() + ["request_callback"], language))
        if not language_told(tracker):  # "asdkjh" opening a Spanish speaker's visit
            dispatcher.utter_message(response="utter_not_understood_es")
        return events + answered([], False)


def related_of_two(topic: Topic, candidates: List[Text]) -> Optional[Topic]:
    """Of the two likeliest topics, the one the knowledge file relates to
    `topic`, when only one of them is."""
    neighbours = {other.intent for other in KNOWLEDGE.related(topic)}
    related = [KNOWLEDGE.by_intent[intent] for intent in candidates[:2] if intent in neighbours]
    return related[0] if len(candidates) > 1 and len(related) == 1 else None


def speaks_spanish(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """"¿hablan español?", "do you speak spanish?": yes, in Spanish."""
    if not ASKS_FOR_SPANISH.search(tracker.latest_message.get("text") or ""):
        return False
    dispatcher.utter_message(response="utter_speaks_spanish", **KNOWLEDGE.values_in[SPANISH])
    return True


def _parting(tracker: Tracker) -> Optional[Text]:
    """"thanks" or "goodbye" when the classifier was unsure between the two alone."""
    ranking = [ranked for ranked in tracker.latest_message.get("intent_ranking", [])
               if ranked["name"] != FALLBACK_INTENT][:2]
    if ({ranked["name"] for ranked in ranking} == PARTING
            and sum(ranked["confidence"] for ranked in ranking) >= SURE_PARTING):
        return ranking[0]["name"]
    return None


def _missed_before(tracker: Tracker) -> bool:
    """True when the visitor's previous message was not understood either."""
    user_turns = [event for event in tracker.events if event.get("event") == "user"]
    if len(user_turns) < 2:
        return False
    previous = (user_turns[-2].get("parse_data") or {}).get("intent") or {}
    return previous.get("name") == FALLBACK_INTENT


class ActionDisclose(Action):
    """Before a reply that is not an action's own (a form's first question):
    the disclosure, and the answers to the questions asked with the request."""

    def name(self) -> Text:
        return "action_disclose"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        events = disclose_first(dispatcher, tracker)
        answer(dispatcher, asked_in(tracker), offer=False,  # "how much is it, and can I book?"
               language=language_of(tracker))
        return events
