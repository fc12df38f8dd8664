"""Questions about the visitor's own health get the consultation answer
(components/personal_medical.py, knowledge/personal_medical.yml)."""
import pytest
from rasa.shared.nlu.training_data.message import Message

from components.personal_medical import PersonalMedicalGuard, load_lists, personal

pytestmark = pytest.mark.unit

LISTS = load_lists()


@pytest.mark.parametrize("text", [
    "I'm on prednisone for my lupus, can I still have microneedling?",
    "i have a pacemaker, does that matter?",
    "I'm 15, can I get it done?",
    "I just finished chemo last month, is it safe for me yet?",
    "I’m allergic to lidocaine, could I do it without numbing?",  # a typographic apostrophe
    "tengo diabetes tipo 2, ¿puedo hacerme el tratamiento?",
    "estoy amamantando a mi bebé, es seguro?",
    "soy hemofílica, es peligroso para mí?",
    "estoy en quimioterapia, ¿es posible hacérmelo?",
    "me inyecto insulina todos los días, me afecta?",
    "every cut i get turns into a raised scar, should i avoid it?",
    "soy diabética y tardo en sanar, ¿es buena idea para mí?",
    "I have lupus, is microneedling a good idea for me?",
    "currently on accutane, can i book microneedling",
    "i'm on metformin for my pcos, is that a problem?",
    "tomo metformina y tengo la presión alta, me afecta?",
    "i have stretch marks from my pregnancy but i'm pregnant again now, can i?",
    "i had surgery two weeks ago, can i still come in for microneedling?",
    "me operaron hace un mes, ¿puedo hacerme el tratamiento?",
    "been on methotrexate for my RA for years, can i come in for it?",
    "estoy en quimio y tengo la piel reseca, es mala idea?",
    "mi hija tiene 16 y toma unas pastillas para el acne, se lo pueden hacer?",
    "mi hijo tiene 14 años y le salen muchos granos con brote, le pueden hacer el tratamiento?",
    "mi abuelo trae marcapasos, no le afecta la pluma?",
    "me quitaron un melanoma del cuello el año pasado, es peligroso hacerme el micro?",
    "fumo diario, eso interfiere con el tratamiento?",
    "di a luz hace un mes, me espero o ya me lo puedo hacer?",
    "i'm 3 months postpartum, when can i start?",  # a situation; asks "too old", "bad idea"
    "I'm 68 with thin crepey skin, am I too old for this?",
    "I have psoriatic arthritis, would it be a bad idea in my case?",
    "I form keloids with every little cut, should I skip this?",
    "tengo diabetes, me lo recomiendan?",
    "I had botox in my forehead ten days ago, can I get microneedling now?",
    "i have a raised mole on my cheek, can you needle over it?",
    "tengo un lunar en la mejilla, me pueden pasar el aparato encima?",
    "me puse relleno en los labios hace un mes, me pueden hacer el resto de la cara?",
    "me da herpes labial muy seguido, puedo?",  # what keeps happening to them
    "tengo marcapasos, eso importa para el microneedling?",
    "mi hijo tiene 15 y tiene cicatrices de acne, se lo pueden hacer?",
])
def test_a_question_about_ones_own_health_is_personal(text):
    assert personal(text, LISTS)


@pytest.mark.parametrize("text", [
    "I have acne scars, can microneedling help?",  # a concern it treats, not a condition
    "is it ok for someone who has eczema?",  # not about themselves: the general answer
    "my friend is pregnant, she wants to know the price",
    "I'm 16 minutes away, what's the address?",  # "16" is no age here without an ask
    "what happens at 160 degrees",
    "tengo cicatrices de acné, me sirve?",
    # where the marks came from, not a condition now
    "i have stretch marks from my pregnancy on my belly, can you treat those?",
    "tengo estrías del embarazo en la panza, ¿me lo puedo hacer ahí?",
    "me operaron de la rodilla y me quedó una cicatriz fea, se puede mejorar?",
    "i had surgery on my knee last year and the scar is still dark, can i do it there?",
    "tengo una cicatriz de una quemadura en la mano, se puede mejorar?",
    "tengo estrias del parto en la panza, puedo hacerme el micro ahi?",
    "can i get botox for my forehead lines there too?",  # botox asked for, not had
    "uso un serum de acido hialuronico, se puede combinar?",  # a serum, not a filler
    "me da miedo el dolor, puedo tomar algo antes?",  # a fear, no condition
])
def test_other_questions_are_not(text):
    assert not personal(text, LISTS)


def message(text: str, intent: str) -> Message:
    return Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9},
                         "intent_ranking": [{"name": intent, "confidence": 0.9}],
                         "questions": [intent, "faq_scars"]})


def test_the_topic_read_becomes_the_contraindications_answer_alone():
    guard = PersonalMedicalGuard(LISTS)
    [processed] = guard.process([message("I'm 16, can I get it for my acne scars?", "faq_scars")])
    assert processed.get("intent") == {"name": "faq_contraindications", "confidence": 1.0}
    assert processed.get("intent_ranking")[1]["name"] == "faq_scars"  # kept for "Did you mean"
    assert not processed.get("questions")


def test_booking_with_a_condition_gets_the_answer_first():
    guard = PersonalMedicalGuard(LISTS)
    [processed] = guard.process([message("currently on accutane, can i book microneedling",
                                         "book_consultation")])
    assert processed.get("intent")["name"] == "faq_contraindications"


@pytest.mark.parametrize("intent", ["request_human", "request_callback", "other_language"])
def test_a_clinic_request_or_another_language_keeps_its_reply(intent):
    guard = PersonalMedicalGuard(LISTS)
    text = "I'm allergic to bad customer service lol, can I talk to a real person?"
    [processed] = guard.process([message(text, intent)])
    assert processed.get("intent")["name"] == intent


def test_a_file_missing_a_list_names_the_file_and_the_list(tmp_path):
    broken = tmp_path / "personal_medical.yml"
    broken.write_text("en:\n  self: [i'm]\n  asks: [can i]\n")
    with pytest.raises(ValueError, match=r"personal_medical.yml: 'en' lacks the list\(s\) conditions"):
        load_lists(broken)
