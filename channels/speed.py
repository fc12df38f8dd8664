"""Work Rasa 3.6 does on every message that it need not repeat.

- The action server's answer is checked against Rasa's JSON schema at every
  call, and jsonschema first checks the schema itself each time: most of
  that call's cost. Here the schema is checked once and its validator kept.
- Each call to the action server opens a new HTTP connection (a new aiohttp
  session). Here the connection is kept open between calls, for a shorter
  idle time than the action server's own (Sanic closes after 5 s), so a
  connection is never reused just as the server closes it. The call's body
  (the conversation and the domain) is written with ujson, as Sanic does:
  json.dumps of it was 7 % of the Rasa process's CPU.
- Every message runs the whole NLU pipeline, though many are the same:
  buttons, greetings, "yes", "thanks", common questions. Here the result
  for a text seen before is reused (the last NLU_CACHE_SIZE texts). The
  result depends on the text and the model only. The cache keeps no
  visitor's text: its key is a hash, and what it keeps is the intent, the
  ranking and the token offsets; a result with entities is not kept.
- At start-up, each of the two SpacyNLP nodes of the model's graph loads
  the spaCy pipeline from disk; here the second reuses the first's.
- Reading a conversation, Rasa finds each event's class by walking all
  subclasses of Event, for every event (10 % of the Rasa process's CPU in a
  py-spy profile under load). Here each type name is looked up once.
- Every prediction runs the model's graph through dask's scheduler, which
  costs more than the few nodes it runs. Here the needed nodes are called
  in dependency order, each once, as dask would.

Measured with `make bench` (README, "Speed"). Installed with the guard when
the channels register (channels.guard.answered); like the guard, these
replace Rasa 3.6 methods and must be rechecked on a Rasa upgrade.
"""
from __future__ import annotations

import asyncio
import copy
import hashlib
import os
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Dict, List, Tuple

import aiohttp
import ujson
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.core.events import Event
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.utils.endpoints import EndpointConfig

KEEP_ALIVE_S = 2.0  # under Sanic's KEEP_ALIVE_TIMEOUT of 5 s
NLU_CACHE_SIZE = int(os.environ.get("NLU_CACHE_SIZE", "2048"))  # 0: no cache


def install() -> None:
    if getattr(RemoteAction._validate_action_result, "checked_once", False):
        return
    RemoteAction._validate_action_result = _validate_action_result
    _validate_action_result.checked_once = True
    RemoteAction.run = _kept_alive(RemoteAction.run)
    MessageProcessor._parse_message_with_graph = _reused(
        MessageProcessor._parse_message_with_graph)
    SpacyNLP.load_model = staticmethod(lru_cache(maxsize=2)(SpacyNLP.load_model))
    Event.resolve_by_type = staticmethod(_resolve_by_type)
    DaskGraphRunner.run = _run_in_order


_run_with_dask = DaskGraphRunner.run
_event_types: Dict[str, Any] = {}
_resolve_by_type_uncached = Event.resolve_by_type


def _resolve_by_type(type_name: str, default: Any = None) -> Any:
    """Rasa's lookup of an event class by its type name, which walks all
    subclasses of Event for every event read from the tracker store."""
    cls = _event_types.get(type_name)
    if cls is None:
        cls = _resolve_by_type_uncached(type_name, default)
        if cls is not None and cls is not default:
            _event_types[type_name] = cls
    return cls


def _run_in_order(self: DaskGraphRunner, inputs: Dict[str, Any] | None = None,
                  targets: List[str] | None = None) -> Dict[str, Any]:
    """DaskGraphRunner.run without dask: the nodes the targets need, each
    called once with its needs' outputs; an input replaces the node of its
    name (Rasa's rule, which also refuses a text input naming a node)."""
    inputs = inputs or {}
    nodes = self._graph_schema.nodes
    for value in inputs.values():
        if isinstance(value, str) and value in nodes:
            raise GraphRunError(f"Input value '{value}' clashes with a node name.")
    outputs: Dict[str, Any] = {}

    def output(name: str) -> Any:
        if name not in outputs:
            if name in inputs:
                outputs[name] = (name, inputs[name])
            else:
                needs = nodes[name].needs.values()
                outputs[name] = self._instantiated_nodes[name](*(output(need) for need in needs))
        return outputs[name]

    try:
        return dict(output(target) for target in targets or self._graph_schema.target_names)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's check of an action server's answer, with the schema checked once."""
    try:
        _action_result_validator().validate(result)
    except ValidationError as error:
        error.message += ". Failed to validate Action server response from API."
        raise
    return True


class _OpenSession:
    """An aiohttp session that `async with` leaves open for the next call."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_exception: Any) -> bool:
        return False


_sessions: Dict[Tuple[int, int], aiohttp.ClientSession] = {}


def _session_for(endpoint: EndpointConfig) -> _OpenSession:
    """One session per action endpoint and event loop (a session belongs to
    the loop it was made in)."""
    key = (id(endpoint), id(asyncio.get_running_loop()))
    session = _sessions.get(key)
    if session is None or session.closed:
        auth = aiohttp.BasicAuth(**endpoint.basic_auth) if endpoint.basic_auth else None
        session = aiohttp.ClientSession(
            headers=endpoint.headers, auth=auth, json_serialize=ujson.dumps,
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_S))
        _sessions[key] = session
    return _OpenSession(session)


def _kept_alive(run):
    async def run_with_open_session(self, output_channel, nlg, tracker, domain):
        endpoint = self.action_endpoint
        if endpoint is not None and "session" not in vars(endpoint):
            endpoint.session = lambda: _session_for(endpoint)
        return await run(self, output_channel, nlg, tracker, domain)

    return run_with_open_session


class NLUCache:
    """The NLU results of the last `size` texts, least recently used out,
    for one model: a new model (staff retrained, rolled back) empties it."""

    def __init__(self, size: int = NLU_CACHE_SIZE) -> None:
        self.size = size
        self.model: Any = None
        self._results: OrderedDict[bytes, Dict[str, Any]] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, model: Any, text: str) -> Tuple[bytes, Dict[str, Any] | None]:
        if model is not self.model:
            self.model, self._results = model, OrderedDict()
        key = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
        result = self._results.get(key)
        if result is None:
            self.misses += 1
            return key, None
        self.hits += 1
        self._results.move_to_end(key)
        return key, {**copy.deepcopy(result), TEXT: text}

    def put(self, key: bytes, result: Dict[str, Any]) -> None:
        if result.get(ENTITIES):
            return  # entities are values from the message (a name, a date)
        self._results[key] = copy.deepcopy({k: v for k, v in result.items() if k != TEXT})
        if len(self._results) > self.size:
            self._results.popitem(last=False)


nlu_cache = NLUCache()


def _reused(parse):
    def parse_or_reuse(self, message, tracker, only_output_properties: bool = True):
        if not (only_output_properties and message.text and nlu_cache.size):
            return parse(self, message, tracker, only_output_properties)
        key, result = nlu_cache.get(self.graph_runner, message.text)
        if result is None:
            result = parse(self, message, tracker, only_output_properties)
            nlu_cache.put(key, result)
        return result

    return parse_or_reuse
