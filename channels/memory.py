"""What the channels remember between messages: each sender's rate limit
(the REST channel) and the ids of the platform messages already answered
(Messenger, WhatsApp, Twilio).

In one process (`make run`) both are kept in the process's memory. In
cluster mode, where the lock store is Redis (endpoints.cluster.yml), both are
kept in that Redis, which every replica shares: a sender gets
RATE_LIMIT_PER_MINUTE messages a minute from the whole cluster, not from
each replica, and a message a platform delivers again to another replica is
known there too.

The ids are not what runs a turn once: rasa_patches/once.py checks each
message's id against the conversation's stored events, under the
conversation's lock, on every channel, also after a restart. An id is
remembered here once its turn has run, so that a redelivery of a message
already answered is acknowledged without a turn or a read of the
conversation. (Remembered on arrival instead, the id of a message whose
replica died before acknowledging it would have its redelivery dropped by
every replica: the message lost.)

Redis down: a message is let through (its turn then fails and says "temporarily
unavailable", channels/guard.py) and nothing is remembered.
"""
from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple, Union

import redis

logger = logging.getLogger(__name__)
IDS_KEPT = 10_000  # message ids a process remembers; Meta and Twilio retry within minutes
IDS_KEPT_S = 24 * 3600  # how long Redis remembers an id: Meta retries for up to a day or more
KEY_PREFIX = "clinic:"

# KEYS: the sender's bucket. ARGV: messages per minute. 1: allowed, 0: not.
# The bucket is full again after a minute unused: then it need not be kept.
TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local per_minute = tonumber(ARGV[1])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'since')
local tokens = tonumber(bucket[1]) or per_minute
local since = tonumber(bucket[2]) or now
tokens = math.min(per_minute, tokens + math.max(0, now - since) * per_minute / 60)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'since', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return allowed
"""


def per_minute_setting() -> int:
    return int(os.environ.get("RATE_LIMIT_PER_MINUTE", "30"))


class RateLimiter:
    """At most `per_minute` messages per sender in any minute, with that many
    in a burst (a token bucket per sender, kept in this process)."""

    def __init__(self, per_minute: int | None = None) -> None:
        self.per_minute = per_minute or per_minute_setting()
        self._buckets: Dict[str, tuple[float, float]] = {}

    def allow(self, sender: str) -> bool:
        now = time.monotonic()
        tokens, since = self._buckets.get(sender, (float(self.per_minute), now))
        tokens = min(self.per_minute, tokens + (now - since) * self.per_minute / 60)
        if tokens < 1:
            self._buckets[sender] = (tokens, now)
            return False
        self._buckets[sender] = (tokens - 1, now)
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        return True

    def _forget_full(self, now: float) -> None:
        """Drop the senders whose bucket has refilled: they are as if new."""
        for sender, (tokens, since) in list(self._buckets.items()):
            if tokens + (now - since) * self.per_minute / 60 >= self.per_minute:
                del self._buckets[sender]


class SharedRateLimiter:
    """The same token bucket per sender, in Redis: one limit for all the
    replicas. Each take is one Lua script (atomic), timed by Redis's clock."""

    def __init__(self, red: redis.Redis, per_minute: int | None = None) -> None:
        self.per_minute = per_minute or per_minute_setting()
        self._take = red.register_script(TAKE)

    def allow(self, sender: str) -> bool:
        try:
            return self._take(keys=[f"{KEY_PREFIX}rate:{sender}"], args=[self.per_minute]) == 1
        except redis.RedisError as error:
            logger.warning("rate_limit.unavailable error=%s", type(error).__name__)
            return True


class AnsweredIds:
    """The ids of the latest messages answered, kept in this process."""

    def __init__(self, size: int = IDS_KEPT) -> None:
        self._ids: "OrderedDict[str, None]" = OrderedDict()
        self._size = size

    def has(self, message_id: str) -> bool:
        return message_id in self._ids

    def add(self, message_id: str) -> None:
        self._ids[message_id] = None
        self._ids.move_to_end(message_id)
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)


class SharedAnsweredIds:
    """The ids of the messages of one channel answered in the last
    IDS_KEPT_S, in Redis (SET NX with an expiry): known to every replica."""

    def __init__(self, red: redis.Redis, channel: str, kept_s: int = IDS_KEPT_S) -> None:
        self._red, self._prefix, self._kept_s = red, f"{KEY_PREFIX}answered:{channel}:", kept_s

    def has(self, message_id: str) -> bool:
        try:
            return bool(self._red.exists(self._prefix + message_id))
        except redis.RedisError as error:
            logger.warning("answered_ids.unavailable error=%s", type(error).__name__)
            return False  # the turn decides (rasa_patches/once.py)

    def add(self, message_id: str) -> None:
        try:
            self._red.set(self._prefix + message_id, 1, nx=True, ex=self._kept_s)
        except redis.RedisError as error:
            logger.warning("answered_ids.unavailable error=%s", type(error).__name__)


Limiter = Union[RateLimiter, SharedRateLimiter]
Answered = Union[AnsweredIds, SharedAnsweredIds]


def shared_redis(agent: Any) -> Optional[redis.Redis]:
    """The Redis every replica shares, if any: the lock store's (cluster mode)."""
    return getattr(getattr(agent, "lock_store", None), "red", None)


class Memory:
    """One channel's memory of senders and messages: shared in Redis when the
    server's lock store is in Redis, else kept in this process."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._local = (RateLimiter(), AnsweredIds())
        self._shared: Optional[Tuple[redis.Redis, SharedRateLimiter, SharedAnsweredIds]] = None

    def _of(self, agent: Any) -> tuple:
        red = shared_redis(agent)
        if red is None:
            return self._local
        if self._shared is None or self._shared[0] is not red:
            self._shared = (red, SharedRateLimiter(red), SharedAnsweredIds(red, self.channel))
        return self._shared[1:]

    def rate_limiter(self, agent: Any) -> Limiter:
        return self._of(agent)[0]

    def answered_ids(self, agent: Any) -> Answered:
        return self._of(agent)[1]
