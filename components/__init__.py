"""Custom components of the Rasa NLU pipeline (named in config.yml)."""
import re

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str) -> None:
    """Make `name` the message's intent with full confidence, keeping the
    classifier's ranking behind it (for "Did you mean ...?")."""
    decided = {"name": name, "confidence": 1.0}
    message.set(INTENT, decided, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [decided] + (message.get(INTENT_RANKING_KEY) or []),
                add_to_output=True)


STRETCHED = re.compile(r"([a-z])\1{2,}")  # no English word has a letter three times in a row


def unstretched(word: str) -> str:
    """"hiiii" -> "hi", "sooo" -> "so": the word a visitor stretched."""
    return STRETCHED.sub(r"\1", word.lower())
