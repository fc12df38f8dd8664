"""A Redis lock store under which two replicas never run turns of the same
conversation at once. Named in endpoints.cluster.yml.

Rasa's own RedisLockStore reads the lock, adds a ticket and writes it back
in three separate calls, so two replicas can draw the same ticket and both
go ahead. Here every step is one Lua script, which Redis runs atomically:

- a ticket is drawn with INCR, so tickets are unique and ordered, and queued
  in a sorted set by number: turns run in the order they arrived;
- a turn goes ahead when its ticket is the lowest one still alive;
- every ticket is a lease: its key expires after LEASE_S (10 s) unless
  renewed, which a waiting turn does each time it asks and a running turn
  every LEASE_S / 3. A replica that dies holding the lock holds it 10 s at
  most; a live one keeps it for as long as its turn takes;
- the release removes only the caller's own ticket.

A turn cannot run away with the lock either: every outgoing call of a turn
has its own timeout, the action server 4 s (rasa_patches/action_time_limit.py), the
platforms' APIs 10 s with two retries (channels/outbound.py), Redis 10 s.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
POLL_S = 0.02  # how often a waiting turn asks whether it is its turn
LEASE_S = 10.0

# KEYS: counter, queue. ARGV: lease (ms), ticket key prefix.
DRAW = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('SET', ARGV[2] .. ticket, 1, 'PX', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return ticket
"""

# KEYS: counter, queue. ARGV: ticket, lease (ms), ticket key prefix. Renews the
# ticket; 1: its turn; 0: wait; -1: the ticket expired (its holder was gone).
SERVE = """
if redis.call('PEXPIRE', ARGV[3] .. ARGV[1], ARGV[2]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
while true do
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if first == nil then
    return -1
  end
  if first == ARGV[1] then
    return 1
  end
  if redis.call('EXISTS', ARGV[3] .. first) == 1 then
    return 0
  end
  redis.call('ZREM', KEYS[2], first)
end
"""

# KEYS: queue. ARGV: ticket, ticket key prefix.
RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[2] .. ARGV[1])
"""


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        super().__init__(**kwargs)
        self._draw = self.red.register_script(DRAW)
        self._serve = self.red.register_script(SERVE)
        self._release = self.red.register_script(RELEASE)

    def _keys(self, conversation_id: str) -> tuple[str, str, str]:
        """The ticket counter, the queue and the prefix of the tickets' keys.
        The braces keep one conversation's keys together on a Redis Cluster."""
        base = f"{self.key_prefix}{{{conversation_id}}}"
        return f"{base}:counter", f"{base}:queue", f"{base}:ticket:"

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LEASE_S,
                   wait_time_in_seconds: float = POLL_S) -> AsyncIterator[int]:
        """Rasa calls this with the defaults; the arguments are Rasa's."""
        counter, queue, tickets = self._keys(conversation_id)
        keys, lease_ms = [counter, queue], int(LEASE_S * 1000)
        ticket = int(self._draw(keys=keys, args=[lease_ms, tickets]))
        renewing = None
        try:
            while True:
                served = self._serve(keys=keys, args=[ticket, lease_ms, tickets])
                if served == 1:
                    break
                if served == -1:
                    raise LockError("A ticket for a conversation expired while waiting.")
                await asyncio.sleep(POLL_S)
            renewing = asyncio.get_running_loop().create_task(
                self._renew(keys, ticket, lease_ms, tickets))
            yield ticket
        finally:
            if renewing is not None:
                renewing.cancel()
            try:
                self._release(keys=[queue], args=[ticket, tickets])
            except Exception as error:  # noqa: BLE001 - the lease runs out by itself
                logger.warning("lock.release_failed error=%s", type(error).__name__)

    async def _renew(self, keys: list, ticket: int, lease_ms: int, tickets: str) -> None:
        while True:
            await asyncio.sleep(LEASE_S / 3)
            try:
                self._serve(keys=keys, args=[ticket, lease_ms, tickets])
            except Exception as error:  # noqa: BLE001 - Redis down: the turn goes on
                logger.warning("lock.renew_failed error=%s", type(error).__name__)
