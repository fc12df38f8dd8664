"""One bot message, rendered for each channel within the platforms' limits."""
import pytest

from channels import render
from channels.render import Option

pytestmark = pytest.mark.unit

LONG_TITLE = "A title much longer than twenty characters"
MANY = [Option(f"Topic number {n} with a long title", f"/faq_{n}") for n in range(1, 13)]
TWO = [Option("Yes, I agree", "/affirm"), Option("No", "/deny")]


def test_options_are_read_from_buttons_or_quick_replies():
    assert render.options({"buttons": [{"title": "No", "payload": "/deny"}]}) == [TWO[1]]
    assert render.options({"quick_replies": [{"title": "No", "payload": "/deny"}]}) == [TWO[1]]
    assert render.options({"text": "plain"}) == []


def test_cut_keeps_short_titles_and_marks_a_cut():
    assert render.cut("Does it hurt?", 20) == "Does it hurt?"
    assert render.cut(LONG_TITLE, 20) == "A title much longer…"
    assert len(render.cut(LONG_TITLE, 20)) == 20


def test_long_text_is_split_between_words_within_the_limit():
    text = " ".join(["microneedling"] * 400)
    pieces = render.split_text(text, 2000)
    assert len(pieces) == 3 and all(len(piece) <= 2000 for piece in pieces)
    assert " ".join(pieces) == text


def test_messenger_few_options_make_a_button_template():
    [message] = render.for_messenger("Shall I send it?", TWO + [Option(LONG_TITLE, "/stop")])
    template = message["attachment"]["payload"]
    assert template["template_type"] == "button" and template["text"] == "Shall I send it?"
    assert [b["payload"] for b in template["buttons"]] == ["/affirm", "/deny", "/stop"]
    assert all(b["type"] == "postback" and len(b["title"]) <= 20 for b in template["buttons"])


def test_messenger_many_options_make_at_most_ten_quick_replies():
    [message] = render.for_messenger("Did you mean one of these?", MANY)
    replies = message["quick_replies"]
    assert len(replies) == 10 and [r["payload"] for r in replies] == [o.payload for o in MANY[:10]]
    assert all(r["content_type"] == "text" and len(r["title"]) <= 20 for r in replies)


def test_messenger_long_text_goes_first_and_the_options_ride_on_the_last_piece():
    messages = render.for_messenger("word " * 700, TWO)
    assert all(len(m.get("text", "")) <= 2000 for m in messages)
    assert "quick_replies" in messages[-1]  # 1,500 characters is too long for a template


def test_messenger_plain_text_has_no_options():
    assert render.for_messenger("Hello", []) == [{"text": "Hello"}]


def test_whatsapp_up_to_three_options_are_reply_buttons():
    [message] = render.for_whatsapp("Shall I send it?", TWO, "See options")
    interactive = message["interactive"]
    assert message["type"] == "interactive" and interactive["type"] == "button"
    assert interactive["body"] == {"text": "Shall I send it?"}
    assert [b["reply"]["id"] for b in interactive["action"]["buttons"]] == ["/affirm", "/deny"]


def test_whatsapp_more_options_are_a_list_of_at_most_ten_rows():
    [message] = render.for_whatsapp("Did you mean?", MANY, "See options")
    action = message["interactive"]["action"]
    rows = action["sections"][0]["rows"]
    assert message["interactive"]["type"] == "list" and action["button"] == "See options"
    assert len(rows) == 10 and all(len(row["title"]) <= 24 for row in rows)
    assert [row["id"] for row in rows] == [o.payload for o in MANY[:10]]


def test_whatsapp_body_over_1024_characters_sends_the_text_first():
    messages = render.for_whatsapp("word " * 300, TWO, "See options")
    assert [m["type"] for m in messages] == ["text", "interactive"]
    assert len(messages[-1]["interactive"]["body"]["text"]) <= 1024
    assert all(len(m["text"]["body"]) <= 4096 for m in messages[:-1])


@pytest.mark.parametrize("reply, payload", [("1", "/affirm"), (" 2 ", "/deny"), ("2.", "/deny"),
                                            ("3", None), ("0", None), ("one", None),
                                            ("12 sessions", None)])
def test_a_number_picks_the_option_offered(reply, payload):
    assert render.chosen(reply, TWO) == payload


def test_numbered_list_keeps_full_titles_then_the_hint():
    [body] = render.for_numbered("Shall I send it?", [Option(LONG_TITLE, "/x")] + TWO, "Reply 1-3.")
    assert body == f"Shall I send it?\n\n1. {LONG_TITLE}\n2. Yes, I agree\n3. No\n\nReply 1-3."


def test_the_options_offered_are_those_of_the_latest_bot_message_since_the_visitor_spoke():
    buttons = [{"title": "No", "payload": "/deny"}]
    events = [{"event": "bot", "data": {"buttons": [{"title": "Old", "payload": "/old"}]}},
              {"event": "user", "text": "hi"},
              {"event": "bot", "data": {"buttons": buttons}},
              {"event": "bot", "text": "no buttons here", "data": {}},
              {"event": "action", "name": "action_listen"}]
    assert render.last_offered(events) == [Option("No", "/deny")]
    assert render.last_offered(events + [{"event": "user", "text": "1"}]) == []


def test_a_label_comes_in_the_language_of_the_message_it_goes_with():
    labels = {"en": "See options", "es": "Ver opciones"}
    assert render.in_language_of("Sorry, did you mean one of these?", labels) == "See options"
    assert render.in_language_of("¿Quiso decir alguno de estos temas?", labels) == "Ver opciones"
    assert render.in_language_of("801-501-9797", labels) == "See options"  # cannot tell
    assert render.wording("utter_list_button")["en"] == "See options"
