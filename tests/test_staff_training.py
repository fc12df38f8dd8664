"""`clinic train` and `clinic rollback` for real, on a temporary copy of the
project, with a running assistant (Rasa's HTTP API enabled with a token)
that loads each model in service without dropping its conversations.

Two trainings in all: a good one that adds a topic (module fixture), and a
worse one (sabotaged data) that must be refused.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest
import requests
import yaml

from tests.support.assistant import new_sender, start_assistant, stop_all
from tests.support.staff import clinic, copy_project

pytestmark = pytest.mark.e2e

TOKEN = f"token-{uuid.uuid4().hex}"
VOUCHER_ANSWER = ("Yes: {clinic_name} sells gift vouchers for any treatment or amount. "
                  "Call {clinic_phone} or email {clinic_email} to buy one.")
VOUCHER_EXAMPLES = [
    "do you sell gift vouchers", "can I buy a gift voucher for microneedling",
    "gift card for my mum", "do you do gift certificates", "voucher as a birthday present",
    "can i get a voucher for my wife", "gift vouchers available?", "how do I buy a gift card",
    "I want to give microneedling as a present", "christmas gift voucher for a treatment",
    "can I purchase a voucher online", "do you have gift cards", "buy a treatment as a gift",
    "gift voucher please", "is there a gift card option", "my sister's birthday, vouchers?",
    "could I get a gift certificate for a session", "present for my girlfriend, gift card",
    "do you offer vouchers", "a voucher for a facial treatment as a gift",
    "mother's day gift voucher", "can someone else use my gift card", "gift card",
    "vouchers", "I'd like to gift a session to a friend", "do vouchers expire",
    "anniversary present voucher for microneedling", "treat my mom to a session, gift card?",
    "where can I buy your gift vouchers", "gift certificate",
]
VOUCHER_TESTS = [
    "do you sell gift cards for microneedling", "I want to buy a voucher for my aunt",
    "gift voucher for valentines day", "can I give a session as a present",
    "are gift certificates available", "how much is a gift card",
    "birthday gift voucher for my best friend", "can i buy a voucher",
]
QUESTION = "do you sell gift vouchers"
ANSWER_START = "Yes: Biorestoration Medical & Aesthetics sells gift vouchers"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def history(project: Path) -> list:
    return json.loads((project / "models" / "history.json").read_text())["served"]


def tracker_texts(url: str, sender: str) -> list:
    response = requests.get(f"{url}/conversations/{sender}/tracker", params={"token": TOKEN},
                            timeout=30)
    response.raise_for_status()
    return [event.get("text") for event in response.json()["events"] if event["event"] == "user"]


@pytest.fixture(scope="module")
def served(trained_model: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[SimpleNamespace]:
    """A running assistant; then a topic added and a model trained and put in
    service by `clinic train`, which has the running server load it."""
    project = copy_project(tmp_path_factory.mktemp("staff") / "project", with_model=True)
    model = project / "models" / "assistant.tar.gz"
    assistant, servers = start_assistant(tmp_path_factory.mktemp("staff-servers"), model,
                                         api_token=TOKEN, knowledge=project / "knowledge")
    try:
        sender = new_sender()
        state = SimpleNamespace(project=project, assistant=assistant, sender=sender,
                                old_model=digest(model))
        state.before = assistant.say(QUESTION, sender)
        flags = ["faq", "add", "--id", "gift_vouchers", "--title", "Gift vouchers?",
                 "--safety", "answer", "--answer", VOUCHER_ANSWER,
                 "--source", "001_977fb4a41602181f.txt", "--related", "cost"]
        for text in VOUCHER_EXAMPLES:
            flags += ["--example", text]
        for text in VOUCHER_TESTS:
            flags += ["--test", text]
        state.added = clinic(project, *flags)
        assert state.added.returncode == 0, state.added.stderr
        state.trained = clinic(project, "train", env={"RASA_API_TOKEN": TOKEN,
                                                      "RASA_SERVER_URL": assistant.url})
        yield state
    finally:
        stop_all(servers)


def test_before_training_the_assistant_cannot_answer_the_new_topic(served):
    assert not any((reply.get("text") or "").startswith(ANSWER_START) for reply in served.before)


def test_train_puts_the_better_model_in_service_with_a_before_after_table(served):
    result = served.trained
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "training the intent classifier" in result.stdout
    for label in ("held-out accuracy", "urgent answered urgently", "normal escalated"):
        assert label in result.stdout
    served_list = history(served.project)
    assert len(served_list) == 2  # the model of make, then the new one
    assert served_list[0]["note"] == "trained by make"
    assert digest(served.project / served_list[0]["model"]) == served.old_model
    new = served.project / served_list[1]["model"]
    assert digest(new) == digest(served.project / "models" / "assistant.tar.gz")
    scores = served_list[1]["scores"]
    assert scores["urgent_answered"] == scores["urgent_total"] >= 60
    assert scores["normal_escalated"] == 0
    assert scores["accuracy"] >= served_list[0]["scores"]["accuracy"] - 0.01
    assert f"{100 * scores['accuracy']:.1f} %" in result.stdout
    assert f"The running server at {served.assistant.url} now answers with this model." in \
        result.stdout


def test_the_running_assistant_answers_the_new_topic_and_the_conversation_continues(served):
    replies = served.assistant.say(QUESTION, served.sender)
    assert replies[0]["text"].startswith(ANSWER_START), replies
    assert [button["payload"] for button in replies[0]["buttons"]] == ["/faq_cost"]
    texts = tracker_texts(served.assistant.url, served.sender)
    assert texts == [QUESTION, QUESTION]  # the turn before the reload is still there
    reply = served.assistant.say("how much does it cost?", served.sender)
    assert "I don't have prices" in reply[0]["text"]


def test_the_model_api_refuses_a_caller_without_the_token(served):
    response = requests.put(f"{served.assistant.url}/model", json={"model_file": "x"}, timeout=30)
    assert response.status_code == 401


def test_a_wrong_token_or_no_server_is_a_problem_that_says_what_to_do(served, monkeypatch):
    from clinic.project import Problem
    from clinic.training import reload_server

    model = served.project / "models" / "assistant.tar.gz"
    monkeypatch.setenv("RASA_SERVER_URL", served.assistant.url)
    monkeypatch.setenv("RASA_API_TOKEN", "not-the-token")
    with pytest.raises(Problem, match="refused RASA_API_TOKEN \\(HTTP 401\\); use the token"):
        reload_server(model)
    monkeypatch.setenv("RASA_SERVER_URL", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(Problem, match="could not be reached .* Start it \\(make run\\)"):
        reload_server(model)


def _sabotage(nlu: Path) -> None:
    """Every FAQ topic trained on another topic's questions (25 each, the
    least `clinic check` accepts), the other intents on 5 examples: a worse
    model, and less data to train it on."""
    data = yaml.safe_load(nlu.read_text())
    faq = [item for item in data["nlu"] if item["intent"].startswith("faq_")]
    blocks = ["\n".join(item["examples"].splitlines()[:25]) + "\n" for item in faq]
    for item, block in zip(faq, blocks[1:] + blocks[:1]):
        item["examples"] = block
    for item in data["nlu"]:
        if not item["intent"].startswith("faq_"):
            item["examples"] = "\n".join(item["examples"].splitlines()[:5]) + "\n"
    nlu.write_text(yaml.safe_dump(data, sort_keys=False, width=10_000))


def test_a_worse_model_is_refused_and_the_one_in_service_kept(served):
    project = served.project
    nlu = project / "data" / "nlu.yml"
    original = nlu.read_text()
    in_service = digest(project / "models" / "assistant.tar.gz")
    before = history(project)
    models_before = sorted(path.name for path in (project / "models").glob("*.tar.gz"))
    _sabotage(nlu)
    try:
        result = clinic(project, "train", env={"RASA_API_TOKEN": TOKEN,
                                               "RASA_SERVER_URL": served.assistant.url})
    finally:
        nlu.write_text(original)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    # the first reason given may be another one (with fewer examples as calm,
    # the urgent net can escalate a normal reaction): the accuracy is among them
    refusal = re.search(r"The new model is NOT put in service: (.*)\.\n", result.stdout)
    assert refusal, result.stdout[-3000:]
    assert re.search(r"its held-out accuracy is [\d.]+ points lower", refusal.group(1)), \
        refusal.group(1)
    assert digest(project / "models" / "assistant.tar.gz") == in_service
    assert history(project) == before
    assert sorted(path.name for path in (project / "models").glob("*.tar.gz")) == models_before
    assert served.assistant.say(QUESTION)[0]["text"].startswith(ANSWER_START)


def test_rollback_returns_to_the_previous_model_and_reloads_the_server(served):
    project = served.project
    result = clinic(project, "rollback", env={"RASA_API_TOKEN": TOKEN,
                                              "RASA_SERVER_URL": served.assistant.url})
    assert result.returncode == 0, result.stderr
    assert "now answers with this model" in result.stdout
    assert digest(project / "models" / "assistant.tar.gz") == served.old_model
    assert len(history(project)) == 1
    replies = served.assistant.say(QUESTION, served.sender)
    assert not any((reply.get("text") or "").startswith(ANSWER_START) for reply in replies)
    assert tracker_texts(served.assistant.url, served.sender)[:2] == [QUESTION, QUESTION]
    again = clinic(project, "rollback")
    assert again.returncode == 1
    assert "there is no previous model to return to" in again.stderr
