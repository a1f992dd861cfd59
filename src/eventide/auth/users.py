"""Accounts in PostgreSQL: validation rules and storage functions."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from eventide.auth.principal import Role
from eventide.errors import Conflict
from eventide.storable import text_problem

MAX_USERNAME_LENGTH = 64
_USERNAME = re.compile(rf"[A-Za-z0-9_.\-]{{3,{MAX_USERNAME_LENGTH}}}")
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not ours to
# prove; this catches typos and keeps junk out.
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
MAX_EMAIL_LENGTH = 254

_COLUMNS = "id, username, email, role, is_active, session_epoch, created_at, password_hash"


class DuplicateAccount(Conflict):
    """The username or the email belongs to another account."""

    def __init__(self, field_name: str) -> None:
        super().__init__(f"This {field_name} is already taken")
        self.field_name = field_name


@dataclass(frozen=True, kw_only=True)
class UserRecord:
    id: str
    username: str
    email: str | None
    role: Role
    is_active: bool
    session_epoch: int
    created_at: dt.datetime
    password_hash: str = field(repr=False)


def username_problem(username: str) -> str | None:
    if not _USERNAME.fullmatch(username):
        return "Username must be 3 to 64 characters of letters, digits, '_', '.' or '-'"
    return None


def email_problem(email: str) -> str | None:
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        return "Email is not a valid address"
    return text_problem("Email", email)


def _record(row: asyncpg.Record) -> UserRecord:
    return UserRecord(
        id=str(row["id"]),
        username=row["username"],
        email=row["email"],
        role=Role(row["role"]),
        is_active=row["is_active"],
        session_epoch=row["session_epoch"],
        created_at=row["created_at"],
        password_hash=row["password_hash"],
    )


def _duplicate(error: asyncpg.UniqueViolationError) -> DuplicateAccount:
    constraint = getattr(error, "constraint_name", "") or ""
    return DuplicateAccount("email" if "email" in constraint else "username")


async def create_user(
    db: Any, *, username: str, email: str | None, password_hash: str, role: Role = Role.USER
) -> UserRecord:
    try:
        row = await db.fetchrow(
            f"""INSERT INTO users (username, email, password_hash, role)
                VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}""",
            username,
            email,
            password_hash,
            role.value,
        )
    except asyncpg.UniqueViolationError as error:
        raise _duplicate(error) from None
    return _record(row)


async def get_user(db: Any, *, user_id: uuid.UUID | str) -> UserRecord | None:
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", _uuid(user_id))
    return _record(row) if row else None


async def find_user(db: Any, *, username: str) -> UserRecord | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM users WHERE lower(username) = lower($1)", username
    )
    return _record(row) if row else None


async def users_by_ids(db: Any, *, user_ids: list[str]) -> dict[str, UserRecord]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM users WHERE id = ANY($1::uuid[])",
        [_uuid(i) for i in user_ids],
    )
    return {str(row["id"]): _record(row) for row in rows}


async def list_users(
    db: Any, *, limit: int, after: tuple[dt.datetime, uuid.UUID] | None
) -> list[UserRecord]:
    """Users in creation order, starting after the ``(created_at, id)`` position."""
    if after is None:
        rows = await db.fetch(
            f"SELECT {_COLUMNS} FROM users ORDER BY created_at, id LIMIT $1", limit
        )
    else:
        rows = await db.fetch(
            f"""SELECT {_COLUMNS} FROM users WHERE (created_at, id) > ($1, $2)
                ORDER BY created_at, id LIMIT $3""",
            after[0],
            after[1],
            limit,
        )
    return [_record(row) for row in rows]


async def set_email(db: Any, *, user_id: str, email: str | None) -> UserRecord | None:
    try:
        row = await db.fetchrow(
            f"""UPDATE users SET email = $2, updated_at = now() WHERE id = $1
                RETURNING {_COLUMNS}""",
            _uuid(user_id),
            email,
        )
    except asyncpg.UniqueViolationError as error:
        raise _duplicate(error) from None
    return _record(row) if row else None


async def set_password_hash(
    db: Any, *, user_id: str, password_hash: str, end_sessions: bool
) -> None:
    """Store a new hash; ``end_sessions`` also invalidates every access token of the user."""
    await db.execute(
        """UPDATE users SET password_hash = $2, updated_at = now(),
               session_epoch = session_epoch + $3::int
           WHERE id = $1""",
        _uuid(user_id),
        password_hash,
        1 if end_sessions else 0,
    )


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)
