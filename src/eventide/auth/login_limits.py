"""Failed-login limits per username and per client address, shared through Redis.

An attempt is counted before the password is checked and forgiven when it succeeds, so
concurrent guesses (parallel requests, aliased mutations) cannot slip past the limit.
"""

from __future__ import annotations

import contextlib
import math

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from eventide.auth.users import MAX_USERNAME_LENGTH
from eventide.errors import RateLimited, Unavailable
from eventide.storage.engines import Engines

# Count an attempt on each key; the window starts with a key's first attempt. (EXPIRE's
# NX option would do, but needs Redis 7 and the embedded Redis is 6.2.)
_RESERVE = """
local replies = {}
for _, key in ipairs(KEYS) do
    local count = redis.call('INCR', key)
    if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[1]) end
    table.insert(replies, count)
    table.insert(replies, redis.call('PTTL', key))
end
return replies
"""

# Decrement only counters that still exist: a DECR on an expired key would leave a
# negative counter with no expiry behind.
_FORGIVE = """
for _, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return 0
"""


def _keys(engines: Engines, *, username: str, client: str) -> list[str]:
    return [
        # No account name is longer, so a longer one cannot bloat the key space.
        engines.redis_key("auth", "login-user", username[:MAX_USERNAME_LENGTH].lower()),
        engines.redis_key("auth", "login-client", client),
    ]


async def reserve_attempt(engines: Engines, *, username: str, client: str) -> None:
    """Count one attempt; raise RateLimited when a limit is already used up."""
    limit = engines.settings.login_attempts
    window = engines.settings.login_window_seconds
    keys = _keys(engines, username=username, client=client)
    try:
        replies = await engines.redis.eval(_RESERVE, len(keys), *keys, window * 1000)
    except (RedisConnectionError, RedisTimeoutError):
        # Without the counters, brute force would be unlimited: refuse instead.
        raise Unavailable("Sign-in is unavailable right now; retry shortly") from None
    counts, ttls = replies[0::2], replies[1::2]
    over = [ttl for count, ttl in zip(counts, ttls, strict=True) if count > limit]
    if over:
        retry_after = max(1, math.ceil(max(over) / 1000))
        raise RateLimited(
            f"Too many failed sign-in attempts; retry in {retry_after} seconds",
            retry_after=retry_after,
        )


async def forgive_attempt(engines: Engines, *, username: str, client: str) -> None:
    """A successful sign-in does not count against either limit."""
    keys = _keys(engines, username=username, client=client)
    # Should Redis fail here, the attempt stays counted until the window ends: harmless.
    with contextlib.suppress(RedisError):
        await engines.redis.eval(_FORGIVE, len(keys), *keys)
