"""The configuration as data: domain, NLU data, rules, knowledge and actions agree."""
import re
import subprocess
from pathlib import Path
from typing import Dict, List, Set

import pytest
import yaml
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME

from actions.actions import KNOWLEDGE
from channels.webhooks import ATTACHMENT
from components.red_flags import INTENT_FOR_LEVEL
from components.urgent_net import load_examples
from clinic.blind import load_set
from clinic.evaluate import load_heldout
from core.erasure import ERASURE_SLOT
from core.intents import (ATTACHMENT_INTENT, BOOKING_INTENT, FALLBACK_INTENT,
                          OTHER_LANGUAGE_INTENT, URGENT_INTENTS)

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
INTENTS: Set[str] = set(DOMAIN["intents"])
RESPONSES: Set[str] = set(DOMAIN["responses"])
DEFAULT_INTENTS = {FALLBACK_INTENT}
# Set by the red-flag gate and the language guard, not learned.
GATED_INTENTS = set(INTENT_FOR_LEVEL.values()) | {OTHER_LANGUAGE_INTENT}
CHANNEL_INTENTS = {ATTACHMENT.lstrip("/")}  # sent by the connectors, not learned
MIN_FAQ_EXAMPLES = 25
MIN_HELDOUT_PER_TOPIC = 8


def examples(path: Path) -> Dict[str, List[str]]:
    by_intent: Dict[str, List[str]] = {}
    for text, intent in load_heldout(path):
        by_intent.setdefault(intent, []).append(text)
    return by_intent


def merged(*paths: Path) -> Dict[str, List[str]]:
    by_intent: Dict[str, List[str]] = {}
    for path in paths:
        for intent, texts in examples(path).items():
            by_intent.setdefault(intent, []).extend(texts)
    return by_intent


# One model learns both languages: its training data is both files.
TRAINING = merged(ROOT / "data" / "nlu.yml", ROOT / "data" / "nlu.es.yml")
HELDOUT = examples(ROOT / "tests" / "nlu_heldout.yml")
HELDOUT_ES = examples(ROOT / "tests" / "nlu_heldout.es.yml")


def steps(path: Path, kind: str) -> List[Dict]:
    return [step for block in yaml.safe_load(path.read_text())[kind] for step in block["steps"]]


RULE_STEPS = steps(ROOT / "data" / "rules.yml", "rules")
STORY_STEPS = steps(ROOT / "data" / "stories.yml", "stories")


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


@pytest.mark.unit
def test_the_shared_intent_names_are_the_domains_and_rasas():
    """core/intents.py, the one home of the names several parts act on."""
    assert FALLBACK_INTENT == DEFAULT_NLU_FALLBACK_INTENT_NAME
    assert {*URGENT_INTENTS, OTHER_LANGUAGE_INTENT, ATTACHMENT_INTENT, BOOKING_INTENT} <= INTENTS
    assert set(INTENT_FOR_LEVEL.values()) == URGENT_INTENTS
    assert ATTACHMENT == f"/{ATTACHMENT_INTENT}"


@pytest.mark.unit
def test_the_erasure_slot_is_in_the_domain_and_steers_no_prediction():
    slot = DOMAIN["slots"][ERASURE_SLOT]
    assert slot["type"] == "bool" and slot["influence_conversation"] is False


@pytest.mark.unit
def test_faq_intents_and_knowledge_topics_match_one_to_one():
    faq_intents = {intent for intent in INTENTS if intent.startswith("faq_")}
    assert faq_intents == set(KNOWLEDGE.by_intent)


@pytest.mark.unit
def test_every_intent_has_training_data_and_faq_intents_have_enough():
    assert set(TRAINING) == INTENTS - GATED_INTENTS - CHANNEL_INTENTS
    for intent in KNOWLEDGE.by_intent:
        assert len(TRAINING[intent]) >= MIN_FAQ_EXAMPLES, intent


def blind_messages() -> List[str]:
    """Every message of tests/blind/, single or a conversation's turn."""
    blind = []
    for folder in (ROOT / "tests" / "blind").iterdir():
        if folder.is_dir():
            messages, conversations = load_set(folder)
            blind += [m["text"] for m in messages]
            blind += [t["user"] for c in conversations for t in c["turns"]]
    return blind


def suite_messages() -> List[str]:
    """Every message of the urgent-symptom suites, tests/red_flags/."""
    texts = []
    for path in (ROOT / "tests" / "red_flags").glob("*.yml"):
        content = yaml.safe_load(path.read_text())
        for part in content.values() if isinstance(content, dict) else [content]:
            texts += part
    return texts


