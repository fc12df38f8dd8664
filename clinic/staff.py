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

    print(faq.show_topic(_project(args), args.topic, args.lang))
    return 0


def faq_add(args: argparse.Namespace) -> int:
    from clinic import faq

    project = _project(args)
    if args.lang != "en":
        return faq_add_spanish(project, args)
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


def faq_add_spanish(project, args: argparse.Namespace) -> int:
    from clinic import faq

    unused = [f"--{name.replace('_', '-')}" for name in ("safety", "source", "related",
                                                         "review_by") if getattr(args, name)]
    if unused:
        raise Misuse(f"{', '.join(unused)} belong to the topic, not to its Spanish wording: "
                     "give them without --lang es.")
    topic_id = args.id or _ask("Topic id of the topic to word in Spanish (clinic faq list)")
    title = args.title or _ask("Spanish button title (20 characters at most)")
    answer = args.answer or _ask("The Spanish answer (the same facts as the English one)")
    more = args.more if args.id else (args.more or _ask("The Spanish 'tell me more' text, "
                                                        "if the topic has one", required=False))
    examples = args.example or _ask_many("Example questions in Spanish")
    heldout = args.test or ([] if args.id else _ask_many(
        "Test questions in Spanish, kept apart from training"))
    notes = faq.add_spanish(project, faq.SpanishWording(
        id=topic_id, title=title, answer=answer, more=more, examples=examples, heldout=heldout))
    print("\n".join(notes))
    return 0


def examples_add(args: argparse.Namespace) -> int:
    from clinic import faq

    project = _project(args)
    checked = faq.add_intent_examples(project, args.intent, args.texts, test=args.test,
                                      language=args.lang)
    target = (project.heldout_of if args.test else project.nlu_of)(args.lang)
    kind = "test questions" if args.test else "examples"
    print(f"Added {len(checked.added)} {kind} to {project.relative(target)} for {args.intent}.")
    for message in checked.warnings + checked.refused:
        print(message)
    return 1 if checked.refused else 0


def check(args: argparse.Namespace) -> int:
    from clinic import checks

    print("Checking the data (rasa data validate takes about half a minute)...", flush=True)
    findings = checks.check(_project(args))
    print(findings.text())
    return 1 if findings.problems or findings.review else 0


def train(args: argparse.Namespace) -> int:
    from clinic import training

    return training.train(_project(args))


def rollback(args: argparse.Namespace) -> int:
    from clinic import training

    return training.rollback(_project(args))


def review(args: argparse.Namespace) -> int:
    from clinic import review as reviewing
    from clinic.faq import known_intents

    project = _project(args)
    found = reviewing.groups(project, args.days)
    if not found:
        print(f"Nothing to review: every message of the last {args.days} days was understood "
              "(or is a training example already).")
        return 0
    print(f"{len(found)} question(s) the assistant did not understand well, most frequent "
          "first:")
    if args.list:
        for index, group in enumerate(found):
            print(reviewing.describe(index + 1, group))
        return 0
    if args.assign or args.out_of_scope:
        decisions = reviewing.from_options(found, args.assign or [], args.out_of_scope or [])
        unknown = sorted(set(decisions.values()) - set(known_intents(project)))
        if unknown:
            raise Misuse(f"unknown intent(s) {unknown}. See them with: clinic faq list")
    else:
        decisions = reviewing.interactive(project, found, input)
    notes = reviewing.apply(project, decisions, found)
    print("\n".join(notes) if notes else "Nothing was changed.")
    if notes:
        print("Next: clinic train, so that the assistant learns them.")
    return 0


def report(args: argparse.Namespace) -> int:
    from clinic import report as reporting

    result = reporting.figures(_project(args), args.days)
    print(reporting.text(result))
    if args.html:
        args.html.write_text(reporting.page(result), encoding="utf-8")
        print(f"Wrote {args.html}")
    return 0


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError("give at least 1 day")
    return days


# ---- the parsers ---------------------------------------------------------------

def _command(commands, name: str, summary: str, example: str, func, description: str = ""):
    command = commands.add_parser(name, help=summary, description=description or summary,
                                  epilog=f"Example:\n  {example}", formatter_class=FORMATTER)
    if func is not None:
        command.set_defaults(func=func)
    return command


def _language_option(command, meaning: str) -> None:
    command.add_argument("--lang", choices=["en", "es"], default="en",
                         help=f"es: {meaning} (default: en, English)")


