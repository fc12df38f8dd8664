"""`make soak`'s own logic: the visitors it sends, what counts as a failed
turn, and how the start and end figures and the verdict are worked out.
(The soak run itself is `make soak`, never part of the tests.)"""
import numpy as np
import pytest

from bench import soak, traffic
from channels.guard import UNAVAILABLE

pytestmark = pytest.mark.unit


def test_the_same_seed_sends_the_same_visitors_and_another_seed_others():
    def first(seed, count=50):
        visitors = traffic.Visitors(seed)
        return [visitors.next() for _ in range(count)]

    assert first("18") == first("18")
    assert first("18") != first("19")


def test_the_visitors_ask_held_out_questions_make_small_talk_book_and_ask_for_a_call():
    visitors = traffic.Visitors("18")
    conversations = [visitors.next() for _ in range(400)]
    kinds = {kind for kind, _ in conversations}
    assert kinds == {kind for kind, _ in traffic.SOAK_KINDS}
    pool = set(traffic.faq_pool())
    asked = [text for kind, texts in conversations if kind == "questions" for text in texts[1:-1]]
    assert set(asked) <= pool and len(set(asked)) > 200
    contacts = [texts[-1] for kind, texts in conversations if kind == "call-back"]
    contacts += [texts[4] for kind, texts in conversations if kind == "booking"]
    assert len(contacts) == len(set(contacts))  # no request is a repeat of another
    assert all(texts[-1] == "/affirm" for kind, texts in conversations if kind == "booking")


@pytest.mark.parametrize("values", [[5.0], [3.0, 1.0], [1.0, 9.0, 2.0, 7.0, 4.0, 30.0]])
def test_percentiles_are_numpys(values):
    for share in (0.5, 0.95):
        assert soak.percentile(values, share) == pytest.approx(np.percentile(values, share * 100))
    assert soak.percentile([], 0.5) is None


def test_growth_is_the_change_as_a_share_of_the_start():
    assert soak.growth(500.0, 550.0) == pytest.approx(0.10)
    assert soak.growth(500.0, 450.0) == pytest.approx(-0.10)


def turn(at_s, latency_ms, failure=None):
    return soak.Turn(at_s, latency_ms, "questions", failure)


def test_the_latency_of_a_window_counts_the_answered_turns_sent_in_it():
    turns = [turn(59.9, 1000.0), turn(60.0, 10.0), turn(70.0, 30.0), turn(80.0, 500.0, "no reply"),
             turn(120.0, 2000.0)]
    window = soak.latencies(turns, 60.0, 120.0)
    assert (window["turns"], window["p50_ms"]) == (2, 20.0)


def test_a_turn_fails_without_an_answer_with_the_unavailable_reply_or_an_unquoted_request():
    answered = [{"text": "Numbing cream first."}]
    saved = [{"text": "Thank you! Your request is with the clinic, reference MN-ABC234."}]
    assert soak.turn_failure(200, answered, saves=False) == (None, None)
    assert soak.turn_failure(200, saved, saves=True) == (None, "MN-ABC234")
    assert soak.turn_failure(500, answered, saves=False)[0] == "HTTP 500"
    assert soak.turn_failure(200, [], saves=False)[0] == "no reply"
    assert soak.turn_failure(200, [{"text": UNAVAILABLE["en"]}], saves=False)[0]
    assert soak.turn_failure(200, answered, saves=True)[0]


def test_a_request_confirmed_but_not_stored_as_its_kind_is_found():
    saved = [("booking", "MN-AAAAAA"), ("call-back", "MN-BBBBBB"), ("booking", "MN-CCCCCC")]
    stored = {"MN-AAAAAA": "consultation", "MN-BBBBBB": "consultation"}
    assert soak.unstored(saved, stored) == ["MN-BBBBBB", "MN-CCCCCC"]


def figures(at_s, rasa_mb, actions_mb):
    return {"at_s": at_s, "rasa": {"rss_mb": rasa_mb, "open_fds": 30},
            "actions": {"rss_mb": actions_mb, "open_fds": 18}, "files_mb": {},
            "load_average": [1.0, 1.0, 1.0]}


def test_start_is_after_the_warm_up_end_is_the_last_sample_and_growth_is_per_server():
    samples = [figures(0.0, 900, 100), figures(59.8, 1000, 100), figures(90.0, 1050, 100),
               figures(600.4, 1080, 112)]
    result = soak.summary([turn(70.0, 20.0)], samples, 600.0, [])
    assert (result["start"]["at_s"], result["end"]["at_s"]) == (59.8, 600.4)
    assert result["memory_growth"] == {"rasa": 0.08, "actions": 0.12}
    assert not result["targets_met"]  # the action server grew 12 %


def test_one_failed_turn_or_unstored_request_misses_the_target():
    samples = [figures(60.0, 1000, 100), figures(600.0, 1000, 100)]
    assert soak.summary([turn(70.0, 20.0)], samples, 600.0, [])["targets_met"]
    failed = soak.summary([turn(70.0, 20.0, "no reply")], samples, 600.0, [])
    assert (failed["failed_turns"], failed["targets_met"]) == (1, False)
    unstored = soak.summary([turn(70.0, 20.0)], samples, 600.0, ["MN-AAAAAA"])
    assert (unstored["failed_turns"], unstored["targets_met"]) == (1, False)
