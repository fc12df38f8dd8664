"""The actions, run against hand-built trackers (no server needed)."""
import asyncio
import datetime
from typing import Dict, List
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.actions import (KNOWLEDGE, ActionAnswerFaq, ActionClinicReply,
                             ActionDidYouMean)
from actions.forms import ActionHandoff, ValidateBookingForm

pytestmark = pytest.mark.unit


def tracker(intent: str, ranking: List[Dict] = (), previous_intents: List[str] = (),
            disclosed: bool = True, questions: List[str] = (), topic: str = None,
            told_more: str = None, told_language: bool = True) -> Tracker:
    """A tracker whose latest message has `intent` (and asks `questions`),
    after user turns with `previous_intents`; by default in a conversation
    already under way, with `topic` the last one answered, in a language
    some message has told."""
    latest = {"text": "a message", "intent": {"name": intent, "confidence": 0.4},
              "intent_ranking": list(ranking), "questions": list(questions),
              "entities": [{"entity": "language", "value": "en"}] if told_language else []}
    events = [{"event": "user", "text": "earlier", "parse_data": {"intent": {"name": name}}}
              for name in previous_intents]
    events.append({"event": "user", "text": "a message", "parse_data": latest})
    return Tracker("visitor", {"disclosed": disclosed, "topic": topic, "told_more": told_more},
                   latest, events, False,
                   None, {}, "action_listen")


def slots(**values) -> List[Dict]:
    return [{"event": "slot", "name": name, "value": value, "timestamp": None}
            for name, value in values.items()]


NOT_OFFERED = slots(offered=False, topic=None)


def run(action, tracker: Tracker, events: List[Dict] = ()) -> List[Dict]:
    """The messages the action sends; it must return exactly `events`."""
    dispatcher = CollectingDispatcher()
    assert asyncio.run(action.run(dispatcher, tracker, {})) == list(events)
    return dispatcher.messages


MONDAY_10AM = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo(KNOWLEDGE.clinic.timezone))
SATURDAY_10AM = datetime.datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo(KNOWLEDGE.clinic.timezone))


def payloads(message: Dict) -> List[str]:
    return [button["payload"] for button in message["buttons"]]


def test_an_faq_intent_is_answered_with_the_curated_answer_and_related_buttons():
    [message] = run(ActionAnswerFaq(), tracker("faq_pain"), slots(offered=False, topic="pain"))
    topic = KNOWLEDGE.by_id["pain"]
    assert message["text"] == KNOWLEDGE.answer(topic)
    assert payloads(message) == [f"/{KNOWLEDGE.by_id[r].intent}" for r in topic.related]
    assert [b["title"] for b in message["buttons"]] == [KNOWLEDGE.by_id[r].title
                                                        for r in topic.related]


def test_a_consult_answer_ends_by_offering_a_consultation():
    answer, offer = run(ActionAnswerFaq(), tracker("faq_cost"), slots(offered=True, topic="cost"))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["cost"])
    assert "801-501-9797" in answer["text"]
    assert offer["response"] == "utter_offer_consultation"
    assert payloads(offer)[0] == "/book_consultation"


@pytest.mark.parametrize("topic", KNOWLEDGE.topics, ids=lambda topic: topic.id)
def test_every_topic_is_answered_by_its_intent(topic):
    messages = run(ActionAnswerFaq(), tracker(topic.intent),
                   slots(offered=topic.safety == "consult", topic=topic.id))
    assert messages[0]["text"] == KNOWLEDGE.answer(topic)
    assert len(messages) == (2 if topic.safety == "consult" else 1)


def test_an_intent_without_a_topic_gets_what_the_assistant_can_do_not_a_guess():
    [message] = run(ActionAnswerFaq(), tracker("greet"), NOT_OFFERED)
    assert message["response"] == "utter_help"
    assert message["text"] is None


