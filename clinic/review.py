"""`clinic review`: what visitors asked that the assistant did not understand
(or answered with low confidence, or found out of scope), grouped by
similarity, most frequent first. For each group staff give the intent it
should have had, mark it out of scope, or skip it; the answers become
training examples through `clinic examples add`'s own code.

Questions already in the training data are not shown again. Each language
is grouped on its own, English first, and a Spanish group's answers go to
data/nlu.es.yml.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from clinic import similarity
from clinic.conversations import OUT_OF_SCOPE, Message, all_messages
from clinic.faq import add_intent_examples, known_intents
from clinic.project import LANGUAGES, Misuse, Project, examples_in, normalise
from core.language import ENGLISH

# Variants of one question ("is it safe when breastfeeding" / "safe while breastfeeding?")
GROUP = 0.5


@dataclass
class Group:
    texts: List[str]                     # distinct variants, most frequent first
    count: int                           # messages in all
    guesses: Counter = field(default_factory=Counter)
    language: str = ENGLISH

    @property
    def text(self) -> str:
        return self.texts[0]


def groups(project: Project, days: Optional[int]) -> List[Group]:
    """The questions to review, grouped: English groups first, then Spanish,
    each most frequent first."""
    trained = {normalise(text) for texts in examples_in(
        [project.nlu_of(language) for language in LANGUAGES]).values() for text in texts}
    messages = [message for message in all_messages(project, days) if message.needs_review
                and normalise(message.text) and normalise(message.text) not in trained]
    return [group for language in LANGUAGES for group in _grouped(
        [message for message in messages if message.language == language], language)]


def _grouped(messages: List[Message], language: str) -> List[Group]:
    counts: Counter = Counter()
    shown: Dict[str, str] = {}
    guesses: Dict[str, Counter] = {}
    for message in messages:
        key = normalise(message.text)
        counts[key] += 1
        shown.setdefault(key, message.text)
        guesses.setdefault(key, Counter())[message.guess or message.intent] += 1
    keys = [key for key, _ in counts.most_common()]
    if not keys:
        return []
    scores = similarity.similarity_matrix(keys)
    taken = set()
    found = []
    for i, key in enumerate(keys):
        if i in taken:
            continue
        members = [j for j in range(len(keys))
                   if j not in taken and (j == i or scores[i, j] >= GROUP)]
        taken.update(members)
        group = Group([shown[keys[j]] for j in members], sum(counts[keys[j]] for j in members),
                      language=language)
        for j in members:
            group.guesses.update(guesses[keys[j]])
        found.append(group)
    return sorted(found, key=lambda group: -group.count)


def describe(number: int, group: Group) -> str:
    language = f"  [{LANGUAGES[group.language]}]" if group.language != ENGLISH else ""
    lines = [f"{number}. \"{group.text}\"  (asked {group.count} time(s)){language}"]
    lines += [f"     also: \"{text}\"" for text in group.texts[1:6]]
    if len(group.texts) > 6:
        lines.append(f"     and {len(group.texts) - 6} more")
    guess, _ = group.guesses.most_common(1)[0]
    if guess:
        lines.append(f"   the assistant's best guess was {guess}")
    return "\n".join(lines)


def apply(project: Project, decisions: Dict[int, str], found: List[Group]) -> List[str]:
    """Add each decided group's variants as examples of its intent."""
    notes = []
    for index, intent in decisions.items():
        checked = add_intent_examples(project, intent, found[index].texts,
                                      language=found[index].language)
        notes.append(f"{len(checked.added)} example(s) added to {intent}.")
        notes += checked.warnings + checked.refused
    return notes


def interactive(project: Project, found: List[Group], ask: Callable[[str], str]) -> Dict[int, str]:
    intents = set(known_intents(project))
    decisions: Dict[int, str] = {}
    print("For each question: type the intent it should have had (e.g. faq_pain),\n"
          "o for out of scope, Enter to skip, q to stop. Intents: clinic faq list.")
    for index, group in enumerate(found):
        print()
        print(describe(index + 1, group))
        while True:
            try:
                answer = ask("   intent, o, Enter or q: ").strip()
            except EOFError:
                return decisions
            if answer in ("q", "quit"):
                return decisions
            if answer == "":
                break
            if answer in ("o", "out of scope"):
                decisions[index] = OUT_OF_SCOPE
                break
            if answer in intents and not answer.startswith("urgent_"):
                decisions[index] = answer
                break
            print(f"   '{answer}' is not an intent. Try again (clinic faq list shows them).")
    return decisions


def from_options(found: List[Group], assign: List[str], out_of_scope: List[str]
                 ) -> Dict[int, str]:
    """--assign "TEXT=INTENT" and --out-of-scope TEXT: TEXT is any variant of a group."""
    wanted = []
    for item in assign:
        text, sep, intent = item.rpartition("=")
        if not sep or not text.strip() or not intent.strip():
            raise Misuse(f"--assign '{item}' should read \"the question=intent\".")
        wanted.append((text, intent.strip()))
    wanted += [(text, OUT_OF_SCOPE) for text in out_of_scope]
    decisions: Dict[int, str] = {}
    for text, intent in wanted:
        matches = [index for index, group in enumerate(found)
                   if normalise(text) in {normalise(variant) for variant in group.texts}]
        if not matches:
            raise Misuse(f"no question to review reads '{text}'. See them with: "
                         "clinic review --list")
        decisions[matches[0]] = intent
    return decisions
