"""Cluster mode's schema, session settings and removals, checked by ClickHouse's parser."""

from __future__ import annotations

import re

import pytest

from eventide.config import ConfigError, load_settings
from eventide.storage import _sql_files
from eventide.storage.cold_layout import (
    SHARDED_TABLES,
    SHARDING_KEY,
    ColdLayout,
    UnknownClusterTable,
)
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import COLD_BUCKET_TABLES, COLD_TABLE, LEGACY_COLD_TABLE, Scope
from tests.cluster.parsing import formatted

CLUSTER = ColdLayout("events_cluster")
DATABASE = "eventide"


def ddl() -> list[str]:
    return [s for file in _sql_files.load("clickhouse_ddl") for s in file.statements()]


def test_one_server_runs_the_ddl_and_removals_as_written() -> None:
    one = ColdLayout()
    for statement in ddl():
        assert one.schema(statement, database=DATABASE) == [statement]
    removal = Scope.of(3).cold_delete("batch_id = 7", partition="202603")
    assert one.statement(removal) == removal
    assert one.settings(replicas=2) == {}


async def test_cluster_schema_is_accepted_by_clickhouse(engines: Engines) -> None:
    statements = [s for each in ddl() for s in CLUSTER.schema(each, database=DATABASE)]
    created = {}
    for statement in statements:
        text = await formatted(engines.cold, statement)
        match = re.match(r"CREATE TABLE IF NOT EXISTS (\w+) ON CLUSTER events_cluster\b", text)
        assert match, text
        created[match[1]] = text
    # Each table: its replicated shards' table, and the Distributed one readers name.
    assert set(created) == {name + suffix for name in SHARDED_TABLES for suffix in ("", "_local")}
    assert LEGACY_COLD_TABLE not in created
    for table in SHARDED_TABLES:
        engine = (
            "ReplicatedSummingMergeTree" if table in COLD_BUCKET_TABLES else "ReplicatedMergeTree"
        )
        path = f"'/clickhouse/tables/{{shard}}/{DATABASE}/{table}', '{{replica}}'"
        assert f"ENGINE = {engine}({path}" in created[f"{table}_local"]
        # Buckets shard as their events do: a user's rows and buckets on one shard.
        assert (
            f"ENGINE = Distributed(events_cluster, {DATABASE}, {table}_local, {SHARDING_KEY})"
            in created[table]
        )
    summing = created["project_user_buckets_local"]
    assert "'{replica}', events)" in summing
    assert "ORDER BY (project_id, bucket, user_id, batch_id)" in summing


async def test_a_new_column_reaches_the_shards_and_the_distributed_table(
    engines: Engines,
) -> None:
    statements = CLUSTER.schema(
        "ALTER TABLE project_events ADD COLUMN IF NOT EXISTS country String DEFAULT ''",
        database=DATABASE,
    )
    assert [s.split(" ADD ")[0] for s in statements] == [
        "ALTER TABLE project_events_local ON CLUSTER events_cluster",
        "ALTER TABLE project_events ON CLUSTER events_cluster",
    ]
    for statement in statements:
        await formatted(engines.cold, statement)


def test_a_table_without_sharding_is_refused() -> None:
    with pytest.raises(UnknownClusterTable, match="no sharding"):
        CLUSTER.schema(
            "CREATE TABLE IF NOT EXISTS other (x UInt8) ENGINE = MergeTree ORDER BY x",
            database=DATABASE,
        )
    with pytest.raises(UnknownClusterTable, match="not a MergeTree"):
        CLUSTER.schema(
            "CREATE TABLE IF NOT EXISTS project_events (x UInt8) ENGINE = Log", database=DATABASE
        )