def add_commands(commands) -> None:
    faq = _command(commands, "faq", "the FAQ topics: list, show, add", "clinic faq list", None,
                   "The FAQ topics the assistant answers (knowledge/microneedling.yml).")
    topics = faq.add_subparsers(dest="action", required=True)
    _command(topics, "list", "every topic with its intent, example count, safety class and "
             "review date", "clinic faq list", faq_list)
    show = _command(topics, "show", "one topic in full: answer, sources, examples",
                    "clinic faq show pain", faq_show)
    show.add_argument("topic", metavar="TOPIC", help="the topic's id or intent")
    _language_option(show, "show its Spanish wording and examples")
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
        "with clinic examples add.\n\n"
        "With --lang es: the Spanish wording of a topic that has none yet (its title,\n"
        "answer and 'tell me more', the same facts as the English), written to the\n"
        "topic's es: block as reviewed, with its Spanish examples (data/nlu.es.yml)\n"
        "and test questions (tests/nlu_heldout.es.yml).")
    _language_option(add, "add the Spanish wording of an existing topic (--id) instead")
    add.add_argument("--id", help="lower case and underscores; the intent is faq_<id>")
    add.add_argument("--title", help="the button title, 20 characters at most")
    add.add_argument("--answer", help="the answer visitors get; {clinic_phone} and friends "
                     "are filled in from knowledge/clinic.yml")
    add.add_argument("--more", help="with --lang es: the Spanish 'tell me more' text")
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
        "Spanish questions go to data/nlu.es.yml with --lang es (one model learns\n"
        "both languages). Exit code 1 when a question was refused.")
    adding.add_argument("intent", metavar="INTENT", help="e.g. faq_pain (see clinic faq list)")
    adding.add_argument("texts", metavar="TEXT", nargs="+", help="the questions, each in quotes")
    adding.add_argument("--test", action="store_true",
                        help="add them as test questions (tests/nlu_heldout.yml) instead")
    _language_option(adding, "Spanish questions: data/nlu.es.yml, tests/nlu_heldout.es.yml")

    _command(commands, "check", "check the data without training", "clinic check", check,
             "Check everything that can be checked without training: rasa data validate,\n"
             "the knowledge file and its agreement with the intents, rules and examples,\n"
             "button titles (20 characters), answer lengths (WhatsApp: 1024 characters\n"
             "for an answer with buttons, 4096 without), review dates, and examples of\n"
             "different intents that look alike. Exit code 1 when anything is listed;\n"
             "clinic train refuses only the problems, not the things to review.")


def add_training_commands(commands) -> None:
    _command(commands, "train", "check, train, measure, and put in service if not worse",
             "RASA_API_TOKEN=... clinic train", train,
             "Check the data (as clinic check), train a new model (models/model-<time>.tar.gz),\n"
             "measure it and the model in service on the held-out test questions\n"
             "(tests/nlu_heldout.yml) and the must-never-miss urgent messages\n"
             "(tests/red_flags/), show both in a table, and put the new model in service\n"
             "(models/assistant.tar.gz) only if it answers every urgent message urgently,\n"
             "escalates no normal reaction, and its accuracy is at most 1 point lower.\n"
             "Then a running server loads it without dropping conversations, when\n"
             "RASA_API_TOKEN is set to the token the server was started with\n"
             "(RASA_SERVER_URL, default http://localhost:5005). Models in service and their\n"
             "scores are listed in models/history.json. Exit code 1: not put in service.")
    _command(commands, "rollback", "return to the previous model in service", "clinic rollback",
             rollback,
             "Put the previous model of models/history.json back in service, and have the\n"
             "running server load it (as clinic train does).")


def add_conversation_commands(commands) -> None:
    from pathlib import Path

    reviewing = _command(
        commands, "review", "questions the assistant did not understand: turn them into "
        "examples", "clinic review --days 7", review,
        "Show what visitors asked that the assistant did not understand, answered with\n"
        "low confidence, or found out of scope (from the stored conversations, with\n"
        "phone numbers and emails already masked), grouped by similarity, most\n"
        "frequent first. For each group, type the intent it should have had, o for\n"
        "out of scope, or Enter to skip; answers become training examples (as with\n"
        "clinic examples add). Without a keyboard: --assign and --out-of-scope.\n"
        "Conversations: TRACKER_DATABASE_URL, or var/trackers.db.")
    reviewing.add_argument("--days", type=_days, default=30, help="how far back (default 30)")
    reviewing.add_argument("--list", action="store_true", help="only list the groups")
    reviewing.add_argument("--assign", action="append", metavar="TEXT=INTENT",
                           help='give a question its intent: --assign "duele mucho=faq_pain"')
    reviewing.add_argument("--out-of-scope", action="append", metavar="TEXT",
                           help="mark a question as out of scope")
    reporting = _command(
        commands, "report", "how the assistant did: answers, misses, bookings",
        "clinic report --days 7 --html report.html", report,
        "Conversations, answered vs not understood, answers per topic, booking\n"
        "requests and conversion (conversations that asked to book and stored a\n"
        "consultation request), urgent escalations and out-of-scope messages.\n"
        "Conversations: TRACKER_DATABASE_URL, or var/trackers.db; bookings:\n"
        "DATABASE_URL, or var/clinic.db.")
    reporting.add_argument("--days", type=_days, default=30, help="how far back (default 30)")
    reporting.add_argument("--html", type=Path, metavar="FILE",
                           help="also write a page with charts to FILE")


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
