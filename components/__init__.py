"""Custom components of the Rasa NLU pipeline (named in config.yml)."""
from typing import List

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from core.language import STRETCHED, fold


def override_intent(message: Message, name: str) -> None:
    """Make `name` the message's intent with full confidence, keeping the
    classifier's ranking behind it (for "Did you mean ...?")."""
    decided = {"name": name, "confidence": 1.0}
    message.set(INTENT, decided, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [decided] + (message.get(INTENT_RANKING_KEY) or []),
                add_to_output=True)


def unstretched(word: str) -> str:
    """"hiiii" -> "hi", "sooo" -> "so": the word a visitor stretched; without
    accents, which visitors often leave out ("cuéntame más": "cuentame mas")."""
    return STRETCHED.sub(r"\1", fold(word))


LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIN_CORRECTED = 4  # shorter words have too many neighbours ("wat": what, was, way ...)
# Nor is a word read as a short one: names are ("dana" is not "data", "mary" not "many").
MIN_MEANT = 5


def one_typo_away(word: str) -> List[str]:
    """Every word one deletion, swap, change or insertion from `word`
    (Norvig's edits1): "afer" -> "after", "contcat" -> "contact"."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ([left + right[1:] for left, right in splits if right]
            + [left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1]
            + [left + letter + right[1:] for left, right in splits if right for letter in LETTERS]
            + [left + letter + right for left, right in splits for letter in LETTERS])
