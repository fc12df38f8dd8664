"""`make bench`: the load generator against the running assistant (every
message of its conversations is answered), the messages it sends, and how
its figures are put together (the figures themselves are the benchmark's,
not a test's)."""
import json
import subprocess
import sys

import requests

import pytest

from bench import run, server, traffic
from clinic.evaluate import load_heldout
from rasa_patches.nlu_cache import NLU_CACHE_SIZE
from tests.support.assistant import start_assistant, stop_all
from tests.support.project import ENV, ROOT


@pytest.mark.e2e
def test_the_load_generator_gets_an_answer_to_every_message(assistant):
    done = subprocess.run([sys.executable, "-m", "bench.load", assistant.url, "--concurrency",
                           "2", "--conversations", "2"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout)
    assert done.returncode == 0, result["failures"]
    assert result["answered"] == result["messages"] == 2 * len(traffic.BENCH_TURNS)
    assert len(result["latencies_ms"]) == result["answered"]


@pytest.mark.unit
def test_the_table_gives_the_ratio_of_ours_to_the_baseline():
    ours = {key: 2.0 for key, *_ in run.ROWS}
    baseline = {key: 4.0 for key, *_ in run.ROWS}
    lines = run.table({"ours": ours, "baseline": baseline}).splitlines()
    assert lines[0] == "| measure | ours | baseline | ours / baseline |"
    assert len(lines) == 2 + len(run.ROWS)
    assert all(line.endswith("| 0.50 |") for line in lines[2:])


def questions_and_names(conversations):
    asked = [text for turns in conversations
             for text, slot in zip(turns, traffic.BENCH_TURNS) if slot == traffic.QUESTION]
    named = [text for turns in conversations
             for text, slot in zip(turns, traffic.BENCH_TURNS) if slot == traffic.NAME]
    return asked, named


@pytest.mark.unit
def test_both_variants_get_the_same_messages_and_each_round_other_ones():
    first, second = run.schedule(3, "18"), run.schedule(3, "18")
    assert first == second  # the schedule knows nothing of the variant
    seeds = [seed for _, _, seed in first]
    assert len(set(seeds)) == len(seeds) == 3 * len(run.LOAD)
    streams = [traffic.bench_conversations(seed, shape["conversations"])
               for _, shape, seed in first]
    assert streams == [traffic.bench_conversations(seed, shape["conversations"])
                       for _, shape, seed in second]
    assert streams[0] != streams[2]  # the same level in the next round


@pytest.mark.unit
def test_the_questions_are_held_out_faq_messages_none_twice_in_a_round():
    pool = traffic.faq_pool()
    heldout = {text for text, intent in load_heldout() if intent.startswith("faq_")}
    assert len(pool) >= 200 and set(pool) == heldout
    busiest = max(shape["conversations"] for shape in run.LOAD.values())
    asked, named = questions_and_names(traffic.bench_conversations("18/0/c20", busiest))
    assert len(asked) == len(set(asked)) == 3 * busiest and set(asked) <= heldout
    assert len(named) == len(set(named)) == busiest


@pytest.mark.unit
def test_questions_are_dealt_again_in_a_new_order_once_the_pool_is_used_up():
    dealt = traffic.dealt(["a", "b", "c"], "seed")
    first, second = [next(dealt) for _ in range(3)], [next(dealt) for _ in range(3)]
    assert sorted(first) == sorted(second) == ["a", "b", "c"]


@pytest.mark.unit
def test_the_hit_rate_is_the_share_of_lookups_the_cache_answered():
    assert run.hit_rate({"size": 2048, "hits": 3, "misses": 1}) == 0.75
    assert run.hit_rate({"size": 0, "hits": 0, "misses": 0}) is None  # cache off


@pytest.mark.e2e
def test_the_bench_route_reads_and_empties_the_rasa_servers_nlu_cache(trained_model, tmp_path):
    running, servers = start_assistant(tmp_path, trained_model,
                                       credentials=server.credentials_with_cache_route(tmp_path))

    def cache(method: str = "GET") -> dict:
        reply = requests.request(method, running.url + server.ROUTE, timeout=10)
        reply.raise_for_status()
        return reply.json()

    try:
        cache("DELETE")
        for _ in range(2):
            assert running.say("does microneedling hurt?")
        assert cache() == {"size": NLU_CACHE_SIZE, "hits": 1, "misses": 1}
        assert cache("DELETE") == {"size": NLU_CACHE_SIZE, "hits": 0, "misses": 0}
    finally:
        stop_all(servers)


@pytest.mark.unit
def test_the_cache_table_gives_with_over_without():
    ours = {key: 2.0 for key in run.LOAD_KEYS}
    ours["without_nlu_cache"] = {key: 4.0 for key in run.LOAD_KEYS}
    lines = run.cache_table(ours).splitlines()
    assert len(lines) == 2 + len(run.LOAD_KEYS)
    assert all(line.endswith("| 0.50 |") for line in lines[2:])
