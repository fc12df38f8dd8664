"""What several actions say alike: clinic replies filled from the profile,
and handing a visitor over to a person. Loads the knowledge once."""
import datetime
import re
from typing import Any, Dict, List, Optional, Set, Text
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from core.intents import BOOKING_INTENT, FALLBACK_INTENT, OTHER_LANGUAGE_INTENT, URGENT_INTENTS
from core.knowledge import DAY_NAMES, WEEKDAYS, load_knowledge

KNOWLEDGE = load_knowledge()  # a few kilobytes of YAML, validated at start-up
SUGGEST_WITH = {"greet", "out_of_scope", OTHER_LANGUAGE_INTENT}
CLINIC_QUESTIONS = {"clinic_contact", "clinic_location", "clinic_hours"}
CONTINUE_INTENT = "continue"  # "carry on" in a form, "tell me more" outside one


def intent_of(tracker: Tracker) -> Text:
    """The intent of the visitor's latest message ("" before the first)."""
    return (tracker.latest_message.get("intent") or {}).get("name", "")


def questions_of(tracker: Tracker) -> List[Text]:
    """What the latest message asks, in the order asked: the questions the
    classifier found in its sentences (components/linear_intent.py), or its
    intent."""
    asked = tracker.latest_message.get("questions") or [intent_of(tracker)]
    return list(dict.fromkeys(asked))


def answerable(intent: Text) -> bool:
    return intent in KNOWLEDGE.by_intent or intent in CLINIC_QUESTIONS


# Four, not three: on the read blind sets the right topic ranked fourth in 7
# of 185 "Did you mean"; on the 15 older never-read English sets, 15 of 17
# offered it, not 14 (docs/evaluation.md, "Figures, session 38").
MAX_CANDIDATES = 4
# Below this a guess is noise, not a candidate. 0.05 rather than 0.1: on the
# read blind sets, 6 more of 182 "Did you mean" offered the right topic,
# and nothing else changed (docs/evaluation.md, "Figures, session 36").
MIN_CANDIDATE_CONFIDENCE = 0.05


def likeliest(tracker: Tracker, among: Set[Text]) -> List[Text]:
    """The likeliest intents of `among` for the latest message ("Did you mean ...?")."""
    return [ranked["name"] for ranked in tracker.latest_message.get("intent_ranking", [])
            if ranked["name"] in among
            and ranked.get("confidence", 0) >= MIN_CANDIDATE_CONFIDENCE][:MAX_CANDIDATES]


def asked_in(tracker: Tracker) -> List[Text]:
    """The topic and clinic questions of the latest message, in order."""
    if lasts(tracker) or same_for_an_area(tracker) or in_context(tracker):
        return [KNOWLEDGE.by_id[tracker.get_slot("topic")].intent]
    if topic := next_in_time(tracker):
        return [KNOWLEDGE.by_id[topic].intent]
    return [intent for intent in questions_of(tracker) if answerable(intent)]


# A short message is this much likelier to be about the topic just answered
# than the classifier, which reads it alone, says: "y eso es común?" after the
# side effects (what_is 0.56, side_effects 0.22). Of 2, 3, 5 and 10 on the
# read blind conversations (1707 short turns after a topic), 5 set 6 turns
# right and 1 wrong; 10, 11 right and 6 wrong (docs/evaluation.md, session 21).
CONTEXT_WEIGHT = 5
# A message this sure of another topic asks it: "y duele en la cabeza?" just
# after the hair loss (pain 0.75) asks about the pain. Of 0.6 to 0.9 on the
# read blind conversations (4,608 short turns after a topic), 0.6 to 0.7 set
# 7 turns right and none wrong; 0.8, 4 (docs/evaluation.md, session 26).
SURE_OF_ANOTHER = 0.7


