"""FAQ topics and their training examples: list, show, add a topic, add examples.

A topic lives in four files that must agree (tests/test_data.py checks it):
knowledge/microneedling.yml (the answer), data/nlu.yml (example questions),
domain.yml (the intent) and data/rules.yml (intent -> action_answer_faq).
`add_topic` changes all four together or none. Its Spanish wording is the
topic's `es:` block, its Spanish examples are in data/nlu.es.yml:
`add_spanish` writes both for a topic that has none yet (`--lang es`).
"""
from __future__ import annotations

import datetime
import difflib
from dataclasses import dataclass
from typing import Dict, List, Optional

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString

from clinic import similarity
from clinic.project import (LANGUAGES, Misuse, Problem, Project, add_examples, clean_example,
                            dump_yaml, examples_by_intent, examples_in, normalise, read_yaml,
                            write_files)
from core.knowledge import KnowledgeError, Spanish, Topic, load_knowledge
from core.language import ENGLISH, SPANISH, tells

# The project's own minimums (tests/test_data.py): examples to train a topic
# on, and held-out test questions to measure it with.
MIN_FAQ_EXAMPLES = 25
MIN_HELDOUT_PER_TOPIC = 8
FAQ_ACTION = "action_answer_faq"


def knowledge(project: Project):
    try:
        return load_knowledge(project.knowledge_dir)
    except KnowledgeError as error:
        raise Problem(f"{error}. Fix that field in the file, then run the command again.") \
            from None


def find_topic(project: Project, name: str) -> Topic:
    loaded = knowledge(project)
    topic = loaded.by_id.get(name) or loaded.by_intent.get(name)
    if topic is None:
        raise Misuse(f"there is no topic '{name}'. See the topics with: clinic faq list")
    return topic


def overdue(topic: Topic, today: Optional[datetime.date] = None) -> bool:
    return topic.review_by is not None and topic.review_by < (today or datetime.date.today())


def table(header: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths))
                     .rstrip() for line in [header, *rows])


def spanish_state(topic: Topic) -> str:
    if topic.es is None:
        return "none"
    return "reviewed" if topic.es.reviewed else "to review"


def list_topics(project: Project) -> str:
    loaded = knowledge(project)
    examples = examples_by_intent(project.nlu)
    spanish = examples_in([project.nlu_of(SPANISH)])
    rows = [[topic.id, topic.intent, str(len(examples.get(topic.intent, []))), topic.safety,
             f"{topic.review_by or 'none'}{'  OVERDUE' if overdue(topic) else ''}",
             f"{spanish_state(topic)}, {len(spanish.get(topic.intent, []))} examples"]
            for topic in loaded.topics]
    return (table(["topic", "intent", "examples", "safety", "review by", "spanish"], rows)
            + f"\n{len(rows)} topics. Details of one: clinic faq show TOPIC [--lang es]")



def show_topic(project: Project, name: str, language: str = ENGLISH) -> str:
    loaded = knowledge(project)
    topic = find_topic(project, name)
    examples = examples_in([project.nlu_of(language)]).get(topic.intent, [])
    heldout = examples_in([project.heldout_of(language)]).get(topic.intent, [])
    late = "  (OVERDUE: check the answer)" if overdue(topic) else ""
    review = f"{topic.review_by or 'none'}{late}"
    lines = [f"topic      {topic.id}", f"intent     {topic.intent}"]
    if language == SPANISH and topic.es is None:
        lines += ["", "No Spanish wording yet: visitors writing in Spanish get the English "
                  "answer. Add it with: clinic faq add --lang es --id "
                  f"{topic.id} --title \"...\" --answer \"...\""]
    elif language == SPANISH:
        reviewed = "yes" if topic.es.reviewed else \
            "no: check it says what the English answer says, then set reviewed: true"
        lines += [f"title      {topic.es.title}", f"reviewed   {reviewed}"]
    else:
        lines += [f"title      {topic.title}"]
    lines += [f"safety     {topic.safety}", f"review by  {review}",
              f"sources    {', '.join(topic.sources)}",
              f"related    {', '.join(topic.related) or 'none'}",
              f"examples   {len(examples)} for training, {len(heldout)} held out for testing"]
    if language == ENGLISH or topic.es is not None:
        lines += ["", "answer:", loaded.answer(topic, language)]
        if loaded.more(topic, language):
            lines += ["", "tell me more:", loaded.more(topic, language)]
    lines += ["", "first examples:"]
    lines += [f"  - {text}" for text in examples[:5]] or ["  none yet"]
    return "\n".join(lines)


