"""How the replies the tests wait for begin (the wording is in domain.yml and
the knowledge file; these openings are what a test may rely on)."""
import functools

import yaml

from tests.support.project import ROOT

DISCLOSURE = "I'm an automated assistant: I give general information"
GREETING = "Hi! I'm the automated assistant"
CANNOT_VIEW = "Thank you, but I can't look at images or files"

# The booking form, step by step.
ASK_TREATMENT = "Happy to help you book a consultation."
ASK_CONSENT = "Next I'll ask for your name and a phone number or email."
ASK_NAME = "What name should the clinic use for you?"
ASK_CONTACT = "What phone number or email address can the clinic reach you at?"
ASK_TIME = "Which day and time would suit you?"
CONFIRM = "Here is your request:"
SAVED = "Thank you! Your request is with"

EMERGENCY_REPLY = "This needs emergency care now: please call 911."
CLINIC_REPLY = ("Please don't wait with this: call Biorestoration Medical & Aesthetics now at "
                "801-501-9797")


def is_urgent_reply(replies, openings=(EMERGENCY_REPLY, CLINIC_REPLY)) -> bool:
    """Exactly one message, the urgent one, with nothing after it."""
    return (len(replies) == 1 and not replies[0].get("buttons")
            and replies[0]["text"].startswith(openings))


@functools.lru_cache(maxsize=None)
def in_spanish(response: str) -> str:
    """The opening of a response's Spanish variation in domain.yml: its text
    up to the first {placeholder}."""
    variations = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    [text] = [variation["text"] for variation in variations[response]
              if {"type": "slot", "name": "language", "value": "es"}
              in (variation.get("condition") or [])]
    return " ".join(text.split("{")[0].split())
