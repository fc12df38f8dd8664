"""The blind evaluation: the assistant, over its REST channel, on messages and
conversations written apart from the training data (tests/blind/, format in
tests/blind/FORMAT.md).

Each reply is read back into outcome labels (a topic id, `urgent`,
`ask:consent`, ...) by matching it against the knowledge file's answers and
domain.yml's responses, so what is scored is what the visitor sees.

    python -m clinic.blind [--set tests/blind/a] [--url http://127.0.0.1:5005] [--json F]

Without --url it starts the action server and Rasa server on the trained
model, with their databases in a temporary folder.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import requests
import yaml

from core.knowledge import load_knowledge

ROOT = Path(__file__).resolve().parent.parent
BLIND = ROOT / "tests" / "blind"
MODEL = ROOT / "models" / "assistant.tar.gz"
TOPIC_IDS = [topic.id for topic in load_knowledge().topics]

# What each response of domain.yml tells the visitor, as an outcome label.
# Responses left out (the disclosure, "Shall we continue...") carry none.
RESPONSE_LABELS = {
    "utter_disclosure": "disclosure", "utter_urgent_emergency": "urgent", "utter_urgent_clinic": "urgent",
    "utter_urgent_emergency_es": "urgent", "utter_urgent_clinic_es": "urgent",
    "utter_greet": "greet", "utter_goodbye": "goodbye", "utter_thanks": "thanks",
    "utter_bot_challenge": "bot_challenge", "utter_clinic_contact": "contact",
    "utter_clinic_location": "location", "utter_clinic_hours": "hours",
    "utter_clinic_hours_unpublished": "hours",
    "utter_ask_treatment_area": "ask:treatment_area", "utter_ask_consent": "ask:consent",
    "utter_ask_name": "ask:name", "utter_ask_contact": "ask:contact",
    "utter_ask_preferred_time": "ask:preferred_time", "utter_ask_confirmed": "ask:confirm",
    "utter_booking_saved": "saved", "utter_callback_saved": "saved",
    "utter_request_saved": "saved",
    "utter_booking_stopped": "stopped", "utter_booking_no_consent": "stopped",
    "utter_handoff_open": "human", "utter_handoff_closed": "human",
    "utter_confirm_delete": "delete_data", "utter_out_of_scope": "out_of_scope",
    "utter_did_you_mean": "not_understood", "utter_cannot_help": "not_understood",
    "utter_still_not_understood": "not_understood", "utter_help": "not_understood",
    "utter_not_understood_es": "not_understood",
    "utter_personal_medical": "personal_medical", "utter_other_language": "other_language",
    "utter_speaks_spanish": "other_language",
    "utter_offer_consultation": "offer", "utter_offer_again": "offer", "utter_affirm": "affirm",
    "utter_acknowledge": "affirm", "utter_deny": "deny", "utter_stop": "stop",
    "utter_which_change": "ask:which_change", "utter_consent_explained": "privacy",
    "utter_too_many_bad_answers": "invalid", "utter_cannot_view_attachments": "attachment",
}
FORM_STEP = re.compile(r"^(ask:|invalid)")  # a form asking, or refusing an answer
# Read in either language: the English variation of the first says it in
# Spanish too; the second is only ever said in Spanish.
BILINGUAL = {"utter_other_language", "utter_speaks_spanish"}
TALK = {"offer", "resume", "privacy"}  # said around an answer, not an answer of its own


def _pattern(template: str) -> re.Pattern:
    """A response text with its {placeholders} as wildcards."""
    parts = re.split(r"\{[a-z_]+\}", " ".join(template.split()))
    return re.compile(".*?".join(re.escape(part) for part in parts), re.DOTALL)


def _language_of(name: str, variant: Dict) -> str:
    """"es" for a response's Spanish variation (a condition on the slot
    `language`, or a name ending in `_es`), else "en"."""
    spanish = name.endswith("_es") or any(
        condition.get("name") == "language" and condition.get("value") == "es"
        for condition in variant.get("condition") or [])
    return "es" if spanish else "en"


class Reader:
    """Reads the assistant's replies in `language` back into outcome labels:
    a reply in the other language reads as "other", never as an answer."""

    def __init__(self, language: str = "en", domain: Path = ROOT / "domain.yml") -> None:
        knowledge = load_knowledge()
        responses = yaml.safe_load(domain.read_text(encoding="utf-8"))["responses"]
        self.patterns = []
        for topic in knowledge.topics:
            if language == "es" and topic.es is None:
                continue  # not written in Spanish: its English answer is no Spanish answer
            for text in (knowledge.answer(topic, language), knowledge.more(topic, language)):
                if text:
                    self.patterns.append((re.compile(re.escape(" ".join(text.split()))), topic.id))
        for name, variants in responses.items():
            label = RESPONSE_LABELS.get(name)
            if label is None and name.startswith("utter_invalid_"):
                label = "invalid"
            if label is None and name == "utter_booking_resume":
                label = "resume"
            for variant in variants:
                if label and variant.get("text") and (
                        _language_of(name, variant) == language or name in BILINGUAL):
                    self.patterns.append((_pattern(variant["text"]), label))
        self.titles = {(topic.es.title if language == "es" and topic.es else topic.title): topic.id
                       for topic in knowledge.topics}

    def label(self, text: str) -> str:
        text = " ".join(text.split())
        for pattern, label in self.patterns:
            if pattern.fullmatch(text):
                return label
        return "other"

    def labels(self, replies: List[Dict]) -> List[str]:
        """The outcome of each reply, the disclosure left out."""
        labels = [self.label(reply.get("text") or "") for reply in replies]
        return [label for label in labels if label != "disclosure"]

    def offered(self, replies: List[Dict]) -> List[str]:
        """The topics offered as buttons."""
        return [self.titles[button["title"]] for reply in replies
                for button in reply.get("buttons") or [] if button.get("title") in self.titles]


def answers(labels: Sequence[str]) -> List[str]:
    """The labels that are answers: no talk around them, each once, and the
    contraindications answer that a personal medical reply carries folded in."""
    kept: List[str] = []
    for label in labels:
        if label in TALK or label == "other" or (kept and kept[-1] == label):
            continue
        if label == "contraindications" and kept and kept[-1] == "personal_medical":
            continue
        kept.append(label)
    return kept


STARTS = {"booking": "ask:treatment_area", "callback": "ask:consent"}  # a form's first step


def matches(expected: str, actual: str) -> bool:
    options = [STARTS.get(option, option) for option in expected.split("|")]
    if actual in options or "any" in options:
        return True
    if actual == "out_of_scope" and "not_understood" in options:
        return True  # gibberish read as out of scope is also a clear "I can't help"
    return False


def turn_right(expected: Sequence[str], labels: Sequence[str], in_form: bool = False) -> bool:
    """Every expected outcome, in order, and nothing else; a form asking again
    after refusing an answer ("invalid") counts as asking. "any" is anything
    but a form step not asked for (`in_form`: a form the visitor asked for
    is open, so its step is no such step)."""
    got = [label for label in answers(labels) if label != "invalid"]
    if list(expected) == ["any"]:
        return in_form or not held(expected, labels)
    if "personal_medical" in expected:  # the contraindications answer and the offer are it;
        asking = any(item.startswith("ask:") for item in expected)  # a form offers nothing
        got = ["personal_medical" if label == "contraindications" and ("offer" in labels or asking)
               else label for label in got]
    return len(got) == len(expected) and all(map(matches, expected, got))


def held(expected: Sequence[str], labels: Sequence[str]) -> bool:
    """A form step the visitor did not ask for."""
    asked_for = any(item.startswith("ask:") or item in ("saved", "stopped", *STARTS)
                    for item in expected)
    return not asked_for and any(FORM_STEP.match(label) or label == "resume"
                                 for label in labels)


@dataclass
class Result:
    text: str
    expected: List[str]
    labels: List[str]
    offered: List[str] = field(default_factory=list)
    style: str = ""
    spanish: List[str] = field(default_factory=list)  # the replies read as Spanish
    english: List[str] = field(default_factory=list)  # ... as English (a Spanish set's)
    in_form: bool = False  # the turn before expected a form's step

    @property
    def right(self) -> bool:
        return turn_right(self.expected, self.labels, self.in_form) or self.answered_in_spanish

    @property
    def held(self) -> bool:
        return not self.in_form and held(self.expected, self.labels)

    @property
    def urgent(self) -> bool:
        """The urgent reply, in either language."""
        return "urgent" in self.labels or "urgent" in self.spanish

    @property
    def answered_in_spanish(self) -> bool:
        """The English sets were written before the assistant spoke Spanish:
        their Spanish messages expect `other_language` (a Spanish answer, not
        a "Did you mean", is as clear a reply) or `urgent` (the Spanish
        urgent reply is the one they need)."""
        got = answers(self.spanish)
        if self.expected == ["urgent"]:
            return got == ["urgent"]
        return (len(self.expected) == 1 and "other_language" in self.expected[0].split("|")
                and bool(got) and "not_understood" not in got)  # "hola": greet|other_language

    @property
    def asked(self) -> bool:
        return answers(self.labels)[:1] == ["not_understood"]

    @property
    def topical(self) -> bool:
        return all(option in TOPIC_IDS for label in self.expected for option in label.split("|"))


@dataclass
class Conversation:
    id: str
    turns: List[Result]

    @property
    def right(self) -> bool:
        return all(turn.right for turn in self.turns)

    @property
    def held_turns(self) -> int:
        return sum(turn.held for turn in self.turns)


def expectation(value) -> List[str]:
    return [str(item) for item in (value if isinstance(value, list) else [value])]


class Client:
    def __init__(self, url: str) -> None:
        self.webhook = f"{url.rstrip('/')}/webhooks/rest/webhook"
        self.session = requests.Session()

    def say(self, text: str, sender: str) -> List[Dict]:
        response = self.session.post(self.webhook, json={"sender": sender, "message": text},
                                     timeout=60)
        response.raise_for_status()
        return response.json()


def run_messages(url: str, messages: List[Dict], reader: Reader,
                 spanish: Optional[Reader] = None,
                 english: Optional[Reader] = None) -> List[Result]:
    """Each message in a conversation of its own; with `spanish`, its replies
    are also read as Spanish (an English set's Spanish messages), with
    `english` as English (a Spanish set's)."""
    def one(message: Dict) -> Result:
        replies = Client(url).say(message["text"], f"blind-{uuid.uuid4().hex[:12]}")
        return Result(message["text"], expectation(message["expect"]), reader.labels(replies),
                      reader.offered(replies), message.get("style", ""),
                      spanish.labels(replies) if spanish else [],
                      english.labels(replies) if english else [])

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, messages))


