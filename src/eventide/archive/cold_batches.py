"""The archiver's statements on the ClickHouse cold store, by archive batch."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from eventide.storage.clickhouse import ColdStore
from eventide.storage.tenant_sql import COLD_TABLE, EVENTS, LEGACY_COLD_TABLE, Scope

COLUMNS = (
    "project_id",
    "event_id",
    "user_id",
    "event_type",
    "occurred_at",
    "received_at",
    "properties",
    "batch_id",
)


@dataclass(frozen=True)
class Batch:
    """Where an archive batch's cold rows are: its project, UTC day and cold layout."""

    id: int
    project: int
    day: dt.date
    legacy: bool = False

    @property
    def table(self) -> str:
        return LEGACY_COLD_TABLE if self.legacy else COLD_TABLE


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(instant: dt.datetime) -> int:
    return int(instant.timestamp()) * 1_000_000 + instant.microsecond


async def insert_batch(
    cold: ColdStore, *, project: int, batch_id: int, rows: Sequence[asyncpg.Record]
) -> None:
    """Copy hot rows of ``project`` (``event_id, user_id, event_type, occurred_at,
    received_at, properties`` with properties as JSON text) under ``batch_id``, in one
    insert."""
    await cold.insert(COLD_TABLE, COLUMNS, [(project, *row, batch_id) for row in rows])


async def batch_keys(cold: ColdStore, *, batch: Batch) -> tuple[list[str], list[dt.datetime]]:
    """``(event_ids, received_ats)`` of the rows copied under ``batch``."""
    start = dt.datetime.combine(batch.day, dt.time(), dt.UTC)
    sql = f"""SELECT event_id, toUnixTimestamp64Micro(received_at) FROM {EVENTS}
              WHERE occurred_at >= fromUnixTimestamp64Micro(%(start)s)
                AND occurred_at < fromUnixTimestamp64Micro(%(end)s)"""
    rows = await cold.fetch(
        Scope.of(batch.project).cold(sql, visible=f"batch_id = {batch.id}", legacy=batch.legacy),
        {"start": _micros(start), "end": _micros(start + dt.timedelta(days=1))},
    )
    # Read as integer microseconds: exact on both transports, and the hot rows are
    # matched on equality.
    return [row[0] for row in rows], [_EPOCH + dt.timedelta(microseconds=row[1]) for row in rows]


async def delete_batches(cold: ColdStore, *, batches: Sequence[Batch]) -> bool:
    """Delete every row of ``batches``; True once none is left."""
    groups: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    for batch in batches:
        month = batch.day.year * 100 + batch.day.month
        groups[batch.table, batch.project, month].append(batch.id)
    left = 0
    # One mutation per table, project and monthly partition, so only that partition's
    # parts are rewritten.
    for (table, project, month), ids in sorted(groups.items()):
        scope = Scope.of(project)
        await cold.execute(
            scope.cold_delete("batch_id IN %(ids)s", table=table, partition="%(month)s")
            + " SETTINGS mutations_sync = 1",
            {"month": month, "ids": tuple(ids)},
        )
        rows = await cold.fetch(
            scope.cold(
                f"SELECT count() FROM {EVENTS}",
                visible="toYYYYMM(occurred_at) = %(month)s AND batch_id IN %(ids)s",
                legacy=table == LEGACY_COLD_TABLE,
            ),
            {"month": month, "ids": tuple(ids)},
        )
        left += rows[0][0]
    return left == 0
