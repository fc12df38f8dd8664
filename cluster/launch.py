"""make run-cluster: N replicas of the assistant behind nginx, on PostgreSQL
and Redis, on this machine.

    python -m cluster.launch [--replicas 2] [--port 8000]

Before any server starts, the database's tables are made or brought up to
date, once (`python -m migrations`, migrations/): the servers make none.
Each replica is a Rasa server (endpoints.cluster.yml) with its own action
server; nginx (deploy/nginx.conf) spreads the visitors' messages over the
replicas and the replicas' action calls over the action servers. Settings
come from the environment, with these defaults:

    POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_DB=clinic
    POSTGRES_USER=postgres POSTGRES_PASSWORD=   (conversations and bookings)
    REDIS_HOST=127.0.0.1 REDIS_PORT=6379 REDIS_DB=1 REDIS_PASSWORD=
    ACTION_SERVER_SECRET=(made up for the run)

The tests (tests/test_cluster.py) start the same cluster with this module.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Set

import requests
import sqlalchemy

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "assistant.tar.gz"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"
DEFAULTS = {
    "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432", "POSTGRES_DB": "clinic",
    "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "",
    "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "1", "REDIS_PASSWORD": "",
}
STARTUP_TIMEOUT_S = 300


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
FIRST_EPHEMERAL = (int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists()
                   else 32768)  # Linux's default
LOWEST_PORT = 10000
given_ports: Set[int] = set()  # by free_port(), in this process


def free_port() -> int:
    """A port nothing listens on, for a server about to start.

    The port the kernel picks for `bind(0)` comes from its ephemeral range,
    where any outgoing connection (a replica's to PostgreSQL, say) can take
    it in the seconds before the server binds it: CI once lost a cluster
    start that way. So the port is drawn below that range, and never twice
    in one process."""
    while True:
        port = random.randrange(LOWEST_PORT, FIRST_EPHEMERAL)
        if port in given_ports:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        given_ports.add(port)
        return port


def nginx_binary() -> Optional[str]:
    """nginx, also where Debian puts it outside a normal user's PATH."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def postgres_url(settings: Dict[str, str], database: Optional[str] = None) -> str:
    password = f":{settings['POSTGRES_PASSWORD']}" if settings["POSTGRES_PASSWORD"] else ""
    return (f"postgresql://{settings['POSTGRES_USER']}{password}@{settings['POSTGRES_HOST']}:"
            f"{settings['POSTGRES_PORT']}/{database or settings['POSTGRES_DB']}")


def create_database(settings: Dict[str, str]) -> None:
    """The conversations' and bookings' database, created if missing."""
    server = sqlalchemy.create_engine(postgres_url(settings, "postgres"),
                                      isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.execute(sqlalchemy.text(
            "SELECT 1 FROM pg_database WHERE datname = :name"),
            {"name": settings["POSTGRES_DB"]}).first()
        if not exists:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{settings["POSTGRES_DB"]}"'))
    server.dispose()


class Process:
    """A server process with its log file, up once `health_url` answers."""

    def __init__(self, name: str, command: List[str], health_url: str, folder: Path,
                 env: Dict[str, str]) -> None:
        self.name, self.command, self.health_url, self.env = name, command, health_url, env
        self.log = folder / f"{name}.log"
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def wait(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   f"{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.health_url, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not come up within {STARTUP_TIMEOUT_S} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Cluster:
    """nginx, `replicas` Rasa servers and as many action servers."""

    def __init__(self, folder: Path, replicas: int = 2, port: int = 8000,
                 settings: Optional[Dict[str, str]] = None, model: Path = MODEL) -> None:
        self.folder = folder
        self.settings = {**DEFAULTS, **{key: os.environ[key] for key in DEFAULTS
                                        if key in os.environ}, **(settings or {})}
        self.secret = os.environ.get("ACTION_SERVER_SECRET") or secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{port}"
        actions_proxy = free_port()
        base = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
                "ACTION_SERVER_SECRET": self.secret, "SANIC_HOST": "127.0.0.1",
                "DATABASE_URL": postgres_url(self.settings), **self.settings}
        # The migrations make the conversations' tables too, in the same database.
        self.env = {**base, "TRACKER_DATABASE_URL": postgres_url(self.settings)}
        self.actions = []
        self.replicas = []
        for index in range(1, replicas + 1):
            actions_port, rasa_port = free_port(), free_port()
            self.actions.append(Process(
                f"actions-{index}", [str(BIN / "rasa"), "run", "actions", "--port",
                                     str(actions_port), "--actions", "actions"],
                f"http://127.0.0.1:{actions_port}/health", folder, base))
            self.replicas.append(Process(
                f"rasa-{index}", [str(BIN / "python"), "-m", "rasa_patches", "run",
                                  "--model", str(model),
                                  "--interface", "127.0.0.1", "--port", str(rasa_port),
                                  "--endpoints", str(ROOT / "endpoints.cluster.yml"),
                                  "--credentials", str(folder / "credentials.yml")],
                f"http://127.0.0.1:{rasa_port}/",
                folder, {**base, "ACTION_SERVER_URL": f"http://127.0.0.1:{actions_proxy}/webhook"}))
        self.nginx_conf = folder / "nginx.conf"
        self.nginx_conf.write_text(render_nginx(
            folder, f"127.0.0.1:{port}", f"127.0.0.1:{actions_proxy}",
            [replica.health_url.split("/")[2] for replica in self.replicas],
            [action.health_url.split("/")[2] for action in self.actions]))
        nginx = nginx_binary()
        self.nginx = Process("nginx", [nginx or "nginx", "-c", str(self.nginx_conf), "-p",
                                       str(folder), "-g", "daemon off;" + _nginx_user()],
                             f"{self.url}/health", folder, base)

    def start(self) -> None:
        create_database(self.settings)
        self.migrate()
        subprocess.run([str(BIN / "python"), "-m", "channels.credentials",
                        str(self.folder / "credentials.yml")], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        for server in [self.nginx, *self.actions, *self.replicas]:
            server.start()
        try:
            for server in [*self.actions, *self.replicas]:
                server.wait()
            self.wait_healthy()
        except Exception:
            self.stop()
            raise

    def migrate(self) -> None:
        """The tables of conversations and bookings, made or brought up to
        date before any replica starts (the replicas only check them)."""
        log = self.folder / "migrations.log"
        with log.open("a") as output:
            done = subprocess.run([str(BIN / "python"), "-m", "migrations"], cwd=ROOT,
                                  env=self.env, stdout=output, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(f"python -m migrations exited with {done.returncode}:\n"
                               f"{log.read_text()[-3000:]}")

    def wait_healthy(self, timeout_s: float = 60) -> None:
        """Until nginx answers /health with every part up."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/health", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.url}/health did not report every part up; "
                           f"see the logs in {self.folder}")

    def stop(self) -> None:
        for server in [*self.replicas, *self.actions, self.nginx]:
            server.stop()


def render_nginx(folder: Path, listen: str, actions_listen: str, rasa: List[str],
                 actions: List[str]) -> str:
    servers = "\n    ".join(f"server {address} max_fails=1 fail_timeout=10s;"
                            for address in rasa)
    action_servers = "\n    ".join(f"server {address} max_fails=1 fail_timeout=5s;"
                                   for address in actions)
    return (NGINX_TEMPLATE.read_text(encoding="utf-8")
            .replace("@RUN_DIR@", str(folder)).replace("@LISTEN@", listen)
            .replace("@ACTIONS_LISTEN@", actions_listen)
            .replace("@RASA_SERVERS@", servers).replace("@ACTION_SERVERS@", action_servers))


def _nginx_user() -> str:
    """nginx started by root runs its workers as `nobody`, which could not
    write the run folder; here they keep the starting user."""
    return " user root;" if os.geteuid() == 0 else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if not nginx_binary():
        print("nginx is needed for cluster mode (Debian: apt-get install nginx-light).",
              file=sys.stderr)
        return 1
    folder = ROOT / "var" / "cluster"
    folder.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(folder, replicas=args.replicas, port=args.port)
    print(f"Starting {args.replicas} replicas behind nginx (logs in {folder})...")
    cluster.start()
    print(f"The cluster is ready: {cluster.url}/webhooks/rest/webhook, health at "
          f"{cluster.url}/health. Press Ctrl-C to stop.")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping the cluster...")
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