async def test_removals_go_to_every_shard_and_wait_for_every_replica(engines: Engines) -> None:
    scope = Scope.of(3)
    sync = " SETTINGS mutations_sync = 1"
    cases = {
        scope.cold_delete("batch_id IN (1, 2)", partition="202603") + sync: (
            "ALTER TABLE project_events_local ON CLUSTER events_cluster DELETE IN PARTITION"
            " 202603 WHERE project_id = 3 AND (batch_id IN (1, 2)) SETTINGS mutations_sync = 2"
        ),
        scope.cold_delete("1", table="project_type_buckets") + sync: (
            "ALTER TABLE project_type_buckets_local ON CLUSTER events_cluster DELETE"
            " WHERE project_id = 3 AND (1) SETTINGS mutations_sync = 2"
        ),
        f"ALTER TABLE {COLD_TABLE} DROP PARTITION 202401": (
            "ALTER TABLE project_events_local ON CLUSTER events_cluster DROP PARTITION 202401"
        ),
        "TRUNCATE TABLE project_user_buckets": (
            "TRUNCATE TABLE project_user_buckets_local ON CLUSTER events_cluster"
        ),
        "DELETE FROM project_events WHERE project_id = 3 AND user_id = 'u'": (
            "DELETE FROM project_events_local ON CLUSTER events_cluster"
            " WHERE project_id = 3 AND user_id = 'u'"
        ),
        "OPTIMIZE TABLE project_type_buckets PARTITION 202603 FINAL": (
            "OPTIMIZE TABLE project_type_buckets_local ON CLUSTER events_cluster"
            " PARTITION 202603 FINAL"
        ),
    }
    for statement, expected in cases.items():
        assert CLUSTER.statement(statement) == expected
        await formatted(engines.cold, expected)
    # Reads and inserts name the Distributed tables; the schema is already addressed.
    for unchanged in (
        f"SELECT count() FROM {COLD_TABLE}",
        f"INSERT INTO {COLD_TABLE} (project_id) VALUES",
        "ALTER TABLE project_events ON CLUSTER events_cluster ADD COLUMN x UInt8",
        "ALTER TABLE project_events_local ON CLUSTER events_cluster DELETE WHERE 1",
        f"DROP TABLE IF EXISTS {LEGACY_COLD_TABLE}",
    ):
        assert CLUSTER.statement(unchanged) == unchanged


async def test_parts_are_listed_on_every_node_and_partitions_dropped_there(
    engines: Engines,
) -> None:
    # The retention removal finds a table's months in system.parts, where a Distributed
    # table has none: each node's local table has those of its rows.
    every = Scope.every_project()
    parts = (
        "SELECT DISTINCT partition FROM system.parts"
        " WHERE database = currentDatabase() AND table = '{}' AND active"
    )
    for table in SHARDED_TABLES:
        expected = (
            "SELECT DISTINCT partition FROM clusterAllReplicas(events_cluster, system.parts)"
            f" WHERE database = currentDatabase() AND table = '{table}_local' AND active"
        )
        assert CLUSTER.statement(parts.format(table)) == expected
        await formatted(engines.cold, expected)
        drop = every.cold_drop_partition(202601, table=table)
        assert CLUSTER.statement(drop) == (
            f"ALTER TABLE {table}_local ON CLUSTER events_cluster DROP PARTITION 202601"
        )
        assert ColdLayout().statement(parts.format(table)) == parts.format(table)
    # The layout from before projects is never on a cluster; other tables are not sharded.
    for table in (LEGACY_COLD_TABLE, "schema_migrations", f"{COLD_TABLE}_local"):
        assert CLUSTER.statement(parts.format(table)) == parts.format(table)


async def test_session_settings_are_clickhouse_settings(engines: Engines) -> None:
    settings = CLUSTER.settings(replicas=2)
    assert settings["insert_quorum"] == 2
    rows = await engines.cold.fetch(
        "SELECT name FROM system.settings WHERE name IN %(names)s", {"names": tuple(settings)}
    )
    assert sorted(name for (name,) in rows) == sorted(settings)
    # Their values are ones ClickHouse takes (for one statement here: nothing is sharded).
    clause = ", ".join(f"{name} = {value!r}" for name, value in settings.items())
    applied = await engines.cold.fetch(
        f"SELECT name, value FROM system.settings WHERE name IN %(names)s SETTINGS {clause}",
        {"names": tuple(settings)},
    )
    assert {name: value for name, value in applied} == {k: str(v) for k, v in settings.items()}


def test_the_cluster_is_named_and_needs_a_server() -> None:
    url = "clickhouse://default@ch1:9000/eventide"
    env = {"EVENTIDE_CLICKHOUSE_URL": url, "EVENTIDE_CLICKHOUSE_CLUSTER": "events_cluster"}
    assert load_settings(env).clickhouse_cluster == "events_cluster"
    with pytest.raises(ConfigError, match="EVENTIDE_CLICKHOUSE_CLUSTER needs"):
        load_settings({"EVENTIDE_CLICKHOUSE_CLUSTER": "events_cluster"})
    with pytest.raises(ConfigError, match="EVENTIDE_CLICKHOUSE_CLUSTER must be"):
        load_settings({**env, "EVENTIDE_CLICKHOUSE_CLUSTER": "events; DROP"})
    with pytest.raises(ValueError, match="cluster name"):
        ColdLayout("a-b")


async def test_the_parser_refuses_what_clickhouse_would(engines: Engines) -> None:
    with pytest.raises(Exception, match="Syntax error"):
        await formatted(engines.cold, "ALTER TABLE project_events_local ON CLUSTER DELETE WHERE 1")
