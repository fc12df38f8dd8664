"""WhatsApp through Twilio on the running server: requests signed with the
twilio package's own validator, numbered options, numbers mapped back."""
import pytest
import requests

from actions.actions import KNOWLEDGE
from tests.support.channels import SECRETS
from tests.support.replies import CANNOT_VIEW, DISCLOSURE, is_urgent_reply
from tests.support.visitors import (TwilioVisitor, hold_the_conversation, twilio_params,
                                    twilio_reply, twilio_signed)

pytestmark = pytest.mark.e2e

LOCAL_URL = "{assistant}/webhooks/twilio/webhook"
PHOTO = {"NumMedia": "1", "MediaContentType0": "image/jpeg",
         "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"}


def test_a_visitor_asks_chooses_and_books_through_twilio(channels):
    mark = channels.twilio.mark()
    hold_the_conversation(TwilioVisitor(channels))
    sent = channels.twilio.since(mark)
    assert sent and all(r.path == f"/2010-04-01/Accounts/{SECRETS['TWILIO_ACCOUNT_SID']}"
                        "/Messages.json" for r in sent)
    assert all(r.body["From"] == SECRETS["TWILIO_WHATSAPP_NUMBER"] for r in sent)
    assert all(len(r.body["Body"]) <= 1600 for r in sent)
    assert any("\n1. " in r.body["Body"] and "Reply with the number" in r.body["Body"]
               for r in sent)


@pytest.mark.parametrize("case", ["valid", "missing", "tampered", "wrong token",
                                  "signed for the local URL"])
def test_only_requests_twilio_signed_for_the_public_url_are_accepted(channels, case):
    params = twilio_params("whatsapp:+15550001111", "Does it hurt?")
    url = LOCAL_URL.format(assistant=channels.assistant.url)
    headers = {
        "valid": twilio_signed(params),
        "missing": {},
        "tampered": twilio_signed({**params, "Body": "Does it hurt"}),
        "wrong token": twilio_signed(params, token="not-the-token"),
        "signed for the local URL": twilio_signed(params, url=url),
    }[case]
    response = requests.post(url, data=params, headers=headers, timeout=10)
    assert response.status_code == (200 if case == "valid" else 403)


def test_a_number_not_offered_is_read_as_text_and_media_get_the_polite_reply(channels):
    visitor = TwilioVisitor(channels)
    visitor.say("Does microneedling hurt?", KNOWLEDGE.answer(KNOWLEDGE.by_id["pain"]))
    visitor.say("7", "Sorry")  # only 3 options were offered: not a choice
    mark = channels.twilio.mark()
    visitor.post("", **PHOTO)
    visitor.wait(mark, CANNOT_VIEW)


def test_a_photo_captioned_with_urgent_symptoms_gets_the_urgent_reply_alone(channels):
    visitor = TwilioVisitor(channels)
    mark = channels.twilio.mark()
    visitor.post("I have pus and a fever", **PHOTO)
    urgent = visitor.wait(mark, "")
    assert is_urgent_reply([{"text": urgent.text}])
    visitor.say("thank you", "You're welcome")  # the urgent turn is over: nothing more came
    texts = [twilio_reply(request).text for request in channels.twilio.since(mark)
             if visitor.to_me(request)]
    assert texts[0] == urgent.text and texts[1].startswith(DISCLOSURE)  # the thanks' turn
    assert not any(text.startswith(CANNOT_VIEW) for text in texts)
