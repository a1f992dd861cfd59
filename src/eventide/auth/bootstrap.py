"""The first admin: from settings or the ``create-admin`` command, or generated in development."""

from __future__ import annotations

import logging
import secrets
import uuid

from eventide.auth import passwords, refresh, users
from eventide.auth.administration import admins_locked
from eventide.auth.principal import Role
from eventide.auth.users import UserRecord
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)

DEVELOPMENT_ADMIN = "admin"


class InvalidAdmin(ValueError):
    """The requested admin username or password breaks the account rules."""


async def ensure_admin(engines: Engines, *, username: str, password: str) -> UserRecord:
    """Create ``username`` as an active admin, or make the existing account one with
    ``password``. Sessions end only when the password actually changes."""
    problem = users.username_problem(username) or passwords.password_problem(password)
    if problem:
        raise InvalidAdmin(problem)
    async with admins_locked(engines.db) as conn:
        existing = await users.find_user(conn, username=username)
        if existing is None:
            user = await users.create_user(
                conn,
                username=username,
                email=None,
                password_hash=await passwords.hash_password(password),
                role=Role.ADMIN,
            )
            logger.info("created admin account %s", username)
            return user
        same_password, _ = await passwords.verify_password(password, existing.password_hash)
        if not same_password:
            await users.set_password_hash(
                conn,
                user_id=existing.id,
                password_hash=await passwords.hash_password(password),
                end_sessions=True,
            )
            await refresh.revoke_user_refresh_tokens(conn, user_id=existing.id)
        await conn.execute(
            "UPDATE users SET role = 'ADMIN', is_active = true, updated_at = now() WHERE id = $1",
            uuid.UUID(existing.id),
        )
        updated = await users.get_user(conn, user_id=existing.id)
        assert updated is not None
        if updated != existing:
            logger.info("reset admin account %s", username)
        return updated


async def bootstrap_admin(engines: Engines) -> None:
    """At startup: apply the configured admin; in development, make sure one exists."""
    settings = engines.settings
    if settings.admin_username and settings.admin_password:
        await ensure_admin(
            engines, username=settings.admin_username, password=settings.admin_password
        )
        return
    if settings.is_production:
        return
    async with admins_locked(engines.db) as conn:
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'ADMIN')"):
            return
        if await users.find_user(conn, username=DEVELOPMENT_ADMIN) is not None:
            logger.warning(
                "no admin exists and the username %r is taken; run 'eventide create-admin'",
                DEVELOPMENT_ADMIN,
            )
            return
        password = secrets.token_urlsafe(18)
        await users.create_user(
            conn,
            username=DEVELOPMENT_ADMIN,
            email=None,
            password_hash=await passwords.hash_password(password),
            role=Role.ADMIN,
        )
    # Development only, and shown once: the password is not stored anywhere in clear.
    logger.warning(
        "created development admin %r with password %s (change it with changePassword)",
        DEVELOPMENT_ADMIN,
        password,
    )
