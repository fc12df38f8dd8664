"""Urgent symptoms always win: the must-never-miss suite, through the real
trained model and servers, and the detector's own rules."""
import asyncio
from pathlib import Path

import pytest
import spacy
import yaml

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import KNOWLEDGE, ActionClinicReply
from core.language import fold
from components.red_flags import (RED_FLAGS, RED_FLAGS_ES, RedFlagDetector, RedFlagGate,
                                  language_of, load_red_flags, load_spanish_pipeline)
from tests.support.assistant import new_sender
from tests.support.replies import EMERGENCY_REPLY, is_urgent_reply
from tests.support.project import ROOT

SUITE = Path(__file__).resolve().parent / "red_flags"
URGENT = yaml.safe_load((SUITE / "urgent.yml").read_text())
NORMAL = yaml.safe_load((SUITE / "normal.yml").read_text())
PRECISION = yaml.safe_load((SUITE / "precision.yml").read_text())
BLIND = yaml.safe_load((SUITE / "blind.yml").read_text())  # blind set h's, read after its score
# Spanish: written before the Spanish patterns; the blind part was measured
# once against the finished patterns before it joined the suite.
URGENT_ES = yaml.safe_load((SUITE / "urgent.es.yml").read_text())
NORMAL_ES = yaml.safe_load((SUITE / "normal.es.yml").read_text())
PRECISION_ES = yaml.safe_load((SUITE / "precision.es.yml").read_text())
BLIND_ES = yaml.safe_load((SUITE / "blind.es.yml").read_text())
EMERGENCY_REPLY_ES = "Esto necesita atención de emergencia ahora: llame al 911."
CLINIC_REPLY_ES = ("No espere con esto: llame ahora a Biorestoration Medical & Aesthetics al "
                   "801-501-9797")


def is_spanish_urgent_reply(replies) -> bool:
    return is_urgent_reply(replies, (EMERGENCY_REPLY_ES, CLINIC_REPLY_ES))


@pytest.mark.unit
def test_the_suite_is_large_enough():
    assert len(URGENT) >= 60 and len(NORMAL) >= 40 and len(PRECISION) >= 150
    assert len(BLIND["urgent"]) >= 20 and len(BLIND["normal"]) >= 20
    urgent = set(URGENT) | set(BLIND["urgent"])
    assert not urgent & (set(NORMAL) | set(PRECISION) | set(BLIND["normal"]))


@pytest.mark.e2e
def test_every_urgent_message_gets_the_urgent_reply(assistant):
    urgent = URGENT + BLIND["urgent"]
    missed = [text for text in urgent
              if not is_urgent_reply(assistant.say(text, keep_disclosure=True))]
    assert missed == [], f"{len(missed)} of {len(urgent)} urgent messages missed"


@pytest.mark.e2e
def test_no_normal_reaction_is_escalated(assistant):
    escalated = [text for text in NORMAL if is_urgent_reply(assistant.say(text))]
    assert escalated == [], f"{len(escalated)} of {len(NORMAL)} normal messages escalated"


@pytest.mark.e2e
def test_no_symptom_word_in_another_sense_is_escalated(assistant):
    precision = PRECISION + BLIND["normal"]
    escalated = [text for text in precision if is_urgent_reply(assistant.say(text))]
    assert escalated == [], f"{len(escalated)} of {len(precision)} precision messages escalated"


@pytest.mark.e2e
@pytest.mark.parametrize("text", [
    "i cant breathe properly since the treatment",
    "my throat feels like its closing up",
    "I have a high fever since my microneedling",
])
def test_breathing_throat_and_high_fever_send_to_the_emergency_number(assistant, text):
    [reply] = assistant.say(text, keep_disclosure=True)
    assert reply["text"].startswith(EMERGENCY_REPLY)
    assert KNOWLEDGE.clinic.phone in reply["text"]


@pytest.mark.e2e
def test_an_urgent_symptom_wins_in_the_middle_of_a_conversation(assistant):
    sender = new_sender()
    assistant.say("hi", sender)
    assistant.say("how much does it cost?", sender)
    assert is_urgent_reply(assistant.say("does it hurt? also there is pus on my cheek", sender))
    assert assistant.say("thanks", sender)[0]["text"].startswith("You're welcome")


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    nlp = spacy.load(ROOT / "build" / "en_clinic_lookup")
    detector = RedFlagDetector(nlp, load_red_flags())
    detector.nlp = nlp
    return detector


