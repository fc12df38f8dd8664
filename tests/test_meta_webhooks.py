"""Messenger and WhatsApp webhooks accept only what Meta signed: the
verification handshake and the X-Hub-Signature-256 matrix, on the running
server."""
import hashlib
import hmac
import json

import pytest
import requests

from tests.support.channels import APP_SECRET, SECRETS, meta_signature
from tests.support.visitors import messenger_event, messenger_update, whatsapp_update

pytestmark = pytest.mark.e2e

VERIFY_TOKEN = {"messenger": SECRETS["FB_VERIFY_TOKEN"],
                "whatsapp": SECRETS["WHATSAPP_VERIFY_TOKEN"]}


def receipt(channel: str) -> bytes:
    """An update that needs no reply (a read receipt, a status callback)."""
    if channel == "messenger":
        update = messenger_update(messenger_event("1254459154682919",
                                                  read={"watermark": 1458668856253}))
    else:
        update = whatsapp_update("16315551234", statuses=[{
            "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA",
            "status": "delivered", "timestamp": "1750263773", "recipient_id": "16315551234"}])
    return json.dumps(update).encode()


def post_raw(channels, channel: str, body: bytes, headers: dict) -> requests.Response:
    return requests.post(f"{channels.assistant.url}/webhooks/{channel}/webhook", data=body,
                         headers={"Content-Type": "application/json", **headers}, timeout=10)


def sign(secret: str, body: bytes, algorithm=hashlib.sha256) -> str:
    return hmac.new(secret.encode(), body, algorithm).hexdigest()


def one_byte_changed(body: bytes) -> bytes:
    return body.replace(b"1458668856253", b"1458668856254").replace(b"1750263773", b"1750263774")


# (headers, body) for the channel's secret and a valid body; only "valid" is accepted.
CASES = {
    "valid": lambda s, b: ({"X-Hub-Signature-256": meta_signature(s, b)}, b),
    "missing": lambda s, b: ({}, b),
    "wrong secret": lambda s, b: ({"X-Hub-Signature-256": meta_signature("not-the-secret", b)}, b),
    "body changed by one byte": lambda s, b: (
        {"X-Hub-Signature-256": meta_signature(s, b)}, one_byte_changed(b)),
    "sha1 only": lambda s, b: ({"X-Hub-Signature": "sha1=" + sign(s, b, hashlib.sha1)}, b),
    "md5 prefix": lambda s, b: ({"X-Hub-Signature-256": "md5=" + sign(s, b, hashlib.md5)}, b),
    "malformed header": lambda s, b: ({"X-Hub-Signature-256": sign(s, b)}, b),  # no "sha256="
    "empty body": lambda s, b: ({"X-Hub-Signature-256": meta_signature(s, b"")}, b""),
}


@pytest.mark.parametrize("channel", ["messenger", "whatsapp"])
@pytest.mark.parametrize("case", list(CASES))
def test_only_a_valid_signature_over_the_raw_body_is_accepted(channels, channel, case):
    body = receipt(channel)
    assert one_byte_changed(body) != body
    headers, sent = CASES[case](APP_SECRET[channel], body)
    response = post_raw(channels, channel, sent, headers)
    assert response.status_code == (200 if case == "valid" else 403)


@pytest.mark.parametrize("channel", ["messenger", "whatsapp"])
def test_the_verification_handshake_answers_only_the_right_token(channels, channel):
    url = f"{channels.assistant.url}/webhooks/{channel}/webhook"
    right = requests.get(url, params={"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                      "hub.verify_token": VERIFY_TOKEN[channel]}, timeout=10)
    assert right.status_code == 200 and right.text == "1158201444"
    for token in ("wrong-token", ""):
        wrong = requests.get(url, params={"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                          "hub.verify_token": token}, timeout=10)
        assert wrong.status_code == 403 and "1158201444" not in wrong.text


@pytest.mark.parametrize("channel", ["messenger", "whatsapp"])
def test_signed_malformed_json_is_a_bad_request(channels, channel):
    body = b'{"object": "page", "entry": ['
    signature = {"X-Hub-Signature-256": meta_signature(APP_SECRET[channel], body)}
    assert post_raw(channels, channel, body, signature).status_code == 400
