"""The schema's migrations (migrations/): an empty database brought up to
date, one made before the migrations upgraded in place, a second run that
changes nothing, runs at once that take turns; and the servers' side: a
SQLite file brought up to date when opened, a database server only checked.
On SQLite and on a throwaway PostgreSQL server."""
from __future__ import annotations

import datetime
import subprocess
import uuid
from typing import Dict, Iterator, List

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, inspect, text

import migrations
from cluster.launch import DEFAULTS, ROOT, create_database, postgres_url
from core import erasure, store
from migrations import BOOKINGS, BRANCHES, CONVERSATIONS
from tests.cluster_servers import Postgres, postgres_bin
from tests.conftest import ENV, VENV_BIN

TABLES = {"booking_requests", "erasures", "events"}
# Made by the migrations, no longer used by the code: the version before
# wrote and read it, so it stays while an upgrade rolls out
# (migrations/versions/conversations_0001_events_and_erasures.py).
RETIRED = MetaData()
Table("erasures", RETIRED, Column("sender_id", String(255), primary_key=True),
      Column("requested_at", Float, nullable=False))


def the_codes_tables() -> MetaData:
    """The tables as the code reads and writes them (ours and Rasa's own),
    and the retired ones the migrations still make."""
    tables = MetaData()
    for table in (store.booking_requests, SQLTrackerStore.SQLEvent.__table__,
                  *RETIRED.tables.values()):
        table.to_metadata(tables)
    return tables


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    if not postgres_bin():
        pytest.skip("PostgreSQL's initdb is not installed (Debian: postgresql)")
    server = Postgres()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    """A new, empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.db'}"
    settings = {**DEFAULTS, "POSTGRES_PORT": str(request.getfixturevalue("postgres").port),
                "POSTGRES_DB": f"clinic_{uuid.uuid4().hex[:10]}"}
    create_database(settings)
    return postgres_url(settings)


@pytest.fixture
def engine(url) -> Iterator[sqlalchemy.engine.Engine]:
    made = create_engine(url, future=True)
    yield made
    made.dispose()


def revisions(engine) -> Dict[str, str]:
    with engine.connect() as connection:
        return {branch: migrations.current(connection, branch) for branch in BRANCHES}


def run(url: str, *args: str) -> subprocess.CompletedProcess:
    """`python -m migrations` on `url` (bookings and conversations in one database)."""
    return subprocess.run([str(VENV_BIN / "python"), "-m", "migrations", *args], cwd=ROOT,
                          env={**ENV, "DATABASE_URL": url, "TRACKER_DATABASE_URL": url},
                          capture_output=True, text=True, timeout=120)


def differences(engine) -> List:
    """What Alembic's autogenerate would change to make the database's tables
    the code's: nothing, when the migrations made the same tables."""
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), the_codes_tables())


def made_as_before_the_migrations(engine) -> None:
    """The tables as the servers made them at start before the migrations,
    with a booking and a conversation's event in them."""
    store.metadata.create_all(engine)
    SQLTrackerStore.Base.metadata.create_all(engine)
    RETIRED.create_all(engine)
    with engine.begin() as connection:
        connection.execute(store.booking_requests.insert().values(
            reference="MN-OLD001", idempotency_key="k" * 64, kind="consultation",
            sender_id="old-visitor", name="Olga Old", contact="+18015550123",
            contact_kind="phone", treatment_area="acne scars", preferred_time="Tuesday",
            created_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)))
        connection.execute(SQLTrackerStore.SQLEvent.__table__.insert().values(
            sender_id="old-visitor", type_name="user", timestamp=1.0, data="{}"))


def kept(engine) -> tuple:
    with engine.connect() as connection:
        return (connection.execute(text("SELECT reference FROM booking_requests")).all(),
                connection.execute(text("SELECT sender_id FROM events")).all())


def test_an_empty_database_is_brought_up_to_date_with_the_codes_tables(url, engine):
    assert run(url, "--check").returncode == 1  # nothing there yet

    done = run(url)

    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": upgraded") == 2 and not done.stderr
    assert TABLES <= set(inspect(engine).get_table_names())
    assert revisions(engine) == {branch: migrations.head(branch) for branch in BRANCHES}
    assert differences(engine) == []
    assert run(url, "--check").returncode == 0


