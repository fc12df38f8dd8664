"""The staff commands that need no training: faq list/show/add, examples add,
check, review, report. Each runs `.venv/bin/clinic` on a temporary copy of
the project."""
from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from core.knowledge import load_knowledge
from tests.support.project import ROOT, VENV_BIN
from tests.support.staff import clinic, copy_project, examples

SUN_ANSWER = ("Keep out of direct sun for a week after microneedling and wear SPF 30 or higher "
              "every day; your skin is more sensitive while it heals.")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.mark.e2e
def test_faq_list_shows_every_topic_with_its_figures(project):
    result = clinic(project, "faq", "list")
    assert result.returncode == 0, result.stderr
    knowledge = load_knowledge(ROOT / "knowledge")
    pain = examples(project / "data" / "nlu.yml")["faq_pain"]
    for topic in knowledge.topics:
        assert re.search(rf"^{topic.id}\s+{topic.intent}\s+\d+\s+{topic.safety}\s+"
                         rf"{topic.review_by}", result.stdout, re.MULTILINE), topic.id
    assert re.search(rf"^pain\s+faq_pain\s+{len(pain)}\s", result.stdout, re.MULTILINE)


@pytest.mark.e2e
def test_faq_show_gives_the_answer_and_a_bad_topic_says_what_to_do(project):
    result = clinic(project, "faq", "show", "pain")
    knowledge = load_knowledge(ROOT / "knowledge")
    assert result.returncode == 0
    assert knowledge.answer(knowledge.by_id["pain"]) in result.stdout
    assert "title      Does it hurt?" in result.stdout
    missing = clinic(project, "faq", "show", "tattoos")
    assert missing.returncode == 2
    assert "there is no topic 'tattoos'" in missing.stderr and "clinic faq list" in missing.stderr


@pytest.mark.e2e
def test_examples_are_added_and_the_file_keeps_its_layout(project):
    nlu = project / "data" / "nlu.yml"
    before = nlu.read_text()
    result = clinic(project, "examples", "add", "faq_pain", "does the needling sting a bit",
                    "will i feel the little needles")
    assert result.returncode == 0, result.stderr
    assert "Added 2 examples" in result.stdout
    after = nlu.read_text()
    added = ["    - does the needling sting a bit\n", "    - will i feel the little needles\n"]
    assert after.count("\n") == before.count("\n") + 2
    assert "".join(line for line in after.splitlines(True) if line not in added) == before
    assert examples(nlu)["faq_pain"][-2:] == ["does the needling sting a bit",
                                              "will i feel the little needles"]


@pytest.mark.e2e
def test_duplicates_are_refused_ignoring_case_punctuation_and_spacing(project):
    nlu = project / "data" / "nlu.yml"
    before = nlu.read_text()
    result = clinic(project, "examples", "add", "faq_pain", "DOES   microneedling hurt?!")
    assert result.returncode == 1
    assert "refused 'DOES microneedling hurt?!': it is already." in result.stdout
    other = clinic(project, "examples", "add", "faq_cost", "Does microneedling hurt")
    assert other.returncode == 1
    assert "already an example of faq_pain" in other.stdout
    assert nlu.read_text() == before


@pytest.mark.e2e
def test_a_test_question_cannot_become_a_training_example(project):
    heldout = examples(project / "tests" / "nlu_heldout.yml")["faq_pain"][0]
    result = clinic(project, "examples", "add", "faq_pain", heldout)
    assert result.returncode == 1
    assert "it is a test question of faq_pain" in result.stdout


@pytest.mark.e2e
def test_an_unknown_intent_is_misuse_with_a_hint(project):
    result = clinic(project, "examples", "add", "faq_pains", "ouch")
    assert result.returncode == 2
    assert "there is no intent 'faq_pains'. Did you mean faq_pain?" in result.stderr
    assert clinic(project, "examples", "add", "urgent_clinic", "pus").returncode == 2
    assert clinic(project, "examples", "add", "faq_pain").returncode == 2  # no text


HUMAN = "I'd rather speak with someone at the front desk"  # an example of request_human


def with_example(project: Path, intent: str, text: str) -> None:
    """`text` written into the copy's data/nlu.yml as an example of `intent`."""
    nlu = project / "data" / "nlu.yml"
    head = f"- intent: {intent}\n  examples: |\n"
    content = nlu.read_text()
    assert head in content
    nlu.write_text(content.replace(head, f"{head}    - {text}\n", 1))


