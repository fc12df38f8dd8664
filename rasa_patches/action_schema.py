"""The action server's answer checked against Rasa's schema with a kept validator.

What Rasa does: RemoteAction._validate_action_result checks each answer of
the action server with jsonschema.validate, which first checks the schema
itself against its meta-schema, at every call.

What we change: the schema is checked once and its validator kept; each
answer is still validated against the same schema, with the same error.

Why: that schema check was 16.6 % of the Rasa process's CPU time in a py-spy
profile under the bench's load (docs/benchmarks.md, "Changes to Rasa").

Rasa names relied on: RemoteAction._validate_action_result(self, result)
(private) and RemoteAction.action_response_format_spec().
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction

from rasa_patches.change import Change, Replacement


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's check of an action server's answer, with the schema checked once."""
    try:
        _validator().validate(result)
    except ValidationError as error:
        error.message += ". Failed to validate Action server response from API."
        raise
    return True


CHANGE = Change("action_schema", for_correctness=False, replaces=(
    Replacement(RemoteAction, "_validate_action_result", lambda _rasas: _validate_action_result),))
