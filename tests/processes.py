"""What tests that start ``eventide serve`` processes share: a free port, and a fresh
PostgreSQL database of their own on the test server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str | None]:
    """A new database on ``EVENTIDE_TEST_DATABASE_URL``'s server, dropped afterwards; None
    (the server's embedded PostgreSQL) when no test server is named."""
    server = os.environ.get("EVENTIDE_TEST_DATABASE_URL")
    if not server:
        yield None
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_sql(server, f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        asyncio.run(_admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin_sql(server: str, sql: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