@pytest.mark.e2e
def test_a_look_alike_of_another_intent_is_added_with_a_warning_naming_it(project):
    with_example(project, "request_human", HUMAN)
    result = clinic(project, "examples", "add", "clinic_contact", f"{HUMAN} please")
    assert result.returncode == 0
    assert f"looks like '{HUMAN}' of request_human" in result.stdout
    assert f"{HUMAN} please" in examples(project / "data" / "nlu.yml")["clinic_contact"]


@pytest.mark.e2e
def test_an_unrelated_example_gets_no_warning(project):
    result = clinic(project, "examples", "add", "faq_cost", "what would three sessions set me back")
    assert result.returncode == 0 and "warning" not in result.stdout


def _new_topic_flags(count: int = 25, tests: int = 8):
    flags = ["faq", "add", "--id", "sun_exposure", "--title", "Sun afterwards?",
             "--safety", "answer", "--answer", SUN_ANSWER, "--source", "002_5be5231892821ceb.txt",
             "--related", "aftercare", "--related", "downtime"]
    for number in range(count):
        flags += ["--example", f"sunbathing question number {number} after microneedling"]
    for number in range(tests):
        flags += ["--test", f"beach holiday question {number} after the needling"]
    return flags


@pytest.mark.e2e
def test_faq_add_updates_the_four_files_consistently(project):
    result = clinic(project, *_new_topic_flags())
    assert result.returncode == 0, result.stderr
    domain = yaml.safe_load((project / "domain.yml").read_text())
    assert "faq_sun_exposure" in domain["intents"]
    rules = yaml.safe_load((project / "data" / "rules.yml").read_text())["rules"]
    assert {"rule": "answer faq_sun_exposure", "steps": [
        {"intent": "faq_sun_exposure"}, {"action": "action_answer_faq"}]} in rules
    knowledge = load_knowledge.__wrapped__(project / "knowledge")
    topic = knowledge.by_id["sun_exposure"]
    assert (topic.intent, topic.title, topic.answer) == ("faq_sun_exposure", "Sun afterwards?",
                                                         SUN_ANSWER)
    assert topic.review_by == datetime.date.today() + datetime.timedelta(days=365)
    assert len(examples(project / "data" / "nlu.yml")["faq_sun_exposure"]) == 25
    assert len(examples(project / "tests" / "nlu_heldout.yml")["faq_sun_exposure"]) == 8
    checked = clinic(project, "check")
    assert "problem" not in checked.stdout, checked.stdout


@pytest.mark.e2e
def test_faq_add_asks_for_what_the_flags_do_not_give(project):
    answers = "\n".join(["sun_exposure", "Sun afterwards?", SUN_ANSWER, "answer",
                         "002_5be5231892821ceb.txt", "can I sunbathe after microneedling",
                         "is the sun bad for my skin after", "", "when can I go to the beach",
                         ""]) + "\n"
    result = clinic(project, "faq", "add", stdin=answers)
    assert result.returncode == 0, result.stderr
    assert "It has 2 example questions; training needs at least 25" in result.stdout
    assert examples(project / "data" / "nlu.yml")["faq_sun_exposure"] == [
        "can I sunbathe after microneedling", "is the sun bad for my skin after"]
    checked = clinic(project, "check")
    assert checked.returncode == 1
    assert "faq_sun_exposure has 2 example questions; it needs at least 25" in checked.stdout
    assert "faq_sun_exposure has 1 test questions" in checked.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("flags, message", [
    (["--title", "A title that is far too long"], "ensure this value has at most 20 characters"),
    (["--related", "tattoos"], "--related names unknown topics ['tattoos']"),
    (["--id", "pain"], "a topic 'pain' exists already"),
    (["--test", "sunbathing question number 0 after microneedling"],
     "either trained on or kept for testing, never both"),
    (["--example", "does it hurt?"], "either trained on or kept for testing, never both"),
    (["--example", "DOES MICRONEEDLING HURT"], "already an example of faq_pain"),
])
def test_faq_add_refuses_a_bad_topic_and_changes_nothing(project, flags, message):
    before = {path: path.read_text() for path in project.rglob("*.yml")}
    base = _new_topic_flags(count=1, tests=0)
    result = clinic(project, *base, *flags)
    assert result.returncode == 2
    assert message in result.stderr
    assert {path: path.read_text() for path in project.rglob("*.yml")} == before


