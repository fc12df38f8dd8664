"""The speed-ups outside rasa_patches/ (whose tests are
tests/test_rasa_patches.py): the intent classifier's model file and the
tracker store on SQLAlchemy Core. (Their effect is measured by `make bench`
and `python -m bench.micro`; here, that they are right.)"""
import asyncio
import itertools
import json
from pathlib import Path
from typing import List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.linear_intent import LinearIntentClassifier

pytestmark = pytest.mark.unit

EXAMPLES = {
    "faq_pain": ["does it hurt", "is microneedling painful", "will the needles hurt"],
    "faq_cost": ["how much does it cost", "what is the price", "is it expensive"],
    "greet": ["hello", "hi there", "good morning"],
}


def message(text: str, intent: str | None = None) -> Message:
    tokens: List[Token] = []
    start = 0
    for word in text.split():
        tokens.append(Token(word, start, lemma=word))
        start += len(word) + 1
    data = {"text": text, "text_tokens": tokens}
    if intent:
        data["intent"] = intent
    return Message(data=data)


def ranking(classifier: LinearIntentClassifier, text: str) -> list:
    [processed] = classifier.process([message(text)])
    return processed.get("intent_ranking")


def test_the_classifier_loaded_from_its_files_ranks_exactly_as_trained(tmp_path: Path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("classifier")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = LinearIntentClassifier.create({"C": 100}, storage, resource, context)
    trained.train(TrainingData([message(text, intent) for intent, texts in EXAMPLES.items()
                                for text in texts]))

    loaded = LinearIntentClassifier.load({"C": 100}, storage, resource, context)

    for text in ["does microneedling hurt", "price please", "hello", "unknown words only"]:
        assert ranking(loaded, text) == ranking(trained, text)
    assert ranking(loaded, "does it hurt a lot")[0]["name"] == "faq_pain"
    assert {path.suffix for path in (tmp_path / "classifier").iterdir()} == {".json", ".npz"}


def test_the_probabilities_are_those_of_scikit_learn(tmp_path: Path):
    classifier = LinearIntentClassifier.create(
        {"C": 100}, LocalModelStorage(tmp_path), Resource("classifier"),
        ExecutionContext(GraphSchema({}), "test"))
    classifier.train(TrainingData([message(text, intent) for intent, texts in EXAMPLES.items()
                                   for text in texts]))
    texts = ["does microneedling hurt", "price please", "hello", "unknown words only"]
    expected = classifier.model["classifier"].predict_proba(classifier.features(texts))
    assert np.allclose(classifier.probabilities(texts), expected, rtol=0, atol=1e-12)


def stored_types(db: Path, sender: str) -> list:
    import sqlite3
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute(
            "SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender,))]


def stored_rows(db: Path, sender: str) -> list:
    import sqlite3
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT type_name, timestamp, intent_name, action_name, data FROM events "
            "WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()


def test_the_tracker_store_writes_the_same_events_as_rasas_without_counting(tmp_path: Path):
    """Three turns and a new session, through our store and through Rasa's own:
    the same rows, none twice, read back as the same conversation; and a
    tracker read from the store knows what is stored, so save() needs no
    count query."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from stores.tracker_store import RedactingSQLTrackerStore

    domain = Domain.load(Path(__file__).parent.parent / "domain.yml")

    async def conversation(store, sender: str) -> None:
        clock = itertools.count(1_700_000_000)  # the same timestamps in both stores
        tracker = DialogueStateTracker.from_events(sender, [
            ActionExecuted("action_session_start", timestamp=next(clock)),
            SessionStarted(timestamp=next(clock)),
            ActionExecuted("action_listen", timestamp=next(clock))], domain.slots)
        await store.save(tracker)
        for turn in range(3):
            tracker = await store.retrieve(sender)
            if isinstance(store, RedactingSQLTrackerStore):
                assert tracker.stored_events == len(tracker.events)
            if turn == 2:  # a new session in the same tracker
                tracker.update(ActionExecuted("action_session_start", timestamp=next(clock)))
                tracker.update(SessionStarted(timestamp=next(clock)))
                tracker.update(ActionExecuted("action_listen", timestamp=next(clock)))
            tracker.update(UserUttered(f"question {turn}", {"name": "faq_pain", "confidence": 1},
                                       timestamp=next(clock)))
            tracker.update(ActionExecuted("action_answer_faq", timestamp=next(clock)))
            tracker.update(BotUttered(f"answer {turn}", timestamp=next(clock)))
            tracker.update(ActionExecuted("action_listen", timestamp=next(clock)))
            await store.save(tracker)

    ours = RedactingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "ours.db"))
    rasas = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    asyncio.run(conversation(ours, "visitor"))
    asyncio.run(conversation(rasas, "visitor"))

    assert stored_rows(tmp_path / "ours.db", "visitor") == stored_rows(
        tmp_path / "rasa.db", "visitor")
    assert stored_types(tmp_path / "ours.db", "visitor").count("user") == 3
    read_back = [asyncio.run(store.retrieve("visitor")) for store in (ours, rasas)]
    assert read_back[0].events == read_back[1].events
    assert read_back[0].events[0] == SessionStarted(timestamp=read_back[0].events[0].timestamp)
    assert asyncio.run(ours.retrieve("nobody")) is None


def test_saving_masks_the_stored_copy_only(tmp_path: Path):
    """The stored message is masked; the conversation in progress keeps its
    text (the booking form reads it), parse data included."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from stores.tracker_store import RedactingSQLTrackerStore

    domain = Domain.load(Path(__file__).parent.parent / "domain.yml")
    store = RedactingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    said = "call me on 801-555-0123"
    tracker = DialogueStateTracker.from_events("visitor", [
        ActionExecuted("action_listen"),
        UserUttered(said, {"name": "inform", "confidence": 1}, parse_data={"text": said})],
        domain.slots)

    asyncio.run(store.save(tracker))

    assert tracker.latest_message.text == said
    assert tracker.latest_message.parse_data["text"] == said
    [(_, _, intent, _, data)] = [row for row in stored_rows(tmp_path / "t.db", "visitor")
                                 if row[0] == "user"]
    assert intent == "inform"
    assert "555-0123" not in data and json.loads(data)["parse_data"]["text"] == "call me on [phone]"


def test_a_conversation_erased_during_a_turn_is_not_written_back_whole(tmp_path: Path):
    import sqlite3

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from stores.tracker_store import RedactingSQLTrackerStore

    domain = Domain.load(Path(__file__).parent.parent / "domain.yml")
    store = RedactingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"))

    async def run() -> None:
        tracker = DialogueStateTracker.from_events(
            "visitor", [ActionExecuted("action_listen"), UserUttered("my name is Jo")],
            domain.slots)
        await store.save(tracker)
        tracker = await store.retrieve("visitor")
        with sqlite3.connect(tmp_path / "t.db") as connection:  # staff erase it meanwhile
            connection.execute("DELETE FROM events WHERE sender_id = 'visitor'")
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)

    asyncio.run(run())
    assert stored_types(tmp_path / "t.db", "visitor") == ["action"]