def in_context(tracker: Tracker) -> bool:
    """Whether a short message that asks one thing is about the topic just
    answered, once that topic is weighed CONTEXT_WEIGHT times, unless it is
    sure of another topic."""
    topic = KNOWLEDGE.by_id.get(tracker.get_slot("topic") or "")
    text = tracker.latest_message.get("text") or ""
    ranking = [ranked for ranked in tracker.latest_message.get("intent_ranking") or []
               if ranked["name"] != FALLBACK_INTENT]
    if not topic or not ranking or not is_short(text) or len(questions_of(tracker)) > 1:
        return False
    if (ranking[0]["name"] in KNOWLEDGE.by_intent and ranking[0]["name"] != topic.intent
            and ranking[0]["confidence"] >= SURE_OF_ANOTHER):
        return False
    weighed = max(ranking, key=lambda ranked: ranked["confidence"] * (
        CONTEXT_WEIGHT if ranked["name"] == topic.intent else 1))
    return weighed["name"] == topic.intent


# Right after the urgent reply: "should I go to the ER?", "¿qué hago? ¿es grave?"
URGENT_AGAIN = re.compile(r"\b(?:what (?:do|should|can) i do|should i (?:go|call|wait)|"
                          r"(?:go|going) to (?:the )?(?:er|hospital|urgent care)|emergency|"
                          r"(?:is|it's|its) (?:it |this |that )?(?:serious|bad|dangerous)|"
                          r"qu[eé] (?:hago|debo hacer|tengo que hacer)|es grave|urgencias|"
                          r"hospital|911)\b", re.IGNORECASE)


def urgent_again(dispatcher: CollectingDispatcher, tracker: Tracker, understood: bool) -> bool:
    """Right after the urgent reply, a message not understood, or a short one
    asking what to do, gets the urgent reply again (True when it did)."""
    users = [event for event in tracker.events if event.get("event") == "user"]
    previous = (users[-2].get("parse_data") or {}) if len(users) > 1 else {}
    urgent = (previous.get("intent") or {}).get("name")
    text = tracker.latest_message.get("text") or ""
    if urgent not in URGENT_INTENTS or (understood and not (
            is_short(text) and URGENT_AGAIN.search(text))):
        return False
    clinic_reply(dispatcher, urgent, language_of(tracker))
    return True


# Topics about something that passes (the sting, the redness, the time off):
# "how long does that last?" after one of them asks about it, not the results.
PASSING = {"pain", "side_effects", "downtime"}
# "is that permanent?" after the side effects or the downtime asks whether
# they pass, not the results; after the pain it asks about the results (the
# blind sets' visitors meant so), as does "does it last forever?": "it" is the
# treatment; "¿cuánto dura la recuperación?" names what it asks about.
PERMANENT = re.compile(r"\b(?:that|this|they|those|eso|esto)\b.*\bpermanente?\b", re.IGNORECASE)
HOW_LONG = re.compile(r"\bhow long\b.*\blast|"
                      r"\bcu[aá]nto (?:dura|duran) (?:eso|esto)\b|"
                      r"\b(?:eso|esto) cu[aá]nto (?:dura|duran|tiempo)\b|"
                      r"\bcu[aá]nto (?:tiempo )?(?:dura|duran|voy a estar|estar[eé]) as[ií]\b|"
                      r"^\W*y\W+cu[aá]nto (?:tiempo )?duran?\W*$", re.IGNORECASE)


def lasts(tracker: Tracker) -> bool:
    """"how long does that last?", "is that permanent?", "y cuánto duran?"
    just after the pain, the side effects or the downtime."""
    text = tracker.latest_message.get("text") or ""
    topic = tracker.get_slot("topic")
    return (topic in PASSING and (refers_back(text) or goes_on(text))
            and bool(HOW_LONG.search(text) or (topic != "pain" and PERMANENT.search(text)))
            and not re.search(r"\bresult", text, re.IGNORECASE))  # "o sea los resultados"


# Topics whose answer depends on the area: "and my neck?" just after one of
# them asks the same of the neck ("how much for the face?" "and my neck?").
BY_AREA = {"cost", "sessions", "pain", "downtime", "results_timeline", "scars", "side_effects"}
AND_FOR = re.compile(r"^\W*(?:and|y|e)\W+(?:(?:for|on|in|with|para|en|con|de)\W+)?"
                     r"(?:my|the|her|his|mi|mis|el|la|los|las)\b", re.IGNORECASE)
