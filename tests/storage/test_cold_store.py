"""The cold store the suite runs on (embedded chdb unless a server is configured)."""

from __future__ import annotations

import datetime as dt

from eventide.storage import _sql_files
from eventide.storage.engines import Engines


async def test_ddl_is_recorded_and_rerunning_is_a_no_op(engines: Engines) -> None:
    assert await engines.cold.migrate() == []
    rows = await engines.cold.fetch("SELECT DISTINCT version FROM schema_migrations")
    assert sorted(r[0] for r in rows) == [f.version for f in _sql_files.load("clickhouse_ddl")]


async def test_round_trip_keeps_microseconds(engines: Engines) -> None:
    cold = engines.cold
    await cold.execute("DROP TABLE IF EXISTS roundtrip")
    await cold.execute(
        "CREATE TABLE roundtrip (id String, ts DateTime64(6, 'UTC'), n UInt64) "
        "ENGINE = MergeTree ORDER BY id"
    )
    when = dt.datetime(2026, 10, 25, 1, 59, 59, 123456, tzinfo=dt.UTC)
    await cold.insert("roundtrip", ("id", "ts", "n"), [("x", when, 2**53)])
    micros = int(when.timestamp() * 1_000_000)
    rows = await cold.fetch(
        "SELECT id, ts, n FROM roundtrip WHERE ts = fromUnixTimestamp64Micro(%(t)s)", {"t": micros}
    )
    assert rows == [("x", when, 2**53)]
    await cold.execute("DROP TABLE roundtrip")
