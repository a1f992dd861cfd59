"""The pending end-user erasures, as a snapshot sees them: whose cold rows readers hide.

An erasure (see :mod:`eventide.lifecycle`) deletes a user's hot rows at once; its cold
rows stay until its background completion, hidden meanwhile through the reader's
:class:`~eventide.storage.tenant_sql.Scope`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from eventide.storage.tenant_sql import ErasedRows

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_PENDING = """
SELECT e.id, e.project_id, e.user_id, e.max_committed, e.excluded, e.hot_deleted,
       coalesce(array_agg(x.event_id) FILTER (WHERE x.event_id IS NOT NULL), '{}') AS ids,
       coalesce(array_agg(x.received_at) FILTER (WHERE x.event_id IS NOT NULL), '{}') AS at
FROM erasures e LEFT JOIN erased_events x ON x.erasure_id = e.id
WHERE e.completed_at IS NULL AND ($1::bigint IS NULL OR e.project_id = $1)
GROUP BY e.id ORDER BY e.id
"""


@dataclass(frozen=True, kw_only=True)
class PendingErasure:
    id: int
    project: int
    hot_deleted: int
    rows: ErasedRows


async def pending_erasures(
    conn: asyncpg.Connection, *, project: int | None
) -> list[PendingErasure]:
    """The erasures not completed in ``conn``'s snapshot (of ``project`` only, unless
    None), oldest first."""
    return [
        PendingErasure(
            id=row["id"],
            project=row["project_id"],
            hot_deleted=row["hot_deleted"],
            rows=ErasedRows(
                user_id=row["user_id"],
                max_committed=row["max_committed"],
                excluded=tuple(row["excluded"]),
                erased=tuple(
                    (event_id, _micros(at))
                    for event_id, at in zip(row["ids"], row["at"], strict=True)
                ),
            ),
        )
        for row in await conn.fetch(_PENDING, project)
    ]


def _micros(instant: dt.datetime) -> int:
    """``instant`` in microseconds since the epoch, as ClickHouse compares it."""
    return (instant - _EPOCH) // dt.timedelta(microseconds=1)


async def erasing(conn: asyncpg.Connection, *, project: int) -> bool:
    """Whether ``project`` has an erasure not completed in ``conn``'s snapshot."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM erasures WHERE project_id = $1 AND completed_at IS NULL)",
        project,
    )
    return found


async def pending_count(conn: asyncpg.Connection) -> int:
    """How many erasures, of every project, wait for their completion."""
    count: int = await conn.fetchval("SELECT count(*) FROM erasures WHERE completed_at IS NULL")
    return count
