"""python -m migrations [--check]: see migrations/__init__.py."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import create_engine

from core import erasure, store
from migrations import BOOKINGS, CONVERSATIONS, COMMAND, OutOfDate, current, head, upgrade


def main() -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Bring the bookings' database (DATABASE_URL) and the "
        "conversations' (TRACKER_DATABASE_URL, may be the same) up to date; run it once "
        "before the servers start.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 unless both are up to date")
    args = parser.parse_args()
    behind = False
    for branch, url in [(BOOKINGS, store.database_url()), (CONVERSATIONS, erasure.trackers_url())]:
        engine = create_engine(url, future=True)
        if engine.dialect.name == "sqlite" and engine.url.database and not args.check:
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            if args.check:
                with engine.connect() as connection:
                    found = current(connection, branch)
                behind |= found != head(branch)
                state = "up to date" if found == head(branch) else f"behind (at {found})"
            else:
                state = "upgraded" if upgrade(engine, branch) else "already up to date"
        except OutOfDate as error:
            print(f"{branch}: {error}", file=sys.stderr)
            return 1
        finally:
            engine.dispose()
        print(f"{branch} tables of {engine.url!r}: {state} (revision {head(branch)})")
    return 1 if behind else 0


if __name__ == "__main__":
    sys.exit(main())
