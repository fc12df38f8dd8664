"""What one change to Rasa is: the Rasa attributes it replaces, each made
from Rasa's own (so a change can wrap the method it replaces)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Tuple


@dataclass(frozen=True)
class Replacement:
    """`owner.name` becomes `make(Rasa's owner.name)`."""

    owner: type
    name: str
    make: Callable[[Any], Any]


@dataclass(frozen=True)
class Change:
    """A change to Rasa: its name (its module's), whether the assistant is
    wrong without it (for_correctness) or only slower, and what it replaces."""

    name: str
    for_correctness: bool
    replaces: Tuple[Replacement, ...]
