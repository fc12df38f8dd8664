"""Facebook Messenger (the Messenger Platform), hardened.

Incoming: /webhooks/messenger/webhook (see channels/webhooks.py for the
signature check, the handshake, deduplication and the turns after the
acknowledgement). Every message of a batched update is read; echoes,
deliveries and reads are ignored; a quick reply or postback sends its
payload; a photo or file gets the polite "I can't look at images" reply;
typed text is screened like on the REST channel.
Outgoing: the Send API, rendered by channels/render.py.
"""
from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel

from channels import outbound, render
from channels.screening import screen
from channels.webhooks import ATTACHMENT, Incoming, MetaInput, RenderedOutput, as_dict, as_list

GRAPH_URL = "https://graph.facebook.com/v19.0"


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
