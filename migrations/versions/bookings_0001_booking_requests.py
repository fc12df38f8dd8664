"""The booking requests, as actions/store.py (now core/store.py) made them before the migrations.

A database of that time already has the table: it is kept as it is.

Revision ID: bookings_0001
Revises:
Created: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "bookings_0001"
down_revision = None
branch_labels = ("bookings",)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("booking_requests"):
        return
    op.create_table(
        "booking_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(12), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("contact", sa.String(254), nullable=False),
        sa.Column("contact_kind", sa.String(10), nullable=False),
        sa.Column("treatment_area", sa.String(200), nullable=False),
        sa.Column("preferred_time", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_booking_requests_sender_id", "booking_requests", ["sender_id"])
    op.create_index("ix_booking_requests_contact", "booking_requests", ["contact"])


def downgrade() -> None:
    op.drop_table("booking_requests")
