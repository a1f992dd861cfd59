"""Changes an admin makes to accounts, never leaving the server without an active admin.

Every change that can remove an active admin (demotion, deactivation, deletion) and every
bootstrap of one takes the same transaction-level advisory lock, so two concurrent changes
cannot each see "another admin remains" and together remove the last two.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from eventide.auth import api_tokens, refresh, users
from eventide.auth.principal import Role
from eventide.auth.users import UserRecord
from eventide.errors import InvalidInput

# Any fixed 64-bit number, the same in every Eventide process.
_ADMINS_LOCK = 0x45564E5441444D


class LastAdmin(InvalidInput):
    """The change would leave no active admin."""

    def __init__(self) -> None:
        super().__init__("The last active admin cannot be demoted, deactivated or deleted")


@contextlib.asynccontextmanager
async def admins_locked(db: Any) -> AsyncIterator[Any]:
    """A connection in a transaction holding the admins lock."""
    async with db.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _ADMINS_LOCK)
        yield conn


async def _refuse_if_last_admin(conn: Any, user: UserRecord) -> None:
    if user.role is not Role.ADMIN or not user.is_active:
        return
    others = await conn.fetchval(
        "SELECT count(*) FROM users WHERE role = 'ADMIN' AND is_active AND id <> $1",
        uuid.UUID(user.id),
    )
    if others == 0:
        raise LastAdmin


async def set_role(db: Any, *, user_id: uuid.UUID, role: Role) -> UserRecord | None:
    async with admins_locked(db) as conn:
        user = await users.get_user(conn, user_id=user_id)
        if user is None or user.role is role:
            return user
        if role is not Role.ADMIN:
            await _refuse_if_last_admin(conn, user)
        await conn.execute(
            "UPDATE users SET role = $2, updated_at = now() WHERE id = $1", user_id, role.value
        )
        return await users.get_user(conn, user_id=user_id)


async def set_active(db: Any, *, user_id: uuid.UUID, active: bool) -> UserRecord | None:
    """Deactivation revokes every token of the user (access, refresh, API); reactivation
    revives none of them, so the account starts over with a new login."""
    async with admins_locked(db) as conn:
        user = await users.get_user(conn, user_id=user_id)
        if user is None or user.is_active is active:
            return user
        if not active:
            await _refuse_if_last_admin(conn, user)
        # The row first: it waits for token issuance holding the row (see
        # create_api_token), whose tokens the revocations below then see.
        await conn.execute(
            """UPDATE users SET is_active = $2, updated_at = now(),
                   session_epoch = session_epoch + 1
               WHERE id = $1""",
            user_id,
            active,
        )
        if not active:
            await refresh.revoke_user_refresh_tokens(conn, user_id=user.id)
            await api_tokens.revoke_user_api_tokens(conn, user_id=user.id)
        return await users.get_user(conn, user_id=user_id)


async def delete_user(db: Any, *, user_id: uuid.UUID) -> bool:
    """Remove the account with its refresh and API tokens (by cascade); events stay."""
    async with admins_locked(db) as conn:
        user = await users.get_user(conn, user_id=user_id)
        if user is None:
            return False
        await _refuse_if_last_admin(conn, user)
        await conn.execute("DELETE FROM users WHERE id = $1", user_id)
        return True
