"""User sessions: signing up and in, refreshing, signing out, changing the password."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from redis.exceptions import RedisError

from eventide.auth import login_limits, passwords, refresh, users
from eventide.auth.authenticate import deny_access_token, deny_family
from eventide.auth.jwt_tokens import AccessClaims, issue_access_token
from eventide.auth.users import UserRecord
from eventide.errors import InvalidInput, Unauthenticated, Unavailable
from eventide.storable import text_problem
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "Invalid username or password"


@dataclass(frozen=True, kw_only=True)
class SessionTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user: UserRecord


async def open_session(engines: Engines, *, user: UserRecord) -> SessionTokens:
    """Tokens of a new login: an access token and the first refresh token of a family."""
    settings = engines.settings
    family = uuid.uuid4()
    try:
        refresh_token = await refresh.issue_refresh_token(
            engines.db,
            user_id=user.id,
            ttl_seconds=settings.refresh_token_ttl_seconds,
            family_id=family,
        )
    except refresh.AccountInactive:
        raise Unauthenticated("This account is inactive") from None
    return _tokens(engines, user=user, refresh_token=refresh_token, family=family)


def _tokens(
    engines: Engines, *, user: UserRecord, refresh_token: str, family: uuid.UUID
) -> SessionTokens:
    settings = engines.settings
    return SessionTokens(
        access_token=issue_access_token(
            settings, user_id=user.id, session_epoch=user.session_epoch, family_id=family.hex
        ),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_seconds,
        user=user,
    )


def check_new_account(*, username: str, email: str, password: str) -> None:
    for problem in (
        users.username_problem(username),
        users.email_problem(email),
        passwords.password_problem(password),
    ):
        if problem:
            raise InvalidInput(problem)


async def sign_in(engines: Engines, *, username: str, password: str, client: str) -> SessionTokens:
    # No account can have such a username or password: say so before any engine sees it.
    if problem := text_problem("username", username) or text_problem(
        "password", password, allow_nul=True
    ):
        raise InvalidInput(problem)
    await login_limits.reserve_attempt(engines, username=username, client=client)
    user = await users.find_user(engines.db, username=username)
    if user is None:
        await passwords.burn_verification(password)
        raise Unauthenticated(BAD_CREDENTIALS)
    ok, new_hash = await passwords.verify_password(password, user.password_hash)
    if not ok:
        raise Unauthenticated(BAD_CREDENTIALS)
    await login_limits.forgive_attempt(engines, username=username, client=client)
    if not user.is_active:
        raise Unauthenticated("This account is inactive")
    if new_hash:
        await users.set_password_hash(
            engines.db, user_id=user.id, password_hash=new_hash, end_sessions=False
        )
    return await open_session(engines, user=user)


async def refresh_session(engines: Engines, *, refresh_token: str) -> SessionTokens:
    rotation = await refresh.rotate_refresh_token(
        engines.db,
        token=refresh_token,
        ttl_seconds=engines.settings.refresh_token_ttl_seconds,
    )
    if rotation.outcome in (refresh.RefreshOutcome.REUSED, refresh.RefreshOutcome.REVOKED):
        # The access tokens of the family die with it. A revoked token presented again
        # renews the entry, should an earlier write have been lost.
        assert rotation.family_id is not None
        await _deny_family(engines, rotation.family_id)
    if rotation.outcome is refresh.RefreshOutcome.REUSED:
        raise Unauthenticated("Refresh token was already used; its session has been revoked")
    if rotation.outcome is not refresh.RefreshOutcome.ROTATED:
        raise Unauthenticated("Invalid or expired refresh token")
    assert rotation.user_id is not None
    assert rotation.token is not None
    assert rotation.family_id is not None
    user = await users.get_user(engines.db, user_id=rotation.user_id)
    if user is None or not user.is_active:
        await refresh.revoke_family_of(engines.db, token=rotation.token)
        await _deny_family(engines, rotation.family_id)
        raise Unauthenticated("This account is inactive")
    return _tokens(engines, user=user, refresh_token=rotation.token, family=rotation.family_id)


async def _deny_family(engines: Engines, family: uuid.UUID) -> None:
    try:
        await deny_family(engines, family)
    except RedisError as error:
        # PostgreSQL has revoked the refresh tokens; presenting one again retries this.
        logger.warning("session family not denied: %s", type(error).__name__)
        raise Unavailable(
            "The session could not be revoked completely right now; retry shortly"
        ) from None


async def sign_out(
    engines: Engines, *, access: AccessClaims | None, refresh_token: str | None
) -> None:
    """End the login of ``refresh_token`` and of ``access``: their families' refresh
    tokens are revoked and their access tokens refused."""
    families: set[uuid.UUID] = set()
    if refresh_token is not None:
        family = await refresh.revoke_family_of(engines.db, token=refresh_token)
        if family is not None:
            families.add(family)
    if access is not None and access.family_id is not None:
        family = uuid.UUID(access.family_id)
        await refresh.revoke_family(engines.db, family_id=family)
        families.add(family)
    for family in families:
        await _deny_family(engines, family)
    if access is not None:
        try:
            await deny_access_token(engines, access)
        except RedisError:
            raise Unavailable(
                "The access token could not be revoked right now; retry shortly"
            ) from None


async def change_password(
    engines: Engines, *, user_id: str, current_password: str, new_password: str, client: str
) -> None:
    """Replace the password; every session of the user ends (sign in again)."""
    if problem := text_problem("currentPassword", current_password, allow_nul=True):
        raise InvalidInput(problem)
    user = await users.get_user(engines.db, user_id=user_id)
    if user is None:
        raise Unauthenticated("Session is no longer valid")
    # A stolen session must not become a way to guess the password without limit.
    await login_limits.reserve_attempt(engines, username=user.username, client=client)
    ok, _ = await passwords.verify_password(current_password, user.password_hash)
    if not ok:
        raise InvalidInput("Current password is incorrect")
    await login_limits.forgive_attempt(engines, username=user.username, client=client)
    if problem := passwords.password_problem(new_password):
        raise InvalidInput(problem)
    password_hash = await passwords.hash_password(new_password)
    async with engines.db.acquire() as conn, conn.transaction():
        await users.set_password_hash(
            conn, user_id=user.id, password_hash=password_hash, end_sessions=True
        )
        await refresh.revoke_user_refresh_tokens(conn, user_id=user.id)
