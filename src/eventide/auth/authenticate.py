"""Who is calling: the ``Authorization`` header turned into a :class:`Principal`.

Every check reads current state (the user row, the token row, the Redis denylist), so a
deactivation, password change, deletion or logout takes effect on the next request on
every replica. A check that cannot be made (Redis down) refuses the credential.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from redis.exceptions import RedisError

from eventide.auth import api_tokens, users
from eventide.auth.jwt_tokens import AccessClaims, InvalidAccessToken, decode_access_token
from eventide.auth.principal import Principal
from eventide.errors import EventideError, Unauthenticated, Unavailable
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)

# lastUsedAt is written at most once per this many seconds per token.
LAST_USED_RESOLUTION_SECONDS = 60
# Until when (monotonic clock) each token's key of the minute is known to exist in Redis;
# only a hint, at most this many tokens.
_noted_until: dict[str, float] = {}
_MAX_NOTED_TOKENS = 10_000

_REFUSED_TOKEN = {
    api_tokens.TokenState.UNKNOWN: "Invalid API token",
    api_tokens.TokenState.EXPIRED: "API token has expired",
    api_tokens.TokenState.REVOKED: "API token has been revoked",
    api_tokens.TokenState.OWNER_INACTIVE: "The account of this API token is inactive",
}


@dataclass(frozen=True, kw_only=True)
class Authentication:
    """The principal, or why the presented credentials were refused (``error``)."""

    principal: Principal | None = None
    error: EventideError | None = None
    # The decoded access token of a user session, which logout needs.
    access: AccessClaims | None = None


ANONYMOUS = Authentication()


async def authenticate(engines: Engines, authorization: str | None) -> Authentication:
    if not authorization:
        return ANONYMOUS
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return Authentication(error=Unauthenticated("Expected 'Authorization: Bearer <token>'"))
    if api_tokens.looks_like_api_token(credential):
        return await _api_token(engines, credential)
    return await _access_token(engines, credential)


def denylist_key(engines: Engines, token_id: str) -> str:
    return engines.redis_key("auth", "revoked-access", token_id)


def family_denylist_key(engines: Engines, family_id: str) -> str:
    return engines.redis_key("auth", "revoked-family", family_id)


async def deny_access_token(engines: Engines, claims: AccessClaims) -> None:
    """Make an access token unusable until it would have expired anyway."""
    ttl = max(1, claims.expires_at - int(time.time()) + 1)
    await engines.redis.set(denylist_key(engines, claims.token_id), b"1", ex=ttl)


async def deny_family(engines: Engines, family_id: uuid.UUID) -> None:
    """Make every access token issued in a refresh-token family unusable.

    The family issues no token once it is revoked, so the entry is needed only as long
    as the youngest of them lives: one access-token lifetime (and a second to spare).
    """
    ttl = engines.settings.access_token_ttl_seconds + 1
    await engines.redis.set(family_denylist_key(engines, family_id.hex), b"1", ex=ttl)


async def _access_token(engines: Engines, token: str) -> Authentication:
    try:
        claims = decode_access_token(engines.settings, token)
    except InvalidAccessToken:
        # Expired tokens are the common case: say so, clients then refresh.
        return Authentication(error=Unauthenticated("Invalid or expired access token"))
    keys = [denylist_key(engines, claims.token_id)]
    if claims.family_id is not None:
        keys.append(family_denylist_key(engines, claims.family_id))
    try:
        # One round trip for both: the token itself, and the login it belongs to.
        denied = any(await engines.redis.mget(keys))
    except RedisError as error:
        logger.warning("session check failed: %s", type(error).__name__)
        return Authentication(
            error=Unavailable("Sessions cannot be verified right now; retry shortly")
        )
    user = await users.get_user(engines.db, user_id=claims.user_id)
    if denied or user is None or not user.is_active or user.session_epoch != claims.session_epoch:
        return Authentication(error=Unauthenticated("Session is no longer valid"))
    return Authentication(principal=Principal(user_id=user.id, role=user.role), access=claims)


async def _api_token(engines: Engines, secret: str) -> Authentication:
    check = await api_tokens.check_api_token(engines.db, secret=secret)
    if check.state is not api_tokens.TokenState.VALID:
        return Authentication(error=Unauthenticated(_REFUSED_TOKEN[check.state]))
    assert check.token_id is not None
    assert check.owner_id is not None
    assert check.owner_role is not None
    assert check.project_id is not None
    await _note_use(engines, check.token_id)
    return Authentication(
        principal=Principal(
            user_id=check.owner_id,
            role=check.owner_role,
            api_token_id=check.token_id,
            scopes=check.scopes,
            project_id=check.project_id,
        )
    )


async def _note_use(engines: Engines, token_id: str) -> None:
    # A Redis key per token and minute keeps busy SDKs from writing the row per request;
    # while this process knows the key to exist, it does not ask Redis again either.
    now = time.monotonic()
    if _noted_until.get(token_id, 0.0) > now:
        return
    key = engines.redis_key("auth", "token-used", token_id)
    try:
        async with engines.redis.pipeline(transaction=False) as pipe:
            pipe.set(key, b"1", nx=True, ex=LAST_USED_RESOLUTION_SECONDS)
            pipe.pttl(key)
            first, left_ms = await pipe.execute()
    except RedisError as error:
        logger.warning("lastUsedAt not recorded: %s", type(error).__name__)
        return
    _remember_use(token_id, now + max(0, left_ms) / 1000)
    if first:
        await api_tokens.touch_api_token(engines.db, token_id=token_id)


def _remember_use(token_id: str, until: float) -> None:
    if len(_noted_until) >= _MAX_NOTED_TOKENS:
        now = time.monotonic()
        for known in [known for known, due in _noted_until.items() if due <= now]:
            del _noted_until[known]
        if len(_noted_until) >= _MAX_NOTED_TOKENS:
            _noted_until.clear()
    _noted_until[token_id] = until