def test_two_questions_in_one_message_get_both_answers_in_the_order_asked():
    cost, downtime, offer = run(ActionAnswerFaq(),
                                tracker("faq_cost", questions=["faq_cost", "faq_downtime"]),
                                slots(offered=True, topic="downtime"))
    assert cost["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["cost"])
    assert downtime["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["downtime"])
    assert offer["response"] == "utter_offer_consultation"


def test_a_topic_and_a_clinic_question_in_one_message_get_both_answers():
    location, pain = run(ActionAnswerFaq(),
                         tracker("clinic_location", questions=["clinic_location", "faq_pain"]),
                         slots(offered=False, topic="pain"))
    assert location["response"] == "utter_clinic_location"
    assert pain["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"])


def test_tell_me_more_tells_more_of_the_topic_just_answered():
    pain = KNOWLEDGE.by_id["pain"]
    [message] = run(ActionAnswerFaq(), tracker("continue", topic="pain"),
                    slots(offered=False, topic="pain", told_more="pain"))
    assert message["text"] == KNOWLEDGE.more(pain) != KNOWLEDGE.answer(pain)


def test_tell_me_more_once_more_answers_the_topic_after_the_one_just_answered():
    following = KNOWLEDGE.related(KNOWLEDGE.by_id["pain"])[0]
    [message] = run(ActionAnswerFaq(), tracker("continue", topic="pain", told_more="pain"),
                    slots(offered=following.safety == "consult", topic=following.id))
    assert message["text"] == KNOWLEDGE.answer(following)


@pytest.mark.parametrize("intent", ["deny", "thanks", "affirm"])
def test_no_thanks_to_the_offer_keeps_the_topic_for_tell_me_more(intent):
    [message] = run(ActionClinicReply(), tracker(intent, topic="hair_loss"), slots(offered=False))
    assert message["response"] == f"utter_{intent}"


def test_tell_me_more_with_nothing_answered_yet_says_what_the_assistant_can_do():
    [message] = run(ActionAnswerFaq(), tracker("continue"), NOT_OFFERED)
    assert message["response"] == "utter_help"


def test_clinic_replies_are_filled_from_the_profile():
    [message] = run(ActionClinicReply(), tracker("clinic_contact"), NOT_OFFERED)
    assert message["response"] == "utter_clinic_contact"
    assert message["clinic_phone"] == "801-501-9797"
    assert message["clinic_email"] == "info@biorestoration.com"


def test_unconfirmed_opening_hours_are_not_stated():
    [message] = run(ActionClinicReply(), tracker("clinic_hours"), NOT_OFFERED)
    assert message["response"] == "utter_clinic_hours_unpublished"


def test_the_first_reply_of_a_conversation_starts_with_the_disclosure():
    disclosure, answer = run(ActionAnswerFaq(), tracker("faq_pain", disclosed=False),
                             slots(disclosed=True, offered=False, topic="pain"))
    assert disclosure["response"] == "utter_disclosure"
    assert disclosure["clinic_privacy"] == "ask Biorestoration Medical & Aesthetics at info@biorestoration.com"
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"])


def test_an_urgent_reply_is_never_preceded_by_the_disclosure():
    [message] = run(ActionClinicReply(), tracker("urgent_clinic", disclosed=False), NOT_OFFERED)
    assert message["response"] == "utter_urgent_clinic"


def test_the_greeting_suggests_topics():
    [message] = run(ActionClinicReply(), tracker("greet"),
                    slots(disclosed=True, offered=False, topic=None))
    assert message["response"] == "utter_greet"
    assert payloads(message) == [f"/{topic.intent}" for topic in KNOWLEDGE.suggested]


def test_low_confidence_offers_the_top_candidates_as_buttons():
    ranking = [{"name": "nlu_fallback", "confidence": 0.5},
               {"name": "faq_sessions", "confidence": 0.41},
               {"name": "out_of_scope", "confidence": 0.30},
               {"name": "faq_permanence", "confidence": 0.20},
               {"name": "faq_results_timeline", "confidence": 0.07},  # still a candidate
               {"name": "faq_cost", "confidence": 0.06},
               {"name": "faq_pain", "confidence": 0.01}]
    [message] = run(ActionDidYouMean(), tracker("nlu_fallback", ranking), NOT_OFFERED)
    assert message["response"] == "utter_did_you_mean"
    assert payloads(message) == ["/faq_sessions", "/faq_permanence", "/faq_results_timeline",
                                 "/faq_cost", "/out_of_scope"]
    assert message["buttons"][0]["title"] == "How many sessions?"


UNSURE = [{"name": "nlu_fallback", "confidence": 0.5},
          {"name": "faq_preparation", "confidence": 0.45},
          {"name": "faq_aftercare", "confidence": 0.35},
          {"name": "faq_downtime", "confidence": 0.15}]


def test_an_unsure_short_message_takes_the_topic_just_answered_when_it_is_a_top_candidate():
    aftercare = KNOWLEDGE.by_id["aftercare"]
    said = run(ActionDidYouMean(), tracker("nlu_fallback", UNSURE, topic="aftercare"),
               slots(offered=aftercare.safety == "consult", topic="aftercare"))
    assert said[0]["text"] == KNOWLEDGE.answer(aftercare, "en")


def test_an_unsure_short_message_takes_the_one_of_two_candidates_related_to_the_topic_just_answered():
    """"can i wear makeup then?" just after the downtime: the aftercare
    (related to the downtime), not the preparation."""
    assert "aftercare" in KNOWLEDGE.by_id["downtime"].related
    assert "preparation" not in KNOWLEDGE.by_id["downtime"].related
    aftercare = KNOWLEDGE.by_id["aftercare"]
    ranking = [{"name": "nlu_fallback", "confidence": 0.5},
               {"name": "faq_aftercare", "confidence": 0.53},
               {"name": "faq_preparation", "confidence": 0.45},
               {"name": "faq_cost", "confidence": 0.01}]
    said = run(ActionDidYouMean(), tracker("nlu_fallback", ranking, topic="downtime"),
               slots(offered=aftercare.safety == "consult", topic="aftercare"))
    assert said[0]["text"] == KNOWLEDGE.answer(aftercare, "en")


def test_an_unsure_message_asks_when_the_topic_just_answered_is_no_candidate():
    [said] = run(ActionDidYouMean(), tracker("nlu_fallback", UNSURE, topic="cost"),
                 NOT_OFFERED)
    assert said["response"] == "utter_did_you_mean"


def test_an_unsure_message_whose_parts_were_each_clear_gets_every_answer():
    """"what should i do before and after": neither topic alone was sure of
    the whole message, each was of its part."""
    asked = tracker("nlu_fallback", UNSURE, questions=["faq_preparation", "faq_aftercare"])
    said = run(ActionDidYouMean(), asked, slots(offered=False, topic="aftercare"))
    assert [message["text"] for message in said] == [
        KNOWLEDGE.answer(KNOWLEDGE.by_id[topic], "en") for topic in ("preparation", "aftercare")]


def test_a_miss_before_anything_told_the_language_says_it_in_spanish_too():
    """"asdkjh" as a first message: the visitor may be a Spanish speaker."""
    said = run(ActionDidYouMean(), tracker("nlu_fallback", UNSURE, told_language=False),
               NOT_OFFERED)
    assert [message["response"] for message in said] == ["utter_did_you_mean",
                                                         "utter_not_understood_es"]


def test_unsure_between_thanks_and_goodbye_says_the_likelier():
    parting = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "goodbye", "confidence": 0.51},
               {"name": "thanks", "confidence": 0.49}]
    [said] = run(ActionDidYouMean(), tracker("nlu_fallback", parting), slots(offered=False))
    assert said["response"] == "utter_goodbye"


