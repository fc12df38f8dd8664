"""rasa-webchat, the community's chat widget (npm, pinned in the Makefile),
against the socket.io channel in a real headless Chromium: it opens with its
`initPayload` (none by default, or `/get_started` as its README shows), and
is greeted, never told it was not understood; a question, a quick reply and
a reload that keeps the conversation, on the page and on the server."""
import json
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from actions.actions import KNOWLEDGE
from tests.support.project import ENV, ROOT
from tests.support.replies import DISCLOSURE, GREETING
from tests.support.web import ARTIFACTS, TIMEOUT_MS

pytestmark = pytest.mark.browser

VERSION = "1.0.1"  # RASA_WEBCHAT_VERSION of the Makefile
SCRIPT = ROOT / "build" / f"rasa-webchat-{VERSION}" / "index.js"
PAIN = KNOWLEDGE.by_id["pain"]
NOT_UNDERSTOOD = "didn't understand"
# A page of the tests' web site that embeds rasa-webchat as its README
# shows; the page and the script are served by the browser's routing, on the
# origin the Rasa server allows.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clinic</title></head>
<body><h1>Biorestoration</h1>
<script src="/rasa-webchat.js"></script>
<script>
  // The widget waits 0.8 to 3 s before showing each reply, as if typing:
  // the test needs no such wait.
  WebChat.default(Object.assign(%s, {customMessageDelay: () => 50}), null);
</script>
</body></html>"""


@pytest.fixture(scope="module")
def rasa_webchat() -> Path:
    """The widget's script: make fetches it once from the npm registry."""
    result = subprocess.run(["make", "--no-print-directory", str(SCRIPT.relative_to(ROOT))],
                            cwd=ROOT, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"rasa-webchat {VERSION} could not be fetched from npm: "
                    f"{result.stderr.strip()[-300:]}")
    return SCRIPT


@pytest.fixture
def visitor(browser, rasa_webchat, assistant, web_site):
    """A new visitor (a fresh browser context), to whom the tests' web site
    serves a page embedding rasa-webchat; `visitor(**props)` opens it with
    the widget's props."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    # The routed page has no address, so Chromium takes it for a public site
    # calling a loopback server, and asks for permission (on the clinic's
    # site both are public).
    context.grant_permissions(["local-network-access"])
    context.route(f"{web_site}/rasa-webchat.js", lambda route: route.fulfill(
        path=str(rasa_webchat), content_type="text/javascript"))

    def open_page(**settings):
        props = {"socketUrl": assistant.url, "socketPath": "/socket.io/",
                 "title": "Biorestoration assistant", **settings}
        context.route(f"{web_site}/clinic.html", lambda route: route.fulfill(
            body=PAGE % json.dumps(props), content_type="text/html"))
        page = context.new_page()
        page.goto(f"{web_site}/clinic.html")
        return page

    yield open_page
    context.close()


def bot_says(page, text: str):
    """The widget's reply bubble that contains `text`, once shown."""
    reply = page.locator(".rw-response", has_text=text).first
    reply.wait_for()
    return reply


def ask(page, question: str) -> None:
    page.locator(".rw-new-message").fill(question)
    page.locator(".rw-new-message").press("Enter")


def expect_answer(page, topic) -> None:
    for paragraph in KNOWLEDGE.answer(topic).strip().split("\n\n"):
        bot_says(page, paragraph.split("\n")[0])


def test_rasa_webchat_is_greeted_asks_chooses_and_keeps_its_session(visitor):
    page = visitor()  # no initPayload: the widget sends an empty message
    page.locator(".rw-launcher").click()
    bot_says(page, GREETING)
    expect(page.locator(".rw-response")).to_have_count(1)  # the greeting alone

    ask(page, "Does microneedling hurt?")
    expect_answer(page, PAIN)
    suggestion = KNOWLEDGE.related(PAIN)[0]
    page.locator(".rw-reply", has_text=suggestion.title).click()
    expect_answer(page, suggestion)
    expect(page.locator(".rw-client")).to_have_text(["Does microneedling hurt?",
                                                     suggestion.title])

    page.reload()  # the widget comes back open, with the conversation
    expect(page.locator(".rw-conversation-container")).to_be_visible()
    bot_says(page, GREETING)
    expect_answer(page, suggestion)
    ask(page, "how many sessions would I need")
    expect_answer(page, KNOWLEDGE.by_id["sessions"])
    # The server kept the session: no second greeting, no disclosure.
    expect(page.locator(".rw-response", has_text=GREETING)).to_have_count(1)
    expect(page.locator(".rw-response", has_text=DISCLOSURE)).to_have_count(0)
    assert NOT_UNDERSTOOD not in page.locator(".rw-messages-container").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "rasa-webchat.png")


@pytest.mark.parametrize("init_payload", ["/get_started", "/greet"])
def test_rasa_webchat_with_a_start_payload_is_greeted(visitor, init_payload):
    page = visitor(initPayload=init_payload)
    page.locator(".rw-launcher").click()
    bot_says(page, GREETING)
    ask(page, "Where is the clinic?")
    bot_says(page, KNOWLEDGE.clinic.address)
    assert NOT_UNDERSTOOD not in page.locator(".rw-messages-container").inner_text()
    expect(page.locator(".rw-response", has_text=GREETING)).to_have_count(1)
