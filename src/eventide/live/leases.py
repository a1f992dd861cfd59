"""How many live subscriptions each principal holds at once, across every replica.

Each subscription holds a lease: a member of its principal's sorted set in Redis, scored
with the instant it expires. A subscription renews its lease while it runs and removes
it when it ends; the lease of one whose process died expires by itself, so a crash
frees its principal's places within :data:`LEASE_SECONDS`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from eventide.storage.redis import script

LEASE_SECONDS = 60
# A running subscription renews its lease this often: well before it would expire.
RENEW_SECONDS = LEASE_SECONDS / 3

# KEYS: the principal's set; ARGV: the cap, the lease's member, its lifetime in ms.
# Expired leases are removed first; returns 1 when the lease was taken, 0 at the cap.
_TAKE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[2]) == false
    and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


@dataclass(frozen=True)
class Lease:
    key: str
    member: str


class Leases:
    def __init__(self, redis: Redis, *, key_prefix: str, cap: int) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self.cap = cap

    async def take(self, principal: str) -> Lease | None:
        """A new lease of ``principal``, or None when it holds the cap already."""
        lease = Lease(f"{self._prefix}live:leases:{principal}", uuid.uuid4().hex)
        return lease if await self._take(lease) else None

    async def renew(self, lease: Lease) -> None:
        # Taken again even if it expired meanwhile (Redis was away): the subscription
        # still runs, so it still counts.
        await self._take(lease, renewing=True)

    async def release(self, lease: Lease) -> None:
        await self._redis.zrem(lease.key, lease.member)

    async def _take(self, lease: Lease, *, renewing: bool = False) -> bool:
        cap = 2**31 if renewing else self.cap
        taken = await script(self._redis, _TAKE_SCRIPT)(
            keys=[lease.key], args=[cap, lease.member, LEASE_SECONDS * 1000]
        )
        return bool(taken)
