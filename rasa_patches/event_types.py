"""Event classes looked up once per type name.

What Rasa does: reading a conversation, Event.resolve_by_type finds each
event's class by walking all subclasses of Event, for every event read.

What we change: each type name's class is looked up once (by Rasa's own
function) and kept; a name Rasa does not know is looked up again each time,
so its answer (a default, None for "topic", or ValueError) stays Rasa's.

Why: the walk was 10 % of the Rasa process's CPU in a py-spy profile under
the bench's load; a conversation of 41 events is read back in 0.09 to 0.10
of the time (`python -m bench.micro`; docs/benchmarks.md, "Changes to Rasa").

Rasa names relied on: Event.resolve_by_type(type_name, default), a
staticmethod.
"""
from __future__ import annotations

from typing import Any, Dict

from rasa.shared.core.events import Event

from rasa_patches.change import Change, Replacement

_classes: Dict[str, Any] = {}


def looked_up_once(resolve_by_type):
    def resolve_by_type_once(type_name: str, default: Any = None) -> Any:
        cls = _classes.get(type_name)
        if cls is None:
            cls = resolve_by_type(type_name, default)
            if cls is not None and cls is not default:
                _classes[type_name] = cls
        return cls

    return staticmethod(resolve_by_type_once)


CHANGE = Change("event_types", for_correctness=False, replaces=(
    Replacement(Event, "resolve_by_type", looked_up_once),))
