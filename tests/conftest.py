"""Shared fixtures: the model is trained once per data change (by make) and
the action server and Rasa server are started once per test run."""
from __future__ import annotations

import html
import os
import subprocess
import threading
import urllib.parse
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterable, Iterator, List

import pytest
import requests
import yaml

from cluster.launch import Process, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "assistant.tar.gz"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
DISCLOSURE = "I'm an automated assistant: I give general information"
DEMO_SERVER = 'data-server="http://localhost:5005"'  # the widget's tag on web/index.html


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model of the current data: make retrains only if the data changed."""
    subprocess.run(["make", "--no-print-directory", "models/assistant.tar.gz"],
                   cwd=ROOT, env=ENV, check=True)
    return MODEL


def start_server(name: str, command: List[str], health_url: str, folder: Path,
                 env: Dict[str, str]) -> Process:
    """A server process of the test run, logging to `folder`/`name`.log."""
    server = Process(name, command, health_url, folder, {**ENV, **env})
    server.start()
    return server


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
                DISCLOSURE):
            replies = replies[1:]
        return replies


# The shared secret the Rasa server sends the action server (endpoints.yml).
SECRETS = {"ACTION_SERVER_SECRET": uuid.uuid4().hex}


def endpoints_yml(actions_port: int, trackers: Path) -> str:
    """endpoints.yml with the action server on `actions_port` and the
    conversations in the SQLite file `trackers`."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    endpoints["tracker_store"]["db"] = str(trackers)
    return yaml.safe_dump(endpoints)


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


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
    env = {**SECRETS, **(env or {})}
    actions = start_server(
        "actions", [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(actions_port),
                    "--actions", "actions"],
        f"http://127.0.0.1:{actions_port}/health", folder,
        {**SECRETS, "SANIC_HOST": "127.0.0.1", "DATABASE_URL": database_url,
         "TRACKER_DATABASE_URL": f"sqlite:///{folder / 'trackers.db'}",
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


class WebHandler(SimpleHTTPRequestHandler):
    """web/ as it is, except that /index.html?server=URL is the demo page with
    its widget pointed at the Rasa server of URL (the tests' own)."""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        server = urllib.parse.parse_qs(url.query).get("server")
        if url.path != "/index.html" or not server:
            return super().do_GET()
        page = (ROOT / "web" / "index.html").read_text(encoding="utf-8")
        body = page.replace(DEMO_SERVER, f'data-server="{html.escape(server[0])}"').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def web_site() -> Iterator[str]:
    """web/ (the demo page and the chat widget) served on a free loopback port:
    its origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(WebHandler, directory=ROOT / "web"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def assistant(trained_model: Path, tmp_path_factory: pytest.TempPathFactory,
              web_site: str) -> Iterator[Assistant]:
    """The real action server and Rasa server, started once for the test run."""
    running, servers = start_assistant(tmp_path_factory.mktemp("servers"), trained_model,
                                       web_origins=[web_site])
    try:
        yield running
    finally:
        stop_all(servers)


from tests.channel_servers import channels  # noqa: E402,F401 - the platform channels' servers
