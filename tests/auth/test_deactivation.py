"""A deactivation racing the issuance of a token: the token never outlives it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from eventide.auth import administration, api_tokens, passwords, refresh, users
from eventide.auth.principal import TokenScope
from eventide.auth.users import UserRecord
from eventide.storage.engines import Engines
from tests.own_projects import own_project


async def _account(engines: Engines) -> UserRecord:
    name = f"user-{uuid.uuid4().hex[:10]}"
    return await users.create_user(
        engines.db,
        username=name,
        email=None,
        password_hash=await passwords.hash_password("a long passphrase"),
    )


async def _deactivate_while_open(engines: Engines, user: UserRecord, issue: object) -> object:
    """Issue inside an open transaction, start a deactivation, then commit the issuance."""
    async with engines.db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        issued = await issue(conn)  # type: ignore[operator]
        deactivation = asyncio.create_task(
            administration.set_active(engines.db, user_id=uuid.UUID(user.id), active=False)
        )
        await asyncio.sleep(0.3)
        # It waits for the issuing transaction instead of revoking around it.
        assert not deactivation.done()
        await transaction.commit()
    assert (await deactivation) is not None
    await administration.set_active(engines.db, user_id=uuid.UUID(user.id), active=True)
    return issued


async def test_an_api_token_created_during_a_deactivation_stays_revoked(
    engines: Engines,
) -> None:
    user = await _account(engines)
    project = await own_project(engines.db, user.id)

    async def issue(conn: object) -> str:
        secret, _ = await api_tokens.create_api_token(
            conn,
            user_id=user.id,
            project_id=project,
            name="sdk",
            scopes=[TokenScope.READ],
            ttl_seconds=None,
        )
        return secret

    secret = await _deactivate_while_open(engines, user, issue)
    check = await api_tokens.check_api_token(engines.db, secret=str(secret))
    assert check.state is api_tokens.TokenState.REVOKED


async def test_a_login_during_a_deactivation_leaves_no_usable_refresh_token(
    engines: Engines,
) -> None:
    user = await _account(engines)

    async def issue(conn: object) -> str:
        return await refresh.issue_refresh_token(conn, user_id=user.id, ttl_seconds=600)

    token = await _deactivate_while_open(engines, user, issue)
    rotation = await refresh.rotate_refresh_token(engines.db, token=str(token), ttl_seconds=600)
    assert rotation.outcome is refresh.RefreshOutcome.REVOKED


async def test_a_rotation_during_a_deactivation_leaves_no_usable_successor(
    engines: Engines,
) -> None:
    user = await _account(engines)
    first = await refresh.issue_refresh_token(engines.db, user_id=user.id, ttl_seconds=600)
    rotated: list[str] = []

    async def issue(conn: object) -> None:
        # What rotate_refresh_token does, inside the transaction held open above.
        class Held:
            def acquire(self) -> object:
                return _Borrowed(conn)

        rotation = await refresh.rotate_refresh_token(Held(), token=first, ttl_seconds=600)
        assert rotation.token is not None
        rotated.append(rotation.token)

    await _deactivate_while_open(engines, user, issue)
    again = await refresh.rotate_refresh_token(engines.db, token=rotated[0], ttl_seconds=600)
    assert again.outcome is refresh.RefreshOutcome.REVOKED


class _Borrowed:
    """``async with db.acquire() as conn, conn.transaction()`` on a connection whose
    transaction is already open: the inner one becomes a savepoint."""

    def __init__(self, conn: object) -> None:
        self.conn = conn

    async def __aenter__(self) -> object:
        return self.conn

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_no_token_is_issued_to_an_inactive_account(engines: Engines) -> None:
    user = await _account(engines)
    project = await own_project(engines.db, user.id)
    await administration.set_active(engines.db, user_id=uuid.UUID(user.id), active=False)
    with pytest.raises(api_tokens.OwnerInactive):
        await api_tokens.create_api_token(
            engines.db,
            user_id=user.id,
            project_id=project,
            name="sdk",
            scopes=[TokenScope.READ],
            ttl_seconds=None,
        )
    with pytest.raises(refresh.AccountInactive):
        await refresh.issue_refresh_token(engines.db, user_id=user.id, ttl_seconds=600)
