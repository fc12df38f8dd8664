"""What the channels remember (channels/memory.py): in one process, and in
a Redis that two replicas share (a throwaway redis-server, each replica with
its own client), where the limit and the ids are the cluster's."""
from __future__ import annotations

import shutil
from types import SimpleNamespace
from typing import Iterator

import pytest
import redis

from channels.memory import (AnsweredIds, Memory, RateLimiter, SharedAnsweredIds,
                             SharedRateLimiter)
from tests.support.cluster import Redis

needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="needs redis-server (Debian: redis-server)")


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Redis]:
    server = Redis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def replicas(server: Redis) -> list[redis.Redis]:
    """Two clients of the same Redis, as two replicas have."""
    return [redis.Redis(port=server.port, socket_timeout=2) for _ in range(2)]


@pytest.mark.unit
def test_an_answered_id_is_known_and_the_memory_is_bounded():
    answered = AnsweredIds(size=2)
    assert not answered.has("m_1")
    answered.add("m_1")
    assert answered.has("m_1")
    answered.add("m_2")
    answered.add("m_3")
    assert not answered.has("m_1") and answered.has("m_2") and answered.has("m_3")


@pytest.mark.unit
def test_the_process_limit_lets_a_burst_through_then_refuses():
    limiter = RateLimiter(per_minute=3)
    assert [limiter.allow("ana") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("ben")  # per sender


@pytest.mark.cluster
@needs_redis
def test_the_shared_limit_is_one_for_both_replicas(redis_server):
    one, other = (SharedRateLimiter(client, per_minute=3) for client in replicas(redis_server))
    allowed = [limiter.allow("ana") for limiter in (one, other, one, other, one, other)]
    assert allowed == [True, True, True, False, False, False]
    assert other.allow("ben")  # per sender
    assert 0 < redis.Redis(port=redis_server.port).pttl("clinic:rate:ana") <= 60_000


@pytest.mark.cluster
@needs_redis
def test_an_id_answered_at_one_replica_is_known_at_the_other(redis_server):
    one, other = (SharedAnsweredIds(client, "whatsapp") for client in replicas(redis_server))
    assert not other.has("wamid.1")
    one.add("wamid.1")
    assert other.has("wamid.1")
    assert not SharedAnsweredIds(replicas(redis_server)[0], "twilio").has("wamid.1")
    kept_s = redis.Redis(port=redis_server.port).ttl("clinic:answered:whatsapp:wamid.1")
    assert 0 < kept_s <= 24 * 3600


@pytest.mark.unit
@needs_redis
def test_with_redis_down_a_message_is_let_through_and_nothing_remembered():
    server = Redis()
    server.start()
    client = redis.Redis(port=server.port, socket_timeout=2)
    limiter, answered = SharedRateLimiter(client, per_minute=1), SharedAnsweredIds(client, "x")
    server.stop()
    assert limiter.allow("ana") and limiter.allow("ana")
    answered.add("m_1")
    assert not answered.has("m_1")  # the turn decides (rasa_patches/once.py)


@pytest.mark.cluster
@needs_redis
def test_a_channel_remembers_in_the_lock_stores_redis_if_there_is_one(redis_server):
    memory = Memory("rest")
    in_process = SimpleNamespace(lock_store=SimpleNamespace())  # InMemoryLockStore: no Redis
    clustered = SimpleNamespace(lock_store=SimpleNamespace(red=replicas(redis_server)[0]))
    assert isinstance(memory.rate_limiter(in_process), RateLimiter)
    assert isinstance(memory.answered_ids(in_process), AnsweredIds)
    assert isinstance(memory.rate_limiter(clustered), SharedRateLimiter)
    assert isinstance(memory.answered_ids(clustered), SharedAnsweredIds)
    assert memory.rate_limiter(clustered) is memory.rate_limiter(clustered)  # kept
