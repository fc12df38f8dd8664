"""The Redis lock store of cluster mode (stores/lock_store.py), on the Redis
server of this machine (127.0.0.1:6379, database 15, keys of this run only).
Two store objects stand for two replicas."""
import asyncio
import uuid

import pytest
import redis

from stores import lock_store
from stores.lock_store import AtomicRedisLockStore

REDIS = {"host": "127.0.0.1", "port": 6379, "db": 15}


@pytest.fixture(scope="module")
def replicas():
    try:
        redis.Redis(**REDIS, socket_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis server at 127.0.0.1:6379 ({type(error).__name__})")
    prefix = uuid.uuid4().hex[:12]
    stores = [AtomicRedisLockStore(**REDIS, key_prefix=prefix) for _ in range(2)]
    yield stores
    for key in stores[0].red.scan_iter(f"{prefix}*"):
        stores[0].red.delete(key)


async def take_turns(stores, conversation: str, count: int) -> list:
    """`count` turns of one conversation, started in order, alternating
    between the replicas; each records when it starts and ends."""
    log = []

    async def turn(index: int) -> None:
        async with stores[index % len(stores)].lock(conversation):
            log.append(("start", index))
            await asyncio.sleep(0.01)
            log.append(("end", index))

    tasks = []
    for index in range(count):
        tasks.append(asyncio.create_task(turn(index)))
        await asyncio.sleep(0)  # each turn draws its ticket before the next starts
    await asyncio.gather(*tasks)
    return log


def test_turns_of_one_conversation_never_overlap_and_run_in_arrival_order(replicas):
    log = asyncio.run(take_turns(replicas, "visitor-a", 20))

    assert log == [step for index in range(20) for step in (("start", index), ("end", index))]


def test_other_conversations_do_not_wait(replicas):
    async def both() -> list:
        log = []

        async def turn(conversation: str, pause: float) -> None:
            async with replicas[0].lock(conversation):
                log.append(("start", conversation))
                await asyncio.sleep(pause)
                log.append(("end", conversation))

        await asyncio.gather(turn("visitor-b", 0.2), turn("visitor-c", 0.01))
        return log

    log = asyncio.run(both())

    assert log.index(("end", "visitor-c")) < log.index(("end", "visitor-b"))


def test_a_dead_replicas_ticket_runs_out_and_the_next_turn_goes_ahead(replicas, monkeypatch):
    monkeypatch.setattr(lock_store, "LEASE_S", 0.3)
    dead = replicas[0]
    counter, queue, tickets = dead._keys("visitor-d")
    dead._draw(keys=[counter, queue], args=[300, tickets])  # drawn, never released or renewed

    async def next_turn() -> bool:
        async with replicas[1].lock("visitor-d"):
            return True

    assert asyncio.run(asyncio.wait_for(next_turn(), 5))
    assert replicas[1].red.zcard(queue) == 0  # the dead ticket is gone, and ours released


def test_a_running_turn_keeps_its_lock_past_the_lease(replicas, monkeypatch):
    monkeypatch.setattr(lock_store, "LEASE_S", 0.3)

    async def long_and_short() -> list:
        log = []

        async def turn(store, name: str, pause: float) -> None:
            async with store.lock("visitor-e"):
                log.append(("start", name))
                await asyncio.sleep(pause)
                log.append(("end", name))

        first = asyncio.create_task(turn(replicas[0], "long", 1.0))  # 3 leases long
        while ("start", "long") not in log:  # the long turn holds the lock
            await asyncio.sleep(0.01)
        await asyncio.gather(first, turn(replicas[1], "short", 0.01))
        return log

    assert asyncio.run(long_and_short()) == [("start", "long"), ("end", "long"),
                                             ("start", "short"), ("end", "short")]


def test_redis_down_is_an_error_the_channel_answers():
    store = AtomicRedisLockStore(host="127.0.0.1", port=1, db=0, socket_timeout=1)

    async def turn() -> None:
        async with store.lock("visitor-f"):
            pass

    with pytest.raises(redis.ConnectionError):
        asyncio.run(turn())
