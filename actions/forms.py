"""The booking conversation: the form's validation, saving, stopping.

Each answer is read by a custom extraction (`extract_<slot>`), which also
tells an answer from a digression: an urgent symptom or "stop" leaves the
form to the rules; a question about microneedling or the clinic is answered
and the same question asked again; anything else is validated by
core/booking.py, with a specific re-ask when it cannot be used.
"""
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.replies import (CLINIC_QUESTIONS, CONTINUE_INTENT, KNOWLEDGE, answer, answerable,
                             asked_in, clinic_reply, disclose_first, handoff, intent_of,
                             language_of, likeliest, next_opening_text, questions_of, values_for)
from core import booking, erasure, notify, store
from core.intents import (ATTACHMENT_INTENT, BOOKING_INTENT, FALLBACK_INTENT,
                          OTHER_LANGUAGE_INTENT, URGENT_INTENTS)
from core.language import fold

logger = logging.getLogger(__name__)

FORM_SLOTS = ["treatment_area", "consent", "name", "contact", "preferred_time", "confirmed"]
BOOKING_SLOTS = FORM_SLOTS + ["contact_kind", "bad_answers", "offered"]
INTERRUPTIONS = {"stop", *URGENT_INTENTS, "delete_my_data"}  # rules
# A stop or an urgent symptom always wins; "delete my data" may be misread
# ("yes you can keep my details", "why do you need my data?")
ENDINGS = INTERRUPTIONS - {"delete_my_data"}
YES_INTENTS = {"affirm", "acknowledge"}  # a bare "ok" is a yes inside a form
# Asked again after these ("yes" is no name), and after "carry on".
NOT_AN_ANSWER = {"greet", "thanks", BOOKING_INTENT, "bot_challenge", "goodbye", *YES_INTENTS,
                 "request_callback"}
# Answered with their own reply when asked as a question, then the step again.
REPLIED_IN_FORM = {"bot_challenge", OTHER_LANGUAGE_INTENT, "out_of_scope"}
MAX_BAD_ANSWERS = 3
MAX_KEPT_WORDS = 4  # an answer this short keeps the form's language
SURE_DETAIL, MAX_DETAIL_WORDS = 0.7, 4  # "y la dire" is one at 0.75
CORRECTIONS = {  # words of "change my phone" -> the slot to ask again
    "contact": ("phone", "number", "email", "e-mail", "mail", "contact"),
    "preferred_time": ("time", "day", "date", "when", "appointment"),  # "monday" too
    "name": ("name",),
    "treatment_area": ("treat", "treatment", "area", "concern"),
}
CORRECTIONS_ES = {  # the same in Spanish, each the start of a word ("hora", not "ahora")
    "contact": ("telefono", "numero", "cel", "correo"),
    "preferred_time": ("hora", "dia", "fecha", "cuando", "cita", "lunes", "martes", "miercoles",
                       "jueves", "viernes", "sabado", "domingo", "manana"),
    "name": ("nombre",),
    "treatment_area": ("zona", "tratamiento"),
}
CORRECTION_WORDS = {
    slot: re.compile("|".join(map(re.escape, words))
                     + rf"|\b(?:{'|'.join(CORRECTIONS_ES[slot])})")
    for slot, words in CORRECTIONS.items()}



def reset_booking() -> List[Dict[Text, Any]]:
    """Forget the visitor's details: nothing personal stays in the slots."""
    return [SlotSet(slot, None) for slot in BOOKING_SLOTS]


class ValidateBookingForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_booking_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """The form's events, and the topic of a question answered on the way
        (rasa_sdk returns only the form's own slots)."""
        before = tracker.get_slot("topic")
        kept = _language_kept(tracker)
        if kept:
            tracker.slots["language"] = kept
        events = await super().run(dispatcher, tracker, domain)
        if tracker.get_slot("topic") != before:
            events.append(SlotSet("topic", tracker.get_slot("topic")))
        if kept:
            events.append(SlotSet("language", kept))
        return events

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: Dict[Text, Any]) -> List[Text]:
        if tracker.get_slot("consent") is False:
            # No consent: the form ends and nothing is stored. The answer is
            # still validated, or Rasa would take the form as not answered.
            return ["consent"]
        return domain_slots

    # Reading answers -------------------------------------------------------

    def _answer(self, slot: Text, dispatcher: CollectingDispatcher, tracker: Tracker,
                parses: Optional[Callable[[str], object]] = None) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != slot:
            return {}
        explained = self._explains_why(slot, dispatcher, tracker)
        if explained or intent_of(tracker) in INTERRUPTIONS:
            return explained
        text = tracker.latest_message.get("text") or ""
        change = _to_change(slot, tracker)
        if change:
            return change
        if parses and _parses(parses, text) and not _asks_something(tracker):
            return {slot: text}
        rest = booking.without_language_request(text)
        if rest == "":  # "can we do this in English? it's easier for me": the step again, in English
            return {slot: None}
        if rest and (_parses(parses, rest) if parses else not booking.looks_like_question(rest)):
            return {slot: rest}  # the steps go on in the language asked for (the slot `language`)
        return self._digression(slot, dispatcher, tracker) or {slot: text}

    @staticmethod
    def _explains_why(slot: Text, dispatcher: CollectingDispatcher,
                      tracker: Tracker) -> Dict[Text, Any]:
        """"why do you need my number?" (no erasure request, no refusal): what
        the details are for, then the same step again."""
        text = tracker.latest_message.get("text") or ""
        if (not booking.asks_why_details(text) or booking.refuses(text)
                or intent_of(tracker) in ENDINGS):
            return {}
        dispatcher.utter_message(response="utter_consent_explained", **values_for(tracker))
        return {slot: None}

    @staticmethod
    def _digression(slot: Text, dispatcher: CollectingDispatcher,
                    tracker: Tracker) -> Optional[Dict[Text, Any]]:
        """A message that is not an answer to the step: a question (answered),
        "carry on", a greeting, a photo. The same step is then asked again."""
        intent = intent_of(tracker)
        if intent == ATTACHMENT_INTENT:
            dispatcher.utter_message(response="utter_cannot_view_attachments")
            return {slot: None}
        text = tracker.latest_message.get("text") or ""
        if intent == "request_human":  # "can I just talk to a real person?": the phone
            handoff(dispatcher, language_of(tracker))
            dispatcher.utter_message(response="utter_booking_resume")
            return {slot: None}
        if intent in REPLIED_IN_FORM and booking.looks_like_question(text):
            clinic_reply(dispatcher, intent, language_of(tracker))  # "are you a robot?", "¿en español?", the weather
            dispatcher.utter_message(response="utter_booking_resume")
            return {slot: None}
        # "continua": a word the classifier may not know ("Did you mean") resumes too
        if intent in NOT_AN_ANSWER or (intent in (CONTINUE_INTENT, FALLBACK_INTENT)
                                       and booking.asks_to_resume(text)):
            return {slot: None}
        if intent == FALLBACK_INTENT and _likely_not_an_answer(slot, tracker):
            return {slot: None}  # "sale pues si quiero la consulta" at the area step
        asked = asked_in(tracker)
        answered = {}
        if asked and (booking.looks_like_question(text) or _names_a_clinic_detail(tracker)):
            topics = answer(dispatcher, asked, offer=False, language=language_of(tracker))
            if topics:  # "does it hurt?", then "how long does that last?"
                answered = {"topic": topics[-1]}
        elif booking.looks_like_question(text):  # unsure: the likeliest topics as buttons, if any
            offered = likeliest(tracker, {*KNOWLEDGE.by_intent, *CLINIC_QUESTIONS})
            if offered:
                dispatcher.utter_message(response="utter_did_you_mean",
                                         buttons=KNOWLEDGE.buttons(offered, language_of(tracker)))
            else:
                dispatcher.utter_message(response="utter_question_not_understood",
                                         **values_for(tracker))
        else:
            return None
        dispatcher.utter_message(response="utter_booking_resume")
        return {slot: None, **answered}

    async def extract_treatment_area(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = tracker.latest_message.get("text") or ""
        if tracker.get_slot("requested_slot") != "treatment_area":
            return {}
        if intent_of(tracker) == "deny" or booking.skips(text):
            return {"treatment_area": "skip"}
        if intent_of(tracker) in YES_INTENTS and booking.names_an_area(text):
            return {"treatment_area": text}  # "ok good. my face please"
        rest = booking.without_language_request(text)
        if rest is not None and not booking.names_an_area(rest) and not booking.looks_like_question(rest):
            # "can we do this in english? my husband is reading along": asked again, in English
            return {"treatment_area": None}
        return self._answer("treatment_area", dispatcher, tracker)

    async def extract_name(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = (tracker.latest_message.get("text") or "").strip()
        if (tracker.get_slot("requested_slot") == "name" and intent_of(tracker) not in INTERRUPTIONS
                and booking.looks_like_a_name(text)):
            return {"name": text}
        return self._answer("name", dispatcher, tracker)

    async def extract_contact(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        region = KNOWLEDGE.clinic.phone_region
        return self._answer("contact", dispatcher, tracker,
                            parses=lambda text: booking.contact(text, region))

    async def extract_preferred_time(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._answer("preferred_time", dispatcher, tracker,
                            parses=lambda text: booking.preferred_time(text, KNOWLEDGE.clinic))

    async def extract_consent(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "consent":
            return {}
        text = tracker.latest_message.get("text") or ""
        explained = self._explains_why("consent", dispatcher, tracker)
        if explained:
            return explained
        if booking.agrees(text) and intent_of(tracker) not in ENDINGS:
            return {"consent": True}  # "yes you can keep my details" is no erasure request
        if intent_of(tracker) == "delete_my_data" and booking.refuses(text):
            return {"consent": False}  # "no, don't keep my details": nothing is kept yet
        if intent_of(tracker) in INTERRUPTIONS:
            return {}
        if booking.asks_to_resume(text) and not booking.says_yes(text) and _resumed(tracker):
            return {"consent": None}  # "ah ok, sigue" after a question answered: asked again
        if intent_of(tracker) in YES_INTENTS:
            return {"consent": True}
        # "ahorita no tengo brote, eso importa?": a "no" inside a question refuses
        # nothing; "mmm guardar mis datos? no, mejor no" ends on the refusal
        if intent_of(tracker) == "deny" and not booking.ends_asking(text):
            return {"consent": False}
        if intent_of(tracker) in (CONTINUE_INTENT, FALLBACK_INTENT) and booking.says_yes_first(text):
            return {"consent": True}  # "yes, that's fine. can we continue in English?"
        if booking.refuses(text) and not booking.ends_asking(text):
            return {"consent": False}
        return self._digression("consent", dispatcher, tracker) or {"consent": "unclear"}

    async def extract_confirmed(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "confirmed" or intent_of(tracker) in INTERRUPTIONS:
            return {}
        text = (tracker.latest_message.get("text") or "").lower()
        rest = booking.without_language_request(text)  # "back to Spanish, yes I confirm"
        if rest == "":  # "en español por favor": the read-back again, in Spanish
            return {"confirmed": None}
        text = rest or text
        changes = booking.asks_to_change(text)
        if not changes and (_asks_something(tracker) or intent_of(tracker) in REPLIED_IN_FORM):
            return self._digression("confirmed", dispatcher, tracker) or {"confirmed": None}
        if booking.agrees(text):  # "sí, confirmo la cita": no "cita" to change
            return {"confirmed": True}
        for slot, words in CORRECTION_WORDS.items():
            if words.search(fold(text)):
                return {slot: None, "confirmed": None}  # asked again, then confirmed again
        if intent_of(tracker) in YES_INTENTS:
            return {"confirmed": True}
        if intent_of(tracker) in NOT_AN_ANSWER or booking.asks_to_resume(text):
            return {"confirmed": None}
        dispatcher.utter_message(response="utter_which_change")
        return {"confirmed": None}

    # Checking answers ------------------------------------------------------

    def _check(self, slot: Text, value: Any, parse: Callable[[str], Any],
               dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        if value is None:
            return {slot: None}
        try:
            parsed = parse(str(value))
        except booking.Invalid as invalid:
            bad = int(tracker.get_slot("bad_answers") or 0) + 1
            dispatcher.utter_message(response=invalid.response, **values_for(tracker))
            if bad % MAX_BAD_ANSWERS == 0:
                dispatcher.utter_message(response="utter_too_many_bad_answers", **values_for(tracker))
            return {slot: None, "bad_answers": bad}
        return {slot: parsed, "bad_answers": 0}

    def validate_treatment_area(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._check("treatment_area", value, booking.treatment_area, dispatcher, tracker)

    def validate_name(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._check("name", value, booking.name, dispatcher, tracker)

    def validate_contact(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        region = KNOWLEDGE.clinic.phone_region
        checked = self._check("contact", value, lambda text: booking.contact(text, region),
                              dispatcher, tracker)
        found = checked.get("contact")
        if found is not None:
            checked.update(contact=found.value, contact_kind=found.kind)
        return checked

    def validate_preferred_time(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        checked = self._check("preferred_time", value,
                              lambda text: booking.preferred_time(text, KNOWLEDGE.clinic),
                              dispatcher, tracker)
        if checked.get("preferred_time") is not None:
            checked["preferred_time"] = checked["preferred_time"].text(language_of(tracker))
        return checked

    def validate_consent(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == "unclear":
            dispatcher.utter_message(response="utter_invalid_consent")
            return {"consent": None}
        return {"consent": value}


def _to_change(slot: Text, tracker: Tracker) -> Optional[Dict[Text, Any]]:
    """"wait, I gave the wrong phone number": at any step, a detail given
    before is cleared, so the form asks for it again before going on."""
    text = (tracker.latest_message.get("text") or "").lower()
    if not booking.asks_to_change(text):
        return None
    for earlier, words in CORRECTIONS.items():
        if earlier != slot and tracker.get_slot(earlier) and any(word in text for word in words):
            return {earlier: None}
    return None


def _names_a_clinic_detail(tracker: Tracker) -> bool:
    """"y la dire", "and your hours": a few words, no "?", that the
    classifier is sure ask for the clinic's address, hours or phone. No
    treatment area or time is that."""
    intent = tracker.latest_message.get("intent") or {}
    text = tracker.latest_message.get("text") or ""
    return (intent.get("name") in CLINIC_QUESTIONS and intent.get("confidence", 0) >= SURE_DETAIL
            and len(text.split()) <= MAX_DETAIL_WORDS)


def _resumed(tracker: Tracker) -> bool:
    """The assistant's last turn answered a question and asked "Shall we
    continue with your booking?": "go on" answers that, not the step."""
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                return False
        elif (users == 1 and event.get("event") == "bot"
              and (event.get("metadata") or {}).get("utter_action") == "utter_booking_resume"):
            return True
    return False


def _likely_not_an_answer(slot: Text, tracker: Tracker) -> bool:
    """A message the classifier is unsure of, likeliest a yes or a booking
    request, and at the area step naming no area: no answer to the step."""
    ranking = [ranked["name"] for ranked in tracker.latest_message.get("intent_ranking") or []
               if ranked["name"] != FALLBACK_INTENT]
    text = tracker.latest_message.get("text") or ""
    return (bool(ranking) and ranking[0] in NOT_AN_ANSWER
            and not (slot == "treatment_area" and booking.names_an_area(text)))


def _asks_something(tracker: Tracker) -> bool:
    """A question about microneedling or the clinic, not an answer."""
    return booking.looks_like_question(tracker.latest_message.get("text") or "") and any(
        answerable(intent) for intent in questions_of(tracker))


def _language_kept(tracker: Tracker) -> Optional[Text]:
    """The conversation's language before the latest message, when that
    message answers a step in a few words of the other one ("face and
    neck", "yes", a name in a booking asked in Spanish): such an answer is no
    switch of language; a question, a sentence ("hi, I'm her daughter, it's
    for the acne scars on my forehead") or "in English please" is."""
    text = tracker.latest_message.get("text") or ""
    if (not tracker.get_slot("requested_slot") or len(text.split()) > MAX_KEPT_WORDS
            or booking.looks_like_question(text) or booking.LANGUAGE_REQUEST.search(text)):
        return None
    last_turn = max((i for i, event in enumerate(tracker.events) if event.get("event") == "user"),
                    default=len(tracker.events))
    language = next((event["value"] for event in reversed(tracker.events[:last_turn])
                     if event.get("event") == "slot" and event.get("name") == "language"
                     and event.get("value")), "en")
    return language if language != tracker.get_slot("language") else None


def _parses(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except booking.Invalid:
        return False
    return True


MAILER = ThreadPoolExecutor(max_workers=1)  # one at a time: an email is never sent twice


def send_outbox_quietly() -> None:
    try:
        notify.send_outbox(notify.Smtp.from_environment(KNOWLEDGE.clinic.email))
    except SQLAlchemyError as error:
        logger.warning("notify.outbox_unavailable error=%s", type(error).__name__)


def submit(dispatcher: CollectingDispatcher, tracker: Tracker, kind: Text,
           preferred_time: Text, response: Text) -> List[Dict[Text, Any]]:
    """Store the request, then (and only then) confirm it with its reference."""
    if tracker.get_slot("consent") is not True:
        dispatcher.utter_message(response="utter_booking_no_consent", **values_for(tracker))
        return reset_booking()
    request = store.BookingRequest(
        kind=kind, sender_id=tracker.sender_id, name=tracker.get_slot("name"),
        contact=tracker.get_slot("contact"), contact_kind=tracker.get_slot("contact_kind"),
        treatment_area=tracker.get_slot("treatment_area") or "not specified",
        preferred_time=preferred_time)
    try:
        saved = store.save(request)
    except SQLAlchemyError:
        dispatcher.utter_message(response="utter_booking_failed", **values_for(tracker))
        return reset_booking()
    dispatcher.utter_message(response=response, booking_reference=saved.reference,
                             clinic_next_opening=next_opening_text(language_of(tracker)), **values_for(tracker))
    # Stored already: the email goes out after the reply, so a slow mail server
    # never holds it up; a failed one stays in the outbox, never lost.
    MAILER.submit(send_outbox_quietly)
    return reset_booking() + [SlotSet("saved_reference", saved.reference)]


class ActionSubmitBooking(Action):
    """Stores the completed booking, then confirms it with its reference."""

    def name(self) -> Text:
        return "action_submit_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot("confirmed") is not True:
            dispatcher.utter_message(response="utter_booking_no_consent", **values_for(tracker))
            return reset_booking()
        return submit(dispatcher, tracker, "consultation", tracker.get_slot("preferred_time"),
                      "utter_booking_saved")


class ValidateCallbackForm(ValidateBookingForm):
    """The call-back request asks name, contact and consent, checked alike."""

    def name(self) -> Text:
        return "validate_callback_form"


class ActionSubmitCallback(Action):
    def name(self) -> Text:
        return "action_submit_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        return submit(dispatcher, tracker, "callback", "call back", "utter_callback_saved")


class ActionRequestSaved(Action):
    """A call back asked for after a request was saved ("y ahora? cuando me
    llaman?"): the clinic has it already."""

    def name(self) -> Text:
        return "action_request_saved"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_request_saved",
                                 booking_reference=tracker.get_slot("saved_reference"),
                                 clinic_next_opening=next_opening_text(language_of(tracker)),
                                 **values_for(tracker))
        return []


class ActionHandoff(Action):
    """The visitor asks for a person."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        events = disclose_first(dispatcher, tracker)
        language = language_of(tracker)
        # "do you treat scars? and can I talk to someone"
        answer(dispatcher, asked_in(tracker), offer=False, language=language)
        handoff(dispatcher, language)
        return events


class ActionStopBooking(Action):
    """The visitor stops the booking: say so and forget the details."""

    def name(self) -> Text:
        return "action_stop_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_booking_stopped", **values_for(tracker))
        return [ActiveLoop(None)] + reset_booking()


class ActionResetBooking(Action):
    """Leave the booking without a word (an urgent reply must stand alone)."""

    def name(self) -> Text:
        return "action_reset_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        return [ActiveLoop(None)] + reset_booking()


class ActionForgetMe(Action):
    """The visitor confirmed "delete my data": their booking requests go now;
    the conversation at the end of this turn, when the tracker store sees the
    erasure slot (stores/tracker_store.py) and deletes it instead of saving."""

    def name(self) -> Text:
        return "action_forget_me"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        try:
            removed = erasure.forget_bookings(tracker.sender_id)
        except SQLAlchemyError:
            dispatcher.utter_message(response="utter_delete_failed", **values_for(tracker))
            return []
        dispatcher.utter_message(response="utter_data_deleted", bookings_removed=removed)
        return [ActiveLoop(None), *reset_booking(), SlotSet("saved_reference", None),
                SlotSet(erasure.ERASURE_SLOT, True)]
