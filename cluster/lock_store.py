"""A Redis lock store under which two replicas never run turns of the same
conversation at once. Named in endpoints.cluster.yml.

Rasa's own RedisLockStore reads the lock, adds a ticket and writes it back
in three separate calls, so two replicas can draw the same ticket and both
go ahead. Here every step is one Lua script, which Redis runs atomically:

- a ticket is drawn with INCR, so tickets are unique and ordered, and queued
  in a sorted set by number: turns run in the order they arrived;
- a turn goes ahead when its ticket is the lowest one still alive; every
  ticket has its own key with an expiry, so a replica that dies holding the
  lock holds it at most `lock_lifetime` (TICKET_LOCK_LIFETIME, 60 s);
- the lifetime restarts when a ticket is served, and the release removes
  only the caller's own ticket.

Every outgoing call of a turn has a timeout well under that lifetime: the
action server 4 s (channels/guard.py), the platforms' APIs 10 s with two
retries (channels/outbound.py), Redis itself 10 s.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
POLL_S = 0.02  # how often a waiting turn asks whether it is its turn

# KEYS: counter, queue. ARGV: lifetime (ms), ticket key prefix.
DRAW = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('SET', ARGV[2] .. ticket, 1, 'PX', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return ticket
"""

# KEYS: counter, queue. ARGV: ticket, lifetime (ms), ticket key prefix.
# 1: served; 0: wait; -1: the ticket expired while waiting.
SERVE = """
if redis.call('EXISTS', ARGV[3] .. ARGV[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
while true do
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if first == nil then
    return -1
  end
  if first == ARGV[1] then
    redis.call('SET', ARGV[3] .. first, 1, 'PX', ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    redis.call('PEXPIRE', KEYS[2], ARGV[2])
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
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = POLL_S) -> AsyncIterator[int]:
        counter, queue, tickets = self._keys(conversation_id)
        lifetime_ms = int(lock_lifetime * 1000)
        ticket = int(self._draw(keys=[counter, queue], args=[lifetime_ms, tickets]))
        try:
            while True:
                served = self._serve(keys=[counter, queue], args=[ticket, lifetime_ms, tickets])
                if served == 1:
                    break
                if served == -1:
                    raise LockError(f"Ticket {ticket} for a conversation expired while waiting.")
                await asyncio.sleep(min(wait_time_in_seconds, POLL_S))
            yield ticket
        finally:
            self._release(keys=[queue], args=[ticket, tickets])
