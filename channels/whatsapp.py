"""WhatsApp through Meta's Cloud API.

Incoming: /webhooks/whatsapp/webhook (see channels/webhooks.py for the
signature check, the handshake, deduplication and the turns after the
acknowledgement). Text messages are screened like on the REST channel;
interactive replies (reply buttons, list rows) and template buttons send
their payload; the caption of an image, video or document is read as text
(an urgent symptom in it gets the urgent reply); media without a caption
(and audio, stickers) get the polite "I can't look at images" reply; status
callbacks (sent, delivered, read) and updates for another phone number are
ignored.
Outgoing: POST {graph_url}/{phone_number_id}/messages, rendered by
channels/render.py.
"""
from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel

from channels import outbound, render
from channels.messenger import GRAPH_URL
from channels.webhooks import (ATTACHMENT, Incoming, MetaInput, RenderedOutput, as_dict, as_list,
                               read_text)

MEDIA = {"image", "document", "audio", "video", "sticker"}


class WhatsAppOutput(RenderedOutput):
    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    def __init__(self, access_token: str, phone_number_id: str, graph_url: str) -> None:
        self.headers = {"Authorization": f"Bearer {access_token}"}
        self.url = f"{graph_url.rstrip('/')}/{phone_number_id}/messages"
        self.list_button = render.wording("utter_list_button")

    def parts(self, message: Dict[Text, Any]) -> List[Dict[str, Any]]:
        text = message.get("text") or ""
        return render.for_whatsapp(text, render.options(message),
                                   render.in_language_of(text, self.list_button))

    async def send_part(self, recipient_id: Text, part: Dict[str, Any]) -> None:
        await outbound.post(self.name(), self.url, headers=self.headers, json={
            "messaging_product": "whatsapp", "recipient_type": "individual",
            "to": recipient_id, **part})


class WhatsAppInput(MetaInput):
    OBJECT = "whatsapp_business_account"
    LABEL = "WhatsApp"
    SECRETS = {"verify_token": "WHATSAPP_VERIFY_TOKEN", "app_secret": "WHATSAPP_APP_SECRET",
               "access_token": "WHATSAPP_ACCESS_TOKEN",
               "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID"}
    OPTIONAL = {"graph_url": GRAPH_URL}

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    def __init__(self, verify_token: str, app_secret: str, access_token: str,
                 phone_number_id: str, graph_url: str = GRAPH_URL) -> None:
        super().__init__(verify_token, app_secret)
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.graph_url = graph_url

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppOutput(self.access_token, self.phone_number_id, self.graph_url)

    def messages_of(self, update: Dict[str, Any]) -> List[Incoming]:
        found = []
        for entry in as_list(update.get("entry")):
            for change in as_list(as_dict(entry).get("changes")):
                value = as_dict(as_dict(change).get("value"))
                number = str(as_dict(value.get("metadata")).get("phone_number_id") or "")
                if as_dict(change).get("field") != "messages" or number != self.phone_number_id:
                    continue  # another kind of update, or for another number
                found += [incoming for message in as_list(value.get("messages"))
                          for incoming in [read_message(as_dict(message))] if incoming]
        return found  # value["statuses"] (sent, delivered, read) are not messages


def read_message(message: Dict[str, Any]) -> Optional[Incoming]:
    """A Cloud API message as the bot reads it; None for what it ignores
    (reactions, locations, contacts, unsupported types)."""
    kind = message.get("type")
    if kind == "text":
        text = read_text(as_dict(message.get("text")).get("body"))
    elif kind == "interactive":
        interactive = as_dict(message.get("interactive"))
        reply = as_dict(interactive.get("button_reply") or interactive.get("list_reply"))
        text = read_text(reply.get("id"))
    elif kind == "button":  # a quick-reply button of a template message
        text = read_text(as_dict(message.get("button")).get("payload"))
    elif kind in MEDIA:
        text = read_text(as_dict(message.get(kind)).get("caption")) or ATTACHMENT
    else:
        return None
    sender, message_id = str(message.get("from") or ""), str(message.get("id") or "")
    if not sender or not message_id or not text.strip():
        return None
    return Incoming(sender, text, message_id)
