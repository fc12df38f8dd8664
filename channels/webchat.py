"""The website chat: Rasa's socket.io channel, screened, open only to the
clinic's own web pages, with sessions that work.

Two things of Rasa 3.6's `SocketIOInput` are put right here:
- it creates its socket.io server with `cors_allowed_origins=[]`, which in
  python-engineio turns the Origin check off, so a page of any site could talk
  to the assistant from a visitor's browser. Here the server accepts only the
  origins of `cors_allowed_origins` in credentials.yml; a handshake from
  another origin gets HTTP 400. (Requests without an Origin header come from
  programs, not browsers, and are not affected.)
- its `session_request` handler calls python-socketio's `enter_room` without
  awaiting it (a coroutine in python-socketio 5.x), so with
  `session_persistence` the visitor never joins the session's room and never
  receives a reply. The handler here awaits it, and takes a session id from
  the browser only in the form the server issues (32 hex digits): a page
  cannot pick another channel's sender id, such as a phone number.

Each message of the widget carries an id it made (`metadata.message_id`),
which it keeps when it sends the message again: after a reconnect or a
reload, for a message no reply has come to. A message whose id the
conversation has stored runs no second turn and gets the replies given then
(rasa_patches/once.py). Every reply names the message it answers (`reply_to`), so
the widget knows which of its messages were answered. An id not of the form
rasa_patches/once.py takes is dropped: the message is taken as one without an id.
"""
from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

from channels import guard
from channels.screening import ScreenedSocketIOInput
from rasa_patches.once import ID_FORM, MESSAGE_ID

logger = logging.getLogger(__name__)

# The demo page of `make run` (web/index.html on port 8080).
DEMO_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
SESSION_ID = re.compile(r"[0-9a-f]{32}")


def allowed_origins(value: Any) -> list[str]:
    """The origins of credentials.yml, checked: a non-empty list of
    scheme://host[:port] (as browsers send them: no path, no slash, no "*")."""
    origins = [value] if isinstance(value, str) else value
    if (not isinstance(origins, list) or not origins
            or not all(isinstance(origin, str) and ORIGIN.fullmatch(origin) for origin in origins)):
        raise ValueError(
            "credentials.yml: channels.webchat.WebChatInput: cors_allowed_origins must be a "
            "list of the web pages' origins, such as https://www.example-clinic.com "
            f"(scheme and host, optional port, no path or trailing slash, no '*'); got {value!r}")
    return list(origins)


def session_id(data: Any) -> str:
    """The session the browser asks to continue, if it is one the server could
    have issued; otherwise a new one."""
    requested = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(requested, str) and SESSION_ID.fullmatch(requested):
        return requested
    return uuid.uuid4().hex


class RepliesTo(SocketIOOutput):
    """Rasa's socket.io output, each reply marked with the id of the
    visitor's message it answers."""

    def __init__(self, output: SocketIOOutput, message_id: str) -> None:
        super().__init__(output.sio, output.bot_message_evt)
        self.message_id = message_id

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await super()._send_message(socket_id, {**response, "reply_to": self.message_id})


def with_message_id(message: UserMessage) -> UserMessage:
    """The message with its id checked, and its replies marked with it."""
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    message_id = metadata.get(MESSAGE_ID)
    if message_id is not None and not (isinstance(message_id, str)
                                       and ID_FORM.fullmatch(message_id)):
        logger.info("webchat.message_id_dropped reason=form")
        metadata = {key: value for key, value in metadata.items() if key != MESSAGE_ID}
        message_id = None
    message.metadata = metadata
    if message_id and isinstance(message.output_channel, SocketIOOutput):
        message.output_channel = RepliesTo(message.output_channel, message_id)
    return message


class WebChatInput(ScreenedSocketIOInput):
    """The socket.io channel of the website chat widget (web/)."""

    cors_allowed_origins: tuple[str, ...] = DEMO_ORIGINS

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        credentials = dict(credentials or {})
        origins = allowed_origins(credentials.pop("cors_allowed_origins", list(DEMO_ORIGINS)))
        channel = super().from_credentials(credentials)
        channel.cors_allowed_origins = tuple(origins)
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        async def with_issued_session(message: UserMessage) -> None:
            if self.session_persistence and not SESSION_ID.fullmatch(message.sender_id or ""):
                logger.info("webchat.message_refused reason=session_id")
                return
            await on_new_message(with_message_id(message))

        webhook = super().blueprint(with_issued_session)
        sio = self.sio  # the socket.io server Rasa created for this blueprint
        sio.eio.cors_allowed_origins = list(self.cors_allowed_origins)
        # A message over a websocket is capped as one in a POST (16 KB);
        # Sanic's cap covers only the POSTs of long-polling.
        sio.eio.max_http_buffer_size = guard.max_body_bytes()

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            session = session_id(data)
            if self.session_persistence:
                await sio.enter_room(sid, session, namespace=self.namespace)
            await sio.emit("session_confirm", session, room=sid, namespace=self.namespace)
            logger.debug("webchat.session sid=%s", sid)

        return webhook
