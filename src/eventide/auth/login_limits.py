"""Failed-login limits, shared through Redis, that bound guessing without locking out
the owner of an account.

Three counters per attempt, over one window (``EVENTIDE_LOGIN_WINDOW_SECONDS``):

- per (username, client address), ``EVENTIDE_LOGIN_ATTEMPTS``: stops one client
  guessing one password quickly, and nobody else;
- per client address, ``EVENTIDE_LOGIN_ADDRESS_ATTEMPTS``: stops one client trying
  one password on many accounts;
- per username, ``EVENTIDE_LOGIN_USERNAME_ATTEMPTS``, much higher: bounds what many
  addresses together may try on one account. Past it, only addresses the account
  signed in from lately (within :data:`KNOWN_ADDRESS_SECONDS`) get through, so the
  owner still signs in at home while the account is under attack.

An attempt is counted before the password is checked and forgiven when it succeeds, so
concurrent guesses (parallel requests, aliased mutations) cannot slip past a limit. An
attempt refused by one limit counts on no counter: hammering from a blocked address
does not use up the account's shared allowance.
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
from eventide.storage.redis import script

# How long a successful sign-in makes its address known to the account.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600

# KEYS: pair, address, username counters, then the username's known addresses.
# ARGV: window (ms), the three limits, the client address.
# Replies {0, 0} when the attempt is counted, else {which limit (1-3), its ms to go}.
# (EXPIRE's NX option would set the windows, but needs Redis 7 and the embedded Redis
# is 6.2.)
_RESERVE = """
local window = tonumber(ARGV[1])
local function used_up(index)
    return tonumber(redis.call('GET', KEYS[index]) or '0') >= tonumber(ARGV[index + 1])
end
local function refused(index)
    local ttl = redis.call('PTTL', KEYS[index])
    if ttl < 0 then ttl = window end
    return {index, ttl}
end
if used_up(1) then return refused(1) end
if used_up(2) then return refused(2) end
if used_up(3) and redis.call('SISMEMBER', KEYS[4], ARGV[5]) == 0 then return refused(3) end
for index = 1, 3 do
    redis.call('INCR', KEYS[index])
    if redis.call('PTTL', KEYS[index]) < 0 then redis.call('PEXPIRE', KEYS[index], window) end
end
return {0, 0}
"""

# Decrement only counters that still exist: a DECR on an expired key would leave a
# negative counter with no expiry behind. Then remember the address.
_FORGIVE = """
for index = 1, 3 do
    if redis.call('EXISTS', KEYS[index]) == 1 then redis.call('DECR', KEYS[index]) end
end
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('EXPIRE', KEYS[4], ARGV[2])
return 0
"""


def _keys(engines: Engines, *, username: str, client: str) -> list[str]:
    # No account name is longer, so a longer one cannot bloat the key space.
    name = username[:MAX_USERNAME_LENGTH].lower()
    return [
        engines.redis_key("auth", "login-pair", name, client),
        engines.redis_key("auth", "login-client", client),
        engines.redis_key("auth", "login-user", name),
        engines.redis_key("auth", "login-known", name),
    ]


async def reserve_attempt(engines: Engines, *, username: str, client: str) -> None:
    """Count one attempt; raise RateLimited when a limit is already used up."""
    settings = engines.settings
    keys = _keys(engines, username=username, client=client)
    try:
        refused, remaining_ms = await script(engines.redis, _RESERVE)(
            keys=keys,
            args=[
                settings.login_window_seconds * 1000,
                settings.login_attempts,
                settings.login_address_attempts,
                settings.login_username_attempts,
                client,
            ],
        )
    except (RedisConnectionError, RedisTimeoutError):
        # Without the counters, brute force would be unlimited: refuse instead.
        raise Unavailable("Sign-in is unavailable right now; retry shortly") from None
    if refused:
        retry_after = max(1, math.ceil(remaining_ms / 1000))
        raise RateLimited(
            f"Too many failed sign-in attempts; retry in {retry_after} seconds",
            retry_after=retry_after,
        )


async def forgive_attempt(engines: Engines, *, username: str, client: str) -> None:
    """A successful sign-in does not count against any limit, and its address becomes
    one the account is known to sign in from."""
    keys = _keys(engines, username=username, client=client)
    # Should Redis fail here, the attempt stays counted until the window ends: harmless.
    with contextlib.suppress(RedisError):
        await script(engines.redis, _FORGIVE)(keys=keys, args=[client, KNOWN_ADDRESS_SECONDS])
