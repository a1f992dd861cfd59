"""Engines for one benchmark run: a throw-away PostgreSQL database, Redis keys of its own,
and the projects the run's data belongs to.

BENCH_DATABASE_URL names the PostgreSQL server (a database is created on it and dropped
afterwards), BENCH_REDIS_URL the Redis server (the run's keys are deleted afterwards).
BENCH_PROJECTS (default 5) is how many projects the multi-project benchmarks spread their
events over: the first holds BIG_SHARE of them, the others split the rest evenly; 1 puts
every event in one project.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from eventide.auth import passwords, users
from eventide.config import Settings
from eventide.projects import store
from eventide.projects.roles import ProjectRole
from eventide.storage.engines import Engines, open_engines

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PROJECTS = int(os.environ.get("BENCH_PROJECTS", "5"))
BIG_SHARE = 0.9


def project_sizes(total: int, projects: int = PROJECTS) -> list[int]:
    """``total`` split over ``projects``: the first (the big one) takes BIG_SHARE, the
    others share the rest evenly; every project gets at least one."""
    if projects < 1:
        raise ValueError("BENCH_PROJECTS must be at least 1")
    if projects == 1:
        return [total]
    small = max(1, round(total * (1 - BIG_SHARE) / (projects - 1)))
    return [max(1, total - small * (projects - 1)), *[small] * (projects - 1)]


async def bench_account(db: Any, *, projects: int = PROJECTS) -> tuple[str, list[int]]:
    """A new account (username ``bench``) and the ids of ``projects`` new projects it owns,
    the big one first."""
    account = await users.create_user(
        db,
        username="bench",
        email="bench@example.test",
        password_hash=await passwords.hash_password(secrets.token_urlsafe(16)),
    )
    ids = []
    for number in range(projects):
        name = "big" if number == 0 and projects > 1 else f"project-{number}"
        project = await store.insert_project(db, name=name, timezone="UTC")
        await store.insert_member(
            db, project_id=project.id, user_id=account.id, role=ProjectRole.OWNER
        )
        ids.append(project.id)
    return account.id, ids


@contextlib.asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """Create a database on ``server_url``'s server, yield its URL, drop it afterwards."""
    name = f"eventide_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def bench_services(**settings: Any) -> AsyncIterator[Engines]:
    """Open the engines on a fresh database; ``settings`` override :class:`Settings` fields
    (``clickhouse_url`` unset: the embedded chdb engine, owned by this process)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with fresh_database(DATABASE_URL) as url:
            configured = Settings(
                data_dir=Path(tmp),
                database_url=url,
                redis_url=REDIS_URL,
                redis_key_prefix=f"eventide-bench-{secrets.token_hex(4)}:",
                jwt_secret=secrets.token_urlsafe(48),
                **settings,
            )
            async with open_engines(configured) as engines:
                try:
                    yield engines
                finally:
                    async for key in engines.redis.scan_iter(match=engines.redis_key("*")):
                        await engines.redis.delete(key)


# The reference designs: one table per engine holding every event of the run, hot and
# cold alike, as products with a single store keep them (the project leads the key).
REFERENCE_TABLE = "reference_events"
_CH_REFERENCE = f"""
CREATE TABLE {REFERENCE_TABLE} (
    project_id  UInt64,
    event_id    String,
    user_id     String,
    event_type  LowCardinality(String),
    occurred_at DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC'),
    properties  String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (project_id, toDate(occurred_at), event_type, user_id, occurred_at, event_id)
"""
_PG_REFERENCE = (
    f"""CREATE TABLE {REFERENCE_TABLE} (
    project_id  bigint      NOT NULL,
    event_id    text        NOT NULL,
    user_id     text        NOT NULL,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    properties  jsonb,
    PRIMARY KEY (project_id, event_id)
)""",
    # Newest first by (occurred_at, event_id) in byte order, as ClickHouse compares strings.
    f'CREATE INDEX ON {REFERENCE_TABLE} (project_id, occurred_at DESC, event_id COLLATE "C" DESC)',
    f"CREATE INDEX ON {REFERENCE_TABLE} (project_id, user_id, occurred_at)",
)
_CSV_COLUMNS = (
    "project_id UInt64, event_id String, user_id String, event_type String,"
    " occurred_at String, received_at String, properties Nullable(String)"
)


async def build_references(engines: Engines, *, hot: str, cold: str, workdir: Path) -> None:
    """Fill REFERENCE_TABLE in both stores with every event of the ``hot`` PostgreSQL table
    and the ``cold`` ClickHouse table, exactly (microseconds, properties), through CSV
    files in ``workdir``."""
    hot_csv, cold_csv = workdir / "hot.csv", workdir / "cold.csv"
    # Millions of rows take longer than the server's command timeout allows a request.
    long = 3600.0
    # Instants travel as UTC text with microseconds, which both engines read exactly.
    await engines.db.copy_from_query(
        "SELECT project_id, event_id, user_id, event_type,"
        " to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),"
        " to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),"
        f" properties::text FROM {hot}",
        output=str(hot_csv),
        format="csv",
        timeout=long,
    )
    await engines.cold.execute(
        f"INSERT INTO FUNCTION file('{cold_csv}', 'CSV', '{_CSV_COLUMNS}')"
        " SELECT project_id, event_id, user_id, event_type,"
        " concat(toString(occurred_at), '+00'), concat(toString(received_at), '+00'),"
        f" nullIf(properties, '') FROM {cold}"
        " SETTINGS engine_file_truncate_on_insert = 1"
    )
    columns = [
        "project_id", "event_id", "user_id", "event_type", "occurred_at", "received_at",
        "properties",
    ]  # fmt: skip
    for statement in _PG_REFERENCE:
        await engines.db.execute(statement)
    await engines.db.execute(
        f"INSERT INTO {REFERENCE_TABLE} ({', '.join(columns)})"
        f" SELECT {', '.join(columns)} FROM {hot}",
        timeout=long,
    )
    await engines.db.copy_to_table(
        REFERENCE_TABLE,
        source=str(cold_csv),
        columns=columns,
        format="csv",
        null="\\N",
        timeout=long,
    )
    await engines.db.execute(f"ANALYZE {REFERENCE_TABLE}", timeout=long)
    await engines.cold.execute(_CH_REFERENCE)
    await engines.cold.execute(
        f"INSERT INTO {REFERENCE_TABLE} SELECT {', '.join(columns[:6])}, properties FROM {cold}"
    )
    await engines.cold.execute(
        f"INSERT INTO {REFERENCE_TABLE} SELECT project_id, event_id, user_id, event_type,"
        " toDateTime64(occurred_at, 6, 'UTC'), toDateTime64(received_at, 6, 'UTC'),"
        f" ifNull(properties, '') FROM file('{hot_csv}', 'CSV', '{_CSV_COLUMNS}')"
    )
    await engines.cold.execute(f"OPTIMIZE TABLE {REFERENCE_TABLE} FINAL")
    for path in (hot_csv, cold_csv):
        path.unlink()
