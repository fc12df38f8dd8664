"""Telling the clinic about new booking requests, without ever losing one.

With SMTP_HOST set, each request is emailed to the clinic (SMTP_PORT,
SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS=true, NOTIFY_EMAIL: the clinic's
email by default). A request whose email has not gone out stays in the
outbox (`notified_at` empty): `clinic outbox` shows it, and the next booking
or `clinic outbox send` tries again. The booking itself is stored first, so
a failed email never loses it.
"""
from __future__ import annotations

import datetime
import logging
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import List, Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from core import store

logger = logging.getLogger(__name__)
SMTP_TIMEOUT_S = 10


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    user: Optional[str]
    password: Optional[str]
    starttls: bool
    sender: str
    recipient: str

    @classmethod
    def from_environment(cls, clinic_email: str) -> Optional["Smtp"]:
        host = os.environ.get("SMTP_HOST")
        if not host:
            return None
        return cls(host=host, port=int(os.environ.get("SMTP_PORT", "25")),
                   user=os.environ.get("SMTP_USER"), password=os.environ.get("SMTP_PASSWORD"),
                   starttls=os.environ.get("SMTP_STARTTLS", "").lower() == "true",
                   sender=os.environ.get("SMTP_FROM", clinic_email),
                   recipient=os.environ.get("NOTIFY_EMAIL", clinic_email))


def email_for(booking: store.StoredBooking, smtp: Smtp) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"New {booking.kind} request {booking.reference}"
    message["From"], message["To"] = smtp.sender, smtp.recipient
    message.set_content(
        f"Reference: {booking.reference}\nKind: {booking.kind}\nName: {booking.name}\n"
        f"Contact: {booking.contact} ({booking.contact_kind})\n"
        f"Treatment: {booking.treatment_area}\nPreferred time: {booking.preferred_time}\n"
        f"Received: {booking.created_at:%Y-%m-%d %H:%M} UTC\n")
    return message


def outbox(db: Optional[Engine] = None) -> List[store.StoredBooking]:
    """Booking requests the clinic has not been emailed about yet, oldest first."""
    table = store.booking_requests
    with (db or store.engine()).connect() as connection:
        rows = connection.execute(select(table).where(table.c.notified_at.is_(None))
                                  .order_by(table.c.created_at, table.c.id)).mappings()
        return [store.stored(row) for row in rows]


def send_outbox(smtp: Optional[Smtp], db: Optional[Engine] = None) -> int:
    """Email every waiting request; returns how many went out."""
    if smtp is None:
        return 0
    db = db or store.engine()
    sent = 0
    for booking in outbox(db):
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S) as connection:
                if smtp.starttls:
                    connection.starttls()
                if smtp.user:
                    connection.login(smtp.user, smtp.password or "")
                connection.send_message(email_for(booking, smtp))
        except (OSError, smtplib.SMTPException) as error:
            logger.warning("notify.failed reference=%s error=%s", booking.reference,
                           type(error).__name__)
            break  # the server is unreachable: the rest waits for the next try
        with db.begin() as connection:
            connection.execute(update(store.booking_requests)
                               .where(store.booking_requests.c.reference == booking.reference)
                               .values(notified_at=datetime.datetime.now(datetime.timezone.utc)))
        sent += 1
    return sent