# ---- examples ---------------------------------------------------------------

@dataclass
class Checked:
    added: List[str]
    refused: List[str]   # messages
    warnings: List[str]  # messages


def check_new_examples(existing: Dict[str, List[str]], intent: str, texts: List[str],
                       ) -> Checked:
    """Which texts can be added to the intent: exact duplicates (after case,
    punctuation and spacing) are refused; a look-alike of another intent's
    example is added with a warning naming that intent."""
    owner = {normalise(text): name for name, known in existing.items() for text in known}
    result = Checked([], [], [])
    for raw in texts:
        text = clean_example(raw)
        key = normalise(text)
        if key in owner:
            where = "already" if owner[key] == intent else f"already an example of {owner[key]}"
            result.refused.append(f"refused '{text}': it is {where}"
                                  + ("." if owner[key] == intent else
                                     "; one question cannot train two intents."))
            continue
        owner[key] = intent
        result.added.append(text)
    others = [(text, name) for name, known in existing.items() if name != intent
              for text in known]
    for text, (index, score) in zip(result.added, similarity.most_similar(
            result.added, [other for other, _ in others])):
        if index >= 0 and score >= similarity.LOOKALIKE:
            other, name = others[index]
            result.warnings.append(
                f"warning: '{text}' looks like '{other}' of {name} ({score:.2f}). If both are "
                f"meant, fine; if not, reword it so the assistant can tell {intent} and {name} "
                "apart.")
    return result


def known_intents(project: Project) -> List[str]:
    return [str(intent) for intent in read_yaml(project.domain)["intents"]]


def add_intent_examples(project: Project, intent: str, texts: List[str],
                        test: bool = False, language: str = ENGLISH) -> Checked:
    """Add training examples to data/nlu.yml (data/nlu.es.yml in Spanish), or
    with `test` held-out test questions to tests/nlu_heldout.yml (.es.yml).
    Neither may repeat the other in any language: a test question the
    assistant was trained on measures nothing."""
    intents = known_intents(project)
    if intent not in intents:
        close = difflib.get_close_matches(intent, intents, n=2, cutoff=0.85)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise Misuse(f"there is no intent '{intent}'.{hint} The intents are listed by "
                     "clinic faq list (topics) and in domain.yml.")
    if intent.startswith("urgent_"):
        raise Misuse(f"{intent} is set by the urgent-symptom patterns of "
                     "knowledge/red_flags.yml, not learned from examples.")
    trained = [project.nlu_of(each) for each in LANGUAGES]
    tested = [project.heldout_of(each) for each in LANGUAGES]
    target = (project.heldout_of if test else project.nlu_of)(language)
    existing = examples_in(tested if test else trained)
    kept_apart = examples_in(trained if test else tested)
    apart = {normalise(text): name for name, known in kept_apart.items() for text in known}
    refused = []
    for text in list(texts):
        if normalise(text) in apart:
            kind = "training example" if test else "test question"
            refused.append(f"refused '{text}': it is a {kind} of {apart[normalise(text)]}; "
                           "a question is either trained on or kept for testing, never both.")
            texts = [t for t in texts if t != text]
    checked = check_new_examples(existing, intent, texts)
    checked.refused = refused + checked.refused
    checked.warnings += [
        f"warning: '{text}' reads as {LANGUAGES[other]}, and it was added to "
        f"{project.relative(target)}; if that was a mistake, move it to the "
        f"{LANGUAGES[other]} file (--lang {other})."
        for text in checked.added for other in [tells(text)] if other not in (None, language)]
    if checked.added:
        data = _nlu_data(target)
        add_examples(data, intent, checked.added)
        write_files({target: dump_yaml(data, target)})
    return checked


# ---- a new topic ------------------------------------------------------------

@dataclass
class NewTopic:
    id: str
    title: str
    answer: str
    safety: str
    sources: List[str]
    examples: List[str]
    heldout: List[str]
    related: List[str]
    review_by: Optional[datetime.date] = None

    @property
    def intent(self) -> str:
        return f"faq_{self.id}"


def _valid(model, raw: Dict, what: str):
    """`raw` as the pydantic `model`, or Misuse naming each bad option."""
    from pydantic import ValidationError

    try:
        return model.parse_obj(raw)
    except ValidationError as error:
        problems = "; ".join(f"--{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}"
                             for problem in error.errors())
        raise Misuse(f"{what} is not valid: {problems}.") from None