def test_out_of_scope_before_anything_told_the_language_says_it_in_spanish_too():
    said = run(ActionClinicReply(), tracker("out_of_scope", told_language=False), NOT_OFFERED)
    assert [message["response"] for message in said] == ["utter_out_of_scope",
                                                         "utter_not_understood_es"]


SECOND_MISS = tracker("nlu_fallback", [{"name": "nlu_fallback", "confidence": 0.5},
                                       {"name": "faq_sessions", "confidence": 0.41}],
                      previous_intents=["nlu_fallback"])


def test_a_second_miss_says_what_the_assistant_can_do_and_offers_a_call_back_without_a_form():
    [said] = run(ActionDidYouMean(), SECOND_MISS, NOT_OFFERED)
    assert said["response"] == "utter_help"
    assert said["clinic_phone"] == "801-501-9797"
    assert payloads(said) == [f"/{topic.intent}" for topic in KNOWLEDGE.suggested] + [
        "/request_callback"]


def test_asking_for_a_person_in_opening_hours_gives_the_phone_and_offers_a_call_back(
        monkeypatch):
    monkeypatch.setattr(replies, "now", lambda: MONDAY_10AM)
    [handoff] = run(ActionHandoff(), tracker("request_human"))
    assert handoff["response"] == "utter_handoff_open"
    assert handoff["clinic_phone"] == "801-501-9797"
    assert payloads(handoff) == ["/request_callback"]


