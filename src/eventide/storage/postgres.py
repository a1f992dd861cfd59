"""PostgreSQL hot store: connection pool and migrations."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import asyncpg

from eventide.config import Settings
from eventide.storage import _sql_files

logger = logging.getLogger(__name__)

# Any fixed 64-bit number; it only has to be the same for every Eventide process.
_MIGRATION_LOCK = 0x45564E544944
# A migration may rewrite a large table, and a starter waits for another's migrations:
# neither is bound by the pool's command timeout.
_MIGRATION_TIMEOUT = 24 * 3600.0


class _BoundedPool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg is untyped
    """A pool whose ``acquire()`` gives up after a default timeout.

    Every query of the code base goes through ``acquire()`` (also ``pool.fetch`` and
    the like), so none waits forever for a free connection when the server hangs.
    A connection the server closed is replaced by the pool on its next acquisition.
    """

    __slots__ = ("_acquire_timeout",)

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self._acquire_timeout if timeout is None else timeout)


async def create_pool(
    url: str,
    *,
    size: int = 10,
    connect_timeout: float = Settings.database_connect_timeout_seconds,
    acquire_timeout: float = Settings.database_acquire_timeout_seconds,
    command_timeout: float = Settings.database_command_timeout_seconds,
) -> asyncpg.Pool:
    pool = _BoundedPool(
        url,
        acquire_timeout=acquire_timeout,
        min_size=1,
        max_size=size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        # JSON columns come back as text; the codecs below make them Python values.
        init=_init_connection,
        timeout=connect_timeout,
        command_timeout=command_timeout,
        server_settings={"timezone": "UTC", "application_name": "eventide"},
    )
    await pool
    return pool


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending files of ``migrations/``; return the names applied.

    A session-level advisory lock serialises concurrent starters, so two replicas
    booting together never apply the same file twice.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK, timeout=_MIGRATION_TIMEOUT)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version text PRIMARY KEY,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for file in _sql_files.load("migrations"):
            if file.version in done:
                continue
            async with conn.transaction():
                await conn.execute(file.text, timeout=_MIGRATION_TIMEOUT)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    file.version,
                    file.name,
                )
            logger.info("applied migration %s", file.name)
            applied.append(file.name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


_PARTITIONS = """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = $1::regclass ORDER BY c.relname"""


async def day_partitions(conn: asyncpg.Connection, *, parent: str) -> list[tuple[str, dt.date]]:
    """The partitions of ``parent`` that hold one UTC day (named ``<parent>_YYYYMMDD``, as
    the migrations' partition functions create them) and their days, oldest first."""
    days = []
    for (name,) in await conn.fetch(_PARTITIONS, parent):
        try:
            day = dt.datetime.strptime(name.removeprefix(f"{parent}_"), "%Y%m%d").date()
        except ValueError:  # not a day partition
            continue
        days.append((name, day))
    return days
