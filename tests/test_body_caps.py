"""Each route takes bodies up to its own cap and answers 413 beyond it: 16 KB
for the REST channel and the website chat (a visitor's message), more for
the platforms' webhooks (channels/webhooks.py says how much, and why)."""
import asyncio
import json
from urllib.parse import urlencode

import pytest
import requests
import websockets

from channels.guard import MAX_BODY_BYTES
from channels.webhooks import META_MAX_BODY_BYTES, TWILIO_MAX_BODY_BYTES
from tests.support.channels import APP_SECRET, meta_signature
from tests.support.visitors import messenger_event, messenger_update, twilio_params, twilio_signed
from tests.support.webchat import emit, open_websocket, receive


def padded(update: dict, size: int) -> bytes:
    """`update` as JSON of exactly `size` bytes (a field the webhook ignores
    padded)."""
    body = json.dumps({**update, "padding": ""}).encode()
    return json.dumps({**update, "padding": "x" * (size - len(body))}).encode()


def receipt() -> dict:
    return messenger_update(messenger_event("1254459154682919", read={"watermark": 1}))


def post_meta(channels, channel: str, body: bytes) -> requests.Response:
    signature = meta_signature(APP_SECRET[channel], body)
    return requests.post(f"{channels.assistant.url}/webhooks/{channel}/webhook", data=body,
                         headers={"Content-Type": "application/json",
                                  "X-Hub-Signature-256": signature}, timeout=30)


def post_twilio(channels, size: int) -> requests.Response:
    """A signed message whose form is exactly `size` bytes (a parameter the
    webhook ignores padded)."""
    params = twilio_params("whatsapp:+15550002222", "hi", Padding="")
    params["Padding"] = "a" * (size - len(urlencode(params)))
    return requests.post(f"{channels.assistant.url}/webhooks/twilio/webhook",
                         data=urlencode(params), headers={
                             "Content-Type": "application/x-www-form-urlencoded",
                             **twilio_signed(params)}, timeout=30)


@pytest.mark.e2e
@pytest.mark.parametrize("channel", ["messenger", "whatsapp"])
def test_a_meta_webhook_takes_up_to_3_mb_and_refuses_more(channels, channel):
    update = receipt() if channel == "messenger" else {
        "object": "whatsapp_business_account", "entry": []}
    assert post_meta(channels, channel, padded(update, META_MAX_BODY_BYTES)).status_code == 200
    assert post_meta(channels, channel, padded(update, META_MAX_BODY_BYTES + 1)).status_code == 413


@pytest.mark.e2e
def test_the_twilio_webhook_takes_up_to_64_kb_and_refuses_more(channels):
    assert post_twilio(channels, TWILIO_MAX_BODY_BYTES).status_code == 200
    assert post_twilio(channels, TWILIO_MAX_BODY_BYTES + 1).status_code == 413


@pytest.mark.e2e
def test_the_rest_channel_keeps_its_16_kb(channels):
    url = f"{channels.assistant.url}/webhooks/rest/webhook"
    body = padded({"sender": "caps-1", "message": "hi"}, MAX_BODY_BYTES + 1)
    assert requests.post(url, data=body, timeout=30).status_code == 413


@pytest.mark.e2e
def test_the_website_chats_long_polling_keeps_its_16_kb(channels):
    """socket.io's long-polling POST, the widget's first transport."""
    url = f"{channels.assistant.url}/socket.io/?EIO=4&transport=polling"
    assert requests.post(url, data=b"4" * MAX_BODY_BYTES, timeout=30).status_code == 400
    assert requests.post(url, data=b"4" * (MAX_BODY_BYTES + 1), timeout=30).status_code == 413


async def say_over_a_websocket(url: str, size: int) -> str:
    """An empty message (a widget's opening) in a socket.io packet of `size`
    bytes, padded with a field the channel ignores: the event that comes
    back, or "closed"."""
    websocket = await open_websocket(url, None)  # a program: no Origin header
    try:
        assert (await receive(websocket, 10)).startswith("0{")
        await websocket.send("40")
        assert (await receive(websocket, 10)).startswith("40")
        await emit(websocket, "session_request", {"session_id": None})
        _, session = json.loads((await receive(websocket, 10))[2:])
        data = {"message": "", "session_id": session, "padding": ""}
        data["padding"] = "x" * (size - len("42" + json.dumps(["user_uttered", data])))
        await emit(websocket, "user_uttered", data)
        try:
            event, _ = json.loads((await receive(websocket, 30))[2:])
        except websockets.exceptions.ConnectionClosed:
            return "closed"
        return event
    finally:
        await websocket.close()


@pytest.mark.e2e
def test_the_website_chats_websocket_keeps_its_16_kb(channels):
    url = channels.assistant.url
    assert asyncio.run(say_over_a_websocket(url, MAX_BODY_BYTES)) == "bot_uttered"
    assert asyncio.run(say_over_a_websocket(url, MAX_BODY_BYTES + 1)) == "closed"


@pytest.mark.unit
def test_the_twilio_cap_fits_the_longest_whatsapp_text_in_any_script():
    """4096 characters of 4 bytes in UTF-8 (emoji), percent-encoded, with 10
    media: the form stays under the cap."""
    media = {f"MediaUrl{n}": "https://api.twilio.com/2010-04-01/Accounts/" + "A" * 34
             + "/Messages/" + "M" * 34 + "/Media/" + "M" * 34 for n in range(10)}
    media |= {f"MediaContentType{n}": "application/vnd.openxmlformats-officedocument"
              for n in range(10)}
    params = twilio_params("whatsapp:+15550002222", "🙂" * 4096, NumMedia="10",
                           ProfileName="x" * 100, **media)
    assert len(urlencode(params)) < TWILIO_MAX_BODY_BYTES