def near_copies(texts: List[str], kept_apart: List[str]) -> List[str]:
    """The texts of five words or more that are one of `kept_apart`, or nearly
    one (80 % of their words shared); shorter phrases ("yes", "price?") are
    everyone's."""
    apart_words = [set(normalise(text).split()) for text in kept_apart]
    holding: Dict[str, Set[int]] = {}  # word -> the kept-apart messages that have it
    for index, words in enumerate(apart_words):
        for word in words:
            holding.setdefault(word, set()).add(index)

    def nearly_one(words: Set[str]) -> bool:
        # A message sharing 80 % of all the words of both lacks at most a
        # fifth of `words`, so it has one of any (that fifth + 1) of them:
        # only the messages having one of the rarest are compared.
        lacking = len(words) - (4 * len(words) + 4) // 5
        rarest = sorted(words, key=lambda word: len(holding.get(word, ())))[:lacking + 1]
        near = set().union(*(holding.get(word, set()) for word in rarest))
        return any(len(words & apart_words[index]) >= 0.8 * len(words | apart_words[index])
                   for index in near)

    return [text for text in texts for words in [set(normalise(text).split())]
            if len(words) >= 5 and nearly_one(words)]


@pytest.mark.unit
def test_no_blind_message_is_a_training_example():
    blind = blind_messages()
    assert len(blind) > 1500
    assert near_copies([text for texts in TRAINING.values() for text in texts], blind) == []


@pytest.mark.unit
def test_the_urgent_nets_examples_are_neither_blind_nor_suite_messages():
    """The second urgent net (components/urgent_net.py) is measured on the
    suites and the blind sets: it never learns from them."""
    examples = load_examples()
    suites = suite_messages()
    assert len(suites) > 2000 and len(examples["urgent"]) > 500
    assert near_copies(examples["urgent"] + examples["not_urgent"], blind_messages() + suites) == []


@pytest.mark.unit
def test_no_training_example_belongs_to_two_intents():
    owner: Dict[str, str] = {}
    for intent, texts in TRAINING.items():
        for text in texts:
            assert owner.setdefault(normalise(text), intent) == intent, text


@pytest.mark.unit
def test_every_intent_has_a_rule():
    ruled = {step["intent"] for step in RULE_STEPS if "intent" in step}
    assert INTENTS | DEFAULT_INTENTS <= ruled
    assert ruled <= INTENTS | DEFAULT_INTENTS


@pytest.mark.unit
def test_every_action_in_rules_and_stories_exists():
    known = RESPONSES | set(DOMAIN["actions"]) | set(DOMAIN["forms"]) | {
        "action_listen", "action_deactivate_loop"}
    for step in RULE_STEPS + STORY_STEPS:
        if "action" in step:
            assert step["action"] in known, step["action"]


@pytest.mark.unit
def test_every_response_the_actions_use_exists():
    code = "\n".join(path.read_text() for path in (ROOT / "actions").glob("*.py"))
    # "utter_action" is Rasa's key for the response a bot event came from
    used = set(re.findall(r'"(utter_[a-z_]+)"', code)) - {"utter_action"}
    assert used and used <= RESPONSES
    replied_by_profile = {step_intent for step_intent, action in rule_pairs()
                          if action == "action_clinic_reply"}
    assert {f"utter_{intent}" for intent in replied_by_profile} <= RESPONSES


def rule_pairs():
    for block in yaml.safe_load((ROOT / "data" / "rules.yml").read_text())["rules"]:
        intent, action = block["steps"][0].get("intent"), block["steps"][1].get("action")
        yield intent, action


@pytest.mark.unit
def test_every_button_payload_names_a_real_intent():
    payloads = [button["payload"] for intents in
                ([t.intent for t in KNOWLEDGE.related(topic)] for topic in KNOWLEDGE.topics)
                for button in KNOWLEDGE.buttons(intents)]
    payloads += [button["payload"] for button in KNOWLEDGE.buttons(list(KNOWLEDGE.titles))]
    code = (ROOT / "actions" / "actions.py").read_text()
    payloads += re.findall(r'"payload": "(/[a-z_]+)"', code)
    for variants in DOMAIN["responses"].values():
        payloads += [button["payload"] for variant in variants
                     for button in variant.get("buttons", [])]
    assert payloads
    for payload in payloads:
        assert payload.lstrip("/") in INTENTS, payload


@pytest.mark.unit
@pytest.mark.parametrize("heldout", [HELDOUT, HELDOUT_ES], ids=["english", "spanish"])
def test_the_heldout_set_covers_every_topic_and_was_never_trained_on(heldout):
    for intent in KNOWLEDGE.by_intent:
        assert len(heldout.get(intent, [])) >= MIN_HELDOUT_PER_TOPIC, intent
    assert set(heldout) <= INTENTS
    trained = {normalise(text) for texts in TRAINING.values() for text in texts}
    overlap = [text for texts in heldout.values() for text in texts if normalise(text) in trained]
    assert overlap == []


@pytest.mark.e2e
def test_rasa_validates_the_data():
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate"],
                            cwd=ROOT, capture_output=True, text=True,
                            env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.unit
def test_the_booking_form_asks_exactly_its_slots_in_order():
    assert DOMAIN["forms"]["booking_form"]["required_slots"] == [
        "treatment_area", "consent", "name", "contact", "preferred_time", "confirmed"]
    for slot in DOMAIN["forms"]["booking_form"]["required_slots"]:
        assert f"utter_ask_{slot}" in RESPONSES, slot
