"""The staff commands that keep the assistant current: faq, examples, check,
train, rollback, review, report. `clinic/cli.py` adds them to the `clinic`
command; each has an example in its --help.

Exit codes: 0 ok, 1 a problem found (the message says what to do),
2 misuse of the command.
"""
from __future__ import annotations

import argparse
import datetime
import sys
from typing import List

from clinic.project import Misuse, Project

FORMATTER = argparse.RawDescriptionHelpFormatter


def _project(args: argparse.Namespace) -> Project:
    return Project.locate(getattr(args, "project", None))


def _ask(question: str, required: bool = True) -> str:
    """One answer from the keyboard (or from piped input)."""
    while True:
        try:
            answer = input(f"{question}: ").strip()
        except EOFError:
            raise Misuse(f"no answer for '{question}'. Give it as an option instead "
                         "(see clinic faq add --help).") from None
        if answer or not required:
            return answer
        print("  This one is needed.")


def _ask_many(question: str) -> List[str]:
    print(f"{question} (one per line, an empty line to finish):")
    answers = []
    while True:
        try:
            line = input("  > ").strip()
        except EOFError:
            return answers
        if not line:
            return answers
        answers.append(line)


# ---- faq ----------------------------------------------------------------------

def faq_list(args: argparse.Namespace) -> int:
    from clinic import faq

    print(faq.list_topics(_project(args)))
    return 0


def faq_show(args: argparse.Namespace) -> int:
    from clinic import faq

    print(faq.show_topic(_project(args), args.topic))
    return 0


def faq_add(args: argparse.Namespace) -> int:
    from clinic import faq

    project = _project(args)
    topic_id = args.id or _ask("Topic id (lower case and underscores, e.g. sun_exposure)")
    title = args.title or _ask("Button title (20 characters at most)")
    answer = args.answer or _ask("The answer visitors get (one paragraph)")
    safety = args.safety or _ask("Safety class: answer, or consult (ends with a consultation "
                                 "offer)")
    sources = args.source or _ask("Source documents (file names, separated by spaces)").split()
    examples = args.example or _ask_many("Example questions visitors ask")
    heldout = args.test or ([] if args.id else _ask_many(
        "Test questions, kept apart from training to measure the topic"))
    review_by = None
    if args.review_by:
        try:
            review_by = datetime.date.fromisoformat(args.review_by)
        except ValueError:
            raise Misuse(f"--review-by '{args.review_by}' is not a date like 2027-06-30.") \
                from None
    notes = faq.add_topic(project, faq.NewTopic(
        id=topic_id, title=title, answer=answer, safety=safety, sources=sources,
        examples=examples, heldout=heldout, related=args.related or [], review_by=review_by))
    print("\n".join(notes))
    return 0


def examples_add(args: argparse.Namespace) -> int:
    from clinic import faq

    checked = faq.add_intent_examples(_project(args), args.intent, args.texts, test=args.test)
    where = "test questions to tests/nlu_heldout.yml" if args.test else "examples to data/nlu.yml"
    print(f"Added {len(checked.added)} {where} for {args.intent}.")
    for message in checked.warnings + checked.refused:
        print(message)
    return 1 if checked.refused else 0


def check(args: argparse.Namespace) -> int:
    from clinic import checks

    print("Checking the data (rasa data validate takes about half a minute)...", flush=True)
    findings = checks.check(_project(args))
    print(findings.text())
    return 1 if findings.problems or findings.review else 0


# ---- the parsers ---------------------------------------------------------------

def _command(commands, name: str, summary: str, example: str, func, description: str = ""):
    command = commands.add_parser(name, help=summary, description=description or summary,
                                  epilog=f"Example:\n  {example}", formatter_class=FORMATTER)
    if func is not None:
        command.set_defaults(func=func)
    return command


