"""The website chat in a real headless Chromium (Debian's /usr/bin/chromium),
on the demo page, against the running Rasa server and action server."""
import html
import re

import pytest
from playwright.sync_api import expect

from actions.actions import KNOWLEDGE
from tests.support.booking import staff_list
from tests.support.project import ROOT
from tests.support.replies import (ASK_CONSENT, ASK_CONTACT, ASK_NAME, ASK_TIME, ASK_TREATMENT,
                                   CONFIRM, DISCLOSURE)
from tests.support.web import ARTIFACTS, ask, expect_answer, launcher

PAIN = KNOWLEDGE.by_id["pain"]
# Notes whether the typing indicator was shown (it may be brief).
WATCH_TYPING = """indicator => {
  window.typingShown = false;
  new MutationObserver(() => { window.typingShown ||= !indicator.hidden; })
    .observe(indicator, { attributes: true });
}"""


@pytest.mark.browser
def test_a_visitor_asks_clicks_a_suggestion_and_keeps_the_conversation_after_a_reload(demo):
    page = demo(viewport={"width": 1280, "height": 800})
    launcher(page).click()
    page.locator(".typing").evaluate(WATCH_TYPING)
    ask(page, "Does microneedling hurt?")
    expect_answer(page, PAIN)
    expect(page.locator(".typing")).to_be_hidden()
    assert page.evaluate("window.typingShown") is True

    suggestion = KNOWLEDGE.related(PAIN)[0]
    replies = page.get_by_role("group", name="Suggested replies")
    expect(replies.get_by_role("button")).to_have_text(
        [topic.title for topic in KNOWLEDGE.related(PAIN)])
    replies.get_by_role("button", name=suggestion.title).click()
    expect_answer(page, suggestion)
    expect(page.locator(".bubble.user")).to_have_text(
        ["You said: Does microneedling hurt?", f"You said: {suggestion.title}"])

    page.reload()
    expect_answer(page, PAIN)
    expect_answer(page, suggestion)
    expect(page.get_by_role("dialog", name="Biorestoration assistant")).to_be_visible()
    # The server kept the session too: the next answer comes without a
    # second "I'm an automated assistant" disclosure.
    ask(page, "how many sessions would I need")
    expect_answer(page, KNOWLEDGE.by_id["sessions"])
    expect(page.locator(".bubble.bot", has_text=DISCLOSURE)).to_have_count(1)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "webchat.png")


@pytest.mark.browser
def test_a_visitor_books_a_consultation_in_the_chat(demo, assistant):
    page = demo()
    launcher(page).click()
    log = page.get_by_role("log", name="Conversation")

    def reply(text: str):
        found = log.locator(".bubble.bot", has_text=text).last
        found.wait_for()
        return found

    def choose(title: str) -> None:
        page.get_by_role("group", name="Suggested replies").last.get_by_role(
            "button", name=title).click()

    ask(page, "I'd like to book a consultation")
    reply(ASK_TREATMENT)
    ask(page, "acne scars on my cheeks")
    reply(ASK_CONSENT)
    choose("Yes, I agree")
    reply(ASK_NAME)
    ask(page, "Robin Webchat")
    reply(ASK_CONTACT)
    ask(page, "801-555-0142")
    reply(ASK_TIME)
    ask(page, "next Tuesday afternoon")
    expect(reply(CONFIRM)).to_contain_text("acne scars on my cheeks for Robin Webchat")
    choose("Yes, send it")
    saved = reply("Thank you! Your request is with").inner_text()
    reference = re.search(r"MN-[0-9A-Z]+", saved).group(0)
    [booking] = [row for row in staff_list(assistant) if row["reference"] == reference]
    assert booking["name"] == "Robin Webchat" and booking["contact"] == "+18015550142"


@pytest.mark.browser
def test_the_keyboard_opens_the_chat_sends_and_closes_it(demo):
    page = demo()
    button = launcher(page)
    for _ in range(10):
        page.keyboard.press("Tab")
        if button.evaluate("element => element.getRootNode().activeElement === element"):
            break
    else:
        pytest.fail("Tab never reached the chat's launcher")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Biorestoration assistant")
    expect(dialog).to_be_visible()
    textbox = page.get_by_role("textbox", name="Your message")
    expect(textbox).to_be_focused()
    page.keyboard.type("does it hurt")
    page.keyboard.press("Enter")
    expect_answer(page, PAIN)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Open the chat: Biorestoration assistant")
           ).to_be_focused()


