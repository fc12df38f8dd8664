"""How `python -m clinic.blind` scores a reply (clinic/blind.py): the
assistant's replies read back into labels, in the language of the set."""
import pytest
import yaml

from clinic.blind import ROOT, WRONG_KINDS, Reader, Result, figures
from core.knowledge import load_knowledge

pytestmark = pytest.mark.unit

KNOWLEDGE = load_knowledge()
ENGLISH, SPANISH = Reader("en"), Reader("es")
RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def replies(*texts: str):
    return [{"text": text} for text in texts]


def scored(expected, reply_texts, spanish_too: bool = True) -> Result:
    sent = replies(*reply_texts)
    return Result("a message", expected, ENGLISH.labels(sent),
                  spanish=SPANISH.labels(sent) if spanish_too else [])


def test_a_reply_in_the_other_language_is_no_answer():
    cost = KNOWLEDGE.by_id["cost"]
    assert ENGLISH.labels(replies(KNOWLEDGE.answer(cost))) == ["cost"]
    assert SPANISH.labels(replies(KNOWLEDGE.answer(cost))) == ["other"]
    assert SPANISH.labels(replies(KNOWLEDGE.answer(cost, "es"))) == ["cost"]
    # an English set's English question answered in Spanish is wrong
    assert not scored(["cost"], [KNOWLEDGE.answer(cost, "es")]).right


def test_the_other_language_reply_is_read_in_both_languages():
    text = RESPONSES["utter_other_language"][0]["text"].format(**KNOWLEDGE.values)
    assert ENGLISH.labels(replies(text)) == SPANISH.labels(replies(text)) == ["other_language"]


def test_an_english_sets_spanish_messages_are_right_when_answered_in_spanish():
    """Sets A-G were written before the assistant spoke Spanish."""
    urgent_es = RESPONSES["utter_urgent_clinic_es"][0]["text"].format(**KNOWLEDGE.values_in["es"])
    urgent = scored(["urgent"], [urgent_es])
    assert urgent.urgent and urgent.right
    answered = scored(["other_language"], [KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"], "es")])
    assert answered.right
    numbers = figures([urgent, answered], [])
    assert numbers["urgent, recall"] == (1, 1)
    assert numbers["other languages, clear reply"] == (1, 1)
    assert numbers["urgent, false alarms"] == (0, 1)


def test_a_spanish_greeting_is_right_where_another_language_is_one_option():
    """An English set's "hola" expects greet|other_language: a Spanish greeting is clear."""
    greet_es = next(variant["text"] for variant in RESPONSES["utter_greet"]
                    if any(condition.get("value") == "es"
                           for condition in variant.get("condition") or [])
                    ).format(**KNOWLEDGE.values_in["es"])
    assert scored(["greet|other_language"], [greet_es]).right
    assert not scored(["greet|other_language"], [greet_es], spanish_too=False).right


def test_anything_asked_inside_a_form_the_visitor_opened_may_get_the_step_again():
    """"q dias tienen libres?" at the time step (expected "any"): the step
    asked again is no form holding the visitor, as it would be outside one."""
    step = RESPONSES["utter_ask_preferred_time"][0]["text"].format(**KNOWLEDGE.values)
    inside = Result("q dias tienen libres?", ["any"], ENGLISH.labels(replies(step)), in_form=True)
    outside = Result("q dias tienen libres?", ["any"], ENGLISH.labels(replies(step)))
    assert inside.right and not inside.held
    assert not outside.right and outside.held


def test_a_wrong_answer_is_counted_by_its_kind():
    cost, downtime = (KNOWLEDGE.by_id[topic] for topic in ("cost", "downtime"))
    urgent = RESPONSES["utter_urgent_clinic"][0]["text"].format(**KNOWLEDGE.values)
    results = [scored(["cost"], [KNOWLEDGE.answer(cost)]),  # right
               scored(["cost"], [KNOWLEDGE.answer(downtime)]),
               scored(["cost"], [KNOWLEDGE.answer(cost), KNOWLEDGE.answer(downtime)]),
               scored(["cost"], [urgent]),
               scored(["cost"], [KNOWLEDGE.answer(cost, "es")]),
               scored(["cost"], [KNOWLEDGE.answer(cost, "es")], spanish_too=False)]
    numbers = figures(results, [])
    assert numbers["topic questions, answered wrong"] == (5, 6)
    assert [numbers[f"  of which {kind}"] for kind in WRONG_KINDS] == [(1, 5)] * 5


def test_a_did_you_mean_offers_the_right_topic_when_it_offers_one_of_the_alternatives():
    asked = [Result("do i need a consultation first?", ["medical_procedure|preparation"],
                    ["not_understood"], offered=offered)
             for offered in (["preparation", "how_it_works"], ["pain", "cost"])]
    assert figures(asked, [])["  of which offer the right topic"] == (1, 2)
