"""Cluster mode started on a database made moments before, 5 times in a row
(issue 18: in 1 of 6 such starts a replica died making `erasures`, which
the other replica had just made). The launcher now makes the schema once
(`python -m migrations`) before any replica starts, and the replicas make
no table: every start is clean and a turn works at once."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator, List

import pytest
import sqlalchemy

import migrations
from cluster.launch import Cluster, create_database, free_port, postgres_url
from migrations import BRANCHES
from tests.cluster_servers import Postgres, Redis, missing_binaries, record
from tests.conftest import Assistant, new_sender

pytestmark = pytest.mark.skipif(bool(missing_binaries()),
                                reason=f"cluster mode needs {', '.join(missing_binaries())}")

STARTS = 5
# What a replica that raced another to make a table logged (Rasa's store and
# the stopgap of stores/tracker_store.py), and what a crash leaves.
RACE_SIGNS = ["Traceback", "UniqueViolation", "already exists", "Could not create",
              "OutOfDate"]
started: List[float] = []


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple]:
    postgres, redis = Postgres(), Redis()
    postgres.start()
    redis.start()
    try:
        yield postgres, redis
    finally:
        redis.stop()
        postgres.remove()
        if started:
            record("cluster_fresh_database_starts", clean_starts=len(started),
                   slowest_start_s=round(max(started), 1))


@pytest.mark.parametrize("start", range(1, STARTS + 1))
def test_a_cluster_starts_cleanly_on_a_database_made_moments_before(
        start, servers, trained_model, tmp_path):
    postgres, redis = servers
    cluster = Cluster(tmp_path, replicas=2, port=free_port(), model=trained_model,
                      settings={"POSTGRES_PORT": str(postgres.port),
                                "POSTGRES_DB": f"clinic_start_{start}",
                                "REDIS_PORT": str(redis.port), "REDIS_DB": "0"})
    create_database(cluster.settings)  # new: each start has a database of its own
    began = time.monotonic()
    cluster.start()
    took = time.monotonic() - began
    try:
        sender = new_sender()
        replies = Assistant(cluster.url, tmp_path).say("does microneedling hurt?", sender)
        assert replies and replies[-1]["text"].startswith("A numbing cream")
        database = sqlalchemy.create_engine(postgres_url(cluster.settings))
        with database.connect() as connection:
            stored = connection.execute(sqlalchemy.text(
                "SELECT COUNT(*) FROM events WHERE sender_id = :sender"),
                {"sender": sender}).scalar_one()
            at = {branch: migrations.current(connection, branch) for branch in BRANCHES}
        database.dispose()
        assert stored > 0
        assert at == {branch: migrations.head(branch) for branch in BRANCHES}
        assert all(server.process.poll() is None
                   for server in [*cluster.replicas, *cluster.actions, cluster.nginx])
    finally:
        cluster.stop()
    made = (tmp_path / "migrations.log").read_text()
    assert made.count(": upgraded") == 2, made  # the launcher made both branches' tables
    for log in sorted(Path(tmp_path).glob("*.log")):
        text = log.read_text(errors="replace")
        assert not [sign for sign in RACE_SIGNS if sign in text], (log.name, text[-3000:])
    started.append(took)
