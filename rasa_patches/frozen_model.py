"""The loaded model left out of Python's full garbage collections.

What Rasa does: Agent.load_model builds the model's processor; nothing more.
Python's collector then walks every long-lived object at each full
collection (its oldest generation): in the Rasa process, TensorFlow, spaCy
and the model are millions of objects, and a full collection takes about
300 ms. At 20 conversations it comes about every 4 s and stalls every turn
in progress: the half-second tail of `make bench`.

What we change: once a model is loaded, every object then alive is frozen
(gc.freeze: kept out of the collections from then on; reference counting
still frees what is dropped). Before another model is loaded (staff
retrained or rolled back), they are unfrozen, so that the old model's
reference cycles can be collected.

Why: measured on 2026-12-07 (docs/benchmarks.md, "The half-second tail"):
full collections of about 300 ms took 3 to 9 ms once frozen; at 20
conversations, the p99 of eight rounds was 473 to 715 ms without, 305 to
544 ms with.

Rasa names relied on: Agent.load_model(self, model_path, fingerprint=None).
"""
from __future__ import annotations

import gc

from rasa.core.agent import Agent

from rasa_patches.change import Change, Replacement


def frozen_after(load_model):
    """Agent.load_model, with the objects alive after it frozen."""
    def load_and_freeze(self, model_path, fingerprint=None) -> None:
        gc.unfreeze()  # the model in service, if any, can go once replaced
        load_model(self, model_path, fingerprint)
        gc.collect()  # no garbage of the loading frozen with the model
        gc.freeze()

    return load_and_freeze


CHANGE = Change("frozen_model", for_correctness=False, replaces=(
    Replacement(Agent, "load_model", frozen_after),))