def detect(detector: RedFlagDetector, text: str):
    return detector.detect(detector.nlp(text.lower()))


@pytest.mark.unit
@pytest.mark.parametrize("text", ["no fever, just a bit pink", "without any pus or oozing",
                                  "my face is a bit puffy but going down"])
def test_negated_and_softened_reactions_are_not_escalated(detector, text):
    assert detect(detector, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("my lips swelled up", "lip_swelling"),
    ("the swelling of my lips", "lip_swelling"),
    ("the red area keeps getting bigger", "spreading_redness"),
    ("my lips are getting bigger and bigger", "lip_swelling"),
    ("bleedin wont stop", "bleeding"),
    ("red streeks running toward my ear", "spreading_redness"),
    ("a spot has been bleeding for over 40 minutes since I left the clinic and it won't stop",
     "bleeding"),  # "stop" is too far from "bleeding": the minutes tell
])
def test_word_forms_and_word_order_do_not_matter(detector, text, symptom):
    assert detect(detector, text).symptom == symptom


@pytest.mark.unit
def test_words_of_a_combination_must_stand_close_together(detector):
    far = "my eye cream " + "and other products I use every morning " * 3 + "are a problem"
    assert detect(detector, far) is None
    assert detect(detector, "my eye is a problem, it hurts").symptom == "vision"


@pytest.mark.unit
def test_a_broken_pattern_file_names_the_file_and_field(tmp_path):
    data = yaml.safe_load(RED_FLAGS.read_text())
    data["symptoms"][0]["level"] = "soon"
    broken = tmp_path / "red_flags.yml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"red_flags\.yml: symptoms\.0\.level"):
        load_red_flags(broken)


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [("no fever, but my lips are swollen", "lip_swelling"),
                                           ("no fever but pus", "pus"),
                                           ("without fever and now oozing", "pus")])
def test_a_negation_does_not_reach_past_a_comma_but_or_and(detector, text, symptom):
    assert detect(detector, text).symptom == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text", ["I'm on blood thinners, is that ok?",
                                  "my blood pressure is a bit high", "I get hay fever every spring",
                                  "can I take a fever reducer before?",
                                  "is PRP done with your own blood?",
                                  "brown spots near my eyes, can it fade them?",
                                  "my rosacea gets worse with heat, is that a problem?",
                                  "trying to see if it's worth it, my skin problems get me down",
                                  "i get my blood drawn on friday, can i come in after?",
                                  "my retinol pills come in a blister pack, stop them before?",
                                  "my vision for 2027 is clear skin, how many sessions?",
                                  "the fever around dermaplaning lately is wild, is yours similar?"])
def test_a_symptom_word_inside_a_set_phrase_does_not_count(detector, text):
    assert detect(detector, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("my own blood is pouring out of the holes", "bleeding"),
    ("dark spots in my vision since the treatment", "vision"),
    ("the redness gets worse with heat and keeps spreading", "spreading_redness"),
    ("i want to see if my vision problems are normal, everything is blurry", "vision")])
def test_a_set_phrase_does_not_hide_a_symptom_around_it(detector, text, symptom):
    assert detect(detector, text).symptom == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text", ["i don't have a fever", "i didn't have any blisters",
                                  "nothing is infected", "there's not any pus",
                                  "i don't want to end up with blisters, what do i avoid before?"])
def test_a_negation_may_be_several_words(detector, text):
    assert detect(detector, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [("i can not breathe", "breathing"),
                                           ("it won't stop bleeding", "bleeding"),
                                           ("i don't have a fever but my lips are swollen",
                                            "lip_swelling")])
def test_a_negation_only_looks_before_the_symptom_and_within_its_clause(detector, text, symptom):
    assert detect(detector, text).symptom == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text", ["what if my lips swell up after?", "if I see pus, do I call you?",
                                  "does it cause blisters?", "could I have a fever if I'm tired?",
                                  "does microneedling bleed a lot?",
                                  "do you bleed a lot with microneedling?",
                                  "do you get red streaks or marks from the roller?",
                                  "how do I know if it's infected?",
                                  "is it true that it can cause an infection?",
                                  "I hate needles, is it going to be agony?",
                                  "does a pimple with pus count as active acne?",
                                  "i heard dermarollers can blister your skin, is yours different?",
                                  "i read every leaflet before i take ibuprofen. even so, any risk?"])
