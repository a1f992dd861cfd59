"""Archive throughput: a full archive pass against a raw copy by the engines, same run.

Fills a fresh PostgreSQL database (created and dropped here) with BENCH_EVENTS events of
one project spread over BENCH_DAYS old days, then:

- raw: reads the same rows from PostgreSQL in BENCH_BATCH chunks and inserts them into
  a plain ClickHouse table of the cold layout (project first in its key), with no batch
  bookkeeping and no removal from PostgreSQL;
- pass: one archive pass (batch rows, copy, partition drop, commit), then checks that
  PostgreSQL is empty and ClickHouse holds every event once;
- late: the same amount again, with one late event written during the copy, so every
  batch commits by deleting its rows by id instead of dropping the partition.

Prints events/s for each, the ratios against raw, and the process's peak RSS.
ClickHouse is the embedded engine unless BENCH_CLICKHOUSE_URL is set.

Environment: BENCH_EVENTS (default 1,000,000), BENCH_DAYS (10), BENCH_BATCH (50,000),
BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL
(redis://127.0.0.1:6379/0), BENCH_CLICKHOUSE_URL (unset).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import resource
import time

from _engines import bench_account, bench_services

from eventide.archive.archiver import archive_pass
from eventide.archive.cold_batches import COLUMNS
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import COLD_TABLE

# Events occur on the BENCH_DAYS days before yesterday: all older than a 1-day hot window.
TODAY = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), dt.UTC)
PARTITIONS_SQL = """
SELECT ensure_event_partitions(ARRAY(
    SELECT $2::timestamptz - make_interval(days => d) FROM generate_series(2, $1 + 1) AS d))
"""
# Every event at least one second after its day's start (the late event goes there).
FILL_SQL = """
INSERT INTO events (project_id, event_id, user_id, event_type, occurred_at, received_at,
                    properties)
SELECT $5, $4 || i, 'user-' || (i % 5000), 'type-' || (i % 20),
       $3::timestamptz - make_interval(days => 2 + i % $2)
           + make_interval(secs => 1 + (i / $2) % 86000),
       $3::timestamptz, jsonb_build_object('n', i, 'plan', 'pro')
FROM generate_series(1, $1) AS i
"""


async def fill(engines: Engines, *, project: int, events: int, days: int, prefix: str) -> None:
    await engines.db.execute(PARTITIONS_SQL, days, TODAY)
    await engines.db.execute(FILL_SQL, events, days, TODAY, prefix, project)


async def raw_copy(engines: Engines, *, project: int, batch: int) -> int:
    cold = engines.cold
    await cold.execute("DROP TABLE IF EXISTS bench_raw")
    await cold.execute(f"CREATE TABLE bench_raw AS {COLD_TABLE}")
    copied = 0
    async with engines.db.acquire() as conn, conn.transaction():
        cursor = await conn.cursor(
            "SELECT project_id, event_id, user_id, event_type, occurred_at, received_at,"
            " coalesce(properties::text, ''), 0 FROM events WHERE project_id = $1"
            " ORDER BY occurred_at, event_id",
            project,
        )
        while rows := await cursor.fetch(batch):
            await cold.insert("bench_raw", COLUMNS, rows)
            copied += len(rows)
    await cold.execute("DROP TABLE bench_raw")
    return copied


async def check_moved(engines: Engines, expected: int) -> None:
    hot = await engines.db.fetchval("SELECT count(*) FROM events")
    rows = await engines.cold.fetch(f"SELECT count(), uniqExact(event_id) FROM {COLD_TABLE}")
    assert hot == 0, f"{hot} events left hot"
    assert rows[0] == (expected, expected), rows


async def main() -> None:
    env = os.environ
    events = int(env.get("BENCH_EVENTS", "1000000"))
    days = int(env.get("BENCH_DAYS", "10"))
    batch = int(env.get("BENCH_BATCH", "50000"))
    clickhouse_url = env.get("BENCH_CLICKHOUSE_URL") or None
    async with bench_services(
        clickhouse_url=clickhouse_url, hot_window_days=1, archive_batch_size=batch
    ) as engines:
        print(f"{events:,} events over {days} days, batches of {batch:,}")
        figures = await measure(engines, events=events, days=days, batch=batch)
    raw, dropped, by_id = figures
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"raw copy (read + insert only)    {raw:11,.0f} events/s")
    print(f"archive pass, partitions dropped {dropped:11,.0f} events/s  {dropped / raw:.2f}x raw")
    print(f"archive pass, deletes by id      {by_id:11,.0f} events/s  {by_id / raw:.2f}x raw")
    print(f"peak RSS of this process         {peak_mib:11,.0f} MiB")


async def measure(
    engines: Engines, *, events: int, days: int, batch: int
) -> tuple[float, float, float]:
    """Events/s of the raw copy, of a pass dropping partitions, of a pass deleting by id."""
    _, (project,) = await bench_account(engines.db, projects=1)
    await fill(engines, project=project, events=events, days=days, prefix="a")

    started = time.perf_counter()
    assert await raw_copy(engines, project=project, batch=batch) == events
    raw = events / (time.perf_counter() - started)

    started = time.perf_counter()
    run = await archive_pass(engines, trigger="cli")
    dropped = run.moved / (time.perf_counter() - started)
    assert run.moved == events
    await check_moved(engines, events)

    await fill(engines, project=project, events=events, days=days, prefix="b")
    late_written = False

    async def late_event(step: str) -> None:
        # Sorts before every copied row of the oldest day: that day's partition can no
        # longer be dropped. The other days still are; only the oldest deletes by id.
        nonlocal late_written
        if step == "chunk_copied" and not late_written:
            late_written = True
            await engines.db.execute(
                "INSERT INTO events (project_id, event_id, user_id, event_type, occurred_at,"
                " received_at) VALUES ($2, 'late', 'u', 't', $1, $1)",
                TODAY - dt.timedelta(days=days + 1),
                project,
            )

    started = time.perf_counter()
    run = await archive_pass(engines, trigger="cli", faults=late_event)
    by_id = run.moved / (time.perf_counter() - started)
    await archive_pass(engines, trigger="cli")  # the late event
    await check_moved(engines, 2 * events + 1)
    return raw, dropped, by_id


if __name__ == "__main__":
    asyncio.run(main())