def add_commands(commands) -> None:
    faq = _command(commands, "faq", "the FAQ topics: list, show, add", "clinic faq list", None,
                   "The FAQ topics the assistant answers (knowledge/microneedling.yml).")
    topics = faq.add_subparsers(dest="action", required=True)
    _command(topics, "list", "every topic with its intent, example count, safety class and "
             "review date", "clinic faq list", faq_list)
    show = _command(topics, "show", "one topic in full: answer, sources, examples",
                    "clinic faq show pain", faq_show)
    show.add_argument("topic", metavar="TOPIC", help="the topic's id or intent")
    add = _command(
        topics, "add", "a new topic: answer, title, safety class, sources, examples",
        'clinic faq add --id sun_exposure --title "Sun after it?" --safety answer \\\n'
        '    --answer "Keep out of direct sun for a week..." --source 002_5be5231892821ceb.txt \\\n'
        '    --example "can I sunbathe after microneedling" --example "is sun ok after" \\\n'
        '    --test "when can I go in the sun again"',
        faq_add,
        "Add a topic to knowledge/microneedling.yml, its intent to domain.yml, its rule to\n"
        "data/rules.yml, its examples to data/nlu.yml and its test questions to\n"
        "tests/nlu_heldout.yml, all together. Options not given are asked for.\n"
        "Training needs 25 examples and 8 test questions per topic: add more later\n"
        "with clinic examples add.")
    add.add_argument("--id", help="lower case and underscores; the intent is faq_<id>")
    add.add_argument("--title", help="the button title, 20 characters at most")
    add.add_argument("--answer", help="the answer visitors get; {clinic_phone} and friends "
                     "are filled in from knowledge/clinic.yml")
    add.add_argument("--safety", choices=["answer", "consult"],
                     help="consult: the answer ends by offering a consultation")
    add.add_argument("--source", action="append", metavar="FILE",
                     help="a source document of the answer's facts (repeat for several)")
    add.add_argument("--example", action="append", metavar="TEXT",
                     help="a question visitors ask (repeat for several)")
    add.add_argument("--test", action="append", metavar="TEXT",
                     help="a test question kept apart from training (repeat for several)")
    add.add_argument("--related", action="append", metavar="TOPIC",
                     help="a topic offered as a button after the answer (repeat, up to 3)")
    add.add_argument("--review-by", metavar="DATE",
                     help="when to check the answer again (default: in a year)")

    examples = _command(commands, "examples", "add example questions to an intent",
                        'clinic examples add faq_pain "does the needling sting"', None)
    actions = examples.add_subparsers(dest="action", required=True)
    adding = _command(
        actions, "add", "add example questions (or test questions) to an intent",
        'clinic examples add faq_pain "does the needling sting" "is it sore"', examples_add,
        "Add example questions to an intent in data/nlu.yml. A question already there\n"
        "(ignoring case, punctuation and spacing) is refused; one that looks like an\n"
        "example of another intent is added with a warning naming that intent.\n"
        "Exit code 1 when a question was refused.")
    adding.add_argument("intent", metavar="INTENT", help="e.g. faq_pain (see clinic faq list)")
    adding.add_argument("texts", metavar="TEXT", nargs="+", help="the questions, each in quotes")
    adding.add_argument("--test", action="store_true",
                        help="add them as test questions (tests/nlu_heldout.yml) instead")

    _command(commands, "check", "check the data without training", "clinic check", check,
             "Check everything that can be checked without training: rasa data validate,\n"
             "the knowledge file and its agreement with the intents, rules and examples,\n"
             "button titles (20 characters), answer lengths (WhatsApp: 1024 characters\n"
             "for an answer with buttons, 4096 without), review dates, and examples of\n"
             "different intents that look alike. Exit code 1 when anything is listed;\n"
             "clinic train refuses only the problems, not the things to review.")


def run(func, args: argparse.Namespace) -> int:
    from clinic.project import Problem

    try:
        return func(args)
    except Misuse as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Problem as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
