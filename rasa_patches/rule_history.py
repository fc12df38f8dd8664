"""The rules matched on the turns they can look at, and each match kept.

What Rasa does: at every prediction (two or more a turn) RulePolicy turns
the whole conversation into states, one per action so far, each with every
featurized slot, and then matches its rules against them one by one (132
here: 125 rules, 7 for the forms' unhappy paths), state by state back to
the conversation's start. A rule of n states only ever looks at the last
n: every older state lets every rule through
(RulePolicy._is_rule_applicable). Matching the same last states again
gives the same rules.

What we change, at prediction only (RulePolicy.predict_action_probabilities;
training runs Rasa's own code):
- only the last states that the longest rule can look at are made (the
  conversation is still replayed event by event, as Rasa does);
- the rules matched for a given list of those states are kept (at most
  CACHE_SIZE lists per model) and given again for the same states.

The prediction is the same. The one thing told apart: when no rule matches,
Rasa names the prediction's source by the states it read, and so do we, by
fewer; that name only decides whether the turn is a rule's "not in stories"
turn, and a name no rule matched is never one of those. Among matched rules
of the same length (rules that contradict each other) Rasa's pick follows
its set order, which follows the process's string hashes: random for both.

Why: RulePolicy was a third of the Rasa process's time per turn under the
bench's load (cProfile, session 37); one prediction on a 61-event
conversation took 0.95 ms, 0.37 ms with this change (docs/benchmarks.md,
"RulePolicy on the last turns only").

Rasa names relied on: RulePolicy._prediction_states, _get_possible_keys,
_rule_key_to_state, predict_action_probabilities and lookup (the rules
and the loops' unhappy paths); featurizer.max_history,
slice_state_history and _choose_last_user_input; Domain.get_active_state
and _clean_state; DialogueStateTracker.applied_events and init_copy.
"""
from __future__ import annotations

import contextlib
import contextvars
import weakref
from typing import Any, Dict, Iterator, List, Optional, Set, Text

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_patches.change import Change, Replacement

CACHE_SIZE = 4096

_predicting = contextvars.ContextVar("rule_history_predicting", default=False)


class _Kept:
    """What one RulePolicy keeps: its longest rule and the rules matched."""

    def __init__(self, policy: RulePolicy) -> None:
        self.longest_rule = max(
            (len(policy._rule_key_to_state(key))
             for lookup in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH)
             for key in policy.lookup.get(lookup, {})),
            default=1)
        self.matched: Dict[tuple, Set[Text]] = {}


_kept: "weakref.WeakKeyDictionary[RulePolicy, _Kept]" = weakref.WeakKeyDictionary()


def kept(policy: RulePolicy) -> _Kept:
    if policy not in _kept:
        _kept[policy] = _Kept(policy)
    return _kept[policy]


@contextlib.contextmanager
def _prediction() -> Iterator[None]:
    token = _predicting.set(True)
    try:
        yield
    finally:
        _predicting.reset(token)


def last_states(tracker: DialogueStateTracker, domain: Domain, count: int) -> List[State]:
    """The last `count` states of Domain.states_for_tracker_history (one
    before each action, and the current one), only those made."""
    events = tracker.applied_events()
    first = sum(isinstance(event, ActionExecuted) for event in events) + 1 - count
    prior, states = tracker.init_copy(), []
    for event in events:
        if isinstance(event, ActionExecuted):
            if first <= 0:
                states.append(domain._clean_state(domain.get_active_state(prior)))
            first -= 1
        prior.update(event)
    states.append(domain._clean_state(domain.get_active_state(prior)))
    return states


def frozen(states: List[State]) -> tuple:
    return tuple(tuple((kind, tuple(sorted(sub_state.items())))
                       for kind, sub_state in sorted(state.items()))
                 for state in states)


def only_while_predicting(predict):
    def predict_action_probabilities(self: RulePolicy, tracker: DialogueStateTracker,
                                     domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> Any:
        with _prediction():
            return predict(self, tracker, domain, rule_only_data, **kwargs)

    return predict_action_probabilities


def last_states_only(prediction_states):
    def _prediction_states(self: RulePolicy, tracker: DialogueStateTracker, domain: Domain,
                           use_text_for_last_user_input: bool = False,
                           rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
        if not _predicting.get():
            return prediction_states(self, tracker, domain, use_text_for_last_user_input,
                                     rule_only_data)
        featurizer = self.featurizer
        states = featurizer.slice_state_history(
            last_states(tracker, domain, kept(self).longest_rule), featurizer.max_history)
        featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states

    return _prediction_states


def matched_once(get_possible_keys):
    def _get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text],
                           states: List[State]) -> Set[Text]:
        if not _predicting.get():
            return get_possible_keys(self, lookup, states)
        matched = kept(self).matched
        try:
            key = (id(lookup), frozen(states))  # lookup: one of the policy's own
            keys = matched.get(key)
        except TypeError:  # a state value that cannot be a key: match as Rasa does
            return get_possible_keys(self, lookup, states)
        if keys is None:
            if len(matched) >= CACHE_SIZE:
                matched.clear()
            keys = matched[key] = get_possible_keys(self, lookup, states)
        return keys  # read, never changed, by RulePolicy._find_action_from_rules

    return _get_possible_keys


CHANGE = Change("rule_history", for_correctness=False, replaces=(
    Replacement(RulePolicy, "predict_action_probabilities", only_while_predicting),
    Replacement(RulePolicy, "_prediction_states", last_states_only),
    Replacement(RulePolicy, "_get_possible_keys", matched_once),))
