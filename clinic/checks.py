"""`clinic check`: everything that can be checked without training.

Two kinds of findings:
- problems: the assistant would be broken or unmeasurable (Rasa rejects the
  data, a topic without its intent, rule or examples, a button title or an
  answer too long for a channel). `clinic train` refuses to train with any.
- to review: a topic whose review date has passed, examples of two intents
  that look alike. Training goes ahead; a person should look at them.
`clinic check` lists both and exits 1 when it found either.

Length limits, from Meta's WhatsApp Cloud API reference: a text message body
holds 4096 characters, the body of an interactive (reply-button) message
1024. An answer sent with buttons (the related topics) is an interactive
body, so 1024 applies to it; an answer sent alone (a `consult` topic's
answer, followed by the consultation offer with its buttons) is a text
body: 4096. Button titles: 20 characters (WhatsApp reply buttons and
Messenger quick replies).
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

from clinic import similarity
from clinic.faq import MIN_FAQ_EXAMPLES, MIN_HELDOUT_PER_TOPIC, overdue
from clinic.project import Project, examples_by_intent, examples_in, normalise, read_yaml
from core.intents import ATTACHMENT_INTENT, OTHER_LANGUAGE_INTENT, URGENT_INTENTS
from core.knowledge import TITLE_MAX, KnowledgeError, load_knowledge
from core.language import SPANISH

TEXT_LIMIT = 4096         # WhatsApp text message body
INTERACTIVE_LIMIT = 1024  # WhatsApp interactive message body (an answer with buttons)
# Intents no visitor's words are trained on: set by the red-flag gate, or
# sent by the platform connectors for a photo or file.
UNTRAINED_INTENTS = {*URGENT_INTENTS, ATTACHMENT_INTENT, OTHER_LANGUAGE_INTENT}
VALIDATE_TIMEOUT_S = 300


@dataclass
class Findings:
    problems: List[str] = field(default_factory=list)
    review: List[str] = field(default_factory=list)

    def text(self) -> str:
        lines = []
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s) to fix before training:")
            lines += [f"  - {problem}" for problem in self.problems]
        if self.review:
            lines.append(f"{len(self.review)} thing(s) to review:")
            lines += [f"  - {item}" for item in self.review]
        return "\n".join(lines) or "All checks passed."


def rasa_validate(project: Project) -> List[str]:
    rasa = Path(sys.executable).parent / "rasa"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        result = subprocess.run([str(rasa), "data", "validate", "--quiet"], cwd=project.root,
                                env=env, capture_output=True, text=True,
                                timeout=VALIDATE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        return [f"rasa data validate could not run ({type(error).__name__}); "
                "is the environment installed (make .venv/.installed)?"]
    if result.returncode == 0:
        return []
    output = (result.stdout + result.stderr).splitlines()
    reasons = [line.strip() for line in output if "error" in line.lower()
               or "UserWarning" in line][-8:] or output[-8:]
    return ["rasa data validate failed: " + " | ".join(reasons)]


def knowledge_contract(project: Project) -> Findings:
    findings = Findings()
    try:
        load_knowledge.cache_clear()
        loaded = load_knowledge(project.knowledge_dir)
    except KnowledgeError as error:
        findings.problems.append(f"{error}")
        return findings
    domain = read_yaml(project.domain)
    intents = {str(intent) for intent in domain["intents"]}
    faq_intents = {intent for intent in intents if intent.startswith("faq_")}
    for intent in sorted(faq_intents - set(loaded.by_intent)):
        findings.problems.append(f"{intent} is in domain.yml but no topic of "
                                 "knowledge/microneedling.yml answers it; add the topic "
                                 "(clinic faq add) or remove the intent.")
    for intent in sorted(set(loaded.by_intent) - faq_intents):
        findings.problems.append(f"topic '{loaded.by_intent[intent].id}' names intent {intent}, "
                                 "which domain.yml does not list; add it under intents:.")
    training = examples_by_intent(project.nlu)
    heldout = examples_by_intent(project.heldout) if project.heldout.is_file() else {}
    for intent in sorted(intents - UNTRAINED_INTENTS - set(training)):
        findings.problems.append(f"{intent} has no example questions in data/nlu.yml: "
                                 f"clinic examples add {intent} \"...\"")
    for path in (project.nlu, project.nlu_of(SPANISH)):
        examples = examples_by_intent(path) if path.is_file() else {}
        for intent in sorted(set(examples) - intents):
            findings.problems.append(f"{project.relative(path)} has examples of {intent}, which "
                                     "domain.yml does not list.")
    for topic in loaded.topics:
        count = len(training.get(topic.intent, []))
        if 0 < count < MIN_FAQ_EXAMPLES:
            findings.problems.append(
                f"{topic.intent} has {count} example questions; it needs at least "
                f"{MIN_FAQ_EXAMPLES}: clinic examples add {topic.intent} \"...\"")
        tests = len(heldout.get(topic.intent, []))
        if tests < MIN_HELDOUT_PER_TOPIC:
            findings.problems.append(
                f"{topic.intent} has {tests} test questions in tests/nlu_heldout.yml; it needs "
                f"at least {MIN_HELDOUT_PER_TOPIC}: clinic examples add --test {topic.intent} "
                "\"...\"")
        if overdue(topic):
            findings.review.append(f"topic '{topic.id}' was due for review on {topic.review_by}: "
                                   "check its answer, then move review_by in "
                                   "knowledge/microneedling.yml.")
        if topic.es is None:
            findings.review.append(f"topic '{topic.id}' has no Spanish wording: visitors who "
                                   "write in Spanish get its English answer. Add its es: block "
                                   "in knowledge/microneedling.yml.")
        elif not topic.es.reviewed:
            findings.review.append(f"topic '{topic.id}': its Spanish wording is not reviewed: "
                                   "check that its es: block in knowledge/microneedling.yml "
                                   "says what the English answer says, then set reviewed: true.")
        with_buttons = topic.safety == "answer" and bool(topic.related)
        limit = INTERACTIVE_LIMIT if with_buttons else TEXT_LIMIT
        for part, text in (("answer", loaded.answer(topic)), ("more", loaded.more(topic)),
                           ("Spanish answer", topic.es and loaded.answer(topic, "es")),
                           ("Spanish more", topic.es and loaded.more(topic, "es"))):
            if text and len(text) > limit:
                findings.problems.append(
                    f"the {part} of topic '{topic.id}' has {len(text)} characters; WhatsApp "
                    f"takes {limit} in {'a message with buttons' if with_buttons else 'a text message'}. "
                    "Shorten it.")
    ruled = {str(step["intent"]) for rule in read_yaml(project.rules)["rules"]
             for step in rule["steps"] if "intent" in step}
    for intent in sorted(intents - ruled):
        findings.problems.append(f"{intent} has no rule in data/rules.yml, so the assistant "
                                 "would not know what to do with it.")
    domain_actions = {str(name) for key in ("responses", "actions", "forms")
                      for name in (domain.get(key) or [])}
    stories = project.root / "data" / "stories.yml"
    blocks = list(read_yaml(project.rules)["rules"])
    blocks += list(read_yaml(stories).get("stories") or []) if stories.is_file() else []
    for block in blocks:
        for step in block.get("steps") or []:
            action = step.get("action")
            if action and action not in domain_actions | {"action_listen",
                                                          "action_deactivate_loop"}:
                findings.problems.append(f"'{block.get('rule') or block.get('story')}' uses "
                                         f"action {action}, which domain.yml does not define.")
    trained = {normalise(text): intent for intent, texts in training.items() for text in texts}
    for intent, texts in heldout.items():
        for text in texts:
            if normalise(text) in trained:
                findings.problems.append(f"test question '{text}' ({intent}) is also a training "
                                         "example; remove it from one of the two files.")
    owner = {}
    for intent, texts in training.items():
        for text in texts:
            first = owner.setdefault(normalise(text), intent)
            if first != intent:
                findings.problems.append(f"'{text}' is an example of both {first} and {intent}; "
                                         "keep it in one.")
    return findings


def button_titles(project: Project) -> List[str]:
    domain = read_yaml(project.domain)
    too_long = []
    for name, variants in (domain.get("responses") or {}).items():
        for variant in variants:
            for button in variant.get("buttons") or []:
                if len(str(button.get("title", ""))) > TITLE_MAX:
                    too_long.append(f"button '{button['title']}' of {name} in domain.yml has "
                                    f"{len(button['title'])} characters; at most {TITLE_MAX}.")
    return too_long


def lookalikes(project: Project) -> List[str]:
    training = examples_in([project.nlu, project.nlu_of(SPANISH)])
    examples = [(text, intent) for intent, texts in training.items() for text in texts]
    return [f"'{a}' ({a_intent}) and '{b}' ({b_intent}) look alike ({score:.2f}); the assistant "
            "may confuse them: reword or remove one."
            for score, (a, a_intent), (b, b_intent) in similarity.cross_intent_pairs(examples)]


def check(project: Project, validate: bool = True) -> Findings:
    findings = knowledge_contract(project)
    findings.problems += button_titles(project)
    if validate:
        findings.problems += rasa_validate(project)
    findings.review += lookalikes(project)
    return findings
