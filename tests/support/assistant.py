"""The server launcher: the real action server and Rasa server on free
loopback ports, their bookings and conversations in SQLite files of a
folder, and the running assistant spoken to over its REST channel."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import requests
import yaml

from cluster.launch import Process, free_port
from tests.support.project import ENV, ROOT, VENV_BIN
from tests.support.replies import DISCLOSURE, in_spanish

# The shared secret the Rasa server sends the action server (endpoints.yml).
ACTION_SECRETS = {"ACTION_SERVER_SECRET": uuid.uuid4().hex}
STORED_TIMEOUT_S = 10


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


class Assistant:
    """The running assistant, spoken to over its REST channel."""

    def __init__(self, url: str, folder: Path, actions_url: str = "") -> None:
        self.url = url
        self.actions_url = actions_url
        self.webhook = f"{url}/webhooks/rest/webhook"
        self.database_url = f"sqlite:///{folder / 'clinic.db'}"  # the bookings
        self.trackers = folder / "trackers.db"  # the conversations
        self.logs = [folder / "rasa.log", folder / "actions.log"]

    def say(self, text: str, sender: str | None = None,
            keep_disclosure: bool = False) -> List[Dict]:
        """The replies; the disclosure that opens a conversation is left out
        unless asked for (tests/test_disclosure.py checks it)."""
        response = requests.post(self.webhook, json={"sender": sender or new_sender(),
                                                     "message": text}, timeout=30)
        response.raise_for_status()
        replies = response.json()
        if not keep_disclosure and replies and (replies[0].get("text") or "").startswith(
                (DISCLOSURE, in_spanish("utter_disclosure"))):
            replies = replies[1:]
        return replies


def start_server(name: str, command: List[str], health_url: str, folder: Path,
                 env: Dict[str, str]) -> Process:
    """A server process of the test run, logging to `folder`/`name`.log."""
    server = Process(name, command, health_url, folder, {**ENV, **env})
    server.start()
    return server


def endpoints_yml(actions_port: int, trackers: Path) -> str:
    """endpoints.yml with the action server on `actions_port` and the
    conversations in the SQLite file `trackers`."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    endpoints["tracker_store"]["db"] = str(trackers)
    return yaml.safe_dump(endpoints)


def credentials_for(folder: Path, web_origins: Iterable[str]) -> Path:
    """credentials.yml, with the website chat also open to `web_origins`."""
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    webchat = credentials["channels.webchat.WebChatInput"]
    webchat["cors_allowed_origins"] = [*webchat["cors_allowed_origins"], *web_origins]
    path = folder / "credentials.yml"
    path.write_text(yaml.safe_dump(credentials), encoding="utf-8")
    return path


def start_assistant(folder: Path, model: Path, credentials: Path | None = None,
                    env: Dict[str, str] | None = None, web_origins: Iterable[str] = (),
                    api_token: str | None = None, knowledge: Path | None = None) -> tuple:
    """Start the action server and Rasa server on free loopback ports, with
    their bookings and conversations in SQLite files of `folder`. The Rasa
    server reads `credentials` (by default credentials.yml with the website
    chat also open to `web_origins`), with `env` (the secrets) added; with
    `api_token`, Rasa's HTTP API is on too (PUT /model). With `knowledge`, the
    action server answers from that knowledge folder."""
    actions_port, rasa_port = free_port(), free_port()
    database_url = f"sqlite:///{folder / 'clinic.db'}"
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(endpoints_yml(actions_port, folder / "trackers.db"))
    env = {**ACTION_SECRETS, **(env or {})}
    actions = start_server(
        "actions", [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(actions_port),
                    "--actions", "actions"],
        f"http://127.0.0.1:{actions_port}/health", folder,
        {**ACTION_SECRETS, "SANIC_HOST": "127.0.0.1", "DATABASE_URL": database_url,
         **({"CLINIC_KNOWLEDGE_DIR": str(knowledge)} if knowledge else {})})
    api = ["--enable-api", "--auth-token", api_token] if api_token else []
    rasa = start_server(
        "rasa", [str(VENV_BIN / "python"), "-m", "rasa_patches", "run", "--model", str(model),
                 "--interface", "127.0.0.1", "--port", str(rasa_port), "--endpoints",
                 str(endpoints), "--credentials",
                 str(credentials or credentials_for(folder, web_origins)), *api],
        f"http://127.0.0.1:{rasa_port}/", folder, env)
    servers = [rasa, actions]
    try:
        actions.wait()
        rasa.wait()
    except Exception:
        stop_all(servers)
        raise
    return Assistant(f"http://127.0.0.1:{rasa_port}", folder,
                     f"http://127.0.0.1:{actions_port}"), servers


def stop_all(servers: List[Process]) -> None:
    for server in servers:
        server.stop()


def stored_messages(assistant: Assistant, sender: str) -> List[Tuple[str, Optional[str]]]:
    """The visitor's stored messages: (text, message_id) in stored order."""
    with sqlite3.connect(assistant.trackers) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' "
                          "ORDER BY id", (sender,)).fetchall()
    events = [json.loads(data) for (data,) in rows]
    return [(event["text"], (event.get("metadata") or {}).get("message_id"))
            for event in events]


def stored_by_now(assistant: Assistant, sender: str,
                  count: int) -> List[Tuple[str, Optional[str]]]:
    """The visitor's stored messages once there are `count` (or more): a
    turn is stored after its replies are sent."""
    deadline = time.monotonic() + STORED_TIMEOUT_S
    while len(stored := stored_messages(assistant, sender)) < count:
        assert time.monotonic() < deadline, f"{stored} after {STORED_TIMEOUT_S} s"
        time.sleep(0.05)
    return stored
