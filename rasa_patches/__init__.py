"""Every change this project makes to Rasa's own methods, in one place.

Rasa 3.6 offers no hook for any of them, so each module of this package
replaces one or two Rasa methods; its docstring says what Rasa does, what we
change and why, and which of Rasa's private names it relies on. They are put
in place together, once, before Rasa starts, by the one entry point that
starts every Rasa server of this project (scripts/run, cluster/launch.py,
the tests, the benchmark, the Dockerfile and deploy/):

    python -m rasa_patches run --model models/assistant.tar.gz ...   (as `rasa run`)

Three changes are needed for the assistant to be right, not only fast: the
action server's time limit and fallback (action_time_limit), a failing
conversation store failing the turn (store_failure) and a message id's turn
run once (once). Without them a visitor could wait five minutes for nothing,
lose their conversation or be booked twice, so this project's channels
refuse to start without them (channels/guard.py): a plain `rasa run` stops
at start-up with a message that names the entry point above.

Written and checked against Rasa 3.6.21 only: install() refuses any other
version. After an upgrade, recheck each module against the new Rasa's code,
then change RASA_VERSION.

Measured and dropped: spaCy loaded once for both SpacyNLP nodes (about
0.45 s of start-up and 13 MB; docs/benchmarks.md, "Changes to Rasa").
"""
from __future__ import annotations

from typing import Any, List, Tuple

import rasa
from rasa.shared.exceptions import RasaException

from rasa_patches import (action_connection, action_schema, action_time_limit, event_types,
                          frozen_model, graph_in_order, nlu_cache, once, rule_history,
                          store_failure)
from rasa_patches.change import Change

RASA_VERSION = "3.6.21"
# In the order they are installed. action_connection wraps the method that
# action_time_limit replaces (RemoteAction.run): the connection is set up,
# then the call runs under the time limit.
CHANGES: Tuple[Change, ...] = (
    action_time_limit.CHANGE,
    store_failure.CHANGE,
    once.CHANGE,
    action_schema.CHANGE,
    action_connection.CHANGE,
    nlu_cache.CHANGE,
    event_types.CHANGE,
    graph_in_order.CHANGE,
    frozen_model.CHANGE,
    rule_history.CHANGE,
)
ENTRY_POINT = "python -m rasa_patches run"

# Rasa's attributes as they were before install(): (owner, name, value), in
# the order they were replaced. Empty when nothing is installed.
_originals: List[Tuple[type, str, Any]] = []
# The value of an attribute that the class inherited (uninstall() deletes ours).
_INHERITED = object()


class NotInstalled(RasaException):
    """A part that needs the changes runs in a process that lacks them (a
    RasaException: Rasa's command line prints its message, not a traceback)."""


def install() -> None:
    """Put every change in place, each once, however often it is called."""
    if rasa.__version__ != RASA_VERSION:
        raise RuntimeError(
            f"rasa_patches: written and checked for Rasa {RASA_VERSION}, but Rasa "
            f"{rasa.__version__} is installed. Recheck each module of rasa_patches/ against "
            f"this Rasa's code, then change rasa_patches.RASA_VERSION.")
    if _originals:
        return
    for change in CHANGES:
        for replacement in change.replaces:
            owner, name = replacement.owner, replacement.name
            # From the class itself, not an ancestor: that is what uninstall() puts back.
            _originals.append((owner, name, vars(owner).get(name, _INHERITED)))
            setattr(owner, name, replacement.make(getattr(owner, name)))


def uninstall() -> None:
    """Put Rasa's own methods back (the tests' fixtures use this)."""
    while _originals:
        owner, name, original = _originals.pop()
        if original is _INHERITED:
            delattr(owner, name)
        else:
            setattr(owner, name, original)


def installed() -> bool:
    return bool(_originals)


def require_installed(part: str) -> None:
    """Stop `part` (a channel) from starting in a Rasa without the changes it
    needs: a plain `rasa run` instead of the entry point."""
    if not installed():
        needed = ", ".join(change.name for change in CHANGES if change.for_correctness)
        raise NotInstalled(
            f"{part} need this project's changes to Rasa (rasa_patches/: {needed}): "
            f"without them a visitor could wait minutes for no reply, lose their "
            f"conversation or be booked twice. Start the server with `{ENTRY_POINT} ...` "
            f"instead of `rasa run ...`.")
