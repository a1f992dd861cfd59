"""The retention boundary: events that occurred before it count as never accepted.

With ``EVENTIDE_RETENTION_DAYS`` = N, the boundary is the start of the 15-minute UTC
bucket holding the instant N times 24 hours ago. Bucket-aligned, it cuts no bucket in two,
so the bucket tables of both stores still count exactly the events readers may see;
an event is hidden up to 15 minutes before it is N days old.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from eventide.config import Settings

BUCKET = dt.timedelta(minutes=15)

# The clock, not now() (the start of the transaction, which may be long before a reader
# got its lock on `events`): a reader's boundary is never older than one the removal read
# before the reader's lock was granted (see archive.expiry).
_BOUNDARY = (
    "SELECT event_bucket(coalesce($2::timestamptz, clock_timestamp()) - $1 * interval '24 hours')"
)


async def read_boundary(conn: asyncpg.Connection, settings: Settings) -> dt.datetime | None:
    """The boundary as of now (None without retention); a reader reads it once, in its
    snapshot, after its lock on ``events``."""
    if settings.retention_days is None:
        return None
    boundary: dt.datetime = await conn.fetchval(
        _BOUNDARY, settings.retention_days, settings.retention_now
    )
    return boundary.astimezone(dt.UTC)


def boundary_at(now: dt.datetime, settings: Settings) -> dt.datetime | None:
    """The boundary as of ``now`` (None without retention), as :func:`read_boundary`
    computes it; ``settings.retention_now`` stands for ``now`` when set."""
    if settings.retention_days is None:
        return None
    instant = (settings.retention_now or now) - dt.timedelta(days=settings.retention_days)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return epoch + (instant - epoch) // BUCKET * BUCKET
