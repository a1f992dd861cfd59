"""Projects and their members in PostgreSQL.

Every read here is of live projects only: once ``deleted_at`` is set, a project and its
members are as absent as a project that never existed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from eventide.projects.roles import ProjectRole

_COLUMNS = "p.id, p.name, p.timezone, p.created_at"
_LIVE = "p.deleted_at IS NULL"
# bigint: larger ids cannot exist, and PostgreSQL would refuse them as parameters.
_MAX_ID = 2**63 - 1


@dataclass(frozen=True, kw_only=True)
class ProjectRecord:
    id: int
    name: str
    timezone: str
    created_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class MemberRecord:
    project_id: int
    user_id: str
    role: ProjectRole
    added_at: dt.datetime


def parse_project_id(value: object) -> int | None:
    """The project id that ``value`` spells (decimal digits), or None for anything else."""
    if not isinstance(value, str) or not 0 < len(value) <= 19:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= _MAX_ID else None


def _project(row: asyncpg.Record) -> ProjectRecord:
    return ProjectRecord(
        id=row["id"], name=row["name"], timezone=row["timezone"], created_at=row["created_at"]
    )


def _member(row: asyncpg.Record) -> MemberRecord:
    return MemberRecord(
        project_id=row["project_id"],
        user_id=str(row["user_id"]),
        role=ProjectRole(row["role"]),
        added_at=row["added_at"],
    )


async def insert_project(db: Any, *, name: str, timezone: str) -> ProjectRecord:
    row = await db.fetchrow(
        f"""INSERT INTO projects AS p (name, timezone) VALUES ($1, $2)
            RETURNING {_COLUMNS}""",
        name,
        timezone,
    )
    return _project(row)


async def live_project_with_role(
    db: Any, *, project_id: int, user_id: str
) -> tuple[ProjectRecord, ProjectRole | None] | None:
    """The live project and ``user_id``'s role in it (None for a non-member), in one
    query; None when there is no such live project."""
    row = await db.fetchrow(
        f"""SELECT {_COLUMNS}, m.role FROM projects p
            LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $2
            WHERE p.id = $1 AND {_LIVE}""",
        project_id,
        uuid.UUID(user_id),
    )
    if row is None:
        return None
    return _project(row), ProjectRole(row["role"]) if row["role"] else None


async def lock_live_project(conn: Any, *, project_id: int) -> ProjectRecord | None:
    """The live project, its row locked until the transaction ends.

    Every change of members takes this lock, so two of them on one project run one
    after the other: each sees what the other did (the last-owner rule needs that).
    It does not block token creation, which only shares the key.
    """
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM projects p WHERE p.id = $1 AND {_LIVE} FOR NO KEY UPDATE",
        project_id,
    )
    return _project(row) if row else None


async def live_projects(db: Any, *, project_ids: list[int]) -> dict[int, ProjectRecord]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM projects p WHERE p.id = ANY($1::bigint[]) AND {_LIVE}",
        project_ids,
    )
    return {row["id"]: _project(row) for row in rows}


async def all_live_projects(db: Any) -> list[ProjectRecord]:
    """Oldest first."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM projects p WHERE {_LIVE} ORDER BY p.created_at, p.id"
    )
    return [_project(row) for row in rows]


async def projects_of_member(db: Any, *, user_id: str) -> list[tuple[ProjectRecord, ProjectRole]]:
    """The live projects ``user_id`` is a member of, with the role; oldest first."""
    rows = await db.fetch(
        f"""SELECT {_COLUMNS}, m.role FROM project_members m
            JOIN projects p ON p.id = m.project_id
            WHERE m.user_id = $1 AND {_LIVE}
            ORDER BY p.created_at, p.id""",
        uuid.UUID(user_id),
    )
    return [(_project(row), ProjectRole(row["role"])) for row in rows]


async def update_project(
    db: Any, *, project_id: int, name: str | None, timezone: str | None
) -> ProjectRecord | None:
    """Set the given fields (None: unchanged) of a live project."""
    row = await db.fetchrow(
        f"""UPDATE projects p SET name = coalesce($2, p.name),
                                  timezone = coalesce($3, p.timezone)
            WHERE p.id = $1 AND {_LIVE} RETURNING {_COLUMNS}""",
        project_id,
        name,
        timezone,
    )
    return _project(row) if row else None