def test_asking_for_a_person_out_of_hours_says_when_the_clinic_opens_and_offers_a_call_back(
        monkeypatch):
    monkeypatch.setattr(replies, "now", lambda: SATURDAY_10AM)
    [handoff] = run(ActionHandoff(), tracker("request_human"))
    assert handoff["response"] == "utter_handoff_closed"
    assert handoff["clinic_next_opening"] == "Monday 23 November at 9:00 AM"
    assert payloads(handoff) == ["/request_callback"]


def test_a_short_message_pointing_back_is_about_the_topic_just_answered():
    pointing_back = Tracker("visitor", {"disclosed": True, "topic": "hair_loss"},
                            {"text": "is that actually proven?", "intent": {"name": "nlu_fallback"},
                             "intent_ranking": []}, [], False, None, {}, "action_listen")
    answer, offer = run(ActionDidYouMean(), pointing_back, slots(offered=True, topic="hair_loss"))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["hair_loss"])
    assert offer["response"] == "utter_offer_consultation"


@pytest.mark.parametrize("text", ["what about keloids?", "and for the one on my arm?",
                                  "¿y las abultadas?"])
def test_what_about_after_a_topic_is_about_that_topic(text):
    following = Tracker("visitor", {"disclosed": True, "topic": "scars"},
                        {"text": text, "intent": {"name": "nlu_fallback"}, "intent_ranking": []},
                        [], False, None, {}, "action_listen")
    [answer] = run(ActionDidYouMean(), following, slots(offered=False, topic="scars"))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["scars"])


@pytest.mark.parametrize("text", ["how long does that last?", "is that permanent?",
                                  "¿y eso es permanente?", "¿y eso cuánto dura?",
                                  "y cuanto duran?", "¿cuánto tiempo voy a estar así?"])
def test_how_long_does_that_last_after_the_side_effects_is_about_them(text):
    asked = Tracker("visitor", {"disclosed": True, "topic": "side_effects"},
                    {"text": text, "intent": {"name": "faq_permanence"}},
                    [], False, None, {}, "action_listen")
    [answer] = run(ActionAnswerFaq(), asked, slots(offered=False, topic="side_effects"))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["side_effects"])


def test_a_follow_up_that_names_its_subject_is_about_it():
    asked = Tracker("visitor", {"disclosed": True, "topic": "pain"},
                    {"text": "y en español, ¿cuánto dura la recuperación?",
                     "intent": {"name": "faq_downtime"}},
                    [], False, None, {}, "action_listen")
    [answer] = run(ActionAnswerFaq(), asked, slots(offered=False, topic="downtime"))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["downtime"])


def test_is_that_permanent_after_the_scars_asks_about_the_results():
    asked = Tracker("visitor", {"disclosed": True, "topic": "scars"},
                    {"text": "is that permanent?", "intent": {"name": "faq_permanence"}},
                    [], False, None, {}, "action_listen")
    [answer] = run(ActionAnswerFaq(), asked, slots(offered=False, topic="permanence"))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["permanence"])


@pytest.mark.parametrize("topic, text, answered", [
    ("cost", "and my neck?", "cost"), ("sessions", "and for my neck?", "sessions"),
    ("scars", "y las de cesárea?", "scars"),
    ("downtime", "is that the same for the neck?", "downtime"),
    ("pain", "¿y en el cuello es igual?", "pain"),
    ("what_is", "and my neck?", "body_areas"),  # the area's own answer
    ("cost", "can you do my neck?", "body_areas")])  # a question of its own
def test_and_my_neck_after_a_topic_that_depends_on_the_area_asks_it_again(topic, text, answered):
    asked = Tracker("visitor", {"disclosed": True, "topic": topic},
                    {"text": text, "intent": {"name": "faq_body_areas"}},
                    [], False, None, {}, "action_listen")
    consult = KNOWLEDGE.by_id[answered].safety == "consult"  # the offer follows the answer
    answer, *_ = run(ActionAnswerFaq(), asked, slots(offered=consult, topic=answered))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id[answered])


def test_a_miss_after_an_understood_message_still_offers_candidates():
    ranking = [{"name": "faq_sessions", "confidence": 0.41}]
    [message] = run(ActionDidYouMean(),
                    tracker("nlu_fallback", ranking, previous_intents=["nlu_fallback", "faq_pain"]),
                    NOT_OFFERED)
    assert message["response"] == "utter_did_you_mean"


def test_no_plausible_candidate_says_what_the_assistant_can_do():
    ranking = [{"name": "nlu_fallback", "confidence": 0.5},
               {"name": "faq_sessions", "confidence": 0.04}]
    [message] = run(ActionDidYouMean(), tracker("nlu_fallback", ranking), NOT_OFFERED)
    assert message["response"] == "utter_help"