def test_a_general_question_about_the_treatment_is_not_escalated(detector, text):
    assert detect(detector, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("is it normal to have pus coming out", "pus"),
    ("what should i do, my lips are swollen", "lip_swelling"),
    ("if i press on it it keeps bleeding", "bleeding"),
    ("could i have an infection? there's pus", "pus"),
    # the question, then the answer about now: the asking clause's words count
    ("what if my lips swell? mine are huge since my session", "lip_swelling"),
    ("does it work on swollen lips? they are still huge", "lip_swelling"),
])
def test_a_question_that_reports_a_symptom_stays_urgent(detector, text, symptom):
    assert detect(detector, text).symptom == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text", ["I had a fever last year", "I had pus two months ago",
                                  "a little swelling in my face but it went away",
                                  "some bleeding during the session but it stopped right away",
                                  "last year I had shingles with blisters on my back, all healed now",
                                  "a bit of pinpoint bleeding at my last session, stopped within "
                                  "a minute, is that normal?"])
def test_a_symptom_that_is_over_is_not_escalated(detector, text):
    assert detect(detector, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("I've had a fever since last week", "fever"),
    ("had it done last week and now I have a fever", "fever"),
    ("my face swelled up but it went away, and now it's back", "face_swelling"),
    ("it hasn't stopped bleeding", "bleeding"),
    ("i almost stopped breathing", "breathing"),
    ("the blisters on my cheek haven't healed since my session", "blistering"),
    ("some bleeding after my session, stopped within minutes but now it's back", "bleeding"),
    ("bleeding at my session, stopped after a few minutes and started again", "bleeding"),
])
def test_a_symptom_still_going_on_stays_urgent(detector, text, symptom):
    assert detect(detector, text).symptom == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("i have an infection on my chin right now, can i still get it?", None),
    ("my acne has pus in a few spots, am i a candidate?", None),
    ("tengo granitos con pus ahorita, me lo puedo hacer?", None),
    # a treatment had: a complication of it
    ("pus coming out where you did my cheeks, can i still get the second session?", "pus"),
    ("tengo pus desde mi sesion, me lo puedo hacer otra vez?", "pus"),
    # an emergency whatever is asked
    ("i can't breathe properly, can i still get it tomorrow?", "breathing"),
])
def test_a_symptom_of_someone_asking_to_have_the_treatment_is_no_complication(
        detector, spanish, text, symptom):
    gate = RedFlagGate(load_red_flags(), spanish)
    alarm, _ = gate.detect(detector, detector.nlp(text.lower()), text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text", ["my cat has a fever", "my grandma has trouble breathing",
                                  "my son has a fever, can i move my appointment?",
                                  "My daughter spiked a fever last night, can I move my appointment?",
                                  "my friend had her lips swell from filler",
                                  # a general question about the treatment after it
                                  "my sister had a fever after her flu shot. is microneedling "
                                  "safe for everyone?"])
def test_someone_elses_symptom_is_not_escalated(detector, text):
    assert detect(detector, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text", ["my mom has a fever since my microneedling",
                                  "my husband says my lips are swollen",
                                  "my daughter had microneedling and now she has a fever",
                                  "my sister has swollen lips, she had her session this morning",
                                  "my son spiked a fever after his microneedling",
                                  "my mom has a fever, is that from the microneedling?"])
def test_someone_else_speaking_of_the_visitor_or_the_treatment_stays_urgent(detector, text):
    assert detect(detector, text).symptom in {"fever", "lip_swelling"}


@pytest.mark.unit
@pytest.mark.parametrize("text", ["I have a blister from my new shoes",
                                  "I can't see the booking page on my phone",
                                  "I have blonde streaks in my hair",
                                  "will the serum soak into my skin better afterwards?",
                                  "apart from redness, what else could go wrong?",
                                  "my doctor can't see me until next month",
                                  "my throat is swollen from yelling at the concert, what are your hours?",
                                  "I can't breathe when I see what salons charge lol, how much is yours?",
                                  "I'm a vet tech, I deal with pus all day. how many sessions would I need?"])
def test_a_symptom_word_about_something_else_is_not_escalated(detector, text):
    assert detect(detector, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("I have a blister from my new shoes and my face is blistering", "blistering"),
    ("blisters on my feet and face", "blistering"),
    ("my face is swollen and not going down", "face_swelling"),
])
def test_another_cause_or_a_negated_softener_only_counts_in_its_own_clause(detector, text,
                                                                          symptom):
    assert detect(detector, text).symptom == symptom


