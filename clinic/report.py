"""`clinic report`: how the assistant did over the last days, from the stored
conversations (clinic/conversations.py) and the booking requests
(core/store.py): conversations, answered vs not understood, answers per
topic, booking requests and conversion, urgent escalations, out-of-scope
messages; and the same outcomes for each language visitors wrote in. As
a table, and with --html as a page with bar charts (inline SVG: no
plotting library needed, the page opens anywhere).
"""
from __future__ import annotations

import datetime
import html
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from sqlalchemy import create_engine, select

from clinic.conversations import all_messages
from clinic.project import LANGUAGES, Project
from core import store
from core.intents import BOOKING_INTENT


@dataclass
class Figures:
    days: int
    conversations: int = 0
    messages: int = 0
    kinds: Counter = field(default_factory=Counter)       # message kind -> count
    topics: Counter = field(default_factory=Counter)      # faq intent -> answers
    booking_started: int = 0                              # conversations asking to book
    requests: Counter = field(default_factory=Counter)    # kind of request -> count
    booked_conversations: int = 0                         # ... that stored a consultation
    languages: Dict[str, Counter] = field(default_factory=dict)  # language -> kind -> count
    senders: Counter = field(default_factory=Counter)     # language -> conversations in it

    @property
    def conversion(self) -> float:
        return self.booked_conversations / self.booking_started if self.booking_started else 0.0

    def rows(self) -> List[List[str]]:
        def share(count: int) -> str:
            return f"{count}  ({100 * count / self.messages:.0f} %)" if self.messages else "0"

        return [
            ["conversations", str(self.conversations)],
            ["visitor messages", str(self.messages)],
            ["answered from the knowledge", share(self.kinds["answered"])],
            ["not understood", share(self.kinds["not understood"])],
            ["out of scope", share(self.kinds["out of scope"])],
            ["urgent escalations", str(self.kinds["urgent"])],
            ["booking answers and other", share(self.kinds["form"] + self.kinds["other"])],
            ["conversations asking to book", str(self.booking_started)],
            ["consultation requests stored", str(self.requests["consultation"])],
            ["call-back requests stored", str(self.requests["callback"])],
            ["booking conversion", f"{100 * self.conversion:.0f} %  ({self.booked_conversations}"
                                   f" of {self.booking_started})"],
        ]

    def language_rows(self) -> List[List[str]]:
        """Per language: conversations, messages, and what became of them."""
        header = ["", "conversations", "messages", "answered", "not understood",
                  "out of scope", "urgent"]
        rows = [[LANGUAGES[language], str(self.senders[language]),
                 str(sum(kinds.values())), str(kinds["answered"]), str(kinds["not understood"]),
                 str(kinds["out of scope"]), str(kinds["urgent"])]
                for language, kinds in self.languages.items()]
        return [header] + rows


def _bookings(project: Project, since: datetime.datetime) -> List:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{project.root / 'var' / 'clinic.db'}"
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return []
    table = store.booking_requests
    with create_engine(url, future=True).connect() as connection:
        rows = connection.execute(select(table.c.kind, table.c.sender_id, table.c.created_at))
        return [row for row in rows
                if row.created_at.replace(tzinfo=None) >= since.replace(tzinfo=None)]


def figures(project: Project, days: int) -> Figures:
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    result = Figures(days)
    messages = all_messages(project, days)
    result.conversations = len({message.sender for message in messages})
    result.messages = len(messages)
    result.kinds = Counter(message.kind for message in messages)
    result.topics = Counter(message.intent for message in messages if message.kind == "answered")
    for language in LANGUAGES:  # every stored message is tagged en or es
        kinds = Counter(message.kind for message in messages if message.language == language)
        if kinds:
            result.languages[language] = kinds
    last_language = {message.sender: message.language for message in messages}
    result.senders = Counter(last_language.values())  # a conversation is in its last language
    asked = {message.sender for message in messages if message.intent == BOOKING_INTENT}
    result.booking_started = len(asked)
    bookings = _bookings(project, since)
    result.requests = Counter(row.kind for row in bookings)
    result.booked_conversations = len({row.sender_id for row in bookings
                                       if row.kind == "consultation"} & asked)
    return result


def text(result: Figures) -> str:
    rows = result.rows()
    width = max(len(label) for label, _ in rows)
    lines = [f"The last {result.days} days:"]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    lines.append("By language:")
    language_rows = result.language_rows()
    widths = [max(len(row[i]) for row in language_rows) for i in range(len(language_rows[0]))]
    lines += ["  " + "  ".join(cell.rjust(width) if i else cell.ljust(width)
                               for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
              for row in language_rows] if len(language_rows) > 1 else ["  none"]
    lines.append("Answers per topic:")
    lines += [f"  {count:5d}  {intent}" for intent, count in result.topics.most_common()] or [
        "  none"]
    return "\n".join(lines)


def _bars(title: str, values: Dict[str, int]) -> str:
    """A horizontal bar chart as inline SVG."""
    if not values:
        return f"<h2>{html.escape(title)}</h2><p>None.</p>"
    top = max(values.values()) or 1
    row, label_width, bar_width = 22, 230, 360
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" '
             f'width="{label_width + bar_width + 60}" height="{row * len(values) + 10}" xmlns="http://www.w3.org/2000/svg">']
    for index, (label, count) in enumerate(values.items()):
        y = index * row + 5
        width = round(bar_width * count / top)
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" '
                     f'font-size="13">{html.escape(label)}</text>'
                     f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="{row - 6}" '
                     f'fill="#3b7dd8"/><text x="{label_width + width + 6}" y="{y + 15}" '
                     f'font-size="13">{count}</text>')
    parts.append("</svg>")
    return f"<h2>{html.escape(title)}</h2>" + "".join(parts)


def page(result: Figures) -> str:
    table = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
                    for label, value in result.rows())
    outcomes = {"answered": result.kinds["answered"],
                "not understood": result.kinds["not understood"],
                "out of scope": result.kinds["out of scope"], "urgent": result.kinds["urgent"],
                "booking answers and other": result.kinds["form"] + result.kinds["other"]}
    header, *language_rows = result.language_rows()
    languages = "<tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in header) + "</tr>"
    languages += "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
                         + "</tr>" for row in language_rows)
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Assistant report: the last {result.days} days</title>"
            "<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:2em}"
            "</style></head><body>"
            f"<h1>The assistant over the last {result.days} days</h1><table>{table}</table>"
            + _bars("What happened to visitors' messages", outcomes)
            + f"<h2>By language</h2><table>{languages}</table>"
            + _bars("Answers per topic", dict(result.topics.most_common()))
            + f"<p>Made {datetime.datetime.now():%Y-%m-%d %H:%M} by clinic report.</p>"
            "</body></html>\n")
