"""The speed-ups of rasa_patches/ and stores/tracker_store.py against the
Rasa 3.6 code they replace, on the conversation of bench/load.py as the
trained model answers it: milliseconds per call (best of 5 runs), and a
check that both give the same result. "Rasa 3.6" runs with rasa_patches
uninstalled, "ours" with it installed.

    python -m bench.micro [--model models/assistant.tar.gz]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Callable, List

import ujson
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.log_utils import configure_structlog

import rasa_patches
from bench.traffic import SEED, bench_conversations
from stores.tracker_store import RedactingSQLTrackerStore

ROOT = Path(__file__).resolve().parent.parent


def ms(call: Callable[[], object], number: int = 100) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1000


def conversation(model: Path) -> tuple[Agent, DialogueStateTracker]:
    """The first conversation of the bench's load but its last turn, answered
    by the model (the custom actions fail without an action server: the
    events are what matter)."""
    agent = Agent.load(str(model))

    async def talk() -> DialogueStateTracker:
        for text in bench_conversations(SEED, 1)[0][:-1]:
            await agent.handle_text(text, sender_id="micro")
        return await agent.tracker_store.retrieve("micro")

    return agent, asyncio.run(talk())


def store_turn(store: SQLTrackerStore, events: List[Event]) -> Callable[[], None]:
    """One turn's read and write: the conversation read, a turn added and
    saved, and the turn deleted again, so each call sees the same conversation."""
    asyncio.run(store.save(DialogueStateTracker.from_events("visitor", events, store.domain.slots)))
    turn = [UserUttered("does it hurt?", {"name": "faq_pain", "confidence": 1.0}),
            ActionExecuted("action_answer_faq"), BotUttered("Numbing cream first."),
            ActionExecuted("action_listen")]

    def call() -> None:
        tracker = asyncio.run(store.retrieve("visitor"))
        for event in turn:
            tracker.update(event)
        asyncio.run(store.save(tracker))
        with store.engine.begin() as connection:
            connection.exec_driver_sql(
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE sender_id = "
                f"'visitor' ORDER BY id DESC LIMIT {len(turn)})")

    return call


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    args = parser.parse_args(argv)
    logging.disable(logging.ERROR)  # the failed custom actions
    configure_structlog(logging.ERROR)  # as `rasa run` does: no debug lines
    agent, tracker = conversation(args.model)
    processor, slots = agent.processor, agent.domain.slots
    stored = [event.as_dict() for event in tracker.events]
    action = RemoteAction("action_answer_faq", None)
    body = action._action_call_format(tracker, agent.domain)
    answer = {"events": [{"event": "slot", "name": "topic", "value": "faq_pain"}],
              "responses": [{"text": "A numbing cream is applied first."}]}
    rows = []

    def compare(name: str, rasa_call: Callable, our_call: Callable, same: Callable) -> None:
        rasa_patches.uninstall()
        rasa_ms, rasa_result = ms(rasa_call), rasa_call()
        rasa_patches.install()
        our_ms, our_result = ms(our_call), our_call()
        assert same(rasa_result, our_result), f"{name}: not the same result"
        rows.append(f"| {name} | {rasa_ms:.3f} | {our_ms:.3f} | {our_ms / rasa_ms:.2f} |")

    compare("a conversation read back (events from JSON)",
            lambda: DialogueStateTracker.from_dict("micro", stored, slots),
            lambda: DialogueStateTracker.from_dict("micro", stored, slots),
            lambda a, b: a.events == b.events)
    compare("one prediction (the model's policy graph)",
            lambda: processor._predict_next_with_tracker(tracker),
            lambda: processor._predict_next_with_tracker(tracker),
            lambda a, b: a.max_confidence_index == b.max_confidence_index)
    compare("the action server's answer checked against Rasa's schema",
            lambda: action._validate_action_result(answer),
            lambda: action._validate_action_result(answer), lambda a, b: a == b)
    compare("the action server's call written as JSON",
            lambda: json.dumps(body), lambda: ujson.dumps(body),
            lambda a, b: json.loads(a) == json.loads(b))
    with tempfile.TemporaryDirectory() as folder:
        rasa_store = SQLTrackerStore(agent.domain, db=f"{folder}/rasa.db")
        our_store = RedactingSQLTrackerStore(agent.domain, db=f"{folder}/ours.db")
        compare("a turn's read and write of the tracker store (SQLite)",
                store_turn(rasa_store, tracker.events), store_turn(our_store, tracker.events),
                lambda a, b: True)  # the rows are compared in tests/test_speed.py
    print(f"Conversation of {len(tracker.events)} events; ms per call, best of 5 runs.\n")
    print("| step | Rasa 3.6 | ours | ours / Rasa |\n|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