def run_conversation(url: str, conversation: Dict, readers: Dict[str, Reader],
                     language: str) -> Conversation:
    """The turns in order; a turn with `lang` switches the language replies
    are expected in, from that turn on."""
    client, sender = Client(url), f"blind-{uuid.uuid4().hex[:12]}"
    turns: List[Result] = []
    for turn in conversation["turns"]:
        language = turn.get("lang", language)
        reader = readers[language]
        replies = client.say(turn["user"], sender)
        in_form = bool(turns) and any(FORM_STEP.match(option) for label in turns[-1].expected
                                      for option in label.split("|"))
        turns.append(Result(turn["user"], expectation(turn["expect"]), reader.labels(replies),
                            reader.offered(replies),
                            spanish=readers["es"].labels(replies)
                            if language == "en" and "es" in readers else [], in_form=in_form))
    return Conversation(conversation["id"], turns)


def run_conversations(url: str, conversations: List[Dict], readers: Dict[str, Reader],
                      language: str) -> List[Conversation]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda c: run_conversation(url, c, readers, language),
                             conversations))


def load_set(folder: Path) -> tuple:
    messages, conversations = [], []
    for path in sorted(folder.glob("messages*.yml")):
        messages += yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    path = folder / "conversations.yml"
    if path.exists():
        conversations = yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]
    return messages, conversations


