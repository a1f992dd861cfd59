"""Invitation codes: an OWNER creates one, and one signup redeems it, once.

A code is ``evi_`` and a random secret, handed out once; only its SHA-256 is stored.
Redeeming is one conditional UPDATE, so of two signups presenting the same code at the
same moment exactly one finds it unused: the other waits for the row, then finds it
used.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from eventide.auth._secrets import digest, new_secret
from eventide.auth.principal import Principal
from eventide.errors import InvalidInput
from eventide.projects import access
from eventide.projects.roles import MANAGES_PROJECT, ProjectRole
from eventide.projects.service import ProjectView
from eventide.storage.engines import Engines

CODE_PREFIX = "evi_"
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 30 * 24 * 3600
# A code is the prefix and 43 characters; anything much longer is no code of ours.
_MAX_CODE_LENGTH = 128
UNUSABLE = "This invitation is unknown, used or expired"


@dataclass(frozen=True, kw_only=True)
class CreatedInvitation:
    code: str
    project: ProjectView
    role: ProjectRole
    expires_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class Redeemed:
    project_id: int
    role: ProjectRole


async def create_invitation(
    engines: Engines, principal: Principal, project_id: str, *, role: ProjectRole, ttl_seconds: int
) -> CreatedInvitation:
    found = await access.authorize(engines, principal, project_id, need=MANAGES_PROJECT)
    if not MIN_TTL_SECONDS <= ttl_seconds <= MAX_TTL_SECONDS:
        raise InvalidInput(f"ttlSeconds must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS}")
    code = new_secret(CODE_PREFIX)
    expires_at = await engines.db.fetchval(
        """INSERT INTO invitations (project_id, role, code_hash, created_by, expires_at)
           SELECT p.id, $2, $3, $4, now() + make_interval(secs => $5::double precision)
           FROM projects p WHERE p.id = $1 AND p.deleted_at IS NULL
           RETURNING expires_at""",
        found.project.id,
        role.value,
        digest(code),
        uuid.UUID(principal.user_id),
        float(ttl_seconds),
    )
    if expires_at is None:
        raise access.not_found()  # deleted meanwhile
    return CreatedInvitation(
        code=code,
        project=ProjectView(project=found.project, my_role=found.role),
        role=role,
        expires_at=expires_at,
    )


def check_code(code: str) -> None:
    """Refuse what cannot be a code before any work is done for it."""
    if not code.startswith(CODE_PREFIX) or len(code) > _MAX_CODE_LENGTH:
        raise InvalidInput(UNUSABLE)


async def redeem(conn: Any, *, code: str, user_id: str) -> Redeemed:
    """Mark the invitation used by ``user_id``; in the caller's transaction, so a signup
    that fails afterwards leaves the code unused."""
    check_code(code)
    row = await conn.fetchrow(
        """UPDATE invitations i SET used_at = now(), used_by = $2
           FROM projects p
           WHERE i.code_hash = $1 AND i.used_at IS NULL AND i.expires_at > now()
             AND p.id = i.project_id AND p.deleted_at IS NULL
           RETURNING i.project_id, i.role""",
        digest(code),
        uuid.UUID(user_id),
    )
    if row is None:
        raise InvalidInput(UNUSABLE)
    return Redeemed(project_id=row["project_id"], role=ProjectRole(row["role"]))