@pytest.mark.e2e
def test_check_lists_each_kind_of_problem(project):
    knowledge = project / "knowledge" / "microneedling.yml"
    text = knowledge.read_text()
    text = text.replace("review_by: 2027-05-21", "review_by: 2020-01-31", 1)
    long_answer = "Microneedling is gentle. " * 50
    text = text.replace("      A numbing cream is applied before the treatment, so discomfort is",
                        f"      {long_answer}A numbing cream is applied before the treatment, so "
                        "discomfort is", 1)
    knowledge.write_text(text)
    domain = project / "domain.yml"
    domain.write_text(domain.read_text().replace("- title: Skip", "- title: Skip this question, "
                                                 "please", 1))
    rules = project / "data" / "rules.yml"
    rules.write_text(rules.read_text() + "\n- rule: a mistake\n  steps:\n  - intent: faq_pain\n"
                     "  - action: utter_nothing_like_this\n")
    with_example(project, "request_human", HUMAN)
    with_example(project, "clinic_contact", f"{HUMAN} please")
    result = clinic(project, "check")
    assert result.returncode == 1
    assert "topic 'what_is' was due for review on 2020-01-31" in result.stdout
    assert re.search(r"the answer of topic 'pain' has 1\d\d\d characters; WhatsApp takes 1024 in "
                     "a message with buttons", result.stdout)
    assert "button 'Skip this question, please' of utter_ask_treatment_area" in result.stdout
    assert "uses action utter_nothing_like_this, which domain.yml does not define" in \
        result.stdout
    assert f"(clinic_contact) and '{HUMAN}' (request_human) look alike" in result.stdout


@pytest.mark.e2e
def test_check_passes_rasa_validation_of_the_project_as_it_is(project):
    result = clinic(project, "check")
    assert "problem" not in result.stdout, result.stdout
    broken = project / "data" / "nlu.yml"
    broken.write_text(broken.read_text().replace("- intent: faq_pain", "- intent faq_pain", 1))
    result = clinic(project, "check")
    assert result.returncode == 1 and "data/nlu.yml" in result.stdout + result.stderr


@pytest.mark.e2e
def test_help_of_every_command_has_an_example():
    from clinic.cli import parser

    commands = [["--help"]]
    for name, sub in parser()._subparsers._group_actions[0].choices.items():
        nested = [action for action in sub._actions if action.__class__.__name__ ==
                  "_SubParsersAction"]
        commands += [[name, child, "--help"] for child in nested[0].choices] if nested else [
            [name, "--help"]]
    for command in commands:
        result = subprocess.run([str(VENV_BIN / "clinic"), *command], capture_output=True,
                                text=True)
        assert result.returncode == 0 and "Example:" in result.stdout, command


@pytest.mark.unit
def test_the_action_servers_knowledge_follows_its_file_and_survives_a_broken_edit(tmp_path):
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    knowledge = load_knowledge.__wrapped__(folder)
    assert knowledge.refresh() is False  # unchanged: nothing read
    path = folder / "microneedling.yml"
    original = path.read_text()
    path.write_text(original.replace("title: Does it hurt?", "title: Is it painful?"))
    assert knowledge.refresh() is True
    assert knowledge.by_id["pain"].title == "Is it painful?"
    assert knowledge.titles["faq_pain"] == "Is it painful?"
    path.write_text(original.replace("title: Does it hurt?", "title: " + "x" * 30))
    assert knowledge.refresh() is False  # a broken edit is not taken
    assert knowledge.by_id["pain"].title == "Is it painful?"


@pytest.mark.unit
def test_check_lists_spanish_wording_to_review_and_topics_without_it(project):
    from clinic.checks import knowledge_contract
    from clinic.project import Project

    knowledge = project / "knowledge" / "microneedling.yml"
    data = yaml.safe_load(knowledge.read_text())
    for topic in data["topics"]:
        topic.pop("es", None)
        if topic["id"] == "pain":
            topic["es"] = {"title": "¿Duele?", "answer": "Casi nada.", "reviewed": False}
        if topic["id"] == "cost":
            topic["es"] = {"title": "Precio", "answer": "Depende.", "reviewed": True}
    knowledge.write_text(yaml.safe_dump(data, allow_unicode=True))
    review = knowledge_contract(Project(project)).review
    assert any(item.startswith("topic 'pain': its Spanish wording is not reviewed")
               for item in review)
    assert any(item.startswith("topic 'what_is' has no Spanish wording") for item in review)
    assert not any(item.startswith("topic 'cost'") for item in review)


# Spanish: --lang es ------------------------------------------------------------

