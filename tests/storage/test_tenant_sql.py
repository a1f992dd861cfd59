"""The tenant guard: statements read events of one project only, and nothing in the
server reads the events tables around it."""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

import eventide
from eventide.archive.tiers import tier_snapshot
from eventide.storage import tenant_sql
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import (
    EVENTS,
    TYPE_BUCKETS,
    USER_BUCKETS,
    Scope,
    UnscopedStatement,
    bucket_statements,
    relayout_statement,
)
from tests.archive.tiers import Event, put_hot

CURRENT = "project_events"
BOTH = "merge(currentDatabase(), '^(project_events|events)$')"


def test_hot_rendering_keeps_one_project() -> None:
    sql = f"SELECT count(*) FROM {EVENTS} WHERE user_id = $1"
    assert Scope.of(7).hot(sql) == (
        "SELECT count(*) FROM (SELECT * FROM events WHERE project_id = 7) AS events"
        " WHERE user_id = $1"
    )
    assert Scope.every_project().hot(sql) == (
        "SELECT count(*) FROM (SELECT * FROM events) AS events WHERE user_id = $1"
    )


def test_every_placeholder_is_rendered() -> None:
    sql = f"SELECT a.event_id FROM {EVENTS} a JOIN {EVENTS} b USING (user_id)"
    rendered = Scope.of(2).hot(sql)
    assert EVENTS not in rendered
    assert rendered.count("WHERE project_id = 2") == 2


def test_cold_rendering_adds_the_visibility_and_the_old_layout_when_asked() -> None:
    sql = f"SELECT count() FROM {EVENTS}"
    visible = "batch_id <= %(vis_max)s"
    assert Scope.of(3).cold(sql, visible=visible, legacy=False) == (
        f"SELECT count() FROM (SELECT * FROM {CURRENT}"
        " WHERE project_id = 3 AND batch_id <= %(vis_max)s) AS events"
    )
    assert Scope.of(3).cold(sql, visible=visible, legacy=True) == (
        f"SELECT count() FROM (SELECT * FROM {BOTH}"
        " WHERE project_id = 3 AND batch_id <= %(vis_max)s) AS events"
    )
    assert Scope.every_project().cold(sql, visible=visible, legacy=False) == (
        f"SELECT count() FROM (SELECT * FROM {CURRENT} WHERE batch_id <= %(vis_max)s) AS events"
    )
    assert Scope.every_project().cold(sql, visible="", legacy=True) == (
        f"SELECT count() FROM (SELECT * FROM {BOTH}) AS events"
    )


def test_retention_hides_rows_before_the_boundary_in_every_table() -> None:
    boundary = dt.datetime(2026, 11, 12, 12, 15, tzinfo=dt.UTC)
    scope = Scope.of(5).retained_since(boundary)
    assert scope.hot(f"SELECT 1 FROM {EVENTS} JOIN {USER_BUCKETS} USING (user_id)") == (
        "SELECT 1 FROM (SELECT * FROM events WHERE project_id = 5"
        " AND occurred_at >= '2026-11-12T12:15:00+00:00'::timestamptz) AS events"
        " JOIN (SELECT * FROM user_buckets WHERE project_id = 5"
        " AND bucket >= '2026-11-12T12:15:00+00:00'::timestamptz) AS user_buckets"
        " USING (user_id)"
    )
    cold = scope.cold(
        f"SELECT 1 FROM {EVENTS}, {USER_BUCKETS}, {TYPE_BUCKETS}", visible="v", legacy=False
    )
    instant = "toDateTime64('2026-11-12 12:15:00', 6, 'UTC')"
    assert cold == (
        f"SELECT 1 FROM (SELECT * FROM {CURRENT} WHERE project_id = 5 AND v"
        f" AND occurred_at >= {instant}) AS events,"
        f" (SELECT * FROM project_user_buckets WHERE project_id = 5 AND v"
        f" AND bucket >= {instant}) AS project_user_buckets,"
        f" (SELECT * FROM project_type_buckets WHERE project_id = 5 AND v"
        f" AND bucket >= {instant}) AS project_type_buckets"
    )
    assert (
        Scope.every_project()
        .retained_since(boundary)
        .cold(f"SELECT 1 FROM {EVENTS}", visible="", legacy=True)
        == f"SELECT 1 FROM (SELECT * FROM {BOTH} WHERE occurred_at >= {instant}) AS events"
    )
    # Deletions are never narrowed by it.
    assert scope.hot_delete("true") == Scope.of(5).hot_delete("true")


