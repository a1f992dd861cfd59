"""PostgreSQL side of end-user erasures: the erasing transaction and the records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg

from eventide.archive.tiers import read_visibility
from eventide.storage.tenant_sql import COPIED_EVENTS, Scope


@dataclass(frozen=True, kw_only=True)
class ErasureRecord:
    id: int
    project_id: int
    user_id: str
    requested_at: dt.datetime
    completed_at: dt.datetime | None
    deleted_events: int | None


_COLUMNS = "id, project_id, user_id, requested_at, completed_at, deleted_events"


def _record(row: asyncpg.Record) -> ErasureRecord:
    return ErasureRecord(**{key: row[key] for key in _COLUMNS.split(", ")})


async def erase(
    conn: asyncpg.Connection, *, project: int, user_id: str, requested_by: str | None
) -> ErasureRecord:
    """Delete ``user_id``'s hot events of ``project`` and record the erasure, in one
    READ COMMITTED transaction; from its commit on, readers hide the user's cold rows."""
    async with conn.transaction():
        # Waits for every ingestion statement under way and holds off new ones (and the
        # archiver's commits) until this commits, so each event accepted before the call
        # is either deleted here or in a batch the visibility read next counts. SHARE ROW
        # EXCLUSIVE, not SHARE: it conflicts with itself, so two erasures (or an erasure
        # and a day being dropped) wait for each other instead of deadlocking when they
        # go on to delete.
        await conn.execute("LOCK TABLE ONLY events IN SHARE ROW EXCLUSIVE MODE")
        visibility = await read_visibility(conn)
        # A pass under way may be copying rows deleted here into a batch it commits
        # later; their copies are kept apart by id. A pass not seen running here waits
        # for this transaction before it reads a hot row, so never sees them.
        archiving = await conn.fetchval(
            "SELECT EXISTS (SELECT FROM archive_runs WHERE status = 'running')"
        )
        erasure = await conn.fetchval(
            """INSERT INTO erasures (project_id, user_id, requested_by, max_committed,
                                     excluded, hot_deleted)
               VALUES ($1, $2, $3, $4, $5, 0) RETURNING id""",
            project,
            user_id,
            requested_by,
            visibility.max_committed,
            list(visibility.excluded),
        )
        delete = Scope.of(project).hot_delete("user_id = $1")
        if archiving:
            status = await conn.execute(
                f"""WITH gone AS ({delete} RETURNING event_id, received_at)
                    INSERT INTO erased_events (erasure_id, event_id, received_at)
                    SELECT $2, event_id, received_at FROM gone""",
                user_id,
                erasure,
            )
        else:
            status = await conn.execute(delete, user_id)
        # Rows already copied to the cold store are counted there (cold_deleted); their
        # PostgreSQL copies of the hot window go too.
        await conn.execute(
            Scope.of(project).hot_delete("user_id = $1", rows=COPIED_EVENTS), user_id
        )
        row = await conn.fetchrow(
            f"UPDATE erasures SET hot_deleted = $2 WHERE id = $1 RETURNING {_COLUMNS}",
            erasure,
            int(status.rsplit(" ", 1)[1]),
        )
    return _record(row)


async def erasures_of(db: Any, *, project: int) -> list[ErasureRecord]:
    """Every erasure of ``project``, newest first."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM erasures WHERE project_id = $1 ORDER BY id DESC", project
    )
    return [_record(row) for row in rows]


async def settle_cold_count(conn: asyncpg.Connection, *, erasure: int, counted: int) -> int:
    """The erasure's cold rows: ``counted``, unless an earlier attempt recorded them."""
    stored: int = await conn.fetchval(
        """UPDATE erasures SET cold_deleted = coalesce(cold_deleted, $2)
           WHERE id = $1 RETURNING cold_deleted""",
        erasure,
        counted,
    )
    return stored


async def mark_completed(conn: asyncpg.Connection, *, erasure: int) -> None:
    """Complete the erasure once its cold rows are gone; its deleted ids are no longer
    needed (every batch that might hold their copies has been settled)."""
    async with conn.transaction():
        await conn.execute(
            """UPDATE erasures SET completed_at = now(), deleted_events = hot_deleted + cold_deleted
               WHERE id = $1 AND completed_at IS NULL AND cold_deleted IS NOT NULL""",
            erasure,
        )
        await conn.execute("DELETE FROM erased_events WHERE erasure_id = $1", erasure)