@pytest.mark.browser
def test_markup_typed_by_a_visitor_is_shown_as_text(demo):
    page = demo()
    launcher(page).click()
    markup = '<img src=x onerror="document.title=\'pwned\'"><b>bold</b>'
    ask(page, markup)
    expect(page.locator(".bubble.user")).to_have_text(f"You said: {markup}")
    page.get_by_role("log", name="Conversation").locator(".bubble.bot").nth(1).wait_for()
    assert page.locator(".log img, .log b").count() == 0
    assert page.title() != "pwned"


@pytest.mark.browser
def test_on_a_phone_the_chat_takes_the_whole_screen(demo):
    phone = {"width": 390, "height": 844}
    page = demo(viewport=phone, has_touch=True, is_mobile=True)
    launcher(page).click()
    dialog = page.get_by_role("dialog", name="Biorestoration assistant")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
    ask(page, "Does microneedling hurt?")
    expect_answer(page, PAIN)
    page.get_by_role("group", name="Suggested replies").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "webchat-phone.png")


@pytest.mark.browser
def test_a_stored_conversation_is_shown_bounded_and_as_text(demo):
    """What the tab kept (sessionStorage) is read defensively: at most the last
    60 messages, markup as text, malformed entries left out."""
    stored = [{"from": "user" if n % 2 else "bot", "text": f"message {n} <img src=x>",
               "buttons": []} for n in range(100)]
    stored += [{"from": "intruder", "text": "x"}, {"from": "bot", "text": ["x"]}, None]
    page = demo()
    page.evaluate("messages => sessionStorage.setItem('clinic-chat:v1', JSON.stringify("
                  "{sessionId: null, open: true, messages}))", stored)
    page.reload()
    expect(page.get_by_role("dialog", name="Biorestoration assistant")).to_be_visible()
    messages = page.locator(".log > .message")
    expect(messages).to_have_count(1 + 60)  # the greeting, then the last 60 kept
    expect(messages.nth(1)).to_have_text("Assistant said: message 40 <img src=x>")
    expect(messages.last).to_have_text("You said: message 99 <img src=x>")
    assert page.locator(".log img").count() == 0


@pytest.mark.unit
def test_the_demo_page_shows_the_clinics_details_from_its_profile():
    page = (ROOT / "web" / "index.html").read_text(encoding="utf-8")
    clinic = KNOWLEDGE.clinic
    for detail in (clinic.name, clinic.phone, clinic.email, clinic.address):
        assert html.escape(detail, quote=False) in page



@pytest.mark.browser
def test_on_a_spanish_page_the_widgets_own_texts_are_spanish_and_so_are_spanish_answers(demo):
    page = demo(lang="es")
    launcher(page, "Abrir el chat").click()
    textbox = page.get_by_role("textbox", name="Su mensaje")
    expect(textbox).to_have_attribute("placeholder", "Escriba su pregunta…")
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    ask(page, "Does microneedling hurt?", textbox="Su mensaje")
    expect_answer(page, PAIN, log="Conversación")
    expect(page.locator(".bubble.user")).to_have_text(["Usted dijo: Does microneedling hurt?"])
    ask(page, "y en español, ¿cuánto dura la recuperación?", textbox="Su mensaje")
    expect_answer(page, KNOWLEDGE.by_id["downtime"], "es", log="Conversación")
    expect(page.get_by_role("group", name="Respuestas sugeridas").last.get_by_role(
        "button")).to_have_text([topic.es.title for topic in
                                 KNOWLEDGE.related(KNOWLEDGE.by_id["downtime"])])


@pytest.mark.browser
def test_a_first_message_that_does_not_tell_is_answered_in_the_pages_language(demo):
    """"vs laser?" says no language: on the Spanish page it is a Spanish
    speaker's, and the conversation goes on in Spanish."""
    page = demo(lang="es")
    launcher(page, "Abrir el chat").click()
    ask(page, "vs laser?", textbox="Su mensaje")
    expect_answer(page, KNOWLEDGE.by_id["vs_other_treatments"], "es", log="Conversación")
    ask(page, "downtime?", textbox="Su mensaje")
    expect_answer(page, KNOWLEDGE.by_id["downtime"], "es", log="Conversación")