def test_the_retention_boundary_is_a_bucket_start() -> None:
    with pytest.raises(ValueError, match="bucket"):
        Scope.of(1).retained_since(dt.datetime(2026, 11, 12, 12, 14, tzinfo=dt.UTC))
    with pytest.raises(ValueError, match="bucket"):
        Scope.of(1).retained_since(dt.datetime(2026, 11, 12, 12, 15))
    offset = dt.timezone(dt.timedelta(hours=5, minutes=45))
    local = Scope.of(1).retained_since(dt.datetime(2026, 11, 12, 18, 0, tzinfo=offset))
    assert local.retained_from == dt.datetime(2026, 11, 12, 12, 15, tzinfo=dt.UTC)


def test_whole_partitions_are_dropped_for_every_project_only() -> None:
    assert Scope.every_project().cold_drop_partition(202610) == (
        f"ALTER TABLE {CURRENT} DROP PARTITION 202610"
    )
    assert Scope.every_project().cold_drop_partition(202610, table="project_user_buckets") == (
        "ALTER TABLE project_user_buckets DROP PARTITION 202610"
    )
    with pytest.raises(UnscopedStatement):
        Scope.of(2).cold_drop_partition(202610)


def test_deletions_name_their_project() -> None:
    assert Scope.of(4).hot_delete("user_id = $1") == (
        "DELETE FROM events WHERE project_id = 4 AND (user_id = $1)"
    )
    assert Scope.of(4).cold_delete("user_id = %(u)s", partition="%(m)s") == (
        f"ALTER TABLE {CURRENT} DELETE IN PARTITION %(m)s"
        " WHERE project_id = 4 AND (user_id = %(u)s)"
    )
    assert Scope.of(1).cold_delete("batch_id = 9", table="events") == (
        "ALTER TABLE events DELETE WHERE project_id = 1 AND (batch_id = 9)"
    )


@pytest.mark.parametrize("project", [0, -1, True, 1.0, "1", None])
def test_a_scope_is_of_a_project_id(project: object) -> None:
    with pytest.raises(ValueError, match="not a project id"):
        Scope.of(project)  # type: ignore[arg-type]


def test_the_rewrite_of_the_old_layout_writes_project_1() -> None:
    sql = relayout_statement(legacy_batch=5, batch=12)
    assert sql.startswith(f"INSERT INTO {CURRENT} (project_id, ")
    assert "SELECT 1, " in sql
    assert sql.endswith(", 12 FROM events WHERE batch_id = 5")


RAW = [
    "SELECT * FROM events",
    "select count(*) from events where project_id = 1",
    "SELECT 1 FROM {events} e JOIN events f USING (event_id)",
    "SELECT * FROM ONLY events",
    'SELECT * FROM "events"',
    "INSERT INTO events (event_id) VALUES ($1)",
    "UPDATE events SET user_id = ''",
    "TRUNCATE TABLE events",
    "SELECT count() FROM project_events",
    "SELECT 1 FROM {events} LEFT JOIN project_events USING (event_id)",
    "INSERT INTO project_events SELECT * FROM {events}",
    "ALTER TABLE project_events DELETE WHERE 1",
    "SELECT *\nFROM\n\tevents",
    "SELECT * FROM user_buckets",
    "DELETE FROM user_buckets WHERE true",
    "SELECT count() FROM project_user_buckets",
    "SELECT 1 FROM {user_buckets} JOIN project_type_buckets USING (user_id)",
]