async def mark_deleted(db: Any, *, project_id: int) -> bool:
    """From now on the project does not exist for any caller; False if it already did not."""
    result: str = await db.execute(
        f"UPDATE projects p SET deleted_at = now() WHERE p.id = $1 AND {_LIVE}", project_id
    )
    return result.split()[-1] != "0"


async def member_role(db: Any, *, project_id: int, user_id: str) -> ProjectRole | None:
    """``user_id``'s role in the live project, or None for a non-member."""
    role = await db.fetchval(
        f"""SELECT m.role FROM project_members m JOIN projects p ON p.id = m.project_id
            WHERE m.project_id = $1 AND m.user_id = $2 AND {_LIVE}""",
        project_id,
        uuid.UUID(user_id),
    )
    return ProjectRole(role) if role else None


async def member_roles(
    db: Any, *, keys: list[tuple[int, str]]
) -> dict[tuple[int, str], ProjectRole]:
    """The roles of (project, user) pairs that are memberships of live projects."""
    rows = await db.fetch(
        f"""SELECT m.project_id, m.user_id, m.role
            FROM unnest($1::bigint[], $2::uuid[]) AS k (project_id, user_id)
            JOIN project_members m USING (project_id, user_id)
            JOIN projects p ON p.id = m.project_id WHERE {_LIVE}""",
        [project for project, _ in keys],
        [uuid.UUID(user) for _, user in keys],
    )
    return {(row["project_id"], str(row["user_id"])): ProjectRole(row["role"]) for row in rows}


async def members_of(db: Any, *, project_ids: list[int]) -> dict[int, list[MemberRecord]]:
    """The members of each live project, in the order they were added."""
    rows = await db.fetch(
        f"""SELECT m.project_id, m.user_id, m.role, m.added_at FROM project_members m
            JOIN projects p ON p.id = m.project_id
            WHERE m.project_id = ANY($1::bigint[]) AND {_LIVE}
            ORDER BY m.added_at, m.user_id""",
        project_ids,
    )
    found: dict[int, list[MemberRecord]] = {project: [] for project in project_ids}
    for row in rows:
        found[row["project_id"]].append(_member(row))
    return found


async def get_member(db: Any, *, project_id: int, user_id: str) -> MemberRecord | None:
    row = await db.fetchrow(
        """SELECT project_id, user_id, role, added_at FROM project_members
           WHERE project_id = $1 AND user_id = $2""",
        project_id,
        uuid.UUID(user_id),
    )
    return _member(row) if row else None


async def insert_member(
    db: Any, *, project_id: int, user_id: str, role: ProjectRole
) -> MemberRecord | None:
    """The new membership, or None when ``user_id`` already is a member."""
    row = await db.fetchrow(
        """INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3)
           ON CONFLICT (project_id, user_id) DO NOTHING
           RETURNING project_id, user_id, role, added_at""",
        project_id,
        uuid.UUID(user_id),
        role.value,
    )
    return _member(row) if row else None


async def update_member_role(
    db: Any, *, project_id: int, user_id: str, role: ProjectRole
) -> MemberRecord | None:
    row = await db.fetchrow(
        """UPDATE project_members SET role = $3 WHERE project_id = $1 AND user_id = $2
           RETURNING project_id, user_id, role, added_at""",
        project_id,
        uuid.UUID(user_id),
        role.value,
    )
    return _member(row) if row else None


async def delete_member(db: Any, *, project_id: int, user_id: str) -> None:
    await db.execute(
        "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
        project_id,
        uuid.UUID(user_id),
    )


async def other_owners(db: Any, *, project_id: int, user_id: str) -> int:
    """How many OWNERs the project has besides ``user_id``."""
    count: int = await db.fetchval(
        """SELECT count(*) FROM project_members
           WHERE project_id = $1 AND role = 'OWNER' AND user_id <> $2""",
        project_id,
        uuid.UUID(user_id),
    )
    return count
