"""Facebook Messenger (the Messenger Platform), hardened.

Incoming: /webhooks/messenger/webhook (see channels/webhooks.py for the
signature check, the handshake, deduplication and the turns after the
acknowledgement). Every message of a batched update is read; echoes,
deliveries and reads are ignored; a quick reply or postback sends its
payload; a photo or file gets the polite "I can't look at images" reply;
typed text is screened like on the REST channel.
Outgoing: the Send API, rendered by channels/render.py.
"""
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel

from channels import outbound, render
from channels.screening import screen
from channels.webhooks import (ATTACHMENT, Incoming, MetaInput, as_dict, as_list,
                               required)

logger = logging.getLogger(__name__)

GRAPH_URL = "https://graph.facebook.com/v19.0"
SECRETS = {"verify_token": "FB_VERIFY_TOKEN", "app_secret": "FB_APP_SECRET",
           "page_access_token": "FB_PAGE_ACCESS_TOKEN"}


class MessengerOutput(OutputChannel):
    @classmethod
    def name(cls) -> Text:
        return "messenger"

    def __init__(self, page_access_token: str, graph_url: str) -> None:
        self.page_access_token = page_access_token
        self.graph_url = graph_url.rstrip("/")

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        for part in render.for_messenger(message.get("text") or "", render.options(message)):
            try:
                await outbound.post(self.name(), f"{self.graph_url}/me/messages", json={
                    "recipient": {"id": recipient_id}, "messaging_type": "RESPONSE",
                    "message": part},
                    headers={"Authorization": f"Bearer {self.page_access_token}"})
            except outbound.DeliveryFailed:
                logger.error("send.failed channel=messenger")
                return  # the rest would read out of order

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class MessengerInput(MetaInput):
    OBJECT = "page"

    @classmethod
    def name(cls) -> Text:
        return "messenger"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "MessengerInput":
        settings = required("Messenger", credentials, SECRETS)
        return cls(**settings, graph_url=(credentials or {}).get("graph_url") or GRAPH_URL)

    def __init__(self, verify_token: str, app_secret: str, page_access_token: str,
                 graph_url: str = GRAPH_URL) -> None:
        super().__init__(verify_token, app_secret)
        self.page_access_token = page_access_token
        self.graph_url = graph_url

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(self.page_access_token, self.graph_url)

    def messages_of(self, update: Dict[str, Any]) -> List[Incoming]:
        return [incoming for entry in as_list(update.get("entry"))
                for event in as_list(as_dict(entry).get("messaging"))
                for incoming in [read_event(as_dict(event))] if incoming]


def read_event(event: Dict[str, Any]) -> Optional[Incoming]:
    """A messaging event as the bot reads it; None for what it ignores
    (echoes of its own messages, deliveries, reads, reactions...)."""
    sender = str(as_dict(event.get("sender")).get("id") or "")
    message, postback = as_dict(event.get("message")), as_dict(event.get("postback"))
    if message and not message.get("is_echo"):
        message_id = message.get("mid")
        payload = as_dict(message.get("quick_reply")).get("payload")
        if payload:
            text = screen(str(payload))
        elif message.get("attachments"):
            text = ATTACHMENT
        else:
            text = screen(str(message.get("text") or ""))
    elif postback:
        message_id = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
        text = screen(str(postback.get("payload") or ""))
    else:
        return None
    if not sender or not message_id or not text.strip():
        return None
    return Incoming(sender, text, str(message_id))
