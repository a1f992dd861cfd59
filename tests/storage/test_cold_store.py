"""The cold store the suite runs on (embedded chdb unless a server is configured)."""

from __future__ import annotations

import datetime as dt

from eventide.archive.tiers import csv_lines
from eventide.storage import _sql_files
from eventide.storage.engines import Engines
from eventide.storage.inline_rows import InlineRows, literal_table


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


async def test_rows_sent_with_a_statement_come_back_unchanged(engines: Engines) -> None:
    # Rendered by PostgreSQL as the readers' hot rows are, with every character CSV,
    # a statement's literal or its parameters could mistake.
    texts = ["plain", "", 'a "quoted", comma', "back\\slash", "it's", "line\nbreak\r\n"]
    texts += ["100% %(n)s", "NULL", "ünïcödé 💡", "\ttab"]
    structure = "v String, n UInt8, big UInt64, small Int64"
    csv = await engines.db.fetchval(
        f"SELECT {csv_lines(structure)} FROM (SELECT v, n, 9223372036854775807::bigint AS big,"
        " -n::bigint AS small FROM unnest($1::text[]) WITH ORDINALITY AS r(v, n)) r",
        texts,
    )
    rows = await engines.cold.fetch(
        "SELECT v, n, big, small FROM __rows__ WHERE n >= %(n)s ORDER BY n",
        {"n": 1},
        tables={"__rows__": InlineRows(structure, csv)},
    )
    assert rows == [(v, n, 2**63 - 1, -n) for n, v in enumerate(texts, 1)]
    # As a ClickHouse server reads them: in the statement's text.
    inline = literal_table(InlineRows(structure, csv))
    assert await engines.cold.fetch(f"SELECT v, n, big, small FROM {inline} ORDER BY n") == rows
    nothing = InlineRows("v String", "")
    assert await engines.cold.fetch(
        "SELECT count() FROM __rows__", tables={"__rows__": nothing}
    ) == [(0,)]


async def test_rows_sent_with_a_statement_have_the_types_of_their_structure(
    engines: Engines,
) -> None:
    rows = InlineRows("v String, n Int64, m UInt16", '"x",-1,7')
    types = await engines.cold.fetch(
        "SELECT toTypeName(v), toTypeName(n), toTypeName(m) FROM __rows__",
        tables={"__rows__": rows},
    )
    assert types == [("String", "Int64", "UInt16")]
