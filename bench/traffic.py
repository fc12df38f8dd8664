"""What the benchmark and the soak run send: conversations whose questions are
the held-out FAQ messages of tests/nlu_heldout.yml (never trained on, written
apart from the data), drawn with a seed so that every variant measured gets
the same stream. tests/blind/ is left alone: it is kept for accuracy.

The FAQ questions are dealt from the pool shuffled by the seed, without
repeats until the pool is used up, then from a new shuffle, and so are the
visitors' names: a visitor words a question their own way and has their own
name, while a greeting, a button or "yes" is the same for everyone, so those
turns stay fixed.
"""
from __future__ import annotations

import random
from typing import Iterator, List, Sequence

from clinic.evaluate import HELDOUT, load_heldout

SEED = "18"  # the default seed (the issue that asked for varied messages)
QUESTION, NAME = "<a question from the pool>", "<a name>"
# One `make bench` conversation.
BENCH_TURNS = [
    "hello",
    QUESTION,
    QUESTION,
    "what is the capital of France?",
    QUESTION,
    "I'd like to book a consultation",
    "acne scars",
    "/affirm",
    NAME,
    "stop",
]
FIRST_NAMES = ["Maria", "Sam", "Pat", "Ana", "Jordan", "Priya", "Tom", "Noor", "Chris", "Eva"]
LAST_NAMES = ["Lopez", "Taylor", "Lee", "Silva", "Bench", "Khan", "Novak", "Reed", "Moore"]


def faq_pool() -> List[str]:
    """The held-out messages of the FAQ topics, in the file's order."""
    return [text for text, intent in load_heldout(HELDOUT) if intent.startswith("faq_")]


def small_talk_pool() -> List[str]:
    """The held-out greetings, thanks, goodbyes, questions about the bot and
    out-of-scope questions."""
    kinds = ("greet", "goodbye", "thanks", "bot_challenge", "out_of_scope")
    return [text for text, intent in load_heldout(HELDOUT) if intent in kinds]


def names() -> List[str]:
    """The visitors' names: every first name with every last name."""
    return [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]


def dealt(pool: Sequence[str], seed: str) -> Iterator[str]:
    """The pool's items in an order fixed by `seed`: each once, then each
    once again in another order, and so on."""
    rounds = 0
    while True:
        order = list(pool)
        random.Random(f"{seed}/{rounds}").shuffle(order)
        yield from order
        rounds += 1


def bench_conversations(seed: str, count: int, pool: Sequence[str] | None = None
                        ) -> List[List[str]]:
    """`count` conversations of BENCH_TURNS with their questions dealt from
    the FAQ pool by `seed`, and their names: the same seed, the same texts in
    the same order."""
    fill = {QUESTION: dealt(pool if pool is not None else faq_pool(), seed),
            NAME: dealt(names(), f"{seed}/names")}
    return [[next(fill[text]) if text in fill else text for text in BENCH_TURNS]
            for _ in range(count)]


# The soak run's visitors: (kind, share of the conversations). A booking and a
# call-back go through to the stored request, whose reference the last reply
# quotes; the others only need an answer to every message.
SOAK_KINDS = [("questions", 0.5), ("small talk", 0.2), ("booking", 0.2), ("call-back", 0.1)]


class Visitors:
    """The soak run's conversations, one after the other, drawn by `seed`:
    kinds in the shares of SOAK_KINDS, questions dealt from the FAQ pool,
    small talk from the held-out greetings and the like."""

    def __init__(self, seed: str, faq: Sequence[str] | None = None,
                 small_talk: Sequence[str] | None = None) -> None:
        self.random = random.Random(seed)
        self.questions = dealt(faq if faq is not None else faq_pool(), f"{seed}/faq")
        self.small_talk = dealt(small_talk if small_talk is not None else small_talk_pool(),
                                f"{seed}/small talk")
        self.names = dealt(names(), f"{seed}/names")
        self.count = 0

    def next(self) -> tuple[str, List[str]]:
        """The kind of the next conversation and its messages."""
        self.count += 1
        kinds, shares = zip(*SOAK_KINDS)
        kind = self.random.choices(kinds, shares)[0]
        name = next(self.names)
        email = f"soak-{self.count}@example.com"  # a new contact: no booking is a repeat
        if kind == "questions":
            asked = [next(self.questions) for _ in range(self.random.randint(2, 4))]
            return kind, ["hello", *asked, "thanks"]
        if kind == "small talk":
            return kind, [next(self.small_talk) for _ in range(self.random.randint(2, 4))]
        if kind == "booking":
            return kind, ["I'd like to book a consultation", "acne scars on my cheeks", "/affirm",
                          name, email, "next Tuesday afternoon", "/affirm"]
        return kind, ["/request_callback", "/affirm", name, email]
