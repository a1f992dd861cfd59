"""PostgreSQL hot store: connection pool and migrations."""

from __future__ import annotations

import json
import logging

import asyncpg

from eventide.storage import _sql_files

logger = logging.getLogger(__name__)

# Any fixed 64-bit number; it only has to be the same for every Eventide process.
_MIGRATION_LOCK = 0x45564E544944


async def create_pool(url: str, *, size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=size,
        # JSON columns come back as text; the codecs below make them Python values.
        init=_init_connection,
        server_settings={"timezone": "UTC", "application_name": "eventide"},
    )


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
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
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
                await conn.execute(file.text)
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
