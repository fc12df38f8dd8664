"""What the Messenger, WhatsApp and Twilio connectors share: their secrets
checked at start-up, the size of the bodies they take, Meta's signature and
verification handshake, each message processed once (its id remembered when
answered, channels/memory.py, and checked against the stored conversation,
rasa_patches/once.py), and each visitor's turns run in order after the webhook
has been acknowledged."""
import asyncio
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage

from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard, outbound
from channels.memory import Answered, Memory
from channels.screening import screen
from core.intents import ATTACHMENT_INTENT
from rasa_patches.once import MESSAGE_ID

logger = logging.getLogger(__name__)

SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")
ATTACHMENT = f"/{ATTACHMENT_INTENT}"  # a photo or file: a rule answers it (data/rules.yml)

# The platforms' webhooks take larger bodies than the server-wide cap of
# guard.MAX_BODY_BYTES (16 KB, one visitor's message on REST or the website
# chat), each up to the largest delivery its platform documents:
# - Meta: "Webhooks payloads can be up to 3MB" (WhatsApp Cloud API, Webhooks);
#   the Graph API's webhooks are "sent in a batch with a maximum of 1000
#   updates" (Webhooks, Getting Started): 3 KB an update for Messenger. A
#   WhatsApp text of 4096 characters, its limit, is under 50 KB escaped.
# - Twilio: a form of the message's parameters (Messaging, "Twilio's request
#   to your incoming message Webhook URL"): a Body of up to 1600 characters,
#   taken here up to WhatsApp's 4096, each at most 12 bytes percent-encoded
#   (48 KB), and up to 10 media URLs and types and the other parameters.
META_MAX_BODY_BYTES = 3 * 1024 * 1024
TWILIO_MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Incoming:
    """A visitor's message as the bot reads it: screened text or a payload."""
    sender: str
    text: str
    message_id: str


def as_dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def read_text(text: Any) -> str:
    """A platform message's text, screened (channels/screening.py); "" when
    it has none (a location, a media message without a caption)."""
    text = str(text or "")
    return screen(text) if text.strip() else ""


async def read_body(request: Request, channel: str, limit: int) -> bytes:
    """The body of a request to a streaming route (`stream=True`, which lifts
    the server-wide cap), up to `limit` bytes; PayloadTooLarge (HTTP 413)
    beyond."""
    request.stream.request_max_size = limit
    try:
        await request.receive_body()
    except PayloadTooLarge:
        logger.warning("webhook.refused channel=%s reason=too_large", channel)
        raise
    return request.body


class ChannelConfigError(RasaException):
    """A channel is enabled without one of its secrets or settings."""


def required(channel: str, credentials: Optional[Mapping[str, Any]],
             variables: Mapping[str, str]) -> Dict[str, str]:
    """The settings `variables` names (credential key -> environment
    variable), each present and substituted. The error names the variable,
    never the value."""
    credentials = credentials or {}
    values = {}
    for key, variable in variables.items():
        value = str(credentials.get(key) or "").strip()
        if not value or "${" in value:
            raise ChannelConfigError(
                f"The {channel} channel is enabled but '{key}' is empty or was not "
                f"substituted: set the environment variable {variable} (see "
                f"docs/channels.md).")
        values[key] = value
    return values


class Configured:
    """An input channel built from its credentials: `SECRETS` (credential key
    -> environment variable) required, `OPTIONAL` settings with defaults."""

    LABEL = ""
    SECRETS: Dict[str, str] = {}
    OPTIONAL: Dict[str, str] = {}

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> Any:
        settings = required(cls.LABEL, credentials, cls.SECRETS)
        optional = {key: (credentials or {}).get(key) or default
                    for key, default in cls.OPTIONAL.items()}
        return cls(**settings, **optional)


