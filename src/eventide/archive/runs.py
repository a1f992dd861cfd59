"""PostgreSQL records of the archiver: runs, batches and the archived-through watermark."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import asyncpg

from eventide.archive.cold_batches import Batch

Trigger = Literal["schedule", "admin", "cli"]


@dataclass(frozen=True)
class ArchiveRun:
    id: int
    trigger: Trigger
    cutoff: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None
    moved: int
    status: Literal["running", "succeeded", "failed"]


_RUN_COLUMNS = "id, trigger, cutoff, started_at, finished_at, moved, status"


def _run(row: asyncpg.Record) -> ArchiveRun:
    return ArchiveRun(**dict(row))


async def start_run(conn: asyncpg.Connection, *, trigger: Trigger, cutoff: dt.datetime) -> int:
    run_id: int = await conn.fetchval(
        "INSERT INTO archive_runs (trigger, cutoff) VALUES ($1, $2) RETURNING id", trigger, cutoff
    )
    return run_id


async def finish_run(conn: asyncpg.Connection, *, run_id: int, error: str | None) -> ArchiveRun:
    row = await conn.fetchrow(
        f"""UPDATE archive_runs SET finished_at = clock_timestamp(),
                   status = CASE WHEN $2::text IS NULL THEN 'succeeded' ELSE 'failed' END,
                   error = $2
            WHERE id = $1 RETURNING {_RUN_COLUMNS}""",
        run_id,
        error,
    )
    return _run(row)


async def last_run(conn: asyncpg.Connection) -> ArchiveRun | None:
    row = await conn.fetchrow(f"SELECT {_RUN_COLUMNS} FROM archive_runs ORDER BY id DESC LIMIT 1")
    return None if row is None else _run(row)


async def create_batch(
    conn: asyncpg.Connection,
    *,
    run_id: int,
    project: int,
    day: dt.date,
    rows: int,
    supersedes: int | None = None,
) -> int:
    """A batch of ``project``'s rows in state ``copying``, committed before any of its
    rows reach the cold store."""
    batch_id: int = await conn.fetchval(
        """INSERT INTO archive_batches (run_id, project_id, day, state, moved, supersedes)
           VALUES ($1, $2, $3, 'copying', $4, $5) RETURNING id""",
        run_id,
        project,
        day,
        rows,
        supersedes,
    )
    return batch_id


async def commit_batches(
    conn: asyncpg.Connection, *, run_id: int, batch_ids: Sequence[int], moved: int
) -> None:
    """Flip ``batch_ids`` to committed and count their rows in the run; call inside the
    transaction that removes those rows from the hot store."""
    status: str = await conn.execute(
        """UPDATE archive_batches SET state = 'committed', finished_at = clock_timestamp()
           WHERE id = ANY($1::bigint[]) AND state = 'copying'""",
        list(batch_ids),
    )
    if int(status.rsplit(" ", 1)[1]) != len(batch_ids):
        raise RuntimeError("archive batch is no longer being copied")
    await conn.execute("UPDATE archive_runs SET moved = moved + $2 WHERE id = $1", run_id, moved)


async def abandon_interrupted(conn: asyncpg.Connection) -> int:
    """Mark batches and runs left behind by a dead archiver; return the batches aborted.

    Only valid under the archive lock: then no live archiver owns any of them.
    """
    async with conn.transaction():
        status: str = await conn.execute(
            """UPDATE archive_batches SET state = 'aborted', finished_at = clock_timestamp()
               WHERE state = 'copying'"""
        )
        await conn.execute(
            """UPDATE archive_runs SET status = 'failed', error = 'interrupted',
                      finished_at = coalesce(
                          (SELECT max(finished_at) FROM archive_batches b
                           WHERE b.run_id = archive_runs.id AND b.state = 'committed'),
                          started_at)
               WHERE status = 'running'"""
        )
    return int(status.rsplit(" ", 1)[1])


async def uncleaned_aborted(conn: asyncpg.Connection, *, limit: int) -> list[Batch]:
    """Aborted batches whose cold rows may remain."""
    rows = await conn.fetch(
        """SELECT id, project_id, day, legacy FROM archive_batches
           WHERE state = 'aborted' AND NOT cleaned ORDER BY id LIMIT $1""",
        limit,
    )
    return [Batch(row["id"], row["project_id"], row["day"], row["legacy"]) for row in rows]


async def mark_cleaned(
    conn: asyncpg.Connection, *, batch_ids: Sequence[int], aborted_for: dt.timedelta
) -> None:
    """Let readers stop excluding those of ``batch_ids`` aborted at least ``aborted_for`` ago."""
    await conn.execute(
        """UPDATE archive_batches SET cleaned = true
           WHERE id = ANY($1::bigint[]) AND finished_at < clock_timestamp() - $2::interval""",
        list(batch_ids),
        aborted_for,
    )


async def advance_watermark(conn: asyncpg.Connection, *, through: dt.datetime) -> None:
    await conn.execute(
        """INSERT INTO archive_watermark (archived_through) VALUES ($1)
           ON CONFLICT (singleton) DO UPDATE SET archived_through =
               greatest(archive_watermark.archived_through, excluded.archived_through)""",
        through,
    )


async def archived_through(conn: asyncpg.Connection) -> dt.datetime | None:
    value: dt.datetime | None = await conn.fetchval(
        "SELECT archived_through FROM archive_watermark"
    )
    return value