# Spanish ---------------------------------------------------------------------

@pytest.mark.unit
def test_the_spanish_suite_is_large_enough():
    assert len(URGENT_ES) >= 60 and len(NORMAL_ES) >= 40
    assert len(BLIND_ES["urgent"]) >= 20 and len(BLIND_ES["normal"]) >= 15
    urgent = set(URGENT_ES) | set(BLIND_ES["urgent"])
    assert not urgent & (set(NORMAL_ES) | set(BLIND_ES["normal"]) | set(PRECISION_ES))


@pytest.mark.e2e
def test_every_spanish_urgent_message_gets_the_spanish_urgent_reply(assistant):
    urgent = URGENT_ES + BLIND_ES["urgent"]
    missed = [text for text in urgent
              if not is_spanish_urgent_reply(assistant.say(text, keep_disclosure=True))]
    assert missed == [], f"{len(missed)} of {len(urgent)} Spanish urgent messages missed"


@pytest.mark.e2e
def test_no_spanish_normal_reaction_is_escalated(assistant):
    normal = NORMAL_ES + BLIND_ES["normal"] + PRECISION_ES
    escalated = [text for text in normal
                 if is_urgent_reply(replies := assistant.say(text))
                 or is_spanish_urgent_reply(replies)]
    assert escalated == [], f"{len(escalated)} of {len(normal)} Spanish messages escalated"


@pytest.mark.e2e
@pytest.mark.parametrize("text", ["no puedo respirar bien desde el tratamiento",
                                  "se me esta cerrando la garganta",
                                  "tengo fiebre de 40 desde el microneedling"])
def test_breathing_throat_and_high_fever_in_spanish_send_to_the_emergency_number(assistant, text):
    [reply] = assistant.say(text, keep_disclosure=True)
    assert reply["text"].startswith(EMERGENCY_REPLY_ES)
    assert KNOWLEDGE.clinic.phone in reply["text"]


@pytest.mark.e2e
def test_a_spanish_urgent_symptom_wins_in_the_middle_of_a_conversation(assistant):
    sender = new_sender()
    assistant.say("hola", sender)
    assistant.say("how much does it cost?", sender)
    assert is_spanish_urgent_reply(assistant.say("me salio pus en la mejilla", sender))
    assert is_urgent_reply(assistant.say("there is pus on my cheek", sender))


def urgent_reply_to(latest_message: dict) -> str:
    tracker = Tracker("test", {}, latest_message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionClinicReply().run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    return message["response"]


@pytest.mark.unit
def test_the_action_gives_the_spanish_urgent_reply_when_the_spanish_patterns_matched():
    for intent in ("urgent_emergency", "urgent_clinic"):
        latest = {"intent": {"name": intent, "confidence": 1.0}, "text": "..."}
        assert urgent_reply_to({**latest, "language": "es"}) == f"utter_{intent}_es"
        assert urgent_reply_to(latest) == f"utter_{intent}"
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    assert {"utter_urgent_emergency_es", "utter_urgent_clinic_es"} <= set(responses)


@pytest.fixture(scope="module")
def spanish() -> RedFlagDetector:
    return RedFlagDetector(load_spanish_pipeline(), load_red_flags(RED_FLAGS_ES), fold)


def detect_es(spanish: RedFlagDetector, text: str):
    return spanish.detect(spanish.nlp(spanish.read(text)))


@pytest.mark.unit
def test_english_messages_are_judged_as_before(detector, spanish):
    """The gate with both languages decides every English suite message as the
    English patterns alone do, and never in Spanish."""
    gate = RedFlagGate(load_red_flags(), spanish)
    for text in URGENT + NORMAL + PRECISION + BLIND["urgent"] + BLIND["normal"]:
        alarm, language = gate.detect(detector, detector.nlp(text.lower()), text)
        assert alarm == detect(detector, text), text
        assert not alarm or language == "en", text


@pytest.mark.unit
@pytest.mark.parametrize("text, language", [
    ("there is pus on my cheek", "en"), ("tengo pus en la mejilla", "es"),
    ("my face esta muy hinchada y no para", "es"), ("fiebre alta", None),
    ("pus", None), ("can u help me, my skin is so tan", "en")])
def test_the_language_is_told_by_the_small_words(spanish, text, language):
    assert language_of(spanish.nlp(spanish.read(text))) == language


@pytest.mark.unit
def test_a_spanish_message_is_judged_by_the_spanish_patterns_alone(detector, spanish):
    gate = RedFlagGate(load_red_flags(), spanish)
    text = "sin pus ni nada, solo reseca"  # "pus" is an English pattern too
    assert gate.detect(detector, detector.nlp(text.lower()), text) == (None, "es")


@pytest.mark.unit
@pytest.mark.parametrize("text", ["no tengo fiebre, solo un poco roja", "sin pus ni nada",
                                  "no hay ampollas", "no me duele el ojo",
                                  "no tengo nada de fiebre ni escalofrios"])
def test_spanish_negations_are_not_escalated(spanish, text):
    assert detect_es(spanish, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("no puedo respirar", "breathing"), ("no me para de sangrar", "bleeding"),
    ("no veo bien del ojo", "vision"), ("no tengo fiebre pero tengo los labios hinchados",
                                        "lip_swelling")])
