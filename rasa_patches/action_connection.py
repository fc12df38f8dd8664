"""One kept-alive connection to the action server, its calls written with ujson.

What Rasa does: each call to the action server (EndpointConfig.request)
opens a new aiohttp session, so a new HTTP connection, and writes the call's
body (the conversation and the domain) with json.dumps.

What we change: the action endpoint's session is kept open between calls,
one per event loop (a session belongs to the loop it was made in), closing
idle connections after KEEP_ALIVE_S: shorter than the action server's own
idle time (Sanic closes after 5 s), so a connection is never reused just as
the server closes it. The body is written with ujson, as Sanic does. Only
the action endpoint is changed, not Rasa's other endpoints.

Why: json.dumps of the call's body was 7 % of the Rasa process's CPU in a
py-spy profile under the bench's load; ujson writes it in 0.42 to 0.45 of the time
(`python -m bench.micro`; docs/benchmarks.md, "Changes to Rasa").

Rasa names relied on: RemoteAction.run and RemoteAction.action_endpoint;
EndpointConfig.request's `async with self.session() as session`, so that an
instance attribute `session` replaces the method; EndpointConfig.headers and
basic_auth. Rasa's session's total timeout (5 minutes) is aiohttp's
default, which the kept session has too; action_time_limit gives up sooner.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple

import aiohttp
import ujson
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from rasa_patches.change import Change, Replacement

KEEP_ALIVE_S = 2.0  # under Sanic's KEEP_ALIVE_TIMEOUT of 5 s


class _OpenSession:
    """An aiohttp session that `async with` leaves open for the next call."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_exception: Any) -> bool:
        return False


_sessions: Dict[Tuple[int, int], aiohttp.ClientSession] = {}


def session_for(endpoint: EndpointConfig) -> _OpenSession:
    """One session per action endpoint and event loop."""
    key = (id(endpoint), id(asyncio.get_running_loop()))
    session = _sessions.get(key)
    if session is None or session.closed:
        auth = aiohttp.BasicAuth(**endpoint.basic_auth) if endpoint.basic_auth else None
        session = aiohttp.ClientSession(
            headers=endpoint.headers, auth=auth, json_serialize=ujson.dumps,
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_S))
        _sessions[key] = session
    return _OpenSession(session)


def kept_alive(run):
    """RemoteAction.run, with its endpoint's session kept open."""
    async def run_with_open_session(self, output_channel, nlg, tracker, domain):
        endpoint = self.action_endpoint
        if endpoint is not None and "session" not in vars(endpoint):
            endpoint.session = lambda: session_for(endpoint)
        return await run(self, output_channel, nlg, tracker, domain)

    return run_with_open_session


CHANGE = Change("action_connection", for_correctness=False, replaces=(
    Replacement(RemoteAction, "run", kept_alive),))
