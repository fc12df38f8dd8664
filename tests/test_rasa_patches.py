"""The changes this project makes to Rasa's own methods."""
import asyncio

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.core.events import Event

from channels import guard

REPLACED = [(RemoteAction, "run"), (RemoteAction, "_validate_action_result"),
            (MessageProcessor, "handle_message"), (MessageProcessor, "_parse_message_with_graph"),
            (FailSafeTrackerStore, "on_tracker_store_error"),
            (FailSafeTrackerStore, "on_tracker_store_retrieve_error"),
            (SpacyNLP, "load_model"), (Event, "resolve_by_type"), (DaskGraphRunner, "run")]


@pytest.fixture
def rasa_restored():
    """Rasa's own methods back after the test, whatever it installed."""
    saved = [(owner, name, vars(owner)[name]) for owner, name in REPLACED]
    yield
    for owner, name, original in saved:
        setattr(owner, name, original)


@pytest.mark.xfail(strict=True, reason="issue 19: the guard's 'installed' flag is on "
                   "RemoteAction.run, which the speed-ups wrap again without it")
def test_two_channels_registering_put_one_time_limit_on_the_action_server(
        monkeypatch, rasa_restored):
    time_limits = []
    wait_for = asyncio.wait_for

    async def counted_wait_for(awaitable, timeout):
        time_limits.append(timeout)
        return await wait_for(awaitable, timeout)

    async def rasas_run(self, output_channel, nlg, tracker, domain):
        return []

    async def on_new_message(message):
        pass

    monkeypatch.setattr(RemoteAction, "run", rasas_run)
    monkeypatch.setattr(asyncio, "wait_for", counted_wait_for)
    guard.answered(on_new_message)  # the REST channel's blueprint
    guard.answered(on_new_message)  # the website chat's
    asyncio.run(RemoteAction("action_answer_faq", None).run(None, None, None, None))

    assert time_limits == [guard.ACTION_TIMEOUT_S]