def test_spanish_no_before_a_verb_is_not_a_negation(spanish, text, symptom):
    assert detect_es(spanish, text).symptom == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("se me hincharon los labios", "lip_swelling"),
    ("tengo los labios hinchados", "lip_swelling"),
    ("la hinchazón de mis labios", "lip_swelling"),
    ("HINCHAZON EN LOS LABIOS", "lip_swelling"),
    ("me están saliendo ampollas", "blistering"),
    ("la mancha roja esta creciendo", "spreading_redness")])
def test_spanish_word_forms_accents_and_word_order_do_not_matter(spanish, text, symptom):
    assert detect_es(spanish, text).symptom == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("tengo la cara un poco hinchada", None),
    ("la cara hinchada pero ya esta bajando", None),
    ("tengo la cara hinchada y no se me baja", "face_swelling"),
    ("tengo los labios un poco hinchados", "lip_swelling")])
def test_spanish_softeners_count_for_face_swelling_only(spanish, text, symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text", ["tomo anticoagulantes", "me hice un análisis de sangre",
                                  "tengo fiebre del heno", "tengo la presion alta",
                                  "pus nomás quería ver el horario", "pus la verdad me da miedo",
                                  "uso unas ampolletas de ácido hialurónico",
                                  "compré ampollas de vitamina C, las dejo antes?",
                                  "mi visión para este verano es verme sin manchas",
                                  "me da fiebre solo de pensar en las agujas jaja"])
def test_a_spanish_symptom_word_inside_a_set_phrase_does_not_count(spanish, text):
    assert detect_es(spanish, text) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("¿qué pasa si se me hinchan los labios?", None),
    ("¿el microneedling causa ampollas?", None),
    ("como se si tengo una infeccion?", None),
    ("que pasa si no para de sangrar", "bleeding"),
    # Without accents "si" is also "sí": "pero sí me sale pus" is urgent.
    ("no me duele pero si me sale pus", "pus"),
    ("si me sale pus, les llamo?", "pus"),
    ("¿qué pasa si se me hinchan los labios? los tengo enormes desde la sesión",
     "lip_swelling"),
    ("sirve para labios hinchados? los tengo enormes todavía", "lip_swelling"),
    # a fear, after an interjection: "wey" and "güey" open a clause as "oye" does
    ("güey me da pavor el dolor, ¿es como la cera o peor?", None),
    ("wey me da pánico, me sangra y no para", "bleeding"),
    ("¿es verdad que da infección?", None)])
