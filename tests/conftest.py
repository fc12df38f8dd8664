"""The fixtures the test files share. Each is made only when a test asks for
it, so a unit run (`pytest -m unit`) never trains a model, builds the widget
or starts a server. Helpers that are not fixtures live in tests/support/."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.assistant import Assistant, start_assistant, stop_all
from tests.support.channels import SECRETS, Channels, FakePlatform, channel_credentials
from tests.support.project import ENV, MODEL, ROOT
from tests.support.web import CHROMIUM, DEMO_LANG, DEMO_SERVER, TIMEOUT_MS, serving_web

# Every test is of one kind (unit, e2e, cluster, browser): checked at collection.
pytest_plugins = ["tests.support.kinds"]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model of the current data: make retrains only if the data changed."""
    subprocess.run(["make", "--no-print-directory", str(MODEL.relative_to(ROOT))],
                   cwd=ROOT, env=ENV, check=True)
    return MODEL


@pytest.fixture(scope="session")
def web_site() -> Iterator[str]:
    """web/ (the demo page and the chat widget) served on a free loopback port:
    its origin."""
    with serving_web() as origin:
        yield origin


@pytest.fixture(scope="session")
def assistant(trained_model: Path, tmp_path_factory: pytest.TempPathFactory,
              web_site: str) -> Iterator[Assistant]:
    """The real action server and Rasa server, started once for the test run."""
    running, servers = start_assistant(tmp_path_factory.mktemp("servers"), trained_model,
                                       web_origins=[web_site])
    try:
        yield running
    finally:
        stop_all(servers)


@pytest.fixture(scope="session")
def channels(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Channels]:
    """A second assistant with Messenger, WhatsApp and Twilio on (test secrets),
    sending to fake Graph and Twilio APIs; started once for the test run."""
    graph, twilio = FakePlatform(), FakePlatform()
    folder = tmp_path_factory.mktemp("channels")
    running, servers = start_assistant(folder, trained_model,
                                       channel_credentials(folder, graph, twilio), env=SECRETS)
    try:
        yield Channels(running, graph, twilio)
    finally:
        stop_all(servers)
        graph.stop()
        twilio.stop()


@pytest.fixture(scope="session")
def widget() -> Path:
    """The built widget: make rebuilds it when its sources or lock changed."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the chat widget cannot be built")
    subprocess.run(["make", "--no-print-directory", "web/dist/widget.js"], cwd=ROOT, env=ENV,
                   check=True)
    return ROOT / "web" / "dist" / "widget.js"


@pytest.fixture(scope="module")
def browser(widget: Path):
    """Debian's Chromium, headless, driven by Playwright: one per test file."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright  # a test tool: only browser tests need it

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--disable-gpu", "--disable-quic"])
        yield chromium
        chromium.close()


@pytest.fixture
def demo(browser, assistant: Assistant, web_site: str) -> Iterator:
    """A new visitor (fresh browser context) on the demo page, whose one
    script tag points the widget at the test's Rasa server."""
    page = (ROOT / "web" / "index.html").read_text(encoding="utf-8")
    assert DEMO_SERVER in page and DEMO_LANG in page
    contexts = []

    def open_page(lang: str = "en", **options):
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{web_site}/index.html?server={assistant.url}&lang={lang}")
        return page

    yield open_page
    for context in contexts:
        context.close()