def share(part: int, whole: int) -> str:
    return f"{part / whole:6.1%}  ({part}/{whole})" if whole else "     -"


# What a wrong answer to a topic question was: the share of each tells what
# to work on (another topic: the classifier; the right one and another: the
# parts of a message; the right topic in the other language: telling the
# language of a message with no word of either, "alopecia?").
WRONG_KINDS = ("another topic", "the right one and another",
               "the right topic in the other language", "the urgent reply",
               "an answer it cannot read")


def wrong_kind(result: Result) -> str:
    if result.urgent:
        return "the urgent reply"
    got = [label for label in answers(result.labels) if label != "not_understood"]
    if any(matches(result.expected[0], label) for label in got):
        return "the right one and another"
    if got:
        return "another topic"
    if any(matches(result.expected[0], label)
           for label in answers(result.spanish or result.english)):
        return "the right topic in the other language"
    return "an answer it cannot read"


def figures(results: List[Result], conversations: List[Conversation]) -> Dict[str, object]:
    topical = [r for r in results if r.topical]
    single = [r for r in topical if len(r.expected) == 1]
    compound = [r for r in topical if len(r.expected) > 1]
    asked = [r for r in single if r.asked]
    wrong = [r for r in single if not r.right and not r.asked]

    def by(*labels: str) -> List[Result]:
        return [r for r in results if r.expected[0] in labels and len(r.expected) == 1]

    urgent = by("urgent")
    alarms = [r for r in results if "urgent" not in r.expected and r.urgent]
    turns = [turn for conversation in conversations for turn in conversation.turns]

    def rate(items: List[Result]) -> tuple:
        return sum(r.right for r in items), len(items)

    kinds = [wrong_kind(r) for r in wrong]

    return {
        "topic questions, answered right": rate(single),
        "topic questions, answered wrong": (len(wrong), len(single)),
        **{f"  of which {kind}": (kinds.count(kind), len(wrong)) for kind in WRONG_KINDS},
        "topic questions, did you mean": (len(asked), len(single)),
        "  of which offer the right topic": (
            sum(any(matches(r.expected[0], label) for label in r.offered) for r in asked),
            len(asked)),
        "compound questions, every answer": rate(compound),
        "clinic (contact, place, hours, booking, person)": rate(
            by("contact", "location", "hours", "booking", "callback", "human", "delete_data")),
        "small talk": rate(by("greet", "thanks", "goodbye", "bot_challenge")),
        "urgent, recall": (sum(r.urgent for r in urgent), len(urgent)),
        "urgent, false alarms": (len(alarms), len(results) - len(urgent)),
        "personal medical, consultation answer": rate(by("personal_medical")),
        "out of scope, recognised": rate(by("out_of_scope")),
        "other languages, clear reply": rate(by("other_language")),
        "conversations, fully right": (sum(c.right for c in conversations), len(conversations)),
        "conversation turns, right": (sum(t.right for t in turns), len(turns)),
        "turns held in a form not asked for": (
            sum(c.held_turns for c in conversations), len(turns)),
    }


