"""API tokens for SDKs: ``evt_`` secrets stored as SHA-256 digests, with scopes."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from eventide.auth._secrets import digest, new_secret
from eventide.auth.principal import Role, TokenScope

TOKEN_PREFIX = "evt_"  # noqa: S105  (a public marker, not a secret)
# "evt_" and 8 characters of the secret: enough to tell tokens apart, useless to guess one.
DISPLAY_PREFIX_LENGTH = 12

_COLUMNS = (
    "t.id, t.user_id, t.project_id, t.name, t.prefix, t.scopes, t.created_at, t.expires_at,"
    " t.last_used_at, t.revoked_at"
)
# A token of a deleted project is as unknown as one that never existed.
_LIVE_PROJECT = "EXISTS (SELECT FROM projects p WHERE p.id = t.project_id AND p.deleted_at IS NULL)"


class TokenState(enum.Enum):
    VALID = "VALID"
    UNKNOWN = "UNKNOWN"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    OWNER_INACTIVE = "OWNER_INACTIVE"


class OwnerInactive(Exception):
    """The account is inactive or gone: it gets no new token."""


class ProjectGone(Exception):
    """The project was deleted: it gets no new token."""


@dataclass(frozen=True, kw_only=True)
class ApiTokenRecord:
    id: str
    user_id: str
    project_id: int
    name: str
    prefix: str
    scopes: tuple[TokenScope, ...]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True, kw_only=True)
class TokenCheck:
    """What a presented secret is worth right now."""

    state: TokenState
    token_id: str | None = None
    owner_id: str | None = None
    owner_role: Role | None = None
    project_id: int | None = None
    scopes: frozenset[TokenScope] = frozenset()
    expires_at: dt.datetime | None = None


def looks_like_api_token(credential: str) -> bool:
    return credential.startswith(TOKEN_PREFIX)


def _record(row: asyncpg.Record) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        project_id=row["project_id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=tuple(TokenScope(s) for s in row["scopes"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def create_api_token(
    db: Any,
    *,
    user_id: str,
    project_id: int,
    name: str,
    scopes: list[TokenScope],
    ttl_seconds: int | None,
) -> tuple[str, ApiTokenRecord]:
    """The secret (to hand out once) and the stored token, which acts in ``project_id``.

    The owner's row is share-locked while the token is added, so a deactivation running
    at the same moment either comes first (no token) or waits and then revokes it.
    """
    secret = new_secret(TOKEN_PREFIX)
    row = await db.fetchrow(
        f"""INSERT INTO api_tokens AS t
                (user_id, project_id, name, prefix, token_hash, scopes, expires_at)
            SELECT u.id, $2, $3, $4, $5, $6,
                   now() + make_interval(secs => $7::bigint::double precision)
            FROM users u WHERE u.id = $1 AND u.is_active
              AND EXISTS (SELECT FROM projects p WHERE p.id = $2 AND p.deleted_at IS NULL)
            FOR SHARE OF u
            RETURNING {_COLUMNS}""",
        uuid.UUID(user_id),
        project_id,
        name,
        secret[:DISPLAY_PREFIX_LENGTH],
        digest(secret),
        sorted({s.value for s in scopes}),
        ttl_seconds,
    )
    if row is None:
        active = await db.fetchval(
            "SELECT EXISTS (SELECT FROM users WHERE id = $1 AND is_active)", uuid.UUID(user_id)
        )
        raise ProjectGone if active else OwnerInactive
    return secret, _record(row)


async def check_api_token(db: Any, *, secret: str) -> TokenCheck:
    row = await db.fetchrow(
        f"""SELECT t.id, t.project_id, t.scopes, t.expires_at, t.revoked_at,
                   t.expires_at IS NOT NULL AND t.expires_at <= now() AS expired,
                   u.id AS owner_id, u.role, u.is_active
            FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = $1 AND {_LIVE_PROJECT}""",
        digest(secret),
    )
    if row is None:
        return TokenCheck(state=TokenState.UNKNOWN)
    # Deactivation also revokes the tokens; while the account stays inactive, that is
    # the more useful answer.
    if not row["is_active"]:
        state = TokenState.OWNER_INACTIVE
    elif row["revoked_at"] is not None:
        state = TokenState.REVOKED
    elif row["expired"]:
        state = TokenState.EXPIRED
    else:
        state = TokenState.VALID
    return TokenCheck(
        state=state,
        token_id=str(row["id"]),
        owner_id=str(row["owner_id"]),
        owner_role=Role(row["role"]),
        project_id=row["project_id"],
        scopes=frozenset(TokenScope(s) for s in row["scopes"]),
        expires_at=row["expires_at"],
    )


async def list_api_tokens(
    db: Any, *, user_id: str | None, project_ids: list[int] | None = None
) -> list[ApiTokenRecord]:
    """Newest first, of live projects: every token when ``user_id`` is None; otherwise
    the tokens of ``user_id`` and those acting in ``project_ids``."""
    if user_id is None:
        rows = await db.fetch(
            f"""SELECT {_COLUMNS} FROM api_tokens t WHERE {_LIVE_PROJECT}
                ORDER BY t.created_at DESC, t.id"""
        )
    else:
        rows = await db.fetch(
            f"""SELECT {_COLUMNS} FROM api_tokens t
                WHERE (t.user_id = $1 OR t.project_id = ANY($2::bigint[])) AND {_LIVE_PROJECT}
                ORDER BY t.created_at DESC, t.id""",
            uuid.UUID(user_id),
            project_ids or [],
        )
    return [_record(row) for row in rows]


async def get_api_token(db: Any, *, token_id: uuid.UUID) -> ApiTokenRecord | None:
    """The token, unless its project was deleted."""
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM api_tokens t WHERE t.id = $1 AND {_LIVE_PROJECT}", token_id
    )
    return _record(row) if row else None


async def revoke_api_token(db: Any, *, token_id: uuid.UUID) -> None:
    await db.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        token_id,
    )


async def revoke_user_api_tokens(db: Any, *, user_id: str) -> None:
    await db.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        uuid.UUID(user_id),
    )


async def touch_api_token(db: Any, *, token_id: str) -> None:
    await db.execute(
        "UPDATE api_tokens SET last_used_at = now() WHERE id = $1", uuid.UUID(token_id)
    )


async def purge_api_tokens(db: Any) -> int:
    """Delete expired and revoked tokens; return how many."""
    result: str = await db.execute(
        "DELETE FROM api_tokens WHERE revoked_at IS NOT NULL OR expires_at <= now()"
    )
    return int(result.split()[-1])
