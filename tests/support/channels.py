"""The platform channels under test: one extra Rasa server (with its action
server) enabling Messenger, WhatsApp and Twilio with test secrets, pointed
at fake Graph API and Twilio API servers on loopback that record what the
assistant sends. Started once per test run by the fixture `channels`
(tests/conftest.py)."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs

import requests

from channels.credentials import merged
from tests.support.assistant import Assistant

SECRETS = {
    "FB_VERIFY_TOKEN": "test-fb-verify-token", "FB_APP_SECRET": "test-fb-app-secret",
    "FB_PAGE_ACCESS_TOKEN": "test-fb-page-token",
    "WHATSAPP_VERIFY_TOKEN": "test-wa-verify-token", "WHATSAPP_APP_SECRET": "test-wa-app-secret",
    "WHATSAPP_ACCESS_TOKEN": "test-wa-access-token", "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "TWILIO_ACCOUNT_SID": "ACtest0000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "test-twilio-auth-token",
    "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
    "TWILIO_WEBHOOK_URL": "https://clinic.example.org/webhooks/twilio/webhook",
}
# The app secret each Meta webhook signs with.
APP_SECRET = {"messenger": SECRETS["FB_APP_SECRET"], "whatsapp": SECRETS["WHATSAPP_APP_SECRET"]}
REPLY_TIMEOUT_S = 30


@dataclass
class Received:
    """A request the assistant sent to a platform."""
    path: str
    headers: Dict[str, str]
    body: Dict[str, Any]
    at: float  # time.monotonic() on arrival


class FakePlatform:
    """A loopback HTTP server standing in for the Graph API or Twilio's API:
    it records every request and answers like the platform, or with a
    server error for the next `fail_next` requests."""

    def __init__(self) -> None:
        self.received: List[Received] = []
        self.fail_next = 0
        self._lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw)
                else:
                    body = {key: values[0] for key, values in parse_qs(raw).items()}
                with platform._lock:
                    failing = platform.fail_next > 0
                    platform.fail_next -= failing
                    platform.received.append(Received(self.path, dict(self.headers), body,
                                                      time.monotonic()))
                answer = json.dumps({"error": "unavailable"} if failing else
                                    {"message_id": "m_1", "messages": [{"id": "wamid.1"}],
                                     "sid": "SM1"}).encode()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def mark(self) -> int:
        return len(self.received)

    def since(self, mark: int) -> List[Received]:
        with self._lock:
            return self.received[mark:]

    def wait_for(self, found: Callable[[Received], bool], mark: int = 0,
                 timeout: float = REPLY_TIMEOUT_S) -> Received:
        """The first request since `mark` that `found` accepts, polling:
        replies are sent after the webhook has been answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for request in self.since(mark):
                if found(request):
                    return request
            time.sleep(0.1)
        raise AssertionError(f"no such request within {timeout} s; received: "
                             f"{[request.body for request in self.since(mark)]}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def meta_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Channels:
    assistant: Assistant
    graph: FakePlatform
    twilio: FakePlatform

    def post_meta(self, channel: str, update: Dict[str, Any], secret: Optional[str] = None,
                  headers: Optional[Dict[str, str]] = None) -> requests.Response:
        """A signed update to the Messenger or WhatsApp webhook."""
        body = json.dumps(update).encode()
        secret = secret or SECRETS["FB_APP_SECRET" if channel == "messenger"
                                   else "WHATSAPP_APP_SECRET"]
        headers = headers if headers is not None else {
            "X-Hub-Signature-256": meta_signature(secret, body)}
        return requests.post(f"{self.assistant.url}/webhooks/{channel}/webhook", data=body,
                             headers={"Content-Type": "application/json", **headers},
                             timeout=10)


def channel_credentials(folder: Path, graph: FakePlatform, twilio: FakePlatform) -> Path:
    """The credentials `make run` would use with every channel's variables
    set (channels/credentials.py), pointed at the fake platforms."""
    text = merged(SECRETS)
    fake_graph = f"graph_url: {graph.url}"
    assert text.count("# graph_url: https://graph.facebook.com/v19.0") == 2
    text = text.replace("# graph_url: https://graph.facebook.com/v19.0", fake_graph)
    assert text.count("# api_url: https://api.twilio.com") == 1
    text = text.replace("# api_url: https://api.twilio.com", f"api_url: {twilio.url}")
    path = folder / "credentials.yml"
    path.write_text(text)
    return path
