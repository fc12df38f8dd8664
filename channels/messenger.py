"""Facebook Messenger (the Messenger Platform), hardened.

Incoming: /webhooks/messenger/webhook (see channels/webhooks.py for the
signature check, the handshake, deduplication and the turns after the
acknowledgement). Every message of a batched update is read; echoes,
deliveries and reads are ignored; a quick reply or postback sends its
payload; a thumbs-up ("like", sent as a sticker) is thanked; a photo or file
without words gets the polite "I can't look at images" reply; typed text is
screened like on the REST channel.
Outgoing: the Send API, rendered by channels/render.py.
"""
from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel

from channels import outbound, render
from channels.screening import ACKNOWLEDGEMENT
from channels.webhooks import (ATTACHMENT, Incoming, MetaInput, RenderedOutput, as_dict, as_list,
                               read_text)

GRAPH_URL = "https://graph.facebook.com/v19.0"
# The "like" button sends a thumbs-up sticker, in three sizes as it is held.
LIKE_STICKERS = {"369239263222822", "369239343222814", "369239383222810"}


class MessengerOutput(RenderedOutput):
    @classmethod
    def name(cls) -> Text:
        return "messenger"

    def __init__(self, page_access_token: str, graph_url: str) -> None:
        self.headers = {"Authorization": f"Bearer {page_access_token}"}
        self.url = f"{graph_url.rstrip('/')}/me/messages"

    def parts(self, message: Dict[Text, Any]) -> List[Dict[str, Any]]:
        return render.for_messenger(message.get("text") or "", render.options(message))

    async def send_part(self, recipient_id: Text, part: Dict[str, Any]) -> None:
        await outbound.post(self.name(), self.url, headers=self.headers, json={
            "recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": part})


class MessengerInput(MetaInput):
    OBJECT = "page"
    LABEL = "Messenger"
    SECRETS = {"verify_token": "FB_VERIFY_TOKEN", "app_secret": "FB_APP_SECRET",
               "page_access_token": "FB_PAGE_ACCESS_TOKEN"}
    OPTIONAL = {"graph_url": GRAPH_URL}

    @classmethod
    def name(cls) -> Text:
        return "messenger"

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
            text = read_text(payload)
        elif is_like(message):
            text = ACKNOWLEDGEMENT
        else:
            text = read_text(message.get("text")) or (
                ATTACHMENT if message.get("attachments") else "")
    elif postback:
        message_id = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
        text = read_text(postback.get("payload"))
    else:
        return None
    if not sender or not message_id or not text.strip():
        return None
    return Incoming(sender, text, str(message_id))


def is_like(message: Dict[str, Any]) -> bool:
    """True for the thumbs-up of Messenger's like button."""
    stickers = [message.get("sticker_id")] + [
        as_dict(as_dict(attachment).get("payload")).get("sticker_id")
        for attachment in as_list(message.get("attachments"))]
    return any(str(sticker) in LIKE_STICKERS for sticker in stickers if sticker)
