"""Tell an engine that cannot be reached from any other failure.

A stopped, restarting or unreachable engine surfaces as many exception types: the
driver's own (asyncpg, redis, clickhouse-driver), or a bare ``OSError``,
``EOFError`` or ``TimeoutError`` raised from inside the driver while it connects,
reads or waits for a pooled connection. The bare ones are attributed to the driver
whose code raised them, read from the traceback.
"""

from __future__ import annotations

from types import TracebackType

import asyncpg
import redis.exceptions
from clickhouse_driver import errors as clickhouse_errors

POSTGRESQL = "PostgreSQL"
CLICKHOUSE = "ClickHouse"
REDIS = "Redis"

_DRIVERS = {"asyncpg": POSTGRESQL, "clickhouse_driver": CLICKHOUSE, "redis": REDIS}

# Errors whose type alone says the engine is out of reach.
_POSTGRESQL_DOWN = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and lost connections
    asyncpg.OperatorInterventionError,  # shutting down, starting up (57P01..57P03)
    asyncpg.InsufficientResourcesError,  # too many connections, disk full
)
_REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_CLICKHOUSE_DOWN = (clickhouse_errors.NetworkError, clickhouse_errors.SocketTimeoutError)
# Errors that mean "unreachable" only when a driver raised them.
_TRANSPORT = (OSError, EOFError, TimeoutError)


def unavailable_engine(error: BaseException) -> str | None:
    """The engine ``error`` (or an error it was raised from) says is unreachable, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if engine := _engine_of(current):
            return engine
        if isinstance(current, BaseExceptionGroup):
            # Concurrent calls (a TaskGroup): an outage is what most likely failed them.
            for member in current.exceptions:
                if engine := unavailable_engine(member):
                    return engine
        current = current.__cause__ or current.__context__
    return None


def _engine_of(error: BaseException) -> str | None:
    if isinstance(error, asyncpg.QueryCanceledError):
        return None  # a statement timeout: the server answers
    if isinstance(error, _POSTGRESQL_DOWN):
        return POSTGRESQL
    if isinstance(error, asyncpg.InternalClientError):
        # A session the server terminated between two statements: asyncpg is still
        # consuming the server's error when the next statement arrives.
        return POSTGRESQL
    if isinstance(error, asyncpg.InterfaceError):
        # Also raised for misuse (another operation in progress): only a closed
        # connection or pool means the server went away.
        message = str(error)
        return POSTGRESQL if "closed" in message or "closing" in message else None
    if isinstance(error, _REDIS_DOWN):
        return REDIS
    if isinstance(error, _CLICKHOUSE_DOWN):
        return CLICKHOUSE
    if isinstance(error, _TRANSPORT):
        return _raising_driver(error.__traceback__)
    return None


def _raising_driver(traceback: TracebackType | None) -> str | None:
    """The driver of the innermost traceback frame that belongs to one."""
    found = None
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        found = _DRIVERS.get(module.partition(".")[0], found)
        traceback = traceback.tb_next
    return found
