"""Rate limits shared by every replica: one token bucket per principal in Redis.

Each principal (API token, user, or client address when anonymous) has two buckets:
query cost points and ingested events. A bucket holds at most its per-minute allowance
and refills continuously at allowance/60 per second; a request takes its amount at once
or nothing. The check and the update run in one Lua script, so replicas never race, and
the time is Redis's own clock, so replicas need no synchronised clocks.

A principal is named by a key (:attr:`Principal.key`, or the client's address); the API
layer charges each operation's cost and each batch's events before running it, both in
one round trip (:func:`charge_each`), and likewise the project's budgets.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from redis.exceptions import RedisError

from eventide.errors import RateLimited
from eventide.storage.engines import Engines
from eventide.storage.redis import script

logger = logging.getLogger(__name__)

Bucket = Literal["query", "events", "project-query", "project-events"]

# KEYS: the buckets, each charged in turn; ARGV: capacity, refill per second and amount of
# each, three values per bucket. A refused charge ends the script: the buckets after it
# are neither charged nor touched. Returns, per bucket charged, allowed (0/1) and the
# tokens left after the call, as a string to keep fractions.
_BUCKET_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local result = {}
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[3 * i - 2])
  local rate = tonumber(ARGV[3 * i - 1])
  local amount = tonumber(ARGV[3 * i])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  local allowed = 0
  if amount <= tokens then
    tokens = tokens - amount
    allowed = 1
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((capacity - tokens) / rate * 1000) + 1000)
  result[#result + 1] = allowed
  result[#result + 1] = tostring(tokens)
  if allowed == 0 then
    break
  end
end
return result
"""


@dataclass(frozen=True)
class Charge:
    """``amount`` to take from the bucket of ``key``, which holds ``capacity`` a minute."""

    bucket: Bucket
    key: str
    amount: int
    capacity: int


@dataclass(frozen=True)
class Throttle:
    """A bucket's state after a charge."""

    bucket: Bucket
    allowed: bool
    amount: int
    capacity: int
    available: float

    @property
    def restore_rate(self) -> float:
        """Units restored per second."""
        return self.capacity / 60

    @property
    def retry_after(self) -> int:
        """Seconds until the refused amount is available."""
        return max(1, math.ceil((self.amount - self.available) / self.restore_rate))

    @property
    def reset(self) -> int:
        """Seconds until the bucket is full again."""
        return math.ceil((self.capacity - self.available) / self.restore_rate)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.capacity),
            "RateLimit-Remaining": str(math.floor(self.available)),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    def status(self) -> dict[str, float | int]:
        """Shopify's ``throttleStatus`` shape."""
        return {
            "maximumAvailable": self.capacity,
            "currentlyAvailable": math.floor(self.available),
            "restoreRate": round(self.restore_rate, 3),
        }


async def charge(
    engines: Engines, *, bucket: Bucket, key: str, amount: int, capacity: int
) -> Throttle | None:
    """Take ``amount`` from the bucket; None when limits are off or Redis fails.

    A Redis failure lets the request through (logged): the limits protect capacity,
    and an outage of Redis must not take the whole API down with it.
    """
    (throttle,) = await charge_each(engines, [Charge(bucket, key, amount, capacity)])
    return throttle


async def charge_each(engines: Engines, charges: Sequence[Charge]) -> list[Throttle | None]:
    """Make ``charges`` in order, in one round trip to Redis, each as :func:`charge`
    would; once one is refused, the ones after it are not made (None)."""
    throttles: list[Throttle | None] = [None] * len(charges)
    made = [i for i, c in enumerate(charges) if c.capacity > 0 and c.amount > 0]
    if not made:
        return throttles
    try:
        replies = await script(engines.redis, _BUCKET_SCRIPT)(
            keys=[engines.redis_key("ratelimit", charges[i].bucket, charges[i].key) for i in made],
            args=[
                arg
                for i in made
                for arg in (charges[i].capacity, charges[i].capacity / 60, charges[i].amount)
            ],
        )
    except (RedisError, OSError):
        logger.warning("rate limit not checked: Redis is unavailable", exc_info=True)
        return throttles
    # Fewer replies than charges made: the charges after a refused one were not made.
    for i, allowed, left in zip(made, replies[::2], replies[1::2], strict=False):
        throttles[i] = Throttle(
            bucket=charges[i].bucket,
            allowed=bool(allowed),
            amount=charges[i].amount,
            capacity=charges[i].capacity,
            available=float(left),
        )
    return throttles


def check(throttle: Throttle | None) -> None:
    """Raise RATE_LIMITED when the charge was refused."""
    if throttle is None or throttle.allowed:
        return
    unit = "events" if throttle.bucket.endswith("events") else "query cost points"
    whose = " of this project" if throttle.bucket.startswith("project") else ""
    raise RateLimited(
        f"Rate limit{whose} exceeded: {throttle.amount} {unit} requested, "
        f"{math.floor(throttle.available)} of {throttle.capacity} per minute available; "
        f"retry in {throttle.retry_after} s",
        retry_after=throttle.retry_after,
    )
