"""Custom components of the Rasa NLU pipeline (named in config.yml)."""
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str) -> None:
    """Make `name` the message's intent with full confidence, keeping the
    classifier's ranking behind it (for "Did you mean ...?")."""
    decided = {"name": name, "confidence": 1.0}
    message.set(INTENT, decided, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [decided] + (message.get(INTENT_RANKING_KEY) or []),
                add_to_output=True)
