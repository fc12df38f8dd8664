"""The speed-ups: the intent classifier's model file, the NLU cache, the
kept action-result validator and the kept-alive action server connection.
(Their effect is measured by `make bench`; here, that they are right.)"""
import asyncio
import itertools
import json
from pathlib import Path
from typing import List

import numpy as np
import pytest
from aiohttp import web
from jsonschema import ValidationError
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.endpoints import EndpointConfig

from channels import speed
from components.linear_intent import LinearIntentClassifier

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


RESULT = {"text": "", "intent": {"name": "faq_pain", "confidence": 0.9},
          "intent_ranking": [{"name": "faq_pain", "confidence": 0.9}], "entities": [],
          "text_tokens": [(0, 4), (5, 7), (8, 12)]}


def test_the_nlu_cache_gives_a_copy_with_the_new_message_text():
    cache, model = speed.NLUCache(size=10), object()
    key, missing = cache.get(model, "does it hurt")
    assert missing is None
    cache.put(key, {**RESULT, "text": "does it hurt"})

    _, first = cache.get(model, "does it hurt")
    first["intent"]["name"] = "changed by the caller"
    _, second = cache.get(model, "does it hurt")

    assert second == {**RESULT, "text": "does it hurt"}
    assert (cache.hits, cache.misses) == (2, 1)


def test_the_nlu_cache_keeps_no_text_and_no_entities():
    cache, model = speed.NLUCache(size=10), object()
    key, _ = cache.get(model, "my number is 801 555 0101")
    cache.put(key, {**RESULT, "text": "my number is 801 555 0101"})
    entity_key, _ = cache.get(model, "/inform{\"name\": \"Jo\"}")
    cache.put(entity_key, {**RESULT, "entities": [{"entity": "name", "value": "Jo"}]})

    kept = repr(cache._results)
    assert "801" not in kept and "Jo" not in kept
    assert cache.get(model, "/inform{\"name\": \"Jo\"}")[1] is None


def test_the_nlu_cache_is_bounded_and_emptied_for_a_new_model():
    cache, model = speed.NLUCache(size=2), object()
    for text in ["a", "b", "c"]:
        key, _ = cache.get(model, text)
        cache.put(key, RESULT)
    assert cache.get(model, "a")[1] is None  # the oldest went out
    assert cache.get(model, "c")[1] is not None
    assert cache.get(object(), "c")[1] is None  # another model: nothing reused


def test_an_action_result_is_still_checked_against_rasas_schema():
    good = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    assert speed._validate_action_result(None, good)
    with pytest.raises(ValidationError):
        speed._validate_action_result(None, {"events": "not a list"})
    with pytest.raises(ValidationError):
        speed._validate_action_result(None, {"events": [{"no_event_key": 1}]})


def test_calls_to_the_action_server_reuse_one_connection():
    """Three calls, one connection; each body the JSON that was sent, with
    text beyond ASCII and a timestamp to the last digit."""
    sent = {"next_action": "x", "tracker": {"latest_message": {"text": "¿Duele? 😬 </b>"},
                                            "events": [{"timestamp": 1764622931.1234567}]}}

    async def run() -> list:
        peers = []

        async def webhook(request: web.Request) -> web.Response:
            peers.append(request.transport.get_extra_info("peername"))
            assert json.loads(await request.text()) == sent
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        endpoint.session = lambda: speed._session_for(endpoint)
        try:
            for _ in range(3):
                assert await endpoint.request(json=sent) == {
                    "events": [], "responses": []}
        finally:
            await speed._session_for(endpoint).session.close()
            await runner.cleanup()
        return peers

    peers = asyncio.run(run())
    assert len(peers) == 3 and len(set(peers)) == 1


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


def test_event_classes_are_found_by_type_name_as_rasa_finds_them():
    from rasa.shared.core.events import Event, SlotSet, UserUttered
    from rasa.shared.utils.common import all_subclasses

    speed.install()
    for cls in all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is speed._resolve_by_type_uncached(
            cls.type_name)
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="no_such_event"):
        Event.resolve_by_type("no_such_event")


class Step:
    """A graph component that records its call and adds its inputs to its number."""

    calls: List[str] = []

    def __init__(self, config: dict) -> None:
        self.name, self.number = config["name"], config["number"]

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "Step":
        return cls(config)

    def add(self, **needs: int) -> int:
        Step.calls.append(self.name)
        return self.number + sum(needs.values())


def test_the_graph_runs_in_order_with_the_outputs_dask_gives(tmp_path: Path):
    """A diamond (a -> b, c -> d) plus a node no target needs: each needed
    node once, every need before it, and the same outputs as dask's run."""
    from rasa.engine.graph import GraphComponent, SchemaNode
    from rasa.engine.runner.dask import DaskGraphRunner

    component = type("StepComponent", (Step, GraphComponent), {})

    def node(name: str, number: int, **needs: str) -> SchemaNode:
        return SchemaNode(needs=needs, uses=component, constructor_name="create", fn="add",
                          config={"name": name, "number": number})

    schema = GraphSchema({"a": node("a", 1), "b": node("b", 10, x="a"), "c": node("c", 100, x="a"),
                          "d": node("d", 1000, x="b", y="c"), "unused": node("unused", 5)})
    runner = DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "t"))
    by_dask = speed._run_with_dask(runner, targets=["d", "b"])
    Step.calls.clear()

    speed.install()
    assert runner.run(targets=["d", "b"]) == by_dask == {"d": 1112, "b": 11}
    assert sorted(Step.calls) == ["a", "b", "c", "d"] and Step.calls[-1] == "d"
    Step.calls.clear()
    assert runner.run(inputs={"a": 2}, targets=["d"]) == {"d": 1114}  # an input replaces a node
    assert "a" not in Step.calls
    with pytest.raises(GraphRunError):
        runner.run(inputs={"x": "a"}, targets=["d"])

