"""The second urgent net (components/urgent_net.py): its own arithmetic, its
examples file, and how the red-flag gate weighs it, through the real trained
model and servers."""
import numpy as np
import pytest
import spacy

from components import urgent_net
from components.red_flags import NET_ALARM, Alarm, RedFlagDetector, RedFlagGate, judged, load_red_flags
from components.urgent_net import URGENT_NET_CALM, features, fit, load_examples, probability
from core.language import fold
from tests.support.assistant import new_sender
from tests.support.project import ROOT
from tests.support.replies import CLINIC_REPLY, is_urgent_reply
from tests.test_red_flags import is_spanish_urgent_reply

URGENT = ["my lips are huge and hot since the treatment", "pus is coming out of my cheek",
          "fever and chills since my session", "me sale pus de la mejilla"]
CALM = ["how much does it cost", "is it painful", "what areas can you treat",
        "can i wear makeup after", "cuanto cuesta", "la cara y el cuello"]


@pytest.mark.unit
def test_one_message_scores_as_scikit_learn_scores_it():
    """probability() works the features out by hand, for speed."""
    model = fit(URGENT, CALM, C=10.0)
    texts = URGENT + CALM + ["", "😀", "pus pus pus", "a word never seen"]
    expected = 1 / (1 + np.exp(-(features(model, [fold(text) for text in texts]) @ model["coef"]
                                 + model["intercept"])))
    assert np.allclose([probability(model, text) for text in texts], expected, atol=1e-12)
    assert probability(model, URGENT[0]) > 0.5 > probability(model, CALM[0])


@pytest.mark.unit
def test_the_examples_are_read_from_both_files_and_checked(tmp_path):
    examples = load_examples()
    assert len(examples["urgent"]) > 1000 and len(examples["not_urgent"]) > 1000
    broken = tmp_path / "urgent.yml"
    broken.write_text("urgent:\n  - ''\n")
    with pytest.raises(ValueError, match="urgent.yml.*`urgent`"):
        load_examples([broken])


@pytest.mark.unit
def test_a_change_to_the_examples_retrains_the_net(tmp_path, monkeypatch):
    before = urgent_net.UrgentNet.fingerprint_addon({})
    copy = tmp_path / "urgent.yml"
    copy.write_text(urgent_net.EXAMPLES[0].read_text() + "  - one more\n")
    monkeypatch.setattr(urgent_net, "EXAMPLES", [copy, urgent_net.EXAMPLES[1]])
    assert urgent_net.UrgentNet.fingerprint_addon({}) != before


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    nlp = spacy.load(ROOT / "build" / "en_clinic_lookup")
    return RedFlagDetector(nlp, load_red_flags())


@pytest.mark.unit
def test_the_net_is_heard_only_where_a_word_of_a_symptom_stands(detector):
    told = "my cheeks are dripping yellow and it hurts a lot"  # no symptom whole for the patterns
    assert detector.detect(detector.nlp(told)) is None and detector.mentions(detector.nlp(told))
    assert judged(detector, detector.nlp(told), net_sure=True) is NET_ALARM
    assert judged(detector, detector.nlp(told), net_sure=False) is None
    unrelated = "what time do you open on saturday"  # no word of any symptom
    assert judged(detector, detector.nlp(unrelated), net_sure=True) is None
    named = "there is pus on my cheek"  # the patterns' own alarm stands
    assert judged(detector, detector.nlp(named), net_sure=False).symptom != NET_ALARM.symptom


def calmly_asked(alarm, net_calm=True, intent="faq_side_effects", confidence=0.95):
    from rasa.shared.nlu.training_data.message import Message

    message = Message.build(text="")
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set(URGENT_NET_CALM, net_calm)
    return RedFlagGate(load_red_flags(), config={"sure_question": 0.9}).asked_calmly(message, alarm)


@pytest.mark.unit
def test_a_clinic_alarm_stands_down_only_when_both_models_read_a_calm_question(detector):
    clinic, emergency = Alarm("bleeding", "clinic"), Alarm("breathing", "emergency")
    assert calmly_asked(clinic)
    assert not calmly_asked(emergency)  # an emergency never stands down
    assert not calmly_asked(clinic, net_calm=False)
    assert not calmly_asked(clinic, confidence=0.8)
    assert not calmly_asked(clinic, intent="nlu_fallback")
    # a treatment had: the alarm says so, and stands
    told = detector.detect(detector.nlp("it keeps bleeding after my session, a lot or a tiny bit?"))
    assert told == clinic and told.treatment_told and not calmly_asked(told)


@pytest.mark.e2e
def test_a_general_question_both_models_read_as_calm_gets_its_answer(assistant):
    replies = assistant.say("the side effects page says bleeding, is that a lot or only a few dots?")
    assert not is_urgent_reply(replies) and replies
    assert is_urgent_reply(assistant.say("bleeding a lot since my session, is that normal?"))


@pytest.mark.e2e
def test_what_the_patterns_miss_the_net_catches(assistant):
    [reply] = assistant.say("since the microneedling my cheeks are dripping yellow and it hurts a lot",
                            keep_disclosure=True)
    assert reply["text"].startswith(CLINIC_REPLY)
    assert is_spanish_urgent_reply(assistant.say(
        "tengo la cara escurriendo algo amarillo desde la sesion y me duele bastante",
        keep_disclosure=True))


@pytest.mark.e2e
def test_what_is_over_or_a_booking_answer_stays_calm(assistant):
    assert not is_urgent_reply(assistant.say(
        "my face was a bit red yesterday after my session and today it's fine"))
    sender = new_sender()
    assistant.say("quiero agendar una cita", sender)
    replies = assistant.say("la cara y el cuello", sender)
    assert not is_spanish_urgent_reply(replies) and not is_urgent_reply(replies)


@pytest.mark.unit
def test_the_trained_net_loads_back_as_it_was(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    trained = urgent_net.UrgentNet.create({}, storage, Resource("net"), context)
    trained.train(TrainingData([Message.build(text=text, intent="calm") for text in CALM]))
    loaded = urgent_net.UrgentNet.load({}, storage, Resource("net"), context)
    texts = URGENT + CALM + ["my face is swollen and hot since yesterday"]
    assert [probability(loaded.model, text) for text in texts] == pytest.approx(
        [probability(trained.model, text) for text in texts], abs=1e-12)
    assert probability(loaded.model, "pus is coming out of my cheek") >= 0.85
