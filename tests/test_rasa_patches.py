"""The changes this project makes to Rasa's own methods (rasa_patches/): for
each, what Rasa does without it and what it does with it; and the registry
that installs them, once, on Rasa 3.6.21 only, and puts Rasa's own back.

The test run's own process never keeps a change: the `patches` fixture
uninstalls whatever a test installed (the servers the other tests start
install them in their own processes)."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import sqlite3
import subprocess
import weakref
from pathlib import Path
from typing import AsyncIterator, Iterator, List

import pytest
import rasa
from aiohttp import web
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet,
                                     UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.utils import common
from rasa.utils.endpoints import EndpointConfig

import rasa_patches
from channels import guard
from cluster.launch import free_port
from rasa_patches import action_schema, action_time_limit, event_types, nlu_cache, rule_history
from rasa_patches.nlu_cache import NLUCache
from rasa_patches.once import MESSAGE_ID
from tests.support.assistant import ACTION_SECRETS as SECRETS, new_sender
from tests.support.project import ENV, ROOT, VENV_BIN

DOMAIN = Domain.load(ROOT / "domain.yml")
NLG = TemplatedNaturalLanguageGenerator(DOMAIN.responses)


@pytest.fixture
def patches() -> Iterator:
    """rasa_patches, none of its changes installed before the test nor after."""
    assert not rasa_patches.installed()
    try:
        yield rasa_patches
    finally:
        rasa_patches.uninstall()


@pytest.fixture(scope="module")
def agent(trained_model: Path) -> Agent:
    """The trained model in this process, with no action server."""
    return Agent.load(str(trained_model))


def rasas_own() -> List[object]:
    """What every replaced attribute is now, as the class holds it (None:
    the class inherits it)."""
    return [vars(replacement.owner).get(replacement.name) for change in rasa_patches.CHANGES
            for replacement in change.replaces]


def tracker(intent: str, *events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(new_sender(), [
        ActionExecuted("action_listen"), *events,
        UserUttered("¿Duele? 😬 </b>", {"name": intent, "confidence": 1.0},
                    timestamp=1764622931.1234567)], DOMAIN.slots)


async def close_kept_session(endpoint: EndpointConfig) -> None:
    """The connection that action_connection kept open, closed."""
    if "session" in vars(endpoint):
        async with endpoint.session() as session:
            await session.close()


async def run_action(url: str, on: DialogueStateTracker) -> List[Event]:
    """The events of one call of a custom action to the action server at `url`."""
    endpoint = EndpointConfig(url)
    try:
        return await RemoteAction("action_answer_faq", endpoint).run(
            CollectingOutputChannel(), NLG, on, DOMAIN)
    finally:
        await close_kept_session(endpoint)


# The registry


@pytest.mark.unit
def test_install_refuses_any_rasa_version_but_the_one_checked(patches, monkeypatch):
    before = rasas_own()
    monkeypatch.setattr(rasa, "__version__", "3.6.22")
    with pytest.raises(RuntimeError, match=r"checked for Rasa 3\.6\.21, but Rasa 3\.6\.22"):
        patches.install()
    assert not patches.installed() and rasas_own() == before


@pytest.mark.unit
def test_uninstall_puts_rasas_own_methods_back(patches):
    before = rasas_own()
    patches.install()
    assert all(ours is not own for ours, own in zip(rasas_own(), before))
    patches.uninstall()
    assert all(now is own for now, own in zip(rasas_own(), before))


@pytest.mark.unit
def test_install_twice_installs_each_change_once(patches, monkeypatch):
    """The REST channel and the website chat used to install the changes
    each: the second added a second time limit around every action call."""
    time_limits = []
    wait_for = asyncio.wait_for

    async def counted_wait_for(awaitable, timeout):
        time_limits.append(timeout)
        return await wait_for(awaitable, timeout)

    async def rasas_run(self, output_channel, nlg, tracker, domain):
        return []

    before = rasas_own()
    monkeypatch.setattr(RemoteAction, "run", rasas_run)
    monkeypatch.setattr(asyncio, "wait_for", counted_wait_for)
    patches.install()
    installed = rasas_own()
    patches.install()

    assert rasas_own() == installed
    asyncio.run(RemoteAction("action_answer_faq", None).run(None, None, None, None))
    assert time_limits == [action_time_limit.ACTION_TIMEOUT_S]
    patches.uninstall()
    assert RemoteAction.run is rasas_run
    monkeypatch.undo()
    assert rasas_own() == before


@pytest.mark.unit
def test_the_channels_refuse_to_start_without_the_changes(patches):
    async def on_new_message(message: UserMessage) -> None:
        pass

    with pytest.raises(rasa_patches.NotInstalled, match="python -m rasa_patches run"):
        guard.answered(on_new_message)
    patches.install()
    assert callable(guard.answered(on_new_message))


@pytest.mark.e2e
def test_a_plain_rasa_run_stops_at_start_up_naming_the_entry_point(trained_model, tmp_path):
    done = subprocess.run([str(VENV_BIN / "rasa"), "run", "--model", str(trained_model),
                           "--port", str(free_port()), "--credentials",
                           str(ROOT / "credentials.yml")],
                          cwd=ROOT, env={**ENV, **SECRETS}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "NotInstalled" in said and "action_time_limit, store_failure, once" in said
    assert "python -m rasa_patches run" in said


# action_time_limit


@pytest.mark.unit
def test_a_failed_action_call_ends_rasas_turn_but_ours_gives_the_clinics_phone(patches):
    closed = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens there
    with pytest.raises(RasaException):
        asyncio.run(run_action(closed, tracker("faq_pain")))
    patches.install()
    events = asyncio.run(run_action(closed, tracker("faq_pain")))
    assert events == [BotUttered(action_time_limit.ACTIONS_DOWN["en"],
                                 metadata={action_time_limit.FALLBACK: True})]


@pytest.mark.unit
def test_an_urgent_message_gets_the_urgent_reply_and_a_form_under_way_is_closed(patches):
    closed = f"http://127.0.0.1:{free_port()}/webhook"
    patches.install()
    events = asyncio.run(run_action(closed, tracker(
        "urgent_emergency", ActiveLoop("booking_form"), SlotSet("requested_slot", "name"))))
    assert "emergency care now" in events[0].text
    assert events[1:] == [ActiveLoop(None), SlotSet("requested_slot", None)]


@pytest.mark.unit
def test_in_spanish_the_fallback_and_the_urgent_reply_are_spanish(patches):
    closed = f"http://127.0.0.1:{free_port()}/webhook"
    patches.install()
    spanish_conversation = tracker("faq_pain", SlotSet("language", "es"))
    assert asyncio.run(run_action(closed, spanish_conversation))[0].text == \
        action_time_limit.ACTIONS_DOWN["es"]
    urgent = tracker("urgent_emergency")
    urgent.latest_message.parse_data["language"] = "es"  # the Spanish patterns matched
    assert "atención de emergencia" in asyncio.run(run_action(closed, urgent))[0].text


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """An action server that takes the call and never answers: its URL."""
    connections = []

    async def accept(_reader, writer) -> None:
        connections.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/webhook"
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.unit
def test_rasa_waits_on_a_hung_action_server_and_ours_gives_up(patches, monkeypatch):
    monkeypatch.setattr(action_time_limit, "ACTION_TIMEOUT_S", 0.2)

    async def call() -> List[Event]:
        async with silent_server() as url:
            return await asyncio.wait_for(run_action(url, tracker("faq_pain")), 1)

    with pytest.raises(asyncio.TimeoutError):  # Rasa would wait 5 minutes
        asyncio.run(call())
    patches.install()
    assert asyncio.run(call())[0].text == action_time_limit.ACTIONS_DOWN["en"]


# store_failure


class BrokenStore(InMemoryTrackerStore):
    """A conversation store whose database is down."""

    async def retrieve(self, sender_id: str) -> None:
        raise ConnectionError("the database is down")

    async def save(self, tracker: DialogueStateTracker) -> None:
        raise ConnectionError("the database is down")


@pytest.mark.unit
def test_rasa_forgets_a_conversation_when_its_store_fails_and_ours_fails_the_turn(patches):
    conversation = tracker("faq_pain")

    async def read_and_write(store: FailSafeTrackerStore) -> DialogueStateTracker | None:
        await store.save(conversation)
        return await store.retrieve(conversation.sender_id)

    rasas = FailSafeTrackerStore(BrokenStore(DOMAIN))
    assert asyncio.run(read_and_write(rasas)) is None  # saved in memory, read as a new visitor
    assert asyncio.run(rasas.fallback_tracker_store.retrieve(conversation.sender_id))
    patches.install()
    ours = FailSafeTrackerStore(BrokenStore(DOMAIN))
    with pytest.raises(ConnectionError):
        asyncio.run(ours.save(conversation))
    with pytest.raises(ConnectionError):
        asyncio.run(ours.retrieve(conversation.sender_id))


# once


@pytest.mark.e2e
def test_rasa_takes_a_message_sent_again_twice_and_ours_answers_it_again(patches, agent):
    async def send_twice(sender: str) -> List[List[dict]]:
        replies = []
        for _ in range(2):
            output = CollectingOutputChannel()
            await agent.handle_message(UserMessage("hello", output, sender,
                                                   metadata={MESSAGE_ID: "m-1"}))
            replies.append(output.messages)
        return replies

    def taken(sender: str) -> int:
        stored = asyncio.run(agent.tracker_store.retrieve(sender))
        return sum(isinstance(event, UserUttered) for event in stored.events)

    rasas = new_sender()
    asyncio.run(send_twice(rasas))
    assert taken(rasas) == 2
    patches.install()
    ours = new_sender()
    first, again = asyncio.run(send_twice(ours))
    assert taken(ours) == 1
    assert first and again == first


# action_schema


@pytest.mark.unit
def test_rasa_checks_the_schema_at_every_answer_and_ours_once(patches, monkeypatch):
    schema_checks = []
    validator = validators.validator_for(RemoteAction.action_response_format_spec())
    check_schema = validator.check_schema
    monkeypatch.setattr(validator, "check_schema",
                        lambda schema: schema_checks.append(1) or check_schema(schema))
    action_schema._validator.cache_clear()
    good = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    bad = [{"events": "not a list"}, {"events": [{"no_event_key": 1}]}]

    def answers() -> int:
        schema_checks.clear()
        action = RemoteAction("action_answer_faq", None)
        assert action._validate_action_result(good)
        for answer in bad:
            with pytest.raises(ValidationError, match="Failed to validate Action server"):
                action._validate_action_result(answer)
        return len(schema_checks)

    assert answers() == 3
    patches.install()
    assert answers() == 1
    assert answers() == 0
    action_schema._validator.cache_clear()


# action_connection


@pytest.mark.unit
def test_rasa_opens_a_connection_per_action_call_and_ours_keeps_one(patches):
    """Three calls each way: the same bodies, with text beyond ASCII and a
    timestamp to the last digit; Rasa's over three connections, ours one."""
    conversation = tracker("faq_pain")

    async def three_calls() -> tuple:
        peers, bodies = [], []

        async def webhook(request: web.Request) -> web.Response:
            peers.append(request.transport.get_extra_info("peername"))
            bodies.append(json.loads(await request.text()))
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        endpoint = EndpointConfig(
            f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhook")
        action = RemoteAction("action_answer_faq", endpoint)
        try:
            for _ in range(3):
                assert await action.run(CollectingOutputChannel(), NLG, conversation, DOMAIN) == []
        finally:
            await close_kept_session(endpoint)
            await runner.cleanup()
        return len(set(peers)), bodies

    rasas_connections, rasas_bodies = asyncio.run(three_calls())
    patches.install()
    our_connections, our_bodies = asyncio.run(three_calls())
    assert (rasas_connections, our_connections) == (3, 1)
    assert our_bodies == rasas_bodies
    assert our_bodies[0]["tracker"]["latest_message"]["text"] == "¿Duele? 😬 </b>"


# nlu_cache

RESULT = {"text": "", "intent": {"name": "faq_pain", "confidence": 0.9},
          "intent_ranking": [{"name": "faq_pain", "confidence": 0.9}], "entities": [],
          "text_tokens": [(0, 4), (5, 7), (8, 12)]}


@pytest.mark.e2e
def test_rasa_runs_the_nlu_for_every_message_and_ours_once_per_text(patches, agent,
                                                                     monkeypatch):
    monkeypatch.setattr(nlu_cache, "cache", NLUCache())
    runner = agent.processor.graph_runner
    runs = []

    def counted_run(*args, **kwargs):
        runs.append(1)
        return type(runner).run(runner, *args, **kwargs)

    async def parse_twice() -> List[dict]:
        return [await agent.processor.parse_message(UserMessage("does it hurt?"))
                for _ in range(2)]

    runner.run = counted_run
    try:
        rasas = asyncio.run(parse_twice())
        rasas_runs = len(runs)
        patches.install()
        runs.clear()
        ours = asyncio.run(parse_twice())
    finally:
        del runner.run
    assert (rasas_runs, len(runs)) == (2, 1)
    assert ours == rasas and ours[0]["intent"]["name"] == "faq_pain"


@pytest.mark.unit
def test_the_nlu_cache_gives_a_copy_with_the_new_message_text():
    cache, model = NLUCache(size=10), object()
    key, missing = cache.get(model, "does it hurt")
    assert missing is None
    cache.put(key, {**RESULT, "text": "does it hurt"})

    _, first = cache.get(model, "does it hurt")
    first["intent"]["name"] = "changed by the caller"
    _, second = cache.get(model, "does it hurt")

    assert second == {**RESULT, "text": "does it hurt"}
    assert (cache.hits, cache.misses) == (2, 1)


@pytest.mark.unit
def test_the_nlu_cache_keeps_no_text_and_no_entities():
    cache, model = NLUCache(size=10), object()
    key, _ = cache.get(model, "my number is 801 555 0101")
    cache.put(key, {**RESULT, "text": "my number is 801 555 0101"})
    entity_key, _ = cache.get(model, "/inform{\"name\": \"Jo\"}")
    cache.put(entity_key, {**RESULT, "entities": [{"entity": "name", "value": "Jo"}]})

    kept = repr(cache._results)
    assert "801" not in kept and "Jo" not in kept
    assert cache.get(model, "/inform{\"name\": \"Jo\"}")[1] is None


@pytest.mark.unit
def test_the_nlu_cache_is_bounded_and_emptied_for_a_new_model():
    cache, model = NLUCache(size=2), object()
    for text in ["a", "b", "c"]:
        key, _ = cache.get(model, text)
        cache.put(key, RESULT)
    assert cache.get(model, "a")[1] is None  # the oldest went out
    assert cache.get(model, "c")[1] is not None
    assert cache.get(object(), "c")[1] is None  # another model: nothing reused


# frozen_model


def collected(thing: object) -> bool:
    """`thing` is one of the objects Python's full garbage collections walk."""
    return any(tracked is thing for tracked in gc.get_objects())


@pytest.mark.e2e
def test_rasa_leaves_the_model_to_full_collections_and_ours_freezes_it(patches, agent,
                                                                      trained_model):
    assert collected(agent.processor)  # Rasa's own load_model
    patches.install()
    try:
        ours = Agent.load(str(trained_model))
        assert not collected(ours.processor) and gc.get_freeze_count() > 0
        # A new model (staff retrained): the old one, held in a reference
        # cycle as a model's objects are, is unfrozen and collected.
        old = weakref.ref(ours.processor)
        ours.processor.cycle = ours.processor
        ours.load_model(str(trained_model))
        assert old() is None and not collected(ours.processor)
    finally:
        gc.unfreeze()


# event_types


@pytest.mark.unit
def test_rasa_walks_all_event_classes_at_every_lookup_and_ours_once(patches, monkeypatch):
    walks = []
    all_subclasses = common.all_subclasses

    def walk(cls: type) -> list:
        if cls is Event:  # not its own recursive calls
            walks.append(1)
        return all_subclasses(cls)

    monkeypatch.setattr(common, "all_subclasses", walk)
    monkeypatch.setattr(event_types, "_classes", {})
    names = [cls.type_name for cls in all_subclasses(Event)]

    def lookups() -> list:
        walks.clear()
        found = [Event.resolve_by_type(name) for name in names * 2]
        with pytest.raises(ValueError, match="no_such_event"):
            Event.resolve_by_type("no_such_event")
        return [found, Event.resolve_by_type("no_such_event", default=SlotSet),
                Event.resolve_by_type("topic")]

    rasas = lookups()
    rasas_walks = len(walks)
    patches.install()
    ours = lookups()
    assert ours == rasas and rasas[0][names.index("user")] is UserUttered
    assert (rasas_walks, len(walks)) == (2 * len(names) + 3, len(set(names)) + 3)


# graph_in_order


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


@pytest.mark.unit
def test_the_graph_runs_in_order_with_the_outputs_dask_gives(patches, tmp_path):
    """A diamond (a -> b, c -> d) plus a node no target needs: each needed
    node once, every need before it, and the same outputs as dask's run."""
    component = type("StepComponent", (Step, GraphComponent), {})

    def node(name: str, number: int, **needs: str) -> SchemaNode:
        return SchemaNode(needs=needs, uses=component, constructor_name="create", fn="add",
                          config={"name": name, "number": number})

    schema = GraphSchema({"a": node("a", 1), "b": node("b", 10, x="a"), "c": node("c", 100, x="a"),
                          "d": node("d", 1000, x="b", y="c"), "unused": node("unused", 5)})
    runner = DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "t"))

    def runs() -> list:
        Step.calls.clear()
        both = runner.run(targets=["d", "b"])
        order = list(Step.calls)
        Step.calls.clear()
        with_input = runner.run(inputs={"a": 2}, targets=["d"])  # an input replaces a node
        with pytest.raises(GraphRunError):
            runner.run(inputs={"x": "a"}, targets=["d"])
        return [both, sorted(order), order[-1], with_input, "a" in Step.calls]

    rasas = runs()
    patches.install()
    assert runs() == rasas == [{"d": 1112, "b": 11}, ["a", "b", "c", "d"], "d", {"d": 1114},
                               False]


