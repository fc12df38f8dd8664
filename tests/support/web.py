"""web/ (the demo page and the chat widget) served on loopback, and the demo
page's widget as a visitor uses it in a headless Chromium."""
from __future__ import annotations

import html
import threading
import urllib.parse
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from actions.actions import KNOWLEDGE
from tests.support.project import ROOT

DEMO_SERVER = 'data-server="http://localhost:5005"'  # the widget's tag on web/index.html
DEMO_LANG = '<html lang="en">'
CHROMIUM = Path("/usr/bin/chromium")  # Debian's
ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT_MS = 20000


class WebHandler(SimpleHTTPRequestHandler):
    """web/ as it is, except that /index.html?server=URL is the demo page with
    its widget pointed at the Rasa server of URL (the tests' own), and
    &lang=es makes it a page in that language (<html lang>)."""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        server, lang = query.get("server"), query.get("lang", ["en"])[0]
        if url.path != "/index.html" or not server:
            return super().do_GET()
        page = (ROOT / "web" / "index.html").read_text(encoding="utf-8")
        body = page.replace(DEMO_SERVER, f'data-server="{html.escape(server[0])}"').replace(
            DEMO_LANG, f'<html lang="{html.escape(lang)}">').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serving_web() -> Iterator[str]:
    """web/ served on a free loopback port: its origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(WebHandler, directory=ROOT / "web"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# The demo page's widget, as a visitor uses it ------------------------------

def launcher(page, name: str = "Open the chat"):
    return page.get_by_role("button", name=f"{name}: Biorestoration assistant")


def ask(page, question: str, textbox: str = "Your message") -> None:
    page.get_by_role("textbox", name=textbox).fill(question)
    page.get_by_role("textbox", name=textbox).press("Enter")


def expect_answer(page, topic, language: str = "en", log: str = "Conversation") -> None:
    log = page.get_by_role("log", name=log)
    for paragraph in KNOWLEDGE.answer(topic, language).strip().split("\n\n"):
        log.get_by_text(paragraph).wait_for()