def test_a_database_made_before_the_migrations_is_upgraded_in_place(url, engine):
    made_as_before_the_migrations(engine)
    before = kept(engine)
    assert revisions(engine) == {BOOKINGS: None, CONVERSATIONS: None}

    done = run(url)

    assert done.returncode == 0, done.stderr
    assert revisions(engine) == {branch: migrations.head(branch) for branch in BRANCHES}
    assert kept(engine) == before == ([("MN-OLD001",)], [("old-visitor",)])
    assert differences(engine) == []


def test_a_database_with_only_rasas_table_gets_the_missing_ones(url, engine):
    """Before the migrations, a replica could die before making `erasures`."""
    SQLTrackerStore.Base.metadata.create_all(engine)

    assert migrations.upgrade(engine, CONVERSATIONS)

    assert {"events", "erasures"} <= set(inspect(engine).get_table_names())
    assert revisions(engine)[CONVERSATIONS] == migrations.head(CONVERSATIONS)


def test_a_second_run_changes_nothing(url, engine):
    assert run(url).returncode == 0
    made_bookings = store.save(store.BookingRequest(
        "consultation", "visitor", "Maria Lopez", "+18015550123", "phone", "acne scars",
        "Tuesday"), create_engine(url, future=True))

    again = run(url)

    assert again.returncode == 0, again.stderr
    assert again.stdout.count(": already up to date") == 2
    assert store.newest_first(create_engine(url, future=True)) == [made_bookings]
    assert differences(engine) == []


def test_runs_at_once_take_turns_and_one_makes_the_tables(url, engine):
    """Every pod's init container runs the migrations at once (deploy/k8s/)."""
    command = [str(VENV_BIN / "python"), "-m", "migrations"]
    env = {**ENV, "DATABASE_URL": url, "TRACKER_DATABASE_URL": url}
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outputs = [process.communicate(timeout=120)[0] for process in runs]

    assert [process.returncode for process in runs] == [0] * 4, outputs
    said = "".join(outputs)
    assert said.count(f"{BOOKINGS} tables of") == 4 and "Traceback" not in said
    assert said.count(": upgraded") == 2  # each branch once, by whichever run came first
    assert differences(engine) == []


def test_a_database_migrated_by_newer_code_is_refused(url, engine):
    assert run(url).returncode == 0
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'bookings_9999' "
                                "WHERE version_num = :head"), {"head": migrations.head(BOOKINGS)})

    with pytest.raises(migrations.OutOfDate, match="bookings_9999.*newer"):
        migrations.upgrade(engine, BOOKINGS)
    done = run(url)
    assert done.returncode == 1 and "newer version" in done.stderr


def test_a_sqlite_file_is_brought_up_to_date_when_a_server_opens_it(tmp_path):
    from stores.tracker_store import RedactingSQLTrackerStore

    trackers = tmp_path / "trackers.db"
    RedactingSQLTrackerStore(dialect="sqlite", db=str(trackers)).engine.dispose()
    store.engine.cache_clear()
    bookings = store.engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    store.engine.cache_clear()

    assert revisions(create_engine(f"sqlite:///{trackers}"))[CONVERSATIONS] == \
        migrations.head(CONVERSATIONS)
    assert revisions(bookings)[BOOKINGS] == migrations.head(BOOKINGS)
    assert set(inspect(bookings).get_table_names()) == {"alembic_version", "booking_requests"}


@pytest.mark.parametrize("url", ["postgresql"], indirect=True)
def test_a_server_makes_no_table_and_refuses_a_database_not_up_to_date(url, engine, postgres):
    from stores.tracker_store import RedactingSQLTrackerStore

    name = url.rsplit("/", 1)[1]
    with pytest.raises(migrations.OutOfDate, match="python -m migrations"):
        RedactingSQLTrackerStore(dialect="postgresql", host="127.0.0.1", port=postgres.port,
                                 db=name, username="postgres")
    store.engine.cache_clear()
    with pytest.raises(migrations.OutOfDate, match="python -m migrations"):
        store.engine(url)
    erasure.trackers.cache_clear()
    with pytest.raises(migrations.OutOfDate, match="python -m migrations"):
        erasure.trackers(url)
    assert inspect(engine).get_table_names() == []

    assert run(url).returncode == 0
    tracker_store = RedactingSQLTrackerStore(dialect="postgresql", host="127.0.0.1",
                                             port=postgres.port, db=name, username="postgres")
    tracker_store.engine.dispose()
    assert store.newest_first(store.engine(url)) == []
    store.engine.cache_clear()
