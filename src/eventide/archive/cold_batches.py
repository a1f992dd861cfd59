"""The archiver's statements on the ClickHouse cold store, by archive batch."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import asyncpg

from eventide.storage.clickhouse import ColdStore

COLUMNS = (
    "event_id",
    "user_id",
    "event_type",
    "occurred_at",
    "received_at",
    "properties",
    "batch_id",
)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(instant: dt.datetime) -> int:
    return int(instant.timestamp()) * 1_000_000 + instant.microsecond


async def insert_batch(cold: ColdStore, *, batch_id: int, rows: Sequence[asyncpg.Record]) -> None:
    """Copy hot rows (``event_id, user_id, event_type, occurred_at, received_at,
    properties`` with properties as JSON text) under ``batch_id``, in one insert."""
    await cold.insert("events", COLUMNS, [(*row, batch_id) for row in rows])


async def batch_keys(
    cold: ColdStore, *, batch_id: int, day: dt.date
) -> tuple[list[str], list[dt.datetime]]:
    """``(event_ids, received_ats)`` of the rows copied under ``batch_id`` (of UTC ``day``)."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    rows = await cold.fetch(
        """SELECT event_id, toUnixTimestamp64Micro(received_at) FROM events
           WHERE batch_id = %(batch)s
             AND occurred_at >= fromUnixTimestamp64Micro(%(start)s)
             AND occurred_at < fromUnixTimestamp64Micro(%(end)s)""",
        {
            "batch": batch_id,
            "start": _micros(start),
            "end": _micros(start + dt.timedelta(days=1)),
        },
    )
    # Read as integer microseconds: exact on both transports, and the hot rows are
    # matched on equality.
    return [row[0] for row in rows], [_EPOCH + dt.timedelta(microseconds=row[1]) for row in rows]


async def delete_batches(cold: ColdStore, *, batches: Sequence[tuple[int, dt.date]]) -> bool:
    """Delete every row of the ``(batch id, day)`` batches; True once none is left."""
    by_month: dict[int, list[int]] = defaultdict(list)
    for batch_id, day in batches:
        by_month[day.year * 100 + day.month].append(batch_id)
    # One mutation per monthly partition, so only that partition's parts are rewritten.
    for month, ids in sorted(by_month.items()):
        await cold.execute(
            "ALTER TABLE events DELETE IN PARTITION %(month)s WHERE batch_id IN %(ids)s "
            "SETTINGS mutations_sync = 1",
            {"month": month, "ids": tuple(ids)},
        )
    rows = await cold.fetch(
        "SELECT count() FROM events WHERE toYYYYMM(occurred_at) IN %(months)s "
        "AND batch_id IN %(ids)s",
        {"months": tuple(by_month), "ids": tuple(batch_id for batch_id, _ in batches)},
    )
    return bool(rows[0][0] == 0)
