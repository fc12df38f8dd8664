"""The website chat's widget sends again, with its id, a message no reply
has come to, and the server answers it once (rasa_patches/once.py): in a real
headless Chromium, on the demo page, against the running servers. The
replies are lost on the way by a wrapper of the page's WebSocket, which drops
the server's `bot_uttered` packets while `window.dropReplies` is set."""
import json
import re

import pytest
from playwright.sync_api import expect

from actions.actions import KNOWLEDGE
from tests.support.assistant import stored_by_now
from tests.support.replies import DISCLOSURE
from tests.support.web import ask, expect_answer, launcher

pytestmark = pytest.mark.browser

PAIN = KNOWLEDGE.by_id["pain"]
# Runs before the widget's script: the socket.io client takes WebSocket as
# it loads. `upgraded` once the client has moved from polling to the
# websocket (engine.io's "5" packet): from then on every reply comes by it.
LOSSY_WEBSOCKET = """
window.dropReplies = false;
window.upgraded = false;
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      if (window.dropReplies && String(event.data).includes('"bot_uttered"')) {
        event.stopImmediatePropagation();
      }
    });
  }
  send(data) {
    if (data === "5") window.upgraded = true;
    super.send(data);
  }
};
"""
KEPT = "() => JSON.parse(sessionStorage.getItem('clinic-chat:v1'))"


def test_a_message_whose_replies_were_lost_is_sent_again_and_answered_once(demo, assistant):
    page = demo()
    page.add_init_script(LOSSY_WEBSOCKET)
    page.reload()
    launcher(page).click()
    page.wait_for_function("window.upgraded")
    page.evaluate("window.dropReplies = true")
    ask(page, "Does microneedling hurt?")
    [pending] = page.evaluate(KEPT)["pending"]
    assert re.fullmatch(r"[0-9a-f]{32}", pending["id"])
    session = page.evaluate(KEPT)["sessionId"]
    # The turn is stored, its replies lost: the widget still waits for them.
    assert stored_by_now(assistant, session, 1) == [("Does microneedling hurt?", pending["id"])]
    repeats_before = assistant.logs[0].read_text().count("turn.repeated channel=socketio")
    expect(page.locator(".bubble.bot", has_text=DISCLOSURE)).to_have_count(0)

    page.reload()  # the replies come through again; the message is sent again

    expect_answer(page, PAIN)
    first_paragraph = KNOWLEDGE.answer(PAIN).strip().split("\n\n")[0]
    expect(page.locator(".bubble.bot", has_text=first_paragraph)).to_have_count(1)
    expect(page.locator(".bubble.bot", has_text=DISCLOSURE)).to_have_count(1)
    expect(page.locator(".bubble.user")).to_have_text(["You said: Does microneedling hurt?"])
    page.wait_for_function(f"({KEPT})().pending.length === 0")
    assert stored_by_now(assistant, session, 1) == [("Does microneedling hurt?", pending["id"])]
    assert assistant.logs[0].read_text().count(
        "turn.repeated channel=socketio") == repeats_before + 1
    assert json.dumps(page.evaluate(KEPT)).count("Does microneedling hurt?") == 1
