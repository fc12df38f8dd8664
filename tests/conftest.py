"""Shared fixtures: the model is trained once per data change (by make) and
the action server and Rasa server are started once per test run."""
from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "assistant.tar.gz"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
STARTUP_TIMEOUT_S = 240
DISCLOSURE = "I'm an automated assistant: I give general information"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model of the current data: make retrains only if the data changed."""
    subprocess.run(["make", "--no-print-directory", "models/assistant.tar.gz"],
                   cwd=ROOT, env=ENV, check=True)
    return MODEL


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up within {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


class Server:
    """A server process started for the test run, with its log file."""

    def __init__(self, name: str, command: List[str], health_url: str, logs: Path,
                 env: Dict[str, str] | None = None) -> None:
        self.log = logs / f"{name}.log"
        self.health_url = health_url
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, env={**ENV, **(env or {})},
                                        stdout=self._log_file, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        _wait_until_up(self.health_url, self.process, self.log)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_file.close()


class Assistant:
    """The running assistant, spoken to over its REST channel."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
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


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def start_assistant(folder: Path, model: Path, api_token: str | None = None,
                    knowledge: Path | None = None) -> tuple:
    """Start the action server and Rasa server on free loopback ports, with
    their bookings and conversations in SQLite files of `folder`; with
    `api_token`, Rasa's HTTP API too (PUT /model); with `knowledge`, the
    action server answers from that knowledge folder."""
    actions_port, rasa_port = free_port(), free_port()
    database_url = f"sqlite:///{folder / 'clinic.db'}"
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
                         f"tracker_store:\n  type: privacy.tracker_store.RedactingSQLTrackerStore\n"
                         f"  dialect: sqlite\n"
                         f"  db: {folder / 'trackers.db'}\n")
    actions = Server("actions", [str(VENV_BIN / "rasa"), "run", "actions", "--port",
                                 str(actions_port), "--actions", "actions"],
                     f"http://127.0.0.1:{actions_port}/health", folder,
                     env={"DATABASE_URL": database_url,
                          "TRACKER_DATABASE_URL": f"sqlite:///{folder / 'trackers.db'}",
                          **({"CLINIC_KNOWLEDGE_DIR": str(knowledge)} if knowledge else {})})
    api = ["--enable-api", "--auth-token", api_token] if api_token else []
    rasa = Server("rasa", [str(VENV_BIN / "rasa"), "run", "--model", str(model),
                           "--interface", "127.0.0.1", "--port", str(rasa_port),
                           "--endpoints", str(endpoints),
                           "--credentials", str(ROOT / "credentials.yml"), *api],
                  f"http://127.0.0.1:{rasa_port}/", folder)
    servers = [rasa, actions]
    try:
        actions.wait()
        rasa.wait()
    except Exception:
        stop_all(servers)
        raise
    return Assistant(f"http://127.0.0.1:{rasa_port}", folder), servers


def stop_all(servers: List[Server]) -> None:
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def assistant(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """The real action server and Rasa server, started once for the test run."""
    running, servers = start_assistant(tmp_path_factory.mktemp("servers"), trained_model)
    try:
        yield running
    finally:
        stop_all(servers)
