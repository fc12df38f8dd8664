"""The NLU result of a text seen before, reused.

What Rasa does: every message runs the whole NLU pipeline
(MessageProcessor._parse_message_with_graph), though many are the same:
buttons, greetings, "yes", "thanks", common questions.

What we change: the result for a text seen before is reused (the last
NLU_CACHE_SIZE texts; NLU_CACHE_SIZE=0 in the environment turns it off).
The result depends on the text and the model only; a new model (staff
retrained, rolled back) empties the cache. The cache keeps no visitor's
text: its key is a hash, and what it keeps is the intent, the ranking and
the token offsets; a result with entities from the message (a name, a
date) is not kept. The language entity (components/language.py) is not
such a value: it depends on the text alone, and is kept.

Why: at 20 conversations, the p95 latency of `make bench` meets its target
(250 ms) only with the cache: 246 ms with it, 344 to 370 ms without
(docs/benchmarks.md, "Changes to Rasa"; `make bench` reports the hit rate).

Rasa names relied on: MessageProcessor._parse_message_with_graph(self,
message, tracker, only_output_properties) (private) and
MessageProcessor.graph_runner, one per loaded model.
"""
from __future__ import annotations

import copy
import hashlib
import os
from collections import OrderedDict
from typing import Any, Dict, Tuple

from rasa.core.processor import MessageProcessor
from rasa.shared.nlu.constants import ENTITIES, TEXT

from core.language import ENTITY as LANGUAGE
from rasa_patches.change import Change, Replacement

NLU_CACHE_SIZE = int(os.environ.get("NLU_CACHE_SIZE", "2048"))  # 0: no cache


class NLUCache:
    """The NLU results of the last `size` texts, least recently used out,
    for one model: a new model empties it."""

    def __init__(self, size: int = NLU_CACHE_SIZE) -> None:
        self.size = size
        self.model: Any = None
        self._results: OrderedDict[bytes, Dict[str, Any]] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, model: Any, text: str) -> Tuple[bytes, Dict[str, Any] | None]:
        if model is not self.model:
            self.model, self._results = model, OrderedDict()
        key = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
        result = self._results.get(key)
        if result is None:
            self.misses += 1
            return key, None
        self.hits += 1
        self._results.move_to_end(key)
        return key, {**copy.deepcopy(result), TEXT: text}

    def put(self, key: bytes, result: Dict[str, Any]) -> None:
        if any(entity.get("entity") != LANGUAGE for entity in result.get(ENTITIES, [])):
            return  # values from the message (a name, a date)
        self._results[key] = copy.deepcopy({k: v for k, v in result.items() if k != TEXT})
        if len(self._results) > self.size:
            self._results.popitem(last=False)


# The Rasa process's cache; the benchmark's route (bench/server.py) reads it
# and puts a new one in its place.
cache = NLUCache()


def reused(parse):
    """MessageProcessor._parse_message_with_graph, through the cache."""
    def parse_or_reuse(self, message, tracker, only_output_properties: bool = True):
        if not (only_output_properties and message.text and cache.size):
            return parse(self, message, tracker, only_output_properties)
        key, result = cache.get(self.graph_runner, message.text)
        if result is None:
            result = parse(self, message, tracker, only_output_properties)
            cache.put(key, result)
        return result

    return parse_or_reuse


CHANGE = Change("nlu_cache", for_correctness=False, replaces=(
    Replacement(MessageProcessor, "_parse_message_with_graph", reused),))