class RenderedOutput(OutputChannel):
    """Sends a bot message as the parts its channel renders it into, in order."""

    def parts(self, message: Dict[str, Any]) -> List[Any]:
        raise NotImplementedError

    async def send_part(self, recipient_id: str, part: Any) -> None:
        raise NotImplementedError

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        for part in self.parts(message):
            try:
                await self.send_part(recipient_id, part)
            except outbound.DeliveryFailed:
                logger.error("send.failed channel=%s", self.name())
                return  # the rest would read out of order

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


def signed_by(secret: str, body: bytes, header: Optional[str]) -> bool:
    """True when `header` is Meta's X-Hub-Signature-256 of the raw `body`."""
    match = SIGNATURE.match(header or "")
    if not body or not match:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1))


def verification(request: Request, verify_token: str) -> HTTPResponse:
    """Meta's subscription handshake: echo `hub.challenge` for our token."""
    token = request.args.get("hub.verify_token") or ""
    if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode("utf-8"), verify_token.encode("utf-8")):
        return response.text(request.args.get("hub.challenge") or "")
    return response.text("verification failed", status=403)


class Turns:
    """Runs each visitor's turns one after the other, in arrival order, as
    background tasks: the webhook answers the platform at once."""

    def __init__(self, channel: str) -> None:
        self._channel = channel
        self._last: Dict[str, asyncio.Task] = {}  # only senders with a turn under way

    def run(self, sender: str, turn: Callable[[], Awaitable[None]]) -> None:
        previous = self._last.get(sender)

        async def in_order() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            try:
                await turn()
            except Exception as error:  # noqa: BLE001 - a failed turn must not stop the next
                logger.error("turn.failed channel=%s error=%s", self._channel,
                             type(error).__name__)

        task = asyncio.get_running_loop().create_task(in_order())
        self._last[sender] = task
        task.add_done_callback(lambda done: self._forget(sender, done))

    def _forget(self, sender: str, done: asyncio.Task) -> None:
        if self._last.get(sender) is done:
            del self._last[sender]


class MetaInput(Configured, InputChannel):
    """A Meta webhook (Messenger, WhatsApp Cloud API): the verification
    handshake on GET; on POST, the signature over the raw body checked before
    anything is parsed, every message of the batch taken once, and the
    platform answered before the bot's turns run."""

    OBJECT = ""  # the `object` of the platform's updates

    def __init__(self, verify_token: str, app_secret: str) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.memory = Memory(self.name())
        self.turns = Turns(self.name())

    def messages_of(self, update: Dict[str, Any]) -> List[Incoming]:
        """The visitors' messages of an update, echoes and receipts left out."""
        raise NotImplementedError

    def get_output_channel(self) -> OutputChannel:
        raise NotImplementedError

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = guard.answered(on_new_message)
        webhook = Blueprint(f"{self.name()}_webhook", __name__)
        channel = self.name()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return verification(request, self.verify_token)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            body = await read_body(request, channel, META_MAX_BODY_BYTES)
            if not signed_by(self.app_secret, body,
                             request.headers.get("X-Hub-Signature-256")):
                logger.warning("webhook.refused channel=%s reason=signature", channel)
                return response.text("invalid signature", status=403)
            try:
                update = json.loads(body)
            except ValueError:
                return response.text("malformed JSON", status=400)
            if not isinstance(update, dict) or update.get("object") != self.OBJECT:
                return response.text("not an update of this channel", status=404)
            answered = self.memory.answered_ids(request.app.ctx.agent)
            for message in self.messages_of(update):
                if not answered.has(message.message_id):
                    self.turns.run(message.sender, self._turn(on_new_message, message, answered))
            return response.text("EVENT_RECEIVED")

        return webhook

    def _turn(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: Incoming,
              answered: Answered) -> Callable[[], Awaitable[None]]:
        async def turn() -> None:
            if await on_new_message(UserMessage(
                    message.text, self.get_output_channel(), message.sender,
                    input_channel=self.name(), message_id=message.message_id,
                    metadata={MESSAGE_ID: message.message_id})):
                answered.add(message.message_id)
        return turn
