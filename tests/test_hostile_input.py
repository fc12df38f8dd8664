"""Hostile input on the public REST channel (channels/rest.py): an explicit
matrix, then a property-based fuzz run (Hypothesis). Never a 5xx or an
unhandled exception; every accepted message is answered."""
import json
import time
import uuid

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.assistant import new_sender

pytestmark = pytest.mark.e2e

HEADERS = {"Content-Type": "application/json"}


def post(assistant, body) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(assistant.webhook, data=data, headers=HEADERS, timeout=30)


def nested(depth: int) -> bytes:
    return b'{"sender": "deep-1", "message": "hi", "metadata": ' + b"[" * depth + b"]" * depth + b"}"


REFUSED = [
    ("an empty body", b"", 400),
    ("a body that is not JSON", b"sender=me&message=hi", 400),
    ("malformed JSON", b'{"sender": "me", "message": "hi"', 400),
    ("invalid UTF-8", b'{"sender": "me", "message": "\xff\xfe\xfd"}', 400),
    ("a JSON list", b'[{"sender": "me", "message": "hi"}]', 400),
    ("a JSON string", b'"hello"', 400),
    ("a JSON number", b"42", 400),
    ("JSON null", b"null", 400),
    ("no sender", b'{"message": "hi"}', 400),
    ("no message", b'{"sender": "me"}', 400),
    ("an empty sender", b'{"sender": "", "message": "hi"}', 400),
    ("a sender of spaces", b'{"sender": "   ", "message": "hi"}', 400),
    ("a numeric sender", b'{"sender": 12345, "message": "hi"}', 400),
    ("a sender object", b'{"sender": {"id": "me"}, "message": "hi"}', 400),
    ("a sender of 200 characters", json.dumps({"sender": "a" * 200, "message": "hi"}).encode(),
     400),
    ("a sender with a newline", b'{"sender": "me\\nyou", "message": "hi"}', 400),
    ("a message that is a number", b'{"sender": "me", "message": 5}', 400),
    ("a message that is a list", b'{"sender": "me", "message": ["hi"]}', 400),
    ("a numeric message_id", b'{"sender": "me", "message": "hi", "message_id": 7}', 400),
    ("an empty message_id", b'{"sender": "me", "message": "hi", "message_id": ""}', 400),
    ("a message_id with a newline",
     b'{"sender": "me", "message": "hi", "message_id": "m\\n1"}', 400),
    ("deeply nested JSON", nested(5000), 400),
    ("a 1 MB body", json.dumps({"sender": "me", "message": "a" * 2**20}).encode(), 413),
    ("a body just over 16 KB", json.dumps({"sender": "me", "message": "a" * 16400}).encode(),
     413),
]


@pytest.mark.parametrize("case, body, status", REFUSED, ids=[case for case, _, _ in REFUSED])
def test_refused_with_a_clear_status(assistant, case, body, status):
    reply = post(assistant, body)

    assert reply.status_code == status, reply.text
    if status == 400:
        assert reply.json()["error"]


ANSWERED = [
    ("an empty message", ""),
    ("whitespace", " \t\n "),
    ("control characters", "hi\x00\x07\x1b[31m there"),
    ("zero-width characters", "does\u200b it\u200d hurt\ufeff?"),
    ("right-to-left override", "\u202edoes it hurt?"),
    ("emoji only", "🙂🙂🔥"),
    ("another language", "¿Duele el microneedling?"),
    ("a long message under the cap", "does it hurt? " * 900),
    ("/restart", "/restart"),
    ("a typed intent with slots", '/book_consultation{"name": "x", "contact": "a@b.c"}'),
    ("a typed urgent intent", "/urgent_emergency"),
    ("HTML", "<script>alert(1)</script>"),
]


@pytest.mark.parametrize("case, text", ANSWERED, ids=[case for case, _ in ANSWERED])
def test_accepted_and_answered(assistant, case, text):
    reply = post(assistant, {"sender": new_sender(), "message": text})

    assert reply.status_code == 200
    assert reply.json() and all(message.get("text") or message.get("buttons")
                                for message in reply.json())


def test_typed_intents_do_not_skip_the_conversation(assistant):
    sender = new_sender()
    replies = post(assistant, {"sender": sender, "message": '/book_consultation{"name": "x"}'})

    assert "What name should the clinic use" not in json.dumps(replies.json())


def test_a_flood_from_one_sender_is_slowed_down_and_others_are_not(assistant):
    sender = new_sender()
    started = time.monotonic()
    statuses = [post(assistant, {"sender": sender, "message": "hi"}).status_code
                for _ in range(35)]
    # The bucket gets a token back every 2 s: on a slow machine, a few of the
    # last five may have been let through, never more than that.
    refilled = int((time.monotonic() - started) / 2)

    assert statuses[:30] == [200] * 30
    assert statuses[30:].count(429) >= 5 - refilled
    assert set(statuses[30:]) <= {200, 429}
    assert post(assistant, {"sender": new_sender(), "message": "hi"}).status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children,
                                                                        max_size=4),
    max_leaves=20)
bodies = st.one_of(
    st.binary(max_size=512),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"sender": st.one_of(st.text(max_size=40), json_values),
                           "message": st.one_of(st.text(max_size=300), json_values)})
    .map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"sender": st.just("fuzz"), "message": st.text(max_size=300)})
    .map(lambda value: json.dumps({**value, "sender": f"fuzz-{uuid.uuid4().hex}"}).encode()),
)


def test_fuzzed_bodies_never_break_the_server(assistant):
    logs = {log: log.stat().st_size for log in assistant.logs}
    answered = []

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(body=bodies)
    def check(body):
        reply = post(assistant, body)
        assert reply.status_code in (200, 400, 413, 429), (body, reply.status_code)
        if reply.status_code == 200:
            assert reply.json(), body
            answered.append(body)

    check()

    assert answered  # the fuzz reached the assistant, not only the refusals
    for log, size in logs.items():
        with log.open(errors="replace") as text:
            text.seek(size)
            assert "Traceback" not in text.read(), log.name