def report(name: str, numbers: Dict[str, tuple]) -> str:
    lines = [f"blind set {name}"]
    lines += [f"  {label:<50} {share(*value)}" for label, value in numbers.items()]
    return "\n".join(lines)


def failures(results: List[Result], conversations: List[Conversation]) -> str:
    lines = ["messages:"]
    lines += [f"  {r.expected} -> {answers(r.labels)}  {r.text!r}" for r in results if not r.right]
    lines.append("conversations:")
    for conversation in conversations:
        if not conversation.right:
            lines.append(f"  {conversation.id}")
            lines += [f"    {'  ' if t.right else '!!'} {t.expected} -> {answers(t.labels)}"
                      f"  {t.text!r}" for t in conversation.turns]
    return "\n".join(lines)


@contextlib.contextmanager
def embedded_assistant(model: Path = MODEL) -> Iterator[str]:
    """The action server and Rasa server on free loopback ports, with their
    databases in a temporary folder: the Rasa server's URL."""
    from cluster.launch import BIN, Process, free_port

    with tempfile.TemporaryDirectory(prefix="clinic-eval-") as temporary:
        folder = Path(temporary)
        actions_port, rasa_port = free_port(), free_port()
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
        endpoints["tracker_store"]["db"] = str(folder / "trackers.db")
        (folder / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false",
               "ACTION_SERVER_SECRET": uuid.uuid4().hex, "SANIC_HOST": "127.0.0.1",
               "DATABASE_URL": f"sqlite:///{folder / 'clinic.db'}"}
        servers = [
            Process("actions", [str(BIN / "rasa"), "run", "actions", "--port", str(actions_port),
                                "--actions", "actions"],
                    f"http://127.0.0.1:{actions_port}/health", folder, env),
            Process("rasa", [str(BIN / "python"), "-m", "rasa_patches", "run", "--model",
                             str(model), "--interface", "127.0.0.1", "--port", str(rasa_port),
                             "--endpoints", str(folder / "endpoints.yml"), "--credentials",
                             str(ROOT / "credentials.yml")],
                    f"http://127.0.0.1:{rasa_port}/", folder, env),
        ]
        try:
            for server in servers:
                server.start()
            for server in servers:
                server.wait()
            url = f"http://127.0.0.1:{rasa_port}"
            if not Client(url).say("hello", "blind-probe"):  # up, but no model loaded
                raise RuntimeError(f"the Rasa server answers nothing:\n"
                                   f"{(folder / 'rasa.log').read_text()[-3000:]}")
            yield url
        finally:
            for server in servers:
                server.stop()


def language_of_set(folder: Path) -> str:
    """A Spanish set's folder is named `es-...` (tests/blind/FORMAT.md)."""
    return "es" if folder.name.startswith("es-") else "en"


def evaluate(url: str, folder: Path) -> tuple:
    readers = {language: Reader(language) for language in ("en", "es")}
    language = language_of_set(folder)
    messages, conversations = load_set(folder)
    return (run_messages(url, messages, readers[language],
                         readers["es"] if language == "en" else None,
                         readers["en"] if language == "es" else None),
            run_conversations(url, conversations, readers, language))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, action="append",
                        help="a folder of tests/blind/ (default: every one)")
    parser.add_argument("--url", help="a running Rasa server (default: start one)")
    parser.add_argument("--failures", action="store_true", help="list what went wrong")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    folders = args.set or sorted(path for path in BLIND.iterdir() if path.is_dir())
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(embedded_assistant())
        summary = {}
        for folder in folders:
            results, conversations = evaluate(url, folder)
            numbers = figures(results, conversations)
            summary[folder.name] = {label: list(value) for label, value in numbers.items()}
            print(report(folder.name, numbers))
            if args.failures:
                print(failures(results, conversations))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
