"""Failed-login limits per username and per client address, shared through Redis.

An attempt is counted before the password is checked and forgiven when it succeeds, so
concurrent guesses (parallel requests, aliased mutations) cannot slip past the limit.
"""

from __future__ import annotations

import contextlib
import math

from redis.exceptions import RedisError

from eventide.auth.users import MAX_USERNAME_LENGTH
from eventide.graphql.errors import RateLimited, ServiceUnavailable
from eventide.services import Services

# Decrement only counters that still exist: a DECR on an expired key would leave a
# negative counter with no expiry behind.
_FORGIVE = """
for _, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return 0
"""


def _keys(services: Services, *, username: str, client: str) -> list[str]:
    return [
        # No account name is longer, so a longer one cannot bloat the key space.
        services.redis_key("auth", "login-user", username[:MAX_USERNAME_LENGTH].lower()),
        services.redis_key("auth", "login-client", client),
    ]


async def reserve_attempt(services: Services, *, username: str, client: str) -> None:
    """Count one attempt; raise RateLimited when a limit is already used up."""
    limit = services.settings.login_attempts
    window = services.settings.login_window_seconds
    keys = _keys(services, username=username, client=client)
    try:
        async with services.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
                pipe.pttl(key)
            replies = await pipe.execute()
    except RedisError:
        # Without the counters, brute force would be unlimited: refuse instead.
        raise ServiceUnavailable("Sign-in is unavailable right now; retry shortly") from None
    counts, ttls = replies[0::3], replies[2::3]
    over = [ttl for count, ttl in zip(counts, ttls, strict=True) if count > limit]
    if over:
        retry_after = max(1, math.ceil(max(over) / 1000))
        raise RateLimited(
            f"Too many failed sign-in attempts; retry in {retry_after} seconds",
            retry_after=retry_after,
        )


async def forgive_attempt(services: Services, *, username: str, client: str) -> None:
    """A successful sign-in does not count against either limit."""
    keys = _keys(services, username=username, client=client)
    # Should Redis fail here, the attempt stays counted until the window ends: harmless.
    with contextlib.suppress(RedisError):
        await services.redis.eval(_FORGIVE, len(keys), *keys)