def test_a_general_question_in_spanish_is_not_escalated_and_a_report_is(spanish, text, symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    # Spanish asks without the "does" of English: a message of one clause
    # that is a question asks what the treatment does ...
    ("¿sangra mucho?", None), ("da fiebre el tratamiento?", None),
    ("salen ampollas despues del microneedling?", None),
    ("¿me van a salir granos o ampollas?", None), ("¿me puede dar fiebre despues?", None),
    # ... as does a last one opened by "¿"
    ("es que me da miedo la sangre, ¿sangra mucho el microneedling?", None),
    # ... and tells when it goes on, names the visitor first, or is no question
    ("sangra mucho?? que hago", "bleeding"), ("¿sangra mucho y no para?", "bleeding"),
    ("me sangra mucho?", "bleeding"), ("¿sangra todavia?", "bleeding"),
    ("sangra mucho", "bleeding"), ("salen ampollas desde ayer?", "blistering"),
    ("¿los labios se hinchan?", None), ("los labios se me hinchan?", "lip_swelling"),
    ("me puede estar dando fiebre?", "fever"), ("la cara se me hincho mucho?", "face_swelling"),
    ("me sangra la cara desde ayer, ¿sangra mucho el microneedling?", "bleeding"),
    # a question before more, when the visitor says they only ask ...
    ("¿El microneedling provoca fiebre? Solo pregunto antes de agendar", None),
    ("¿Se me va a hinchar el labio si me lo hacen cerca de la boca? Pregunto para planear", None),
    # ... not without saying so, nor with an `ongoing` word, nor after a plea
    ("¿sangra mucho? no para", "bleeding"),
    ("¿sangra mucho? todavía, solo pregunto", "bleeding"),
    ("sangra mucho? que hago, solo pregunto", "bleeding")])
def test_a_spanish_question_of_one_clause_asks_what_the_treatment_does(spanish, text, symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("tuve fiebre el año pasado", None),
    ("se me hincharon los labios pero ya se me quitó", None),
    ("tengo fiebre desde la semana pasada", "fever"),
    ("se me hincharon los labios, se me quito y ahora otra vez", "lip_swelling")])
def test_a_symptom_over_in_spanish_is_not_escalated_unless_it_goes_on(spanish, text, symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("mi mamá tiene fiebre", None), ("mi hijo tiene calentura, puedo cambiar la cita?", None),
    ("mi esposo dice que tengo los labios hinchados", "lip_swelling"),
    ("mi hija tiene fiebre desde mi tratamiento", "fever"),
    # a later clause of the treatment, not of the visitor nor of hearsay
    ("mi tía tiene los labios inflamados y le cuesta hablar después de la cita", "lip_swelling"),
    ("mi prima dice que a una conocida se le infectó y se le manchó la cara después del "
     "microneedling, ¿eso pasa seguido?", None)])
def test_someone_elses_symptom_in_spanish_is_not_escalated(spanish, text, symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("tengo una ampolla por los zapatos nuevos", None),
    ("ya llevo dos sesiones y no veo nada de resultados, es normal?", None),  # no results yet
    ("no veo nada, todo borroso desde el micro", "vision"),
    ("no puedo ver la pagina para reservar", None),
    ("tengo una ampolla por los zapatos y ampollas en la cara", "blistering")])
def test_a_spanish_symptom_word_about_something_else_counts_only_in_its_clause(spanish, text,
                                                                              symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
def test_a_broken_spanish_pattern_file_names_the_file_and_field(tmp_path):
    data = yaml.safe_load(RED_FLAGS_ES.read_text())
    data["grammar"]["not_reach"] = 0
    broken = tmp_path / "red_flags.es.yml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"red_flags\.es\.yml: grammar\.not_reach"):
        load_red_flags(broken)


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("the redness has crept way past where you treated and there are red streaky lines",
     "spreading_redness"),
    ("my face is killing me since the treatment", "severe_pain"),
    ("this heat is killing me, are you open saturday?", None),
    ("it's blistering hot out, what's your address", None),
    ("my vision board says glowing skin this year", None),
    ("my eyes are burning from reading all night, what's your number", None),
    ("i had a high fever last month but i'm fine now, can i book", None),
    ("my cat got stung and her face swelled up, do you know a vet", None),
    ("my husband had microneedling and his face swelled up", "face_swelling"),
    ("my dog got stung and his face swelled up after my treatment", "face_swelling"),
    ("my lip is three times its normal size since the treatment", "lip_swelling"),
    ("my dark patches got so much worse when i was pregnant", None),
    ("trouble breathing through my nose from allergies, can i book", None),
    ("my eyes are puffy from crying all night, how much is it", None),
    ("my dog's face is swollen, any vet nearby?", None)])
def test_other_senses_and_other_causes_in_english(detector, text, symptom):
    alarm = detect(detector, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("me hicieron micro y tengo swelling en la garganta", "throat_swelling"),
    ("tengo la kara inchada desde ayer", "face_swelling"),
    ("el dolor en vez de bajar va subiendo", "severe_pain"),
    ("fiebre de sabado en la noche, abren los sabados?", None),
    ("me hice una sesion y todavia no veo nada de cambio", None),
    ("me da miedo que se me infecte la cara, es comun?", None),
    ("hay riesgo de infeccion?", None)])