def following(text: str, topic: str, ranking: List[Dict], language: str = "en") -> Tracker:
    """A short message read alone as `ranking`, just after `topic` was answered."""
    return Tracker("visitor", {"disclosed": True, "topic": topic, "language": language},
                   {"text": text, "intent": ranking[0], "intent_ranking": ranking},
                   [], False, None, {}, "action_listen")


@pytest.mark.parametrize("action, text, topic, ranking, language, answered", [
    # close enough a reading, once the topic just answered weighs more
    (ActionAnswerFaq(), "y eso es común?", "side_effects",
     [("faq_what_is", 0.56), ("faq_side_effects", 0.22)], "es", "side_effects"),
    # far likelier another topic: that one
    (ActionAnswerFaq(), "and does it sting?", "side_effects",
     [("faq_pain", 0.9), ("faq_side_effects", 0.1)], "en", "pain"),
    # "not ours", but close to the topic just answered
    (ActionClinicReply(), "and the hot tub?", "aftercare",
     [("out_of_scope", 0.58), ("faq_aftercare", 0.36)], "en", "aftercare")])
def test_a_short_message_weighs_the_topic_just_answered(
        action, text, topic, ranking, language, answered):
    ranked = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    [answer] = run(action, following(text, topic, ranked, language),
                   slots(offered=False, topic=answered))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id[answered], language)


def after_urgent(text: str, intent: str, urgent: str = "urgent_clinic") -> Tracker:
    latest = {"text": text, "intent": {"name": intent}, "intent_ranking": [],
              "entities": [{"entity": "language", "value": "en"}]}
    events = [{"event": "user", "text": "my face is swollen and hot",
               "parse_data": {"intent": {"name": urgent}}},
              {"event": "user", "text": text, "parse_data": latest}]
    return Tracker("visitor", {"disclosed": True}, latest, events, False, None, {},
                   "action_listen")


@pytest.mark.parametrize("action, text, intent", [
    (ActionAnswerFaq(), "what should I do? is it serious?", "faq_aftercare"),
    (ActionClinicReply(), "do i need the hospital", "out_of_scope"),
    (ActionDidYouMean(), "it calmed down a bit", "nlu_fallback")])
def test_just_after_the_urgent_reply_what_to_do_or_a_miss_gets_it_again(action, text, intent):
    [reply] = run(action, after_urgent(text, intent, "urgent_emergency"), NOT_OFFERED)
    assert reply["response"] == "utter_urgent_emergency"


def test_just_after_the_urgent_reply_a_question_about_a_topic_is_answered():
    [answer] = run(ActionAnswerFaq(), after_urgent("is blistering a side effect?",
                                                   "faq_side_effects"),
                   slots(offered=False, topic="side_effects"))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["side_effects"])


def test_an_unsure_question_in_a_form_offers_the_likeliest_topics_then_asks_the_step_again():
    ranking = [{"name": "nlu_fallback", "confidence": 0.5},
               {"name": "faq_pain", "confidence": 0.45},
               {"name": "faq_body_areas", "confidence": 0.35},
               {"name": "book_consultation", "confidence": 0.15}]
    unsure = Tracker("visitor", {"requested_slot": "consent"},
                     {"text": "and the belly, would it sting?", "intent": ranking[0],
                      "intent_ranking": ranking}, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    assert ValidateBookingForm._digression("consent", dispatcher, unsure) == {"consent": None}
    offer, resume = dispatcher.messages
    assert offer["response"] == "utter_did_you_mean"
    assert payloads(offer) == ["/faq_pain", "/faq_body_areas"]  # no booking: it is under way
    assert resume["response"] == "utter_booking_resume"


@pytest.mark.parametrize("topic, text", [
    ("pain", "¿y eso es permanente?"),  # the results: the sting passes anyway
    ("side_effects", "is that permanent? i mean the results")])
def test_is_that_permanent_after_the_pain_or_naming_the_results_asks_about_the_results(topic, text):
    asked = Tracker("visitor", {"disclosed": True, "topic": topic},
                    {"text": text, "intent": {"name": "faq_permanence"}},
                    [], False, None, {}, "action_listen")
    [answer] = run(ActionAnswerFaq(), asked, slots(offered=False, topic="permanence"))
    assert answer["text"] == KNOWLEDGE.answer(KNOWLEDGE.by_id["permanence"])
