"""A failing conversation store fails the turn.

What Rasa does: it wraps the tracker store in a FailSafeTrackerStore. When
the store (the database) fails, FailSafeTrackerStore logs the error and
carries on: a read gives no conversation, so the turn starts a new one, and
a write goes to an in-memory store. The visitor's history is forgotten and
the turn is never stored, without a word to the visitor.

What we change: the store's error is raised instead, so the turn fails, and
the channel answers "temporarily unavailable, please call"
(channels/guard.py, answered). The store reconnects by itself once back.

Why: a booking or a call-back request half-remembered is worse than a
clear "please call" (tests/test_cluster.py, a store stopped); needed for
correctness, so the channels refuse to start without it.

Rasa names relied on: FailSafeTrackerStore.on_tracker_store_error and
on_tracker_store_retrieve_error, the hooks its save/retrieve/keys call on an
error before falling back.
"""
from __future__ import annotations

from rasa.core.tracker_store import FailSafeTrackerStore

from rasa_patches.change import Change, Replacement


def _fail_the_turn(_store: FailSafeTrackerStore, error: Exception) -> None:
    raise error


def fail_the_turn(_rasas_hook):
    return _fail_the_turn


CHANGE = Change("store_failure", for_correctness=True, replaces=(
    Replacement(FailSafeTrackerStore, "on_tracker_store_error", fail_the_turn),
    Replacement(FailSafeTrackerStore, "on_tracker_store_retrieve_error", fail_the_turn),
))