def _nlu_data(path):
    """An NLU file to add examples to: loaded, or a new one if it does not exist yet."""
    return read_yaml(path) if path.is_file() else CommentedMap(version="3.1", nlu=CommentedSeq())


def _validate(project: Project, new: NewTopic) -> Topic:
    loaded = knowledge(project)
    if new.id in loaded.by_id:
        raise Misuse(f"a topic '{new.id}' exists already. Add questions to it with: "
                     f"clinic examples add {loaded.by_id[new.id].intent} \"...\"")
    if new.intent in known_intents(project):
        raise Misuse(f"the intent {new.intent} exists already in domain.yml; choose another id.")
    unknown = [related for related in new.related if related not in loaded.by_id]
    if unknown:
        raise Misuse(f"--related names unknown topics {unknown}. See them with: clinic faq list")
    raw = {"id": new.id, "intent": new.intent, "title": new.title, "safety": new.safety,
           "answer": new.answer, "sources": new.sources, "related": new.related,
           "review_by": new.review_by}
    return _valid(Topic, raw, "the new topic")


def _knowledge_entry(topic: Topic) -> CommentedMap:
    entry = CommentedMap()
    entry["id"] = topic.id
    entry["intent"] = topic.intent
    entry["title"] = topic.title
    entry["safety"] = topic.safety
    entry["answer"] = _folded(topic.answer)
    if topic.more:
        entry["more"] = _folded(topic.more)
    sources = CommentedSeq(topic.sources)
    sources.fa.set_flow_style()
    entry["sources"] = sources
    related = CommentedSeq(topic.related)
    related.fa.set_flow_style()
    entry["related"] = related
    entry["review_by"] = topic.review_by
    return entry


def _folded(text: str, width: int = 76) -> FoldedScalarString:
    """A long answer as a folded block, lines at most `width` wide (as written by hand)."""
    text = " ".join(text.split())
    folded = FoldedScalarString(text)
    positions, line_start = [], 0
    for index, char in enumerate(text):
        if char == " ":
            next_space = text.find(" ", index + 1)
            end = len(text) if next_space < 0 else next_space
            if end - line_start > width:
                positions.append(index)
                line_start = index + 1
    folded.fold_pos = positions
    return folded


def _rule(intent: str) -> CommentedMap:
    rule = CommentedMap()
    rule["rule"] = f"answer {intent}"
    rule["steps"] = [CommentedMap(intent=intent), CommentedMap(action=FAQ_ACTION)]
    return rule


def _apart(examples: List[str], heldout: List[str], trained: Dict[str, List[str]],
           tested: Dict[str, List[str]]) -> None:
    """Refuses new examples and test questions that would share a question."""
    trained_keys = {normalise(text) for text in examples} | {
        normalise(text) for known in trained.values() for text in known}
    tested_keys = {normalise(text) for text in heldout} | {
        normalise(text) for known in tested.values() for text in known}
    both = [text for text in heldout if normalise(text) in trained_keys] + [
        text for text in examples if normalise(text) in tested_keys]
    if both:
        raise Misuse(f"a question is either trained on or kept for testing, never both: {both}")