@pytest.mark.parametrize("sql", RAW)
def test_statements_naming_the_events_tables_are_refused(sql: str) -> None:
    for scope in (Scope.of(1), Scope.every_project()):
        with pytest.raises(UnscopedStatement):
            scope.hot(sql)
        with pytest.raises(UnscopedStatement):
            scope.cold(sql, visible="", legacy=True)


@pytest.mark.parametrize("condition", ["event_id IN (SELECT event_id FROM events)"])
def test_deletion_conditions_naming_the_events_tables_are_refused(condition: str) -> None:
    with pytest.raises(UnscopedStatement):
        Scope.of(1).hot_delete(condition)
    with pytest.raises(UnscopedStatement):
        Scope.of(1).cold_delete(condition)


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT count(*) AS events FROM {EVENTS}",
        f"SELECT event_id FROM {EVENTS} JOIN event_ids USING (event_id)",
        'SELECT count(*) FROM "events_20260301"',  # a day partition, e.g. of the archiver
        "SELECT 1 FROM project_events_stats",
    ],
)
def test_statements_reading_through_the_placeholder_are_rendered(sql: str) -> None:
    Scope.of(1).hot(sql)
    Scope.of(1).cold(sql, visible="", legacy=True)


def test_buckets_are_read_through_placeholders_of_one_project() -> None:
    assert Scope.of(3).hot(f"SELECT sum(events) FROM {USER_BUCKETS}") == (
        "SELECT sum(events) FROM (SELECT * FROM user_buckets WHERE project_id = 3) AS user_buckets"
    )
    cold = Scope.of(3).cold(
        f"SELECT 1 FROM {USER_BUCKETS} UNION ALL SELECT 2 FROM {TYPE_BUCKETS}",
        visible="batch_id <= 9",
        legacy=False,
    )
    assert cold == (
        "SELECT 1 FROM (SELECT * FROM project_user_buckets"
        " WHERE project_id = 3 AND batch_id <= 9) AS project_user_buckets"
        " UNION ALL SELECT 2 FROM (SELECT * FROM project_type_buckets"
        " WHERE project_id = 3 AND batch_id <= 9) AS project_type_buckets"
    )
    # The old cold layout has no buckets: a reader that may see it reads events.
    with pytest.raises(UnscopedStatement, match="no buckets"):
        Scope.of(1).cold(f"SELECT 1 FROM {USER_BUCKETS}", visible="", legacy=True)


def test_bucket_statements_read_one_batch_of_one_project() -> None:
    statements = bucket_statements(project=7, batch=42, start_us=0, end_us=86_400_000_000)
    assert [s.split(" (")[0] for s in statements] == [
        f"INSERT INTO {table}" for table in tenant_sql.COLD_BUCKET_TABLES
    ]
    for statement in statements:
        assert f"FROM {CURRENT} WHERE project_id = 7 AND batch_id = 42" in statement


DAY = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


async def test_hot_reader_reads_one_project_and_refuses_raw_statements(engines: Engines) -> None:
    await engines.db.execute("INSERT INTO projects (id, name) VALUES (2, 'Other')")
    await put_hot(
        engines,
        [
            Event("shared", DAY, project=1),
            Event("mine", DAY, project=1),
            Event("shared", DAY, project=2),
            Event("theirs", DAY, project=2),
        ],
    )
    async with tier_snapshot(engines, scope=Scope.of(1)) as tiers:
        rows = await tiers.hot.fetch(f"SELECT event_id FROM {EVENTS} ORDER BY event_id")
        assert [r["event_id"] for r in rows] == ["mine", "shared"]
        assert await tiers.hot.fetchval(f"SELECT count(*) FROM {EVENTS}") == 2
        for raw in ("SELECT count(*) FROM events", "SELECT * FROM ONLY events"):
            with pytest.raises(UnscopedStatement):
                await tiers.hot.fetchval(raw)
            with pytest.raises(UnscopedStatement):
                await tiers.hot.fetchrow(raw)
            with pytest.raises(UnscopedStatement):
                await tiers.hot.fetch(raw)
        with pytest.raises(UnscopedStatement):
            await tiers.cold_fetch("SELECT count() FROM project_events")
        # The refusals sent nothing: the snapshot's transaction is still usable.
        assert await tiers.hot.fetchval(f"SELECT count(*) FROM {EVENTS}") == 2
    async with tier_snapshot(engines, scope=Scope.of(2)) as tiers:
        rows = await tiers.hot.fetch(f"SELECT event_id FROM {EVENTS} ORDER BY event_id")
        assert [r["event_id"] for r in rows] == ["shared", "theirs"]