# rule_history

VISITS = [  # through both forms, with questions, stops and an urgent message
    ["hi", "does it hurt?", "tell me more", "I'd like to book a consultation", "acne scars",
     "hang on, how long is the recovery?", "ok, let's carry on", "yes", "Ana Silva",
     "ana@example.com", "next week, mornings", "yes"],
    ["can someone call me back", "does it hurt?", "yes", "where are you located?", "Ana Silva",
     "how much does it cost?", "ana@example.com"],
    ["asdfgh qwerty", "zzzz xxxx", "I'm on blood thinners, can I have it?", "no thanks",
     "I want to book", "skip", "I have a fever and pus on my cheek", "thanks"],
    ["I want to book", "my cheeks", "yes", "actually cancel that", "does it hurt?",
     "please delete my data", "yes"],
]


def stored_events(assistant, sender: str) -> List[Event]:
    with sqlite3.connect(assistant.trackers) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id",
                          (sender,)).fetchall()
    return [Event.from_parameters(json.loads(data)) for (data,) in rows]


def before_each_action(events: List[Event]) -> List[DialogueStateTracker]:
    """The conversation as it stood before each of its actions but the first."""
    return [DialogueStateTracker.from_events("visitor", events[:index], DOMAIN.slots)
            for index, event in enumerate(events) if index and isinstance(event, ActionExecuted)]