MAX_AND_FOR_WORDS = 4  # "y en el cuello se puede?" asks of the area itself
# "is that the same for the neck?", "¿y en el cuello es igual?"
SAME_FOR = re.compile(r"\b(?:the same|any different|different) (?:for|on|with) (?:my|the|her|his)\b|"
                      r"\b(?:igual|lo mismo|diferente) (?:para|en|con) (?:mi|mis|el|la|los|las)\b|"
                      r"^\W*(?:y\W+)?(?:para|en) (?:mi|mis|el|la|los|las)\b[^?]*\b(?:es|ser[ií]a) "
                      r"(?:igual|lo mismo)\b", re.IGNORECASE)


def same_for_an_area(tracker: Tracker) -> bool:
    text = tracker.latest_message.get("text") or ""
    return (tracker.get_slot("topic") in BY_AREA and is_short(text)
            and ((len(text.split()) <= MAX_AND_FOR_WORDS and bool(AND_FOR.search(text)))
                 or bool(SAME_FOR.search(text)))
            and questions_of(tracker) == [KNOWLEDGE.by_id["body_areas"].intent])


FOLLOW_UP = re.compile(r"\b(?:that|this|it|those|these|they|them|eso|esa|ese|esto|esos|esas|as[ií])\b|"
                       r"^\W*(?:and|so|ok|okay)?\W*(?:(?:what|how) about|and for)\b|"
                       r"^\W*(?:y|e)\s+(?:el|la|los|las|lo|para|en|con|que tal|qué tal)\b",
                       re.IGNORECASE)
MAX_FOLLOW_UP_WORDS = 12


def refers_back(text: Text) -> bool:
    """A short message that points at what was just said ("is that proven?",
    "what about keloids?")."""
    return is_short(text) and bool(FOLLOW_UP.search(text))


# "and how far apart?", "y cada cuánto?": a short message that goes on from the last one
GOES_ON = re.compile(r"^\W*(?:and|also|plus|so|then|y|e|tambi[eé]n|entonces)\b", re.IGNORECASE)


def is_short(text: Text) -> bool:
    return len(text.split()) <= MAX_FOLLOW_UP_WORDS


def goes_on(text: Text) -> bool:
    return is_short(text) and bool(GOES_ON.search(text))


# "y después del tratamiento?" just after the preparation asks the aftercare;
# "and before?" just after the aftercare, the preparation; "and what about
# afterwards, will it be sore?" just after the pain, the side effects.
def _opening(words: str) -> re.Pattern:
    """"and after?", "what about afterwards", "y después": a message opening with `words`."""
    return re.compile(rf"^\W*(?:and|so|ok|y|e)?\W*(?:(?:what|how) about\W+)?(?:the\W+)?(?:{words})\b",
                      re.IGNORECASE)


AFTER, BEFORE = _opening(r"after|afterwards|despu[eé]s|luego"), _opening(r"before|beforehand|antes")
NEXT_IN_TIME = {"preparation": (AFTER, "aftercare"), "aftercare": (BEFORE, "preparation"),
                "pain": (AFTER, "side_effects")}


def next_in_time(tracker: Tracker) -> Optional[Text]:
    """The topic of the other side of the session, when the message asks it
    ("y después del tratamiento?" after the preparation), else None."""
    text = tracker.latest_message.get("text") or ""
    pattern, topic = NEXT_IN_TIME.get(tracker.get_slot("topic") or "", (None, None))
    if pattern and is_short(text) and pattern.search(text):
        return topic
    return None


def answer(dispatcher: CollectingDispatcher, intents: List[Text], offer: bool = True,
           language: Text = "en") -> List[Text]:
    """Answer each topic or clinic question of `intents`, in order; the last
    answer carries the buttons: the consultation offer when a topic is of
    safety class `consult` (and `offer`), else the last topic's related ones.
    Returns the ids of the topics answered."""
    topics = [KNOWLEDGE.by_intent[intent] for intent in intents if intent in KNOWLEDGE.by_intent]
    for intent in intents:
        topic = KNOWLEDGE.by_intent.get(intent)
        if topic is None and intent in CLINIC_QUESTIONS:
            clinic_reply(dispatcher, intent, language)
        elif topic is not None:
            last = topic is topics[-1]
            buttons = []
            if last and offer and not any(t.safety == "consult" for t in topics):
                buttons = KNOWLEDGE.buttons([related.intent for related in KNOWLEDGE.related(topic)],
                                            language)
            dispatcher.utter_message(text=KNOWLEDGE.answer(topic, language), buttons=buttons)
    if offer and any(topic.safety == "consult" for topic in topics):
        related = KNOWLEDGE.related(topics[-1])
        dispatcher.utter_message(response="utter_offer_consultation", buttons=KNOWLEDGE.buttons(
            [BOOKING_INTENT] + [topic.intent for topic in related], language))
    return [topic.id for topic in topics]


