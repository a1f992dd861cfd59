"""Waiting for something to be observed, rather than for a guessed length of time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

T = TypeVar("T")

POLL_SECONDS = 0.02


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, what: str, within: float = 20.0
) -> T:
    """The first result of ``probe`` that is not None; fails after ``within`` seconds.

    The limit only bounds a broken test: on a busy machine it is never reached.
    """
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not observed within {within} s: {what}")
        await asyncio.sleep(POLL_SECONDS)


async def backend_waiting_for_lock(observer: asyncpg.Connection, query_like: str) -> int:
    """The pid of the backend of this database that is blocked on a heavyweight lock
    while running a statement matching ``query_like`` (an SQL LIKE pattern)."""

    async def probe() -> int | None:
        # Inside a transaction the activity view is a snapshot unless cleared.
        await observer.execute("SELECT pg_stat_clear_snapshot()")
        pid = await observer.fetchval(
            """SELECT a.pid FROM pg_stat_activity a
               JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
               WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
                 AND a.wait_event_type = 'Lock' AND a.query LIKE $1
               LIMIT 1""",
            query_like,
        )
        return None if pid is None else int(pid)

    return await eventually(probe, what=f"a backend waiting for a lock in {query_like!r}")
