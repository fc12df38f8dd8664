"""The REST channel (POST /webhooks/rest/webhook), locked down.

Rasa's own REST channel takes any JSON: without a sender it files the
message under a shared conversation named "default", and a body of the wrong
shape is a server error. Here a message is `{"sender": "...", "message":
"..."}`, with an optional `"message_id": "..."`, and nothing else gets
through:

- 413: a body over 16 KB (MAX_BODY_BYTES, for every route of the server
  but the platforms' webhooks, whose caps channels/webhooks.py sets);
- 400: not a JSON object, or a sender that is missing, empty or not of
  SENDER's form, or a message that is missing or not a string, or a
  message_id that is given but not of the same form (rasa_patches/once.py ID_FORM);
- 429: more than RATE_LIMIT_PER_MINUTE (30) messages of one sender a minute
  (in cluster mode, from all the replicas together: channels/memory.py).

An accepted message is always answered (channels/guard.py), typed intents
are screened (channels/screening.py), and GET /webhooks/rest/health says
which part of the assistant is down, if any. A message sent again with the
same message_id (a client's or nginx's retry) runs no second turn: it is
answered with the replies already given (rasa_patches/once.py).
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Awaitable, Callable, Dict, Optional

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import text

from channels import guard
from channels.memory import Memory
from channels.screening import screen
from rasa_patches.once import ID_FORM, MESSAGE_ID

# The form of a sender: a web session, a phone, a test run.
SENDER = re.compile(r"[A-Za-z0-9_.:@+-]{1,128}")
HEALTH_TIMEOUT_S = 2.0


def parse(body: bytes) -> tuple[Optional[Dict[str, Optional[str]]], Optional[str]]:
    """The message of a request body (its message_id None if not given), or
    why it is refused."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None, "the body is not JSON, or nested too deeply"
    if not isinstance(data, dict):
        return None, "the body must be a JSON object"
    sender, message = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not SENDER.fullmatch(sender):
        return None, "sender must be 1-128 letters, digits or _.:@+-"
    if not isinstance(message, str):
        return None, "message must be a string"
    message_id = data.get(MESSAGE_ID)
    if message_id is not None and not (isinstance(message_id, str)
                                       and ID_FORM.fullmatch(message_id)):
        return None, "message_id must be 1-128 letters, digits or _.:@+-"
    return {"sender": sender, "message": message, MESSAGE_ID: message_id}, None


class ClinicRestInput(RestInput):
    def __init__(self) -> None:
        self.memory = Memory(self.name())

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> ClinicRestInput:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        turn = guard.answered(on_new_message)
        webhook = Blueprint("clinic_rest_webhook", __name__)

        @webhook.listener("before_server_start")
        async def cap_bodies(app, _loop) -> None:
            app.config.REQUEST_MAX_SIZE = guard.max_body_bytes()

        @webhook.route("/", methods=["GET"])
        async def alive(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/health", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            parts = await check_parts(request.app.ctx.agent)
            healthy = all(state == "ok" for state in parts.values())
            return response.json({"status": "ok" if healthy else "degraded", "parts": parts},
                                 status=200 if healthy else 503)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            message, refusal = parse(request.body)
            if refusal:
                return response.json({"error": refusal}, status=400)
            if not self.memory.rate_limiter(request.app.ctx.agent).allow(message["sender"]):
                return response.json({"error": "too many messages"}, status=429,
                                     headers={"Retry-After": "10"})
            collector = CollectingOutputChannel()
            metadata = {MESSAGE_ID: message[MESSAGE_ID]} if message[MESSAGE_ID] else None
            if not await turn(UserMessage(screen(message["message"]), collector,
                                          message["sender"], input_channel=self.name(),
                                          metadata=metadata)):
                del collector.messages[:-1]  # not stored: only "temporarily unavailable"
            return response.json(collector.messages)

        return webhook


async def check_parts(agent: Any) -> Dict[str, str]:
    """"ok" or what is wrong, for each part a turn needs."""
    checks = {"tracker_store": _tracker_store(agent), "lock_store": _lock_store(agent),
              "action_server": _action_server(agent)}
    results = await asyncio.gather(*(asyncio.wait_for(check, HEALTH_TIMEOUT_S)
                                      for check in checks.values()), return_exceptions=True)
    return {part: "ok" if result is None else f"down ({type(result).__name__})"
            for part, result in zip(checks, results)}


async def _tracker_store(agent: Any) -> None:
    store = getattr(agent.tracker_store, "_tracker_store", agent.tracker_store)
    engine = getattr(store, "engine", None)
    if engine is not None:
        def ping() -> None:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        await asyncio.to_thread(ping)


async def _lock_store(agent: Any) -> None:
    redis = getattr(agent.lock_store, "red", None)
    if redis is not None:
        await asyncio.to_thread(redis.ping)


async def _action_server(agent: Any) -> None:
    """The action server and the bookings database behind it (its /ready)."""
    endpoint = agent.action_endpoint
    if endpoint is None:
        return
    url = endpoint.url.rsplit("/", 1)[0] + "/ready"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=endpoint.headers) as reply:
            reply.raise_for_status()