def test_spanglish_misspellings_and_other_senses_in_spanish(spanish, text, symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("my lips are swolen after microneedling", "lip_swelling"),
    ("the spot keeps bleding and wont stop", "bleeding"),
    ("i have blistres on my cheek", "blistering"),
    ("Klaus Weber", None),  # a name one typo from a listed misspelling ("feber") is a name
    ("it stops in a few seconds each time though, is that ok?", None)])
def test_a_symptom_word_one_typo_away_is_read_as_meant(detector, text, symptom):
    alarm = detect(detector, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("detector_of, text, symptom", [
    ("english", "I don't want my face to swell any more, it's huge since yesterday", "face_swelling"),
    ("spanish", "no quiero que se me hinche mas, ya esta enorme la cara desde el micro",
     "face_swelling"),
    ("spanish", "no quiero llegar con la cara hinchada a la boda, cuanto dura?", None)])
def test_a_wish_not_to_end_up_with_a_symptom_is_no_symptom_but_a_wish_it_stops_is(
        detector, spanish, detector_of, text, symptom):
    alarm = detect(detector, text) if detector_of == "english" else detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("sevear pain and swelling since the treatment yesterday", "severe_pain"),
    ("my face is sweeling up badly after the session", "face_swelling"),
    ("the pain is sevear", "severe_pain"),
    ("my seever pain", "severe_pain"),
    # a word of the dictionary is meant as written: "series" is no "sores"
    ("If I do a series now, does the effect just wear off as I keep getting older?", None)])
def test_a_symptom_word_with_its_vowels_spelt_by_ear_is_read_as_meant(detector, text, symptom):
    alarm = detect(detector, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
def test_spanish_vowels_are_not_read_by_ear(spanish):
    # "super" has the consonants of "supura" (oozing): Spanish spells its vowels as said
    assert detect_es(spanish, "tengo la piel super sensible, me lo puedo hacer?") is None


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("tengo la cara muy inchada desde el tratamiento", "face_swelling"),
    ("se me esta inchando la cara bien feo despues del tratamiento", "face_swelling"),
    ("¿puede infectarse?", None)])  # a verb with its pronoun is a word, not a typo
def test_a_spanish_symptom_word_one_typo_away_is_read_as_meant(spanish, text, symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    # someone else's symptoms go on after "and"; "they" are their lips
    ("my daughter has had a fever and chills since last night (strep at school), "
     "can I move my appointment?", None),
    ("my sister got lip filler and they swelled up, does microneedling do that too?", None),
    ("my son has a fever and blisters on my face", "blistering"),
    # an aside after "and" goes with the question before it
    ("I read something about fever and chills online, is that common?", None),
    ("what if I get a fever and chills now", "fever"),
    ("had a fever last spring, all fine now, can I book microneedling?", None),
])
def test_what_follows_someone_elses_symptom_or_a_question_goes_with_it(detector, text, symptom):
    alarm = detect(detector, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("mi hija tiene fiebre y tos desde ayer (hay gripa en la escuela), puedo cambiar mi cita?",
     None),
    ("a mi gato le pico una abeja y se le hincho la cara, puedo mover mi cita?", None),
    ("lei en un foro algo de fiebre e infeccion, pasa seguido?", None),
    ("duele? no aguanto nada de dolor", None),  # how little pain they can stand
    ("me duele muchisimo, no aguanto el dolor", "severe_pain"),
    ("si me sale sangre despues es normal? todavia no me lo hago", None),  # not had it yet
    ("todavia me sangra y no para", "bleeding"),
])
def test_what_follows_someone_elses_symptom_or_a_question_goes_with_it_in_spanish(
        spanish, text, symptom):
    alarm = detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom


@pytest.mark.unit
@pytest.mark.parametrize("text, symptom", [
    ("and hours?", None), ("and a fever?", "fever"), (", and pus?", "pus"),
    ("y duele?", None), ("y fiebre?", "fever"), ("e infeccion?", "pus")])
def test_a_message_opening_with_and_is_judged(detector, spanish, text, symptom):
    """No clause stands before it for its aside to go with: a symptom named
    alone in it is urgent, as anywhere."""
    alarm = detect(detector, text) if text.startswith(("and", ",")) else detect_es(spanish, text)
    assert (alarm and alarm.symptom) == symptom
