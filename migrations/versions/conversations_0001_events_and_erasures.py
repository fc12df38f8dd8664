"""The conversations' tables, as the Rasa servers made them at start before
the migrations: Rasa's `events` (its SQL tracker store's own table, made
from Rasa's definition of it) and `erasures`, where the action server asked
the tracker store to erase a conversation.

`erasures` is no longer used: a visitor's erasure now travels in the
conversation (the `erasure_requested` slot, core/erasure.py). It is kept
for one release, so that servers of the version before, which still write
and read it, keep working while an upgrade rolls out; a later revision
(conversations_0002) drops it.

A database of that time already has them, or some: only the missing ones
are made.

Revision ID: conversations_0001
Revises:
Created: 2026-12-02
"""
import warnings

import sqlalchemy as sa
from alembic import op

revision = "conversations_0001"
down_revision = None
branch_labels = ("conversations",)
depends_on = None


def upgrade() -> None:
    # Imported here: loading the revisions (a bookings-only upgrade, a
    # server's check at start) need not import Rasa. Rasa 3.6 defines its
    # table with the SQLAlchemy 1.4 API it pins, which warns on import (a
    # filter would not do: importing Rasa puts its own filters first).
    with warnings.catch_warnings(record=True):
        from rasa.core.tracker_store import SQLTrackerStore

    bind = op.get_bind()
    SQLTrackerStore.SQLEvent.__table__.create(bind, checkfirst=True)
    if not sa.inspect(bind).has_table("erasures"):
        op.create_table(
            "erasures",
            sa.Column("sender_id", sa.String(255), primary_key=True),
            sa.Column("requested_at", sa.Float, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("erasures")
    op.drop_table("events")
