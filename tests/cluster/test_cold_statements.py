"""Every statement the product sends to the cold store, as cluster mode would send it,
accepted by ClickHouse's parser.

The statements are taken from a real run against the embedded engine: archive passes,
every analytics field over GraphQL (from buckets and, while a batch has none, from rows),
bucketing of an old batch, deletion of aborted batches, the purge of a project, an
end-user erasure (readers and the export while it is pending, then its completion) and
the removal of the events past retention (readers with a boundary, then the removal). In
cluster mode readers' and writers' statements are the same text (the Distributed tables
keep the tables' names); removals are readdressed by the layout.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from eventide.analytics.export import export_events
from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.archive.bucketing import bucket_old_batches
from eventide.archive.cold_batches import Batch, delete_batches
from eventide.archive.expiry import remove_expired
from eventide.lifecycle.completion import complete_erasures
from eventide.projects import store
from eventide.projects.purge import purge_deleted_projects
from eventide.storage.clickhouse import EmbeddedColdStore, Tables
from eventide.storage.cold_layout import SHARDED_TABLES, ColdLayout
from eventide.storage.engines import Engines
from eventide.storage.inline_rows import literal_table
from tests.analytics.stores import put_hot
from tests.analytics.test_funnel_graphql import FUNNEL
from tests.analytics.test_graphql import DAU, EVENTS, RETENTION, TOP
from tests.analytics.test_graphql_event_catalog import EVENT_TYPES, PROPERTIES
from tests.analytics.test_trends_graphql import TRENDS
from tests.cluster.parsing import formatted
from tests.configured import configured_client, configured_engines
from tests.conftest import TEST_PROJECT
from tests.graphql.test_archive import STORAGE
from tests.graphql_client import GraphQLClient
from tests.lifecycle.erasing import erase

UTC = dt.UTC
CLUSTER = ColdLayout("events_cluster")
RANGE = {"from": "2026-03-01", "to": "2026-03-04"}
_REMOVAL = re.compile(rf"^(ALTER|TRUNCATE) TABLE ({'|'.join(SHARDED_TABLES)})\b")
_PARTS = re.compile(rf"FROM system\.parts .*table = '({'|'.join(SHARDED_TABLES)})'")
# The boundary of the retention in _erase_and_expire: in the cold days, after February.
RETENTION_DAYS = 30
BOUNDARY = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
REPLAY = Path(__file__).with_name("_distributed_replay.py")


class Sent(NamedTuple):
    sql: str
    answer: list[str] | None  # a fetch's rows, as sorted reprs


def _events(prefix: str, *, month: int = 3) -> list[Event]:
    users, kinds = ("alice", "bob", "carol"), ("view", "click", "buy")
    return [
        Event(
            event_id=f"{prefix}{n}",
            user_id=users[n % 3],
            event_type=kinds[n % 3 - n % 2],
            occurred_at=dt.datetime(2026, month, 1, 9, tzinfo=UTC) + dt.timedelta(hours=7 * n),
            received_at=dt.datetime(2026, 3, 5, tzinfo=UTC),
            properties={"plan": ("pro", "free")[n % 2], "n": n} if n % 4 else None,
        )
        for n in range(12)
    ]


@pytest.fixture
def sent(engines: Engines, monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """The statements the embedded engine runs from now on, each with its answer."""
    if not isinstance(engines.cold, EmbeddedColdStore):
        pytest.skip("the statements are taken from the embedded engine")
    statements: list[Sent] = []
    run = engines.cold._run

    async def recording(sql: str, fmt: str, tables: Tables | None = None) -> Any:
        result = await run(sql, fmt, tables)
        answer = None
        if fmt == "ArrowTable":
            rows = zip(*(column.to_pylist() for column in result.columns), strict=True)
            answer = sorted(repr(row) for row in rows)
        # As a server gets the statement: with the rows sent along in its text.
        for name, sent_rows in (tables or {}).items():
            sql = sql.replace(name, literal_table(sent_rows))
        statements.append(Sent(sql, answer))
        return result

    monkeypatch.setattr(engines.cold, "_run", recording)
    return statements


async def _ask_everything(client: GraphQLClient, user: str, admin: str) -> None:
    where = [{"property": "plan", "op": "EQ", "value": "pro"}]
    steps = [{"eventType": "view"}, {"eventType": "buy", "where": where}]
    series = [
        {"event": {}},
        {"event": {"eventType": "view", "where": where}, "measure": "USERS"},
    ]
    for tz in ("UTC", "America/St_Johns"):
        asks: list[tuple[str, dict[str, Any]]] = [
            (DAU, {"type": "view"}),
            (DAU, {}),
            (TOP, {}),
            (RETENTION, {"kind": "FIRST_SEEN"}),
            (RETENTION, {"kind": "ACTIVE", "period": "WEEK"}),
            (FUNNEL, {"steps": steps}),
            (FUNNEL, {"steps": steps, "breakdown": {"property": "plan"}, "order": "STRICT"}),
            (TRENDS, {"series": series, "interval": "HOUR"}),
            (TRENDS, {"series": series, "breakdown": {"byEventType": True}}),
            (TRENDS, {"series": series, "breakdown": {"property": "plan"}}),
            (EVENT_TYPES, {}),
        ]
        for document, variables in asks:
            await client.data(document, {"range": RANGE, "tz": tz, **variables}, token=user)
    await client.data(PROPERTIES, {"range": RANGE}, token=user)
    await client.data(PROPERTIES, {"range": RANGE, "type": "view"}, token=user)
    await client.data(EVENTS, {"first": 5}, token=user)
    await client.data(
        EVENTS,
        {"filter": {"userId": "alice", "where": where, "from": "2026-03-01T00:00:00Z"}},
        token=user,
    )
    await client.data(STORAGE, token=admin)


async def _run_everything(
    engines: Engines, client: GraphQLClient, user_token: str, admin_token: str
) -> None:
    """Archive, ask every analytics field from buckets and then from rows, repair a
    batch's buckets, delete a batch, and purge a deleted project."""
    doomed = (await store.insert_project(engines.db, name="Doomed", timezone="UTC")).id
    await put_hot(engines, _events("c"))
    await put_hot(engines, _events("d"), project=doomed)
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 12, tzinfo=UTC))
    await put_hot(engines, _events("h"))  # the same days, hot: every read spans both tiers
    await _ask_everything(client, user_token, admin_token)

    async with engines.db.acquire() as conn:
        # A batch without buckets: readers count its rows, then it is bucketed again.
        oldest = await conn.fetchrow(
            "UPDATE archive_batches SET bucketed = false WHERE id = (SELECT min(id)"
            " FROM archive_batches WHERE project_id = $1) RETURNING id, day",
            TEST_PROJECT,
        )
        await _ask_everything(client, user_token, admin_token)
        assert await bucket_old_batches(conn, engines.cold, faults=_nothing) == 1
    assert await delete_batches(
        engines.cold, batches=[Batch(oldest["id"], TEST_PROJECT, oldest["day"])]
    )
    await store.mark_deleted(engines.db, project_id=doomed)
    assert await purge_deleted_projects(engines) == [doomed]
    await _erase_and_expire(engines, user_token, admin_token)


