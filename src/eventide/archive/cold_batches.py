"""The archiver's statements on the ClickHouse cold store, by archive batch."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from eventide.storage.clickhouse import ColdStore
from eventide.storage.tenant_sql import (
    COLD_BUCKET_TABLES,
    COLD_TABLE,
    EVENTS,
    LEGACY_COLD_TABLE,
    TYPE_BUCKETS,
    USER_BUCKETS,
    Scope,
    bucket_statements,
)

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


async def insert_batch(cold: ColdStore, *, batch: Batch, rows: Sequence[asyncpg.Record]) -> None:
    """Copy hot rows of ``batch``'s project and day (``event_id, user_id, event_type,
    occurred_at, received_at, properties`` with properties as JSON text) under its id, in
    one insert, then count them into the cold buckets."""
    await cold.insert(COLD_TABLE, COLUMNS, [(batch.project, *row, batch.id) for row in rows])
    await insert_buckets(cold, batch=batch)


async def insert_buckets(cold: ColdStore, *, batch: Batch) -> None:
    """Count the cold rows of ``batch`` (all of its UTC day) into the cold buckets; once
    per batch, as nothing removes what an earlier call wrote."""
    start = dt.datetime.combine(batch.day, dt.time(), dt.UTC)
    for statement in bucket_statements(
        project=batch.project,
        batch=batch.id,
        start_us=_micros(start),
        end_us=_micros(start + dt.timedelta(days=1)),
    ):
        await cold.execute(statement)


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
    # parts are rewritten; the current layout's buckets too. The batches count for no
    # reader meanwhile, and they are settled only once nothing of them is left anywhere.
    for (table, project, month), ids in sorted(groups.items()):
        scope, params = Scope.of(project), {"month": month, "ids": tuple(ids)}
        tables = (*COLD_BUCKET_TABLES, table) if table == COLD_TABLE else (table,)
        for each in tables:
            await cold.execute(
                scope.cold_delete("batch_id IN %(ids)s", table=each, partition="%(month)s")
                + " SETTINGS mutations_sync = 1",
                params,
            )
        for each in tables:
            left += await _left(cold, scope, each, params)
    return left == 0


async def _left(cold: ColdStore, scope: Scope, table: str, params: dict[str, object]) -> int:
    """Rows of batches ``params["ids"]`` left in ``table``'s partition ``params["month"]``."""
    column = "occurred_at" if table in (COLD_TABLE, LEGACY_COLD_TABLE) else "bucket"
    placeholder = {COLD_BUCKET_TABLES[0]: USER_BUCKETS, COLD_BUCKET_TABLES[1]: TYPE_BUCKETS}
    rows = await cold.fetch(
        scope.cold(
            f"SELECT count() FROM {placeholder.get(table, EVENTS)}",
            visible=f"toYYYYMM({column}) = %(month)s AND batch_id IN %(ids)s",
            legacy=table == LEGACY_COLD_TABLE,
        ),
        params,
    )
    return int(rows[0][0])
