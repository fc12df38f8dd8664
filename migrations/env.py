"""Alembic's environment: runs the migrations on the connection that
migrations.upgrade() opened, in its transaction and under its lock. Apply
them with `python -m migrations`, not `alembic upgrade`, which would have no
database to run on."""
from alembic import context

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise SystemExit("Apply the migrations with `python -m migrations` "
                     "(DATABASE_URL, TRACKER_DATABASE_URL).")

context.configure(connection=connection)
with context.begin_transaction():
    context.run_migrations()