@pytest.mark.e2e
def test_rasa_matches_rules_on_the_whole_conversation_and_ours_on_its_last_turns(
        patches, assistant, agent):
    """The same predictions as Rasa's at every step of real conversations
    (the running assistant's), made again from the kept matches."""
    senders = [new_sender() for _ in VISITS]
    for sender, texts in zip(senders, VISITS):
        for text in texts:
            assistant.say(text, sender)
    points = [point for sender in senders for point in before_each_action(
        stored_events(assistant, sender))]
    policy = agent.processor.graph_runner._instantiated_nodes["run_RulePolicy0"]._component

    def predictions() -> list:
        return [(prediction.probabilities, [str(event) for event in prediction.events],
                 prediction.is_no_user_prediction, prediction.hide_rule_turn)
                for prediction in (policy.predict_action_probabilities(point, agent.domain)
                                   for point in points)]

    rasas = predictions()
    patches.install()
    longest, longer = rule_history.kept(policy).longest_rule, points[-1]
    ours, again = predictions(), predictions()
    assert ours == again == rasas
    assert rule_history.kept(policy).matched  # the second round from them
    # Both forms, their steps (the loop predicted) and rules' own turns.
    assert {point.active_loop_name for point in points} >= {"booking_form", "callback_form"}
    assert {(no_user, hidden) for _, _, no_user, hidden in rasas} >= {(True, True),
                                                                      (False, True),
                                                                      (False, False)}
    # Outside a prediction (training's checks), Rasa's states, all of them.
    assert len(policy._prediction_states(longer, agent.domain)) > longest
    assert len(rule_history.last_states(longer, agent.domain, longest)) == longest