async def _erase_and_expire(engines: Engines, user_token: str, admin_token: str) -> None:
    """Erase a user while a pass copies the user's rows, and ask everything (and export)
    with the erasure pending and a retention boundary among the cold events; then
    complete the erasure and remove the events past retention, February's month
    partitions whole."""
    await put_hot(engines, [*_events("f", month=2), *_events("g")])
    erased: list[str] = []

    async def erasing(step: str) -> None:
        if step == "chunk_copied" and not erased:
            erased.append((await erase(engines, TEST_PROJECT, "alice")).user_id)

    await archive_pass(
        engines, trigger="cli", now=dt.datetime(2026, 3, 12, tzinfo=UTC), faults=erasing
    )
    assert erased
    await erase(engines, TEST_PROJECT, "bob")  # of the hot and cold store, no pass running
    retention: dict[str, Any] = {
        "retention_days": RETENTION_DAYS,
        "retention_now": BOUNDARY + dt.timedelta(days=RETENTION_DAYS),
    }
    retained = configured_engines(engines, **retention)
    async with configured_client(engines, **retention) as client:
        await _ask_everything(client, user_token, admin_token)
    exported = [
        rows
        async for rows in export_events(
            retained,
            project=TEST_PROJECT,
            occurred_from=dt.datetime(2026, 2, 1, tzinfo=UTC),
            occurred_to=dt.datetime(2026, 3, 6, tzinfo=UTC),
            chunk=4,
        )
    ]
    assert exported
    assert len(await complete_erasures(engines)) == 2
    removal = await remove_expired(retained)
    assert removal is not None
    assert {p.split(":")[1] for p in removal.cold_partitions} == {"202602"}


async def test_every_cold_statement_parses_in_cluster_mode(
    engines: Engines, client: GraphQLClient, user_token: str, admin_token: str, sent: list[Sent]
) -> None:
    await _run_everything(engines, client, user_token, admin_token)
    statements = [each.sql for each in sent]
    # Rows and buckets written, per-user joins read (retention, funnel) among them.
    for table in SHARDED_TABLES:
        assert any(s.startswith(f"INSERT INTO {table} ") for s in statements), table
    assert sum(" JOIN " in s for s in statements) >= 10
    # Readers with a pending erasure hide its rows, copies by id included; with retention
    # they leave out the rows before the boundary.
    assert any(
        "NOT ((user_id = unhex(" in s and "toUnixTimestamp64Micro(received_at)) IN ((" in s
        for s in statements
    )
    assert any("occurred_at >= toDateTime64('2026-03-02 12:00:00'" in s for s in statements)
    removals, drops, parts = 0, 0, 0
    for statement in statements:
        clustered = CLUSTER.statement(statement)
        if _REMOVAL.match(statement):
            removals += 1
            drops += " DROP PARTITION " in statement
            assert re.match(r"^\w+ TABLE \w+_local ON CLUSTER events_cluster ", clustered)
            assert "mutations_sync = 1" not in clustered
        elif match := _PARTS.search(statement):
            # A Distributed table has no parts: the local tables' of every node are listed.
            parts += 1
            assert (
                f"FROM clusterAllReplicas(events_cluster, system.parts) WHERE database ="
                f" currentDatabase() AND table = '{match[1]}_local'"
            ) in clustered
        else:
            assert clustered == statement
        await formatted(engines.cold, clustered)
    # The deleted batch's and the purged project's three tables, the erasure's rows
    # and its user's buckets, February's partitions and March's rows past retention.
    assert removals >= 3 + 3 + 3 + 3 + 3
    assert drops == 3
    assert parts == 3


async def _nothing(step: str) -> None:
    return None


async def test_distributed_tables_answer_as_the_plain_ones(
    engines: Engines,
    client: GraphQLClient,
    user_token: str,
    admin_token: str,
    sent: list[Sent],
    tmp_path: Path,
) -> None:
    # Every statement again, in order, on Distributed tables (one shard, in a process of
    # its own), as cluster mode sends them: each answer must be the one recorded here.
    await _run_everything(engines, client, user_token, admin_token)
    (tmp_path / "sent.json").write_text(json.dumps(list(sent)))
    replayed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(REPLAY), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    print(replayed.stdout)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"replayed {len(sent)} statements" in replayed.stdout
    assert "('project_events', 'Distributed')" in replayed.stdout
