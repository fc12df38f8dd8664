"""WhatsApp (or SMS) through Twilio: Rasa's `twilio` channel, hardened.

Incoming: /webhooks/twilio/webhook. Each request's X-Twilio-Signature is
checked with the twilio package's RequestValidator against the public URL
Twilio calls (`webhook_url`: behind a proxy the local URL differs), 403
otherwise. Each MessageSid is processed once (channels/memory.py,
rasa_patches/once.py); the webhook is answered at
once and the visitor's turns run after it, in order. Twilio shows no
buttons, so options are sent as a numbered list, and a reply of "1", "2"...
selects the option of that number in the bot's latest message. The Body of
a message with media (its caption) is read as text; media without one get
the polite "I can't look at images" reply.
Outgoing: Twilio's Messages API with an explicit timeout and retries.
"""
import logging
from typing import Any, Awaitable, Callable, Dict, List, Text
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels import guard, outbound, render
from channels.memory import Answered, Memory
from channels.screening import screen
from channels.webhooks import (ATTACHMENT, TWILIO_MAX_BODY_BYTES, Configured, RenderedOutput,
                               Turns, read_body, read_text)
from rasa_patches.once import MESSAGE_ID

logger = logging.getLogger(__name__)

API_URL = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def parameters(request: Request) -> RequestParameters:
    """The POSTed parameters, empty ones included: Twilio signs them all
    (a photo comes with an empty Body), while Sanic's `request.form` drops
    empty values."""
    if request.content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
        return RequestParameters()
    return RequestParameters(parse_qs(request.body.decode("utf-8", "replace"),
                                      keep_blank_values=True))


class TwilioNumberedOutput(RenderedOutput):
    @classmethod
    def name(cls) -> Text:
        return "twilio"

    def __init__(self, account_sid: str, auth_token: str, twilio_number: str,
                 api_url: str) -> None:
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.twilio_number = twilio_number
        self.url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.hint = render.wording("utter_reply_with_number")

    def parts(self, message: Dict[Text, Any]) -> List[str]:
        text = message.get("text") or ""
        return render.for_numbered(text, render.options(message),
                                   render.in_language_of(text, self.hint))

    async def send_part(self, recipient_id: Text, body: str) -> None:
        await outbound.post(self.name(), self.url, auth=self.auth, data={
            "From": self.twilio_number, "To": recipient_id, "Body": body})


class HardenedTwilioInput(Configured, TwilioInput):
    LABEL = "Twilio"
    SECRETS = {"account_sid": "TWILIO_ACCOUNT_SID", "auth_token": "TWILIO_AUTH_TOKEN",
               "twilio_number": "TWILIO_WHATSAPP_NUMBER", "webhook_url": "TWILIO_WEBHOOK_URL"}
    OPTIONAL = {"api_url": API_URL}

    def __init__(self, account_sid: str, auth_token: str, twilio_number: str,
                 webhook_url: str, api_url: str = API_URL) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.webhook_url = webhook_url
        self.api_url = api_url
        self.validator = RequestValidator(auth_token)
        self.memory = Memory(self.name())
        self.turns = Turns(self.name())

    def get_output_channel(self) -> OutputChannel:
        return TwilioNumberedOutput(self.account_sid, self.auth_token, self.twilio_number,
                                    self.api_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = guard.answered(on_new_message)
        webhook = Blueprint("twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            await read_body(request, self.name(), TWILIO_MAX_BODY_BYTES)
            signature = request.headers.get("X-Twilio-Signature") or ""
            form = parameters(request)
            if not signature or not self.validator.validate(self.webhook_url, form, signature):
                logger.warning("webhook.refused channel=twilio reason=signature")
                return response.text("invalid signature", status=403)
            sender = form.get("From") or ""
            message_id = form.get("MessageSid") or ""
            agent = request.app.ctx.agent
            answered = self.memory.answered_ids(agent)
            if sender and message_id and not answered.has(message_id):
                self.turns.run(sender, self._turn(on_new_message, agent, form, sender, message_id,
                                                  answered))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook

    def _turn(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any,
              form: RequestParameters, sender: str, message_id: str, answered: Answered,
              ) -> Callable[[], Awaitable[None]]:
        has_media = (form.get("NumMedia") or "0") != "0"
        body = (form.get("Body") or "").replace("¡", "@")  # carriers corrupt @ in SMS

        async def turn() -> None:
            text = await self._read(agent, sender, body) or (ATTACHMENT if has_media else "")
            if text.strip() and await on_new_message(UserMessage(
                    text, self.get_output_channel(), sender, input_channel=self.name(),
                    message_id=message_id, metadata={MESSAGE_ID: message_id})):
                answered.add(message_id)
        return turn

    @staticmethod
    async def _read(agent: Any, sender: str, body: str) -> str:
        """The payload of the option a number picks, else the screened text.
        The options are those of the bot's latest message in the stored
        conversation, so the mapping survives restarts and needs no state."""
        if render.NUMBERED_REPLY.match(body):
            try:
                tracker = await agent.tracker_store.retrieve(sender)
            except Exception:  # noqa: BLE001 - the store down: the turn itself will say so
                tracker = None
            events = [event.as_dict() for event in tracker.events] if tracker else []
            payload = render.chosen(body, render.last_offered(events))
            if payload:
                return screen(payload)
        return read_text(body)
