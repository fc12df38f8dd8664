"""The website chat's socket.io channel (channels/webchat.py): only the
configured origins, sessions issued by the server, replies that arrive."""
import asyncio
import json
import uuid

import pytest
import requests
import socketio
import websockets
import yaml

from actions.actions import KNOWLEDGE
from channels.webchat import DEMO_ORIGINS, SESSION_ID, WebChatInput, allowed_origins, session_id
from tests.support.project import ROOT
from tests.support.replies import DISCLOSURE
from tests.support.webchat import emit, open_session, open_websocket, receive

FORBIDDEN = "http://evil.example"
PAIN = KNOWLEDGE.by_id["pain"]


def handshake(url: str, origin: str) -> requests.Response:
    """The first request of a socket.io client: an engine.io polling handshake."""
    return requests.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                        headers={"Origin": origin}, timeout=10)


@pytest.mark.unit
@pytest.mark.parametrize("value, expected", [
    (["https://www.example-clinic.com"], ["https://www.example-clinic.com"]),
    ("https://www.example-clinic.com", ["https://www.example-clinic.com"]),
    (["http://localhost:8080", "http://127.0.0.1:8080"], ["http://localhost:8080",
                                                          "http://127.0.0.1:8080"]),
])
def test_allowed_origins_are_read_as_a_list(value, expected):
    assert allowed_origins(value) == expected


@pytest.mark.unit
@pytest.mark.parametrize("value", [
    [], None, "*", ["*"], ["https://www.example-clinic.com/"], ["www.example-clinic.com"],
    ["https://www.example-clinic.com/chat"], ["ftp://example-clinic.com"], [8080],
    {"origin": "https://www.example-clinic.com"},
])
def test_an_empty_wildcard_or_malformed_origin_stops_the_server(value):
    # An empty list would switch python-engineio's Origin check off altogether.
    with pytest.raises(ValueError, match="cors_allowed_origins must be a list"):
        WebChatInput.from_credentials({"cors_allowed_origins": value})


@pytest.mark.unit
def test_the_shipped_credentials_open_the_chat_to_the_demo_page_only():
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    channel = WebChatInput.from_credentials(credentials["channels.webchat.WebChatInput"])
    assert channel.cors_allowed_origins == DEMO_ORIGINS
    assert channel.session_persistence is True


@pytest.mark.unit
@pytest.mark.parametrize("data", [
    None, "text", {}, {"session_id": None}, {"session_id": "15551234567"},
    {"session_id": "+15551234567"}, {"session_id": "A" * 32}, {"session_id": "a" * 33},
    {"session_id": ["a" * 32]},
])
def test_a_session_id_not_of_the_servers_form_is_replaced_by_a_new_one(data):
    requested = data.get("session_id") if isinstance(data, dict) else data
    new = session_id(data)
    assert SESSION_ID.fullmatch(new) and new != requested


@pytest.mark.unit
def test_a_session_id_the_server_issued_is_kept():
    assert session_id({"session_id": "0123456789abcdef" * 2}) == "0123456789abcdef" * 2


@pytest.mark.e2e
def test_a_handshake_from_another_origin_is_refused(assistant):
    response = handshake(assistant.url, FORBIDDEN)
    assert response.status_code == 400
    assert "not an accepted origin" in response.text
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.e2e
@pytest.mark.parametrize("origin", DEMO_ORIGINS)
def test_a_handshake_from_the_clinics_pages_is_accepted(assistant, origin):
    response = handshake(assistant.url, origin)
    assert response.status_code == 200
    assert response.text.startswith("0{")  # engine.io "open" packet
    assert response.headers["Access-Control-Allow-Origin"] == origin


async def converse(url: str, origin: str, session: object, messages: list[str]) -> dict:
    """Ask for `session` (open_session), send the messages, collect the
    bot's replies. A last "/thanks" marks the end: a visitor's turns run in
    order and every reply names its message (`reply_to`), so its reply
    comes after all the others."""
    websocket, issued = await open_session(url, origin, session)
    try:
        ids = [uuid.uuid4().hex for _ in messages]
        end = uuid.uuid4().hex
        for message, message_id in [*zip(messages, ids), ("/thanks", end)]:
            await emit(websocket, "user_uttered", {"message": message, "session_id": issued,
                                                   "metadata": {"message_id": message_id}})
        replies: list[dict] = []
        while not replies or replies[-1].get("reply_to") != end:
            event, reply = json.loads((await receive(websocket, 30))[2:])
            assert event == "bot_uttered"
            replies.append(reply)
        assert {reply["reply_to"] for reply in replies[:-1]} <= set(ids)
        return {"session": issued, "replies": replies[:-1]}
    finally:
        await websocket.close()


@pytest.mark.e2e
def test_a_websocket_from_another_origin_is_refused(assistant):
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        asyncio.run(open_websocket(assistant.url, FORBIDDEN))
    assert refused.value.status_code == 400


@pytest.mark.e2e
def test_the_python_socketio_client_from_another_origin_is_refused(assistant):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError, match="status code 400"):
        client.connect(assistant.url, headers={"Origin": FORBIDDEN}, transports=["polling"],
                       wait_timeout=10)


@pytest.mark.e2e
def test_the_website_chat_answers_and_continues_its_session_after_a_reconnect(
        assistant, web_site):
    first = asyncio.run(converse(assistant.url, web_site, None, ["does microneedling hurt?"]))
    texts = [reply.get("text") for reply in first["replies"]]
    assert texts[0].startswith(DISCLOSURE)
    assert texts[1:] == [KNOWLEDGE.answer(PAIN)]
    assert [button["title"] for button in first["replies"][-1]["quick_replies"]] == [
        topic.title for topic in KNOWLEDGE.related(PAIN)]

    # A reload: a new connection asks for the same session. The conversation
    # goes on, so no second disclosure.
    again = asyncio.run(converse(assistant.url, web_site, first["session"],
                                 ["how many sessions would I need"]))
    assert again["session"] == first["session"]
    assert [reply.get("text") for reply in again["replies"]] == [
        KNOWLEDGE.answer(KNOWLEDGE.by_id["sessions"])]


@pytest.mark.e2e
def test_a_page_cannot_choose_another_channels_sender_id(assistant, web_site):
    talk = asyncio.run(converse(assistant.url, web_site, "15551234567", ["does it hurt"]))
    assert SESSION_ID.fullmatch(talk["session"])
    assert talk["replies"][0]["text"].startswith(DISCLOSURE)
