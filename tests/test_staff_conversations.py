"""`clinic review` and `clinic report` on conversations seeded through Rasa's
own SQL tracker store (the store the assistant writes), and booking
requests seeded through core/store.py."""
from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from core import store
from tests.support.staff import clinic, copy_project, examples

pytestmark = pytest.mark.e2e

DAY = 24 * 3600


def user(text: str, intent: str, confidence: float = 0.95, when: float | None = None,
         ranking: Tuple[str, float] | None = None, language: str | None = None):
    """A visitor's message as Rasa stores it; `language` as the NLU's
    language tagger tags it (without it, clinic/conversations.py reads the
    message's small words)."""
    from rasa.shared.core.events import UserUttered

    intents = [{"name": intent, "confidence": confidence}]
    if ranking:
        intents.append({"name": ranking[0], "confidence": ranking[1]})
    entities = [{"entity": "language", "value": language}] if language else []
    parse = {"text": text, "intent": intents[0], "intent_ranking": intents, "entities": entities}
    return UserUttered(text, intent=intents[0], parse_data=parse,
                       timestamp=when or time.time())


def seed(database: Path, conversations: Dict[str, List]) -> None:
    """Write the conversations with Rasa's SQLTrackerStore."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker_store = SQLTrackerStore(dialect="sqlite", db=str(database))
    for sender, events in conversations.items():
        asyncio.run(tracker_store.save(DialogueStateTracker.from_events(sender, events)))


def fallback(text: str, guess: str = "faq_pain", when: float | None = None):
    return user(text, "nlu_fallback", 0.5, when=when, ranking=(guess, 0.31))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = copy_project(tmp_path / "project")
    (project / "var").mkdir()
    return project


def test_review_groups_unanswered_questions_and_assignments_become_examples(project):
    seed(project / "var" / "trackers.db", {
        "visitor-1": [fallback("duele mucho el microneedling"),
                      user("can you fix my car", "out_of_scope", 0.9)],
        "visitor-2": [fallback("duele mucho el microneedling?"),
                      user("does microneedling hurt", "faq_pain", 0.97),  # understood
                      user("/faq_pain", "faq_pain", 1.0)],                # a button
        "visitor-3": [fallback("duele mucho microneedling"),
                      user("what would I owe you for a session", "faq_cost", 0.55,
                           ranking=("faq_sessions", 0.4))],
        "visitor-4": [fallback("do you have a parking lot", guess="clinic_location",
                               when=time.time() - 40 * DAY)],
    })
    listed = clinic(project, "review", "--list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "3 question(s) the assistant did not understand well, most frequent first:"
    assert '"can you fix my car"  (asked 1 time(s))' in lines[1]
    assert '"what would I owe you for a session"  (asked 1 time(s))' in listed.stdout
    # Spanish questions are grouped on their own, after the English ones
    spanish = lines.index('3. "duele mucho el microneedling"  (asked 3 time(s))  [Spanish]')
    assert lines[spanish + 1] == '     also: "duele mucho microneedling"'  # "?" makes no variant
    assert lines[spanish + 2] == "   the assistant's best guess was faq_pain"
    assert "does microneedling hurt" not in listed.stdout and "/faq_pain" not in listed.stdout
    assert "parking" not in listed.stdout  # older than the 30 days looked at
    assert "parking" in clinic(project, "review", "--list", "--days", "60").stdout

    assigned = clinic(project, "review", "--assign", "duele mucho microneedling=faq_pain",
                      "--out-of-scope", "can you fix my car")
    assert assigned.returncode == 0, assigned.stderr
    spanish = examples(project / "data" / "nlu.es.yml")
    assert spanish["faq_pain"][-2:] == ["duele mucho el microneedling", "duele mucho microneedling"]
    trained = examples(project / "data" / "nlu.yml")
    assert "duele mucho microneedling" not in trained["faq_pain"]
    assert trained["out_of_scope"][-1] == "can you fix my car"

    interactive = clinic(project, "review", stdin="not_an_intent\nfaq_cost\n")
    assert interactive.returncode == 0, interactive.stderr
    assert "'not_an_intent' is not an intent" in interactive.stdout
    assert examples(project / "data" / "nlu.yml")["faq_cost"][-1] == \
        "what would I owe you for a session"
    assert clinic(project, "review").stdout.startswith("Nothing to review")


def test_review_misuse_and_an_empty_store_say_what_to_do(project):
    missing = clinic(project, "review")
    assert missing.returncode == 1 and "no stored conversations yet" in missing.stderr
    seed(project / "var" / "trackers.db", {"v": [fallback("zzz unknown thing")]})
    wrong = clinic(project, "review", "--assign", "never asked=faq_pain")
    assert wrong.returncode == 2 and "no question to review reads 'never asked'" in wrong.stderr
    bad = clinic(project, "review", "--assign", "zzz unknown thing=faq_nothing")
    assert bad.returncode == 2 and "unknown intent(s) ['faq_nothing']" in bad.stderr
    assert clinic(project, "review", "--assign", "no equals sign").returncode == 2


def _booking(sender: str, kind: str = "consultation"):
    return store.BookingRequest(kind=kind, sender_id=sender, name="Test Visitor",
                                contact="+18015550123", contact_kind="phone",
                                treatment_area="acne scars", preferred_time="Monday 10:00")


def test_report_counts_match_the_seeded_conversations(project, tmp_path):
    from rasa.shared.core.events import ActiveLoop

    now = time.time()
    seed(project / "var" / "trackers.db", {
        "booker": [user("hi", "greet"), user("does it hurt", "faq_pain"),
                   user("how much is it", "faq_cost"),
                   user("I'd like to book", "book_consultation"),
                   ActiveLoop("booking_form"), user("acne scars", "nlu_fallback", 0.3),
                   user("Test Visitor", "nlu_fallback", 0.2), ActiveLoop(None),
                   user("thanks", "thanks")],
        "worried": [fallback("zzz qqq"), user("can you fix my car", "out_of_scope"),
                    user("there is pus on my cheek", "urgent_clinic", 1.0)],
        "browser": [user("book please", "book_consultation"), user("/faq_pain", "faq_pain", 1.0)],
        "last-month": [user("does it hurt", "faq_pain", when=now - 40 * DAY)],
    })
    database = project / "var" / "clinic.db"
    engine = store.engine(f"sqlite:///{database}")
    store.save(_booking("booker"), engine)
    store.save(_booking("worried", "callback"), engine)
    page = tmp_path / "report.html"
    result = clinic(project, "report", "--days", "30", "--html", str(page))
    assert result.returncode == 0, result.stderr
    figures = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1)
                   for line in result.stdout.splitlines()[1:12])
    assert figures == {
        "conversations": "3",
        "visitor messages": "12",
        "answered from the knowledge": "3  (25 %)",  # pain, cost, and the pain button
        "not understood": "1  (8 %)",
        "out of scope": "1  (8 %)",
        "urgent escalations": "1",
        "booking answers and other": "6  (50 %)",  # 2 in the form, hi, book x2, thanks
        "conversations asking to book": "2",
        "consultation requests stored": "1",
        "call-back requests stored": "1",
        "booking conversion": "50 %  (1 of 2)",
    }
    assert "      2  faq_pain" in result.stdout and "      1  faq_cost" in result.stdout
    html = page.read_text()
    assert html.count("<svg") == 2 and "faq_pain" in html and "<td>50 %  (1 of 2)</td>" in html
    wider = clinic(project, "report", "--days", "60")
    assert re.search(r"^  conversations\s+4$", wider.stdout, re.MULTILINE)


def test_review_and_report_tell_the_languages_apart(project):
    seed(project / "var" / "trackers.db", {
        "ana": [user("hola", "greet", language="es"), user("cuanto cuesta", "faq_cost", language="es"),
                fallback("y lo de las agujitas q onda"),  # no tag: its small words say Spanish
                user("tengo pus en la cara", "urgent_clinic", 1.0, language="es")],
        "bob": [user("hi", "greet", language="en"), user("does it hurt", "faq_pain", language="en"),
                fallback("hmm what about the neck thing")],
    })
    listed = clinic(project, "review", "--list")
    assert listed.returncode == 0, listed.stderr
    assert '1. "hmm what about the neck thing"  (asked 1 time(s))' in listed.stdout
    assert '2. "y lo de las agujitas q onda"  (asked 1 time(s))  [Spanish]' in listed.stdout
    assigned = clinic(project, "review", "--assign", "y lo de las agujitas q onda=faq_what_is")
    assert assigned.returncode == 0, assigned.stderr
    assert examples(project / "data" / "nlu.es.yml")["faq_what_is"][-1] == \
        "y lo de las agujitas q onda"

    result = clinic(project, "report")
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("By language:\n")[1].split("Answers per topic:")[0]
    rows = [line.split() for line in table.splitlines()]
    assert rows[0] == ["conversations", "messages", "answered", "not", "understood", "out", "of",
                       "scope", "urgent"]
    assert rows[1:] == [["English", "1", "3", "1", "1", "0", "0"],
                        ["Spanish", "1", "4", "1", "1", "0", "1"]]
