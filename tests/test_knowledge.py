"""Loading and validating the knowledge file and the clinic profile."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from core.knowledge import KnowledgeError, load_knowledge
from core.paths import KNOWLEDGE_DIR

pytestmark = pytest.mark.unit

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
# The topics of ../shared/TOPICS.md and their safety classes.
TOPICS = {
    "what_is": "answer", "how_it_works": "answer", "medical_procedure": "answer",
    "pain": "answer", "permanence": "answer", "sessions": "answer",
    "results_timeline": "answer", "conditions_treated": "answer", "scars": "answer",
    "body_areas": "answer", "skin_types": "consult", "contraindications": "consult",
    "side_effects": "answer", "safety": "answer", "downtime": "answer",
    "preparation": "answer", "aftercare": "answer", "hair_loss": "consult",
    "combined_treatments": "answer", "vs_other_treatments": "answer", "cost": "consult",
}


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge()


def test_every_topic_of_the_contract_is_there_with_its_safety_class(knowledge):
    assert {topic.id: topic.safety for topic in knowledge.topics} == TOPICS


def test_answers_are_short_and_filled_from_the_clinic_profile(knowledge):
    for topic in knowledge.topics:
        for text in (knowledge.answer(topic), knowledge.more(topic) or ""):
            assert len(text.split()) <= 90, topic.id
            assert "{" not in text and "}" not in text, topic.id


def test_answers_state_no_price_or_percentage(knowledge):
    for topic in knowledge.topics:
        for text in (topic.answer, topic.more or ""):
            assert not re.search(r"[$€£%]|\bdollars?\b|\bpercent\b", text), topic.id


def test_most_topics_have_more_to_tell(knowledge):
    told = [topic.id for topic in knowledge.topics if topic.more]
    assert len(told) >= len(knowledge.topics) // 2, told


@pytest.mark.parametrize("topic_id, fact", [
    ("what_is", "collagen induction therapy"),
    ("permanence", "not permanent"),
    ("scars", "keloid"),
    ("pain", "numbing cream"),
    ("side_effects", "five days"),
    ("hair_loss", "research is still limited"),
    ("cost", "801-501-9797"),
])
def test_answers_carry_the_key_facts_of_the_sources(knowledge, topic_id, fact):
    assert fact.lower() in knowledge.answer(knowledge.by_id[topic_id]).lower()


def test_default_clinic_is_the_one_of_the_seed_document(knowledge):
    clinic = knowledge.clinic
    assert (clinic.name, clinic.phone, clinic.email) == (
        "Biorestoration Medical & Aesthetics", "801-501-9797", "info@biorestoration.com")
    assert clinic.address.startswith("12101 S. State Street #101")
    assert clinic.opening_hours.confirmed is False  # the seeds give no hours


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seed documents are not at {SEEDS}")
def test_every_source_is_a_seed_document(knowledge):
    seeds = {path.name for path in SEEDS.glob("*.txt")}
    for topic in knowledge.topics:
        assert set(topic.sources) <= seeds, topic.id


@pytest.fixture
def copy(tmp_path):
    """A copy of the knowledge folder that a test may break."""
    for name in ("microneedling.yml", "clinic.yml"):
        shutil.copy(KNOWLEDGE_DIR / name, tmp_path / name)
    return tmp_path


def edit_topic(directory: Path, topic_id: str, change) -> None:
    path = directory / "microneedling.yml"
    data = yaml.safe_load(path.read_text())
    change(next(topic for topic in data["topics"] if topic["id"] == topic_id))
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("topic_id, change, field", [
    ("pain", lambda topic: topic.pop("title"), "title"),
    ("pain", lambda topic: topic.update(title="Does microneedling hurt a lot?"), "title"),
    ("cost", lambda topic: topic.update(safety="maybe"), "safety"),
    ("scars", lambda topic: topic.update(sources=[]), "sources"),
    ("scars", lambda topic: topic.update(answer="  "), "answer"),
    ("cost", lambda topic: topic.update(answer="Call us on {clinic_fax}."), "answer"),
    ("pain", lambda topic: topic.update(more="Or fax us on {clinic_fax}."), "more"),
    ("pain", lambda topic: topic.update(more=" "), "more"),
    ("sessions", lambda topic: topic.update(related=["no_such_topic"]), "related"),
    ("sessions", lambda topic: topic.update(intent="faq_pain"), "intent"),
    ("downtime", lambda topic: topic.update(colour="red"), "colour"),
    ("pain", lambda topic: topic.update(es={"title": "¿Duele el microneedling mucho?",
                                            "answer": "Un poco."}), "es.title"),
    ("pain", lambda topic: topic.update(es={"title": "¿Duele?", "answer": "Fax: {clinic_fax}"}),
     "es.answer"),
    ("pain", lambda topic: topic.update(es={"title": "¿Duele?"}), "es.answer"),
])
def test_a_broken_topic_names_file_topic_and_field(copy, topic_id, change, field):
    edit_topic(copy, topic_id, change)
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(copy)
    message = str(error.value)
    assert "microneedling.yml" in message
    assert f"topic '{topic_id}'" in message
    assert f"field '{field}" in message


def test_a_missing_clinic_field_names_file_and_field(copy):
    path = copy / "clinic.yml"
    data = yaml.safe_load(path.read_text())
    del data["phone"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(KnowledgeError, match=r"clinic\.yml: field 'phone'"):
        load_knowledge(copy)


def test_invalid_yaml_is_reported_with_the_file(copy):
    (copy / "microneedling.yml").write_text("topics: [unclosed\n")
    with pytest.raises(KnowledgeError, match=r"microneedling\.yml: is not valid YAML"):
        load_knowledge(copy)


def test_a_missing_file_is_reported(copy):
    (copy / "clinic.yml").unlink()
    with pytest.raises(KnowledgeError, match=r"clinic\.yml: cannot be read"):
        load_knowledge(copy)


SPANISH_PAIN = {"title": "¿Duele?", "answer": "Llame a {clinic_name} al {clinic_phone}.",
                "more": "Más: {clinic_hours}.", "reviewed": False}


def test_a_topic_is_answered_in_spanish_where_its_spanish_is_written(copy):
    edit_topic(copy, "pain", lambda topic: topic.update(es=SPANISH_PAIN))
    edit_topic(copy, "cost", lambda topic: topic.pop("es", None))
    knowledge = load_knowledge(copy)
    pain, cost = knowledge.by_id["pain"], knowledge.by_id["cost"]
    clinic = knowledge.clinic
    assert knowledge.answer(pain, "es") == f"Llame a {clinic.name} al {clinic.phone}."
    assert knowledge.more(pain, "es").startswith("Más: lunes ")
    assert knowledge.answer(pain) == knowledge.answer(pain, "en") != knowledge.answer(pain, "es")
    # a topic no one has translated yet is answered in English rather than not at all
    assert knowledge.answer(cost, "es") == knowledge.answer(cost)
    assert knowledge.buttons(["faq_pain"], "es") == [{"title": "¿Duele?", "payload": "/faq_pain"}]
    assert knowledge.buttons(["faq_pain"]) == [{"title": pain.title, "payload": "/faq_pain"}]
    assert pain in knowledge.unreviewed()


def test_a_reviewed_translation_is_not_listed_for_review(copy):
    edit_topic(copy, "pain", lambda topic: topic.update(es={**SPANISH_PAIN, "reviewed": True}))
    assert "pain" not in [topic.id for topic in load_knowledge(copy).unreviewed()]