def add_topic(project: Project, new: NewTopic) -> List[str]:
    """Write the topic to the four files; returns notes for the staff member."""
    new.examples = [clean_example(text) for text in new.examples]
    new.heldout = [clean_example(text) for text in new.heldout]
    if new.review_by is None:
        new.review_by = datetime.date.today() + datetime.timedelta(days=365)
    topic = _validate(project, new)
    if not new.examples:
        raise Misuse("give at least one example question (--example \"...\").")
    existing = examples_by_intent(project.nlu)
    checked = check_new_examples(existing, topic.intent, new.examples)
    if checked.refused:
        raise Misuse("; ".join(checked.refused))
    _apart(new.examples, new.heldout, existing, examples_in([project.heldout]))

    knowledge_data = read_yaml(project.knowledge_file)
    knowledge_data["topics"].append(_knowledge_entry(topic))
    last = len(knowledge_data["topics"]) - 1
    knowledge_data["topics"].yaml_set_comment_before_after_key(last, before="\n", indent=2)
    nlu = read_yaml(project.nlu)
    add_examples(nlu, topic.intent, checked.added)
    domain = read_yaml(project.domain)
    faq_positions = [i for i, intent in enumerate(domain["intents"])
                     if str(intent).startswith("faq_")]
    domain["intents"].insert((faq_positions[-1] + 1) if faq_positions else 0, topic.intent)
    rules = read_yaml(project.rules)
    faq_rules = [i for i, rule in enumerate(rules["rules"])
                 if rule["steps"][-1].get("action") == FAQ_ACTION]
    position = (faq_rules[-1] + 1) if faq_rules else len(rules["rules"])
    rules["rules"].insert(position, _rule(topic.intent))
    if position + 1 < len(rules["rules"]):  # the blank line that separates rules
        rules["rules"].yaml_set_comment_before_after_key(position + 1, before="\n", indent=0)
    contents = {path: dump_yaml(data, path) for path, data in [
        (project.knowledge_file, knowledge_data), (project.nlu, nlu), (project.domain, domain),
        (project.rules, rules)]}
    if new.heldout:
        heldout = read_yaml(project.heldout)
        add_examples(heldout, topic.intent, new.heldout)
        contents[project.heldout] = dump_yaml(heldout, project.heldout)
    write_files(contents)
    load_knowledge.cache_clear()
    knowledge(project)  # the written file loads and validates
    notes = [f"Added topic '{topic.id}' (intent {topic.intent}) to "
             f"{', '.join(project.relative(path) for path in contents)}."]
    notes += checked.warnings
    if len(checked.added) < MIN_FAQ_EXAMPLES:
        notes.append(f"It has {len(checked.added)} example questions; training needs at least "
                     f"{MIN_FAQ_EXAMPLES}. Add more with: clinic examples add {topic.intent} "
                     "\"...\" \"...\"")
    if len(new.heldout) < MIN_HELDOUT_PER_TOPIC:
        notes.append(f"It has {len(new.heldout)} test questions; at least "
                     f"{MIN_HELDOUT_PER_TOPIC} are needed to measure it. Add them with: "
                     f"clinic examples add --test {topic.intent} \"...\"")
    notes.append("Next: clinic check, then clinic train.")
    return notes


# ---- a topic's Spanish wording ----------------------------------------------

@dataclass
class SpanishWording:
    id: str
    title: str
    answer: str
    more: Optional[str]
    examples: List[str]
    heldout: List[str]


def add_spanish(project: Project, new: SpanishWording) -> List[str]:
    """Write the Spanish wording of a topic that has none yet (its `es:`
    block, marked reviewed: a staff member wrote it) and its Spanish examples
    and test questions, all together or none."""
    topic = find_topic(project, new.id)
    if topic.es is not None:
        raise Misuse(f"topic '{topic.id}' has Spanish wording already; change it in its es: "
                     "block of knowledge/microneedling.yml (see it with: clinic faq show "
                     f"{topic.id} --lang es).")
    wording = _valid(Spanish, {"title": new.title, "answer": new.answer,
                               "more": new.more or None, "reviewed": True}, "the Spanish wording")
    new.examples = [clean_example(text) for text in new.examples]
    new.heldout = [clean_example(text) for text in new.heldout]
    trained = examples_in([project.nlu_of(each) for each in LANGUAGES])
    tested = examples_in([project.heldout_of(each) for each in LANGUAGES])
    checked = check_new_examples(trained, topic.intent, new.examples)
    tests = check_new_examples(tested, topic.intent, new.heldout)
    if checked.refused or tests.refused:
        raise Misuse("; ".join(checked.refused + tests.refused))
    _apart(new.examples, new.heldout, trained, tested)

    knowledge_data = read_yaml(project.knowledge_file)
    entry = next(item for item in knowledge_data["topics"] if item["id"] == topic.id)
    block = CommentedMap()
    block["title"] = wording.title
    block["answer"] = _folded(wording.answer, width=72)
    if wording.more:
        block["more"] = _folded(wording.more, width=72)
    block["reviewed"] = True
    entry["es"] = block
    contents = {project.knowledge_file: dump_yaml(knowledge_data, project.knowledge_file)}
    for path, texts in ((project.nlu_of(SPANISH), checked.added),
                        (project.heldout_of(SPANISH), tests.added)):
        if texts:
            data = _nlu_data(path)
            add_examples(data, topic.intent, texts)
            contents[path] = dump_yaml(data, path)
    write_files(contents)
    load_knowledge.cache_clear()
    knowledge(project)  # the written file loads and validates
    notes = [f"Added the Spanish wording of '{topic.id}' to "
             f"{', '.join(project.relative(path) for path in contents)}."]
    notes += checked.warnings + tests.warnings
    notes.append("Next: clinic check, then clinic train.")
    return notes
