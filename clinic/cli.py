"""The clinic's staff command line.

    clinic bookings list [--json]       booking requests, newest first
    clinic bookings export --csv FILE   all booking requests as a CSV file
    clinic outbox                       requests the clinic was not emailed about yet
    clinic outbox send                  email them now (SMTP_HOST and friends)
    clinic forget SENDER_ID             erase a visitor's conversation and bookings
    clinic forget --contact PHONE_OR_EMAIL   the same, found by their phone or email
    clinic purge [--older-than DAYS]    erase what is older (default: retention_days)
    clinic faq | examples | check | train | rollback | review | report
                                        keep the assistant current (clinic/staff.py)

The database is the one the assistant writes to: DATABASE_URL, or the SQLite
file var/clinic.db of the project. Exit codes: 0 ok, 1 a problem (the
message says what to do), 2 misuse of the command.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
from pathlib import Path
from typing import List, Optional

from sqlalchemy.exc import SQLAlchemyError

from clinic import staff
from core import erasure, notify, store
from core.knowledge import load_knowledge

COLUMNS = ["reference", "created_at", "kind", "name", "contact", "treatment_area",
           "preferred_time", "sender_id"]


def _rows() -> List[dict]:
    return [dataclasses.asdict(booking) for booking in store.newest_first()]


def bookings_list(args: argparse.Namespace) -> int:
    rows = _rows()
    if args.json:
        print(json.dumps(rows, default=str, indent=2))
        return 0
    if not rows:
        print("No booking requests yet.")
        return 0
    shown = ["reference", "created_at", "kind", "name", "contact", "preferred_time"]
    table = [[str(row[column])[:40] for column in shown] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in table)) for i, column in enumerate(shown)]
    print("  ".join(column.ljust(width) for column, width in zip(shown, widths)))
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))
    return 0


def bookings_export(args: argparse.Namespace) -> int:
    rows = _rows()
    with Path(args.csv).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    print(f"Wrote {len(rows)} booking requests to {args.csv}")
    return 0


def outbox(args: argparse.Namespace) -> int:
    if args.action == "send":
        smtp = notify.Smtp.from_environment(load_knowledge().clinic.email)
        if smtp is None:
            print("error: SMTP_HOST is not set, so there is no mail server to send to.",
                  file=sys.stderr)
            return 1
        sent = notify.send_outbox(smtp)
        waiting = len(notify.outbox())
        print(f"Sent {sent}; {waiting} still waiting.")
        return 1 if waiting else 0
    waiting = notify.outbox()
    print(f"{len(waiting)} booking requests waiting to be emailed to the clinic.")
    for booking in waiting:
        print(f"  {booking.reference}  {booking.created_at:%Y-%m-%d %H:%M}  {booking.kind}")
    return 0


def forget(args: argparse.Namespace) -> int:
    if bool(args.sender) == bool(args.contact):
        print("error: give either a SENDER_ID or --contact PHONE_OR_EMAIL.", file=sys.stderr)
        return 2
    if args.contact:
        removed = erasure.forget_contact(args.contact, load_knowledge().clinic.phone_region)
    else:
        removed = erasure.forget_sender(args.sender)
    print(f"Forgot: {removed.text()}.")
    return 0


def purge(args: argparse.Namespace) -> int:
    days = args.older_than or load_knowledge().clinic.retention_days
    removed = erasure.purge(days)
    print(f"Purged what is older than {days} days: {removed.text()}.")
    return 0


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="clinic", description="Staff tools of the microneedling clinic assistant.",
        epilog="Example: clinic bookings list --json")
    main_parser.add_argument("--project", metavar="DIR",
                             help="the assistant's folder (default: CLINIC_PROJECT, or the "
                                  "folder of this program)")
    commands = main_parser.add_subparsers(dest="command", required=True)
    bookings = commands.add_parser("bookings", help="booking requests visitors made",
                                   description="Booking requests visitors made.",
                                   epilog="Example: clinic bookings list")
    actions = bookings.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="newest first",
                                 epilog="Example: clinic bookings list --json")
    listing.add_argument("--json", action="store_true", help="print JSON for other programs")
    listing.set_defaults(func=bookings_list)
    export = actions.add_parser("export", help="write a CSV file",
                                epilog="Example: clinic bookings export --csv bookings.csv")
    export.add_argument("--csv", required=True, metavar="FILE", help="the CSV file to write")
    export.set_defaults(func=bookings_export)
    mail = commands.add_parser("outbox", help="requests not emailed to the clinic yet",
                               epilog="Example: SMTP_HOST=mail.example.com clinic outbox send")
    mail.add_argument("action", nargs="?", choices=["send"], help="email them now")
    mail.set_defaults(func=outbox)
    forgetting = commands.add_parser("forget", help="erase a visitor's data",
                                     epilog="Example: clinic forget --contact 801-555-0123")
    forgetting.add_argument("sender", nargs="?", metavar="SENDER_ID",
                            help="the conversation's sender id")
    forgetting.add_argument("--contact", metavar="PHONE_OR_EMAIL",
                            help="find the visitor by the phone or email of their bookings")
    forgetting.set_defaults(func=forget)
    purging = commands.add_parser("purge", help="erase old conversations and bookings",
                                  epilog="Example: clinic purge --older-than 90")
    purging.add_argument("--older-than", type=int, metavar="DAYS",
                         help="age in days (default: retention_days of knowledge/clinic.yml)")
    purging.set_defaults(func=purge)
    staff.add_commands(commands)
    staff.add_training_commands(commands)
    staff.add_conversation_commands(commands)
    return main_parser


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        return staff.run(args.func, args)
    except SQLAlchemyError as error:
        print(f"error: cannot read the booking database ({type(error).__name__}). "
              "Check DATABASE_URL, or that var/clinic.db is readable.", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error.strerror}: {error.filename}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
