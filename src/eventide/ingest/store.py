"""Hot-store writes of ingestion: the idempotency ledger and the events, atomically.

One call is one SQL statement, hence one transaction and one round trip: the ledger
insert (``event_ids``, keyed by project and event id) returns the ids that are new in
the project, and only those
reach ``events``. A crash or a lost connection at any instant leaves either both or
neither, so a retried batch stores every event exactly once; the statement returns the
ids it stored, which live subscribers are then sent. The statement's triggers
count the stored events into the hot buckets (``user_buckets``, migrations/0006), so
the buckets are part of the same all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import asyncpg

from eventide.ingest.validation import ValidatedBatch

# Ids already in the ledger are duplicates, unless their receipt left the dedup window:
# then the event is accepted again and the ledger row renewed. ON CONFLICT waits for an
# uncommitted insert of the same id by a concurrent call, so the first commit wins.
# Nothing is stored in a project deleted since the caller was let in: the removal of its
# rows waits for the statements that saw it live (see projects.purge).
STORE_EVENTS_SQL = """
WITH incoming AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
        AS t(event_id, user_id, event_type, occurred_at, properties)
), fresh AS (
    INSERT INTO event_ids AS known (project_id, event_id, received_at)
    SELECT $8, event_id, $6 FROM incoming
    WHERE EXISTS (SELECT FROM projects WHERE id = $8 AND deleted_at IS NULL)
    ON CONFLICT (project_id, event_id) DO UPDATE SET received_at = excluded.received_at
        WHERE known.received_at < $7
    RETURNING event_id
)
INSERT INTO events (project_id, event_id, user_id, event_type, occurred_at, received_at,
                    properties)
SELECT $8, i.event_id, i.user_id, i.event_type, i.occurred_at, $6, i.properties::jsonb
FROM incoming AS i JOIN fresh USING (event_id)
RETURNING event_id
"""

# The received_at test sits on the deleted table itself, so PostgreSQL re-checks it
# against a row that a concurrent call renewed meanwhile, and keeps that row.
_PRUNE_SQL = """
DELETE FROM event_ids
WHERE event_id = ANY(ARRAY(SELECT event_id FROM event_ids WHERE received_at < $1 LIMIT $2))
  AND received_at < $1
"""

# Days whose partition this process has seen; only a hint, a stale entry is repaired
# by the retry in store_events (the archiver may drop a day it emptied).
_known_days: set[dt.date] = set()
_MAX_KNOWN_DAYS = 10_000
_MAX_ATTEMPTS = 3


async def store_events(
    db: asyncpg.Pool,
    *,
    project: int,
    batch: ValidatedBatch,
    received_at: dt.datetime,
    dedup_since: dt.datetime,
) -> list[str]:
    """Store the events of ``batch`` whose id is new in ``project`` since ``dedup_since``;
    return their ids."""
    if not batch.event_ids:
        return []
    days = {instant.astimezone(dt.UTC).date() for instant in batch.occurred_at}
    args = (
        batch.event_ids,
        batch.user_ids,
        batch.event_types,
        batch.occurred_at,
        batch.properties,
        received_at,
        dedup_since,
        project,
    )
    async with db.acquire() as conn:
        for _ in range(_MAX_ATTEMPTS - 1):
            try:
                return await _store_once(conn, days, args)
            except asyncpg.CheckViolationError as error:
                if "no partition" not in str(error):
                    raise
                _known_days.difference_update(days)
            except asyncpg.DeadlockDetectedError:
                # Batches are sorted by id, so only a lock taken by other work gets here.
                pass
        return await _store_once(conn, days, args)


async def _store_once(
    conn: asyncpg.Connection, days: set[dt.date], args: tuple[object, ...]
) -> list[str]:
    await _ensure_partitions(conn, days - _known_days)
    rows = await conn.fetch(STORE_EVENTS_SQL, *args)
    return [row[0] for row in rows]


async def _ensure_partitions(conn: asyncpg.Connection, days: Iterable[dt.date]) -> None:
    missing = sorted(days)
    if not missing:
        return
    instants = [dt.datetime.combine(day, dt.time(), dt.UTC) for day in missing]
    for attempt in range(len(missing) + 1):
        try:
            await conn.execute("SELECT ensure_event_partitions($1::timestamptz[])", instants)
            break
        except asyncpg.DuplicateTableError:
            # A concurrent call created a partition after this transaction read the
            # catalog; the next transaction reads it afresh and skips that day, so every
            # attempt gets further.
            if attempt == len(missing):
                raise
    if len(_known_days) + len(missing) > _MAX_KNOWN_DAYS:
        _known_days.clear()
    _known_days.update(missing)


async def prune_event_ids(
    db: asyncpg.Pool, *, received_before: dt.datetime, chunk: int = 10_000
) -> int:
    """Delete ledger rows received before ``received_before``, in chunks; return how many.

    Chunks keep each transaction short, so ingestion never waits long on the pruner.
    """
    removed = 0
    while True:
        async with db.acquire() as conn:
            status: str = await conn.execute(_PRUNE_SQL, received_before, chunk)
        count = int(status.rsplit(" ", 1)[1])
        removed += count
        if count < chunk:
            return removed
