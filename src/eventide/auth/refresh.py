"""Opaque refresh tokens: single-use, rotated, grouped in families per login.

Only a SHA-256 digest of each token is stored. Using a token marks it used and issues a
child in the same family; presenting a used token again means it was copied, so the
whole family is revoked.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

from eventide.auth._secrets import digest, new_secret


class RefreshOutcome(enum.Enum):
    ROTATED = "ROTATED"
    UNKNOWN = "UNKNOWN"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    REUSED = "REUSED"


class AccountInactive(Exception):
    """The owner is inactive or gone: no token is issued."""


@dataclass(frozen=True, kw_only=True)
class Rotation:
    outcome: RefreshOutcome
    user_id: str | None = None
    # The token's family: set unless ``outcome`` is UNKNOWN.
    family_id: uuid.UUID | None = None
    # The new token: set only when ``outcome`` is ROTATED.
    token: str | None = None


async def issue_refresh_token(
    db: Any,
    *,
    user_id: str,
    ttl_seconds: int,
    family_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
) -> str:
    """A new token; without ``family_id`` it starts a family (a login).

    The owner's row is share-locked meanwhile, like for API tokens: a deactivation at
    the same moment comes first (:class:`AccountInactive`) or revokes the new token.
    """
    token = new_secret()
    inserted = await db.fetchval(
        """INSERT INTO refresh_tokens (user_id, family_id, parent_id, token_hash, expires_at)
           SELECT u.id, $2, $3, $4, now() + make_interval(secs => $5)
           FROM users u WHERE u.id = $1 AND u.is_active FOR SHARE
           RETURNING true""",
        uuid.UUID(user_id),
        family_id or uuid.uuid4(),
        parent_id,
        digest(token),
        ttl_seconds,
    )
    if not inserted:
        raise AccountInactive
    return token


async def rotate_refresh_token(db: Any, *, token: str, ttl_seconds: int) -> Rotation:
    """Spend ``token`` and issue its successor, or say why it cannot be spent.

    Whether the owner may still sign in is the caller's question; this only
    decides about the token. A REUSED outcome has already revoked the family.
    """
    async with db.acquire() as conn, conn.transaction():
        # The owner's row before the token's, in the order a deactivation takes them:
        # one waits for the other, and neither can leave a live successor behind.
        await conn.execute(
            """SELECT 1 FROM users WHERE id =
                   (SELECT user_id FROM refresh_tokens WHERE token_hash = $1)
               FOR SHARE""",
            digest(token),
        )
        # The row lock makes two concurrent uses of one token see each other: the
        # second waits, then finds it used.
        row = await conn.fetchrow(
            """SELECT id, user_id, family_id, used_at, revoked_at, expires_at <= now() AS expired
               FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE""",
            digest(token),
        )
        if row is None:
            return Rotation(outcome=RefreshOutcome.UNKNOWN)
        user_id = str(row["user_id"])
        family = row["family_id"]
        if row["revoked_at"] is not None:
            return Rotation(outcome=RefreshOutcome.REVOKED, user_id=user_id, family_id=family)
        if row["used_at"] is not None:
            await _revoke_families(conn, [family])
            return Rotation(outcome=RefreshOutcome.REUSED, user_id=user_id, family_id=family)
        if row["expired"]:
            return Rotation(outcome=RefreshOutcome.EXPIRED, user_id=user_id, family_id=family)
        await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", row["id"])
        try:
            successor = await issue_refresh_token(
                conn,
                user_id=user_id,
                ttl_seconds=ttl_seconds,
                family_id=row["family_id"],
                parent_id=row["id"],
            )
        except AccountInactive:
            return Rotation(outcome=RefreshOutcome.REVOKED, user_id=user_id, family_id=family)
        return Rotation(
            outcome=RefreshOutcome.ROTATED, user_id=user_id, family_id=family, token=successor
        )


async def revoke_family_of(db: Any, *, token: str) -> uuid.UUID | None:
    """Revoke the family ``token`` belongs to and return it; None when the token is unknown."""
    family: uuid.UUID | None = await db.fetchval(
        "SELECT family_id FROM refresh_tokens WHERE token_hash = $1", digest(token)
    )
    if family is None:
        return None
    await _revoke_families(db, [family])
    return family


async def revoke_family(db: Any, *, family_id: uuid.UUID) -> None:
    await _revoke_families(db, [family_id])


async def revoke_user_refresh_tokens(db: Any, *, user_id: str) -> None:
    await db.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        uuid.UUID(user_id),
    )


async def purge_refresh_tokens(db: Any) -> int:
    """Delete expired and revoked tokens. Used ones stay while their family lives:
    they are what detects a replayed token."""
    result: str = await db.execute(
        """DELETE FROM refresh_tokens
           WHERE expires_at <= now() OR revoked_at IS NOT NULL"""
    )
    return int(result.split()[-1])


async def _revoke_families(db: Any, families: list[uuid.UUID]) -> None:
    await db.execute(
        """UPDATE refresh_tokens SET revoked_at = now()
           WHERE family_id = ANY($1::uuid[]) AND revoked_at IS NULL""",
        families,
    )