def disclose_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
    """The first reply of a conversation says what the assistant is: automated,
    general information, not medical advice, and where the privacy notice is."""
    if tracker.get_slot("disclosed"):
        return []
    dispatcher.utter_message(response="utter_disclosure", **KNOWLEDGE.values_in[language_of(tracker)])
    return [SlotSet("disclosed", True)]


def language_of(tracker: Tracker) -> Text:
    """The language to answer in: "es" when the red-flag gate matched Spanish
    patterns (components/red_flags.py), else the conversation's (the slot
    `language`, components/language.py)."""
    return tracker.latest_message.get("language") or tracker.get_slot("language") or "en"


def language_told(tracker: Tracker) -> bool:
    """Whether a message of the visitor's has told their language yet (the
    slot `language` starts as English either way)."""
    parses = [tracker.latest_message] + [event.get("parse_data") or {} for event in tracker.events
                                         if event.get("event") == "user"]
    return any(parse.get("language") or any(entity.get("entity") == "language"
                                            for entity in parse.get("entities") or [])
               for parse in parses)


def values_for(tracker: Tracker) -> Dict[Text, Text]:
    """The clinic profile's values for the responses, in the visitor's language."""
    return KNOWLEDGE.values_in[language_of(tracker)]


def clinic_reply(dispatcher: CollectingDispatcher, intent: Text, language: Text = "en") -> None:
    """Utter `utter_<intent>` with the clinic profile's values."""
    response = f"utter_{intent}"
    if intent in URGENT_INTENTS and language == "es":
        response = f"utter_{intent}_es"  # the Spanish patterns matched
    if intent == "clinic_hours" and not KNOWLEDGE.clinic.opening_hours.confirmed:
        response = "utter_clinic_hours_unpublished"
    buttons = []
    if intent in SUGGEST_WITH:
        buttons = KNOWLEDGE.buttons([topic.intent for topic in KNOWLEDGE.suggested], language)
    dispatcher.utter_message(response=response, buttons=buttons, **KNOWLEDGE.values_in[language])


def now() -> datetime.datetime:
    return datetime.datetime.now(ZoneInfo(KNOWLEDGE.clinic.timezone))


MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")


def when_text(when: datetime.datetime, language: Text = "en") -> str:
    """"Tuesday 8 December at 2:00 PM", "el martes 8 de diciembre a las 14:00"."""
    if language == "es":
        day = DAY_NAMES["es"][WEEKDAYS[when.weekday()]]
        return f"el {day} {when.day} de {MONTHS_ES[when.month - 1]} a las {when:%H:%M}"
    return when.strftime("%A %-d %B at %-I:%M %p")


def next_opening_text(language: Text = "en") -> str:
    return when_text(KNOWLEDGE.clinic.opening_hours.next_opening(now()), language)


def handoff(dispatcher: CollectingDispatcher, language: Text = "en") -> None:
    """The clinic's phone (or, out of hours, when it opens) and a call-back
    offered as a button: the visitor chooses; no form starts by itself."""
    buttons = KNOWLEDGE.buttons(["request_callback"], language)
    values = KNOWLEDGE.values_in[language]
    if KNOWLEDGE.clinic.opening_hours.is_open(now()):
        dispatcher.utter_message(response="utter_handoff_open", buttons=buttons, **values)
    else:
        dispatcher.utter_message(response="utter_handoff_closed", buttons=buttons,
                                 clinic_next_opening=next_opening_text(language), **values)
