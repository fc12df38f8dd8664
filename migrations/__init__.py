"""The databases' schema, made and changed only by the Alembic migrations of
versions/, in two branches, one a database:

    bookings       booking_requests (core/store.py)          DATABASE_URL
    conversations  Rasa's `events` (stores/tracker_store.py)  TRACKER_DATABASE_URL

(by default the SQLite files var/clinic.db and var/trackers.db; in cluster
mode both are one PostgreSQL database, whose `alembic_version` then holds
both branches' heads).

    python -m migrations           bring both databases up to date
    python -m migrations --check   exit 1 unless both are up to date

The servers never create a table. Where several of them share a database
server (cluster/launch.py, deploy/), the one-shot `python -m migrations` runs
before any of them starts; a server finds out at start whether the schema is
up to date and refuses to run on one that is not (OutOfDate). A SQLite file
is only ever opened by processes of one machine (`make run`, the tests, the
staff tools), so there the first process to open it brings it up to date.

Runs are serialised: on PostgreSQL under an advisory lock held by the
migration's transaction, on SQLite under a lock of the file's folder. So
`python -m migrations` may run in every pod at once (deploy/k8s/), and the
second run finds nothing to do.

A database made before the migrations (the tables made by the servers at
start, no `alembic_version`) is upgraded in place: each branch's first
migration makes only the tables that are missing.

Writing a migration: `.venv/bin/alembic revision --head bookings@head
--rev-id bookings_0002 -m "what it changes"` (or conversations@head); the
configuration is pyproject.toml's [tool.alembic]. In Compose and Kubernetes
the new version's migrations run while the old servers still answer, so a
migration must leave the tables usable by the version before it (add a
column or table first; drop the old one in a later release).
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

FOLDER = Path(__file__).resolve().parent
BOOKINGS, CONVERSATIONS = "bookings", "conversations"
BRANCHES = (BOOKINGS, CONVERSATIONS)
# pg_advisory_xact_lock's key: one for the project, whatever the branch.
LOCK_KEY = zlib.crc32(b"microneedling-clinic-assistant schema")
COMMAND = "python -m migrations"

logger = logging.getLogger(__name__)


class OutOfDate(RuntimeError):
    """The database's schema is not the one this code needs: run the migrations."""


def config(connection: Optional[Connection] = None) -> Config:
    """Alembic's configuration, made here rather than read from a file;
    migrations/env.py runs on `connection`."""
    settings = Config()
    settings.set_main_option("script_location", str(FOLDER))
    settings.attributes["connection"] = connection
    return settings


@lru_cache(maxsize=None)
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head(branch: str) -> str:
    """The revision the code of `branch` needs."""
    return scripts().get_revision(f"{branch}@head").revision


def current(connection: Connection, branch: str) -> Optional[str]:
    """The revision of `branch` the database is at, None before the first;
    OutOfDate when it is one this code does not know (newer code migrated it)."""
    known = {script.revision for script in scripts().iterate_revisions(f"{branch}@head", "base")}
    found = None
    for revision in MigrationContext.configure(connection).get_current_heads():
        try:
            script = scripts().get_revision(revision)
        except CommandError:
            raise OutOfDate(f"the database is at revision {revision!r}, which this code does "
                            f"not know: was it migrated by a newer version?") from None
        if script.revision in known:
            found = script.revision
    return found


def upgrade(engine: Engine, branch: str) -> bool:
    """Bring `branch` of the database up to date; True when something changed.
    Safe to run from several processes at once: they take turns."""
    with _turn(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends: a run waiting here then finds
            # the schema the other one committed.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        before = current(connection, branch)
        if before == head(branch):
            return False
        command.upgrade(config(connection), f"{branch}@head")
        logger.info("schema.upgraded branch=%s from=%s to=%s", branch, before, head(branch))
        return True


def ensure(engine: Engine, branch: str) -> None:
    """What a server does at start: on SQLite, bring the file up to date; on
    a database server, check that the one-shot step did (OutOfDate if not)."""
    if engine.dialect.name == "sqlite":
        upgrade(engine, branch)
        return
    with engine.connect() as connection:
        found = current(connection, branch)
    if found != head(branch):
        raise OutOfDate(
            f"The {branch} tables of {engine.url!r} are not up to date (revision {found}, "
            f"this code needs {head(branch)}): run `{COMMAND}` with DATABASE_URL and "
            f"TRACKER_DATABASE_URL set before starting the servers.")


@contextlib.contextmanager
def _turn(engine: Engine) -> Iterator[None]:
    """On a SQLite file, an exclusive lock of its folder while a run checks
    and changes its schema (not of the file itself: SQLite's own locks are
    on the file, and closing another handle of it would drop them)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    folder = os.open(Path(path).resolve().parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)  # releases the lock
