"""Throwaway PostgreSQL and Redis servers for the cluster tests, started
from the installed binaries on free loopback ports, so that the tests can
stop and restart them without touching the machine's own servers."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import redis

from cluster.launch import free_port, nginx_binary


def postgres_bin() -> Optional[Path]:
    found = shutil.which("initdb") or next(iter(sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None)
    return Path(found).parent if found else None


def missing_binaries() -> List[str]:
    missing = []
    if not nginx_binary():
        missing.append("nginx (Debian: nginx-light)")
    if not postgres_bin():
        missing.append("PostgreSQL's initdb (Debian: postgresql)")
    if not shutil.which("redis-server"):
        missing.append("redis-server (Debian: redis-server)")
    return missing


class Postgres:
    """A PostgreSQL server of its own data folder. PostgreSQL refuses to run
    as root: under root it runs as the `postgres` user."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
        self.port = free_port()
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres")

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bin / program), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
                  "-w", "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                  "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)


class Redis:
    """A Redis server that keeps nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


FIGURES = Path(__file__).resolve().parent.parent / "test-artifacts" / "resilience.json"


def record(test: str, **figures) -> None:
    """Keep a test's measured figures in test-artifacts/resilience.json, for
    docs/benchmarks.md and the issue notes."""
    FIGURES.parent.mkdir(exist_ok=True)
    kept = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    kept[test] = figures
    FIGURES.write_text(json.dumps(kept, indent=2, sort_keys=True))