@pytest.mark.e2e
def test_spanish_questions_go_to_the_spanish_files_and_train_one_intent_in_both(project):
    nlu, nlu_es = project / "data" / "nlu.yml", project / "data" / "nlu.es.yml"
    english_before = nlu.read_text()
    added = clinic(project, "examples", "add", "--lang", "es", "faq_pain",
                   "oiga y me va a doler la aguja o no")
    assert added.returncode == 0, added.stderr
    assert "Added 1 examples to data/nlu.es.yml for faq_pain." in added.stdout
    assert examples(nlu_es)["faq_pain"][-1] == "oiga y me va a doler la aguja o no"
    assert nlu.read_text() == english_before
    english = examples(nlu)["faq_cost"][0]  # one model: a question trains one intent
    refused = clinic(project, "examples", "add", "--lang", "es", "faq_pain", english)
    assert refused.returncode == 1 and "already an example of faq_cost" in refused.stdout
    test = clinic(project, "examples", "add", "--lang", "es", "--test", "faq_pain",
                  "y eso duele tantito o mucho")
    assert test.returncode == 0, test.stderr
    assert "to tests/nlu_heldout.es.yml" in test.stdout
    assert examples(project / "tests" / "nlu_heldout.es.yml")["faq_pain"][-1] == \
        "y eso duele tantito o mucho"
    trained = clinic(project, "examples", "add", "--lang", "es", "--test", "faq_pain",
                     "oiga y me va a doler la aguja o no")
    assert trained.returncode == 1 and "never both" in trained.stdout
    astray = clinic(project, "examples", "add", "faq_pain", "me va a doler mucho el tratamiento")
    assert astray.returncode == 0, astray.stderr
    assert "reads as Spanish, and it was added to data/nlu.yml" in astray.stdout
    assert "(--lang es)" in astray.stdout


@pytest.mark.e2e
def test_faq_show_and_list_give_the_spanish_wording_and_its_state(project):
    knowledge = load_knowledge(ROOT / "knowledge")
    pain = knowledge.by_id["pain"]
    shown = clinic(project, "faq", "show", "pain", "--lang", "es")
    assert shown.returncode == 0, shown.stderr
    assert f"title      {pain.es.title}" in shown.stdout
    assert knowledge.answer(pain, "es") in shown.stdout
    assert "reviewed   no: check it says what the English answer says" in shown.stdout
    spanish = examples(project / "data" / "nlu.es.yml")["faq_pain"]
    assert f"examples   {len(spanish)} for training" in shown.stdout
    assert f"  - {spanish[0]}" in shown.stdout
    listed = clinic(project, "faq", "list")
    assert re.search(rf"^pain\s.*\s+to review, {len(spanish)} examples$", listed.stdout,
                     re.MULTILINE)


@pytest.mark.e2e
def test_faq_add_in_spanish_words_a_new_topic_and_refuses_one_worded_already(project):
    assert clinic(project, *_new_topic_flags()).returncode == 0
    shown = clinic(project, "faq", "show", "sun_exposure", "--lang", "es")
    assert "No Spanish wording yet" in shown.stdout
    answer = ("Evite el sol directo una semana después del microneedling y use protector "
              "solar SPF 30 o más todos los días; su piel está más sensible mientras sana.")
    spanish = ["faq", "add", "--lang", "es", "--id", "sun_exposure", "--title", "¿Sol después?",
               "--answer", answer, "--example", "puedo asolearme despues del microneedling",
               "--example", "cuando puedo ir a la alberca al sol", "--test",
               "y la playa cuando"]
    added = clinic(project, *spanish)
    assert added.returncode == 0, added.stderr
    topic = load_knowledge.__wrapped__(project / "knowledge").by_id["sun_exposure"]
    assert (topic.es.title, topic.es.answer, topic.es.reviewed) == ("¿Sol después?", answer, True)
    assert examples(project / "data" / "nlu.es.yml")["faq_sun_exposure"] == [
        "puedo asolearme despues del microneedling", "cuando puedo ir a la alberca al sol"]
    assert examples(project / "tests" / "nlu_heldout.es.yml")["faq_sun_exposure"] == [
        "y la playa cuando"]
    checked = clinic(project, "check")
    assert "problem" not in checked.stdout, checked.stdout
    assert "topic 'sun_exposure'" not in checked.stdout
    before = {path: path.read_text() for path in project.rglob("*.yml")}
    again = clinic(project, *spanish)
    assert again.returncode == 2 and "has Spanish wording already" in again.stderr
    topic_flag = clinic(project, "faq", "add", "--lang", "es", "--id", "pain", "--title", "x",
                        "--answer", "y", "--safety", "answer")
    assert topic_flag.returncode == 2 and "--safety belong to the topic" in topic_flag.stderr
    assert {path: path.read_text() for path in project.rglob("*.yml")} == before
