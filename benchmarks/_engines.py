"""Engines for one benchmark run: a throw-away PostgreSQL database, Redis keys of its own.

BENCH_DATABASE_URL names the PostgreSQL server (a database is created on it and dropped
afterwards), BENCH_REDIS_URL the Redis server (the run's keys are deleted afterwards).
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

from eventide.config import Settings
from eventide.storage.engines import Engines, open_engines

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


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