# --- Nothing in the server names the events tables outside the guard ---------------------

SOURCE = Path(eventide.__file__).resolve().parent
# Wider than the guard's own pattern: any statement that reads, writes, locks, alters,
# truncates or drops a table of events.
NAMING = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE|COPY)\s+(?:ONLY\s+|IF\s+EXISTS\s+)?\"?"
    r"(?:events|copied_events|project_events|user_buckets|project_user_buckets|project_type_buckets)\b",
    re.IGNORECASE,
)
# The names tenant_sql gives the tables: an f-string using one names the table too.
TABLE_NAMES = {
    "HOT_TABLE": tenant_sql.HOT_TABLE,
    "COPIED_TABLE": tenant_sql.COPIED_TABLE,
    "COLD_TABLE": tenant_sql.COLD_TABLE,
    "LEGACY_COLD_TABLE": tenant_sql.LEGACY_COLD_TABLE,
    "COLD_BUCKET_TABLES": ", ".join(tenant_sql.COLD_BUCKET_TABLES),
}
GUARD = "storage/tenant_sql.py"

# (module, what it says, how often): every statement outside the guard that names an
# events table. Each reads no project's rows, or writes rows that carry their project.
ALLOWED_STATEMENTS = {
    # Ingestion's INSERT, which writes project_id ($8) on every row.
    ("ingest/store.py", "INTO events"): 1,
    # The archiver locks the hot table (SHARE) once at the start of a pass, after the
    # erasures under way, and before it drops a day partition it copied.
    ("archive/archiver.py", "TABLE ONLY events"): 1,
    ("archive/day_mover.py", "TABLE ONLY events"): 1,
    # Readers lock it (ACCESS SHARE) before their snapshot, so a partition drop or the
    # retirement of the old cold layout waits for them; twice: a joined snapshot too.
    # And what waits for them takes it (ACCESS EXCLUSIVE) through readers_locked_out:
    # the retirement of the old cold layout, a day partition dropped past retention and
    # the cold removal after it, an erasure's completion.
    ("archive/tiers.py", "TABLE ONLY events"): 3,
    # Retiring the old cold layout: the drop; and the SHARE lock that orders a rewrite's
    # commit against erasures.
    ("archive/relayout.py", "TABLE ONLY events"): 1,
    ("archive/relayout.py", "TABLE IF EXISTS events"): 1,
    # Removing a deleted project: the SHARE lock waits out ingestion statements that saw
    # the project live, so their rows are there to be deleted.
    ("projects/purge.py", "TABLE ONLY events"): 1,
    # An erasure locks out writers (SHARE ROW EXCLUSIVE) before it reads the visibility.
    ("lifecycle/store.py", "TABLE ONLY events"): 1,
}
# Modules using the guard's table names other than through a Scope: the archiver's cold
# insert (rows carry their project) and the table an archive batch's rows are in; the
# presence check and drop of the old cold layout; the removal of a deleted project 1's
# rows from the old cold layout (through Scope.cold_delete, which takes the table); the
# deletions of cold buckets, by batch or of a deleted project (Scope.cold_delete too);
# the cluster layout, which shards the tables in DDL and readdresses removals of them
# to each shard's own tables, and reads no rows; the removal of events past retention,
# in every cold table and layout (through Scope.cold_drop_partition and Scope.cold_delete).
ALLOWED_NAMES = {
    ("archive/cold_batches.py", "COLD_TABLE"),
    ("archive/cold_batches.py", "LEGACY_COLD_TABLE"),
    ("archive/cold_batches.py", "COLD_BUCKET_TABLES"),
    ("archive/bucketing.py", "COLD_BUCKET_TABLES"),
    ("archive/relayout.py", "LEGACY_COLD_TABLE"),
    ("projects/purge.py", "LEGACY_COLD_TABLE"),
    ("projects/purge.py", "COLD_TABLE"),
    ("projects/purge.py", "COLD_BUCKET_TABLES"),
    ("storage/cold_layout.py", "COLD_TABLE"),
    ("storage/cold_layout.py", "COLD_BUCKET_TABLES"),
    ("storage/cold_layout.py", "LEGACY_COLD_TABLE"),
    ("archive/expiry.py", "COLD_TABLE"),
    ("archive/expiry.py", "LEGACY_COLD_TABLE"),
    ("archive/expiry.py", "COLD_BUCKET_TABLES"),
    # The archiver lists and drops the days of copied events past the hot window.
    ("archive/day_mover.py", "COPIED_TABLE"),
    # An erasure's completion: the user's rows of the old layout, the user's buckets
    # (Scope.cold_delete).
    ("lifecycle/completion.py", "LEGACY_COLD_TABLE"),
    ("lifecycle/completion.py", "COLD_BUCKET_TABLES"),
}


def _literal_text(node: ast.AST) -> str | None:
    """The text of a string literal; an f-string with the guard's table names filled in."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
        elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
            parts.append(TABLE_NAMES.get(value.value.id, "{…}"))
        else:
            parts.append("{…}")
    return "".join(parts)


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def scan(source: Path) -> tuple[Counter[tuple[str, str]], set[tuple[str, str]]]:
    """The statements naming an events table, and the uses of the guard's table names,
    by module, outside the guard."""
    statements: Counter[tuple[str, str]] = Counter()
    names: set[tuple[str, str]] = set()
    for path in sorted(source.rglob("*.py")):
        module = path.relative_to(source).as_posix()
        if module == GUARD:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        prose = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                # Its constant parts are walked too: count the whole f-string only.
                prose.update(id(value) for value in node.values)
            if isinstance(node, ast.Name | ast.alias):
                name = node.id if isinstance(node, ast.Name) else node.name
                if name in TABLE_NAMES:
                    names.add((module, name))
            if isinstance(node, ast.Constant) and node.value == tenant_sql.COLD_TABLE:
                statements[module, repr(node.value)] += 1
            text = _literal_text(node)
            if text is None or id(node) in prose:
                continue
            for match in NAMING.finditer(text):
                statements[module, re.sub(r"\s+", " ", match.group(0))] += 1
    return statements, names


def test_no_module_names_the_events_tables_outside_the_guard() -> None:
    statements, names = scan(SOURCE)
    assert dict(statements) == ALLOWED_STATEMENTS
    assert names == ALLOWED_NAMES


def test_the_scan_finds_what_it_forbids(tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "tenant_sql.py").write_text('SQL = "SELECT * FROM events"\n')
    (tmp_path / "reader.py").write_text(
        "from eventide.storage.tenant_sql import HOT_TABLE\n"
        '"""Docstrings may say: rows move from events to the cold store."""\n'
        'A = """SELECT count(*)\n   FROM events WHERE x"""\n'
        'B = f"DELETE FROM {HOT_TABLE} WHERE {A}"\n'
        "C = 'TRUNCATE project_events'\n"
        "D = ('SELECT 1 FROM ' 'events_20260101')\n"
    )
    statements, names = scan(tmp_path)
    assert statements == Counter(
        {
            ("reader.py", "FROM events"): 2,
            ("reader.py", "TRUNCATE project_events"): 1,
        }
    )
    assert names == {("reader.py", "HOT_TABLE")}
