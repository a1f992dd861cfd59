"""ClickHouse cold store: one interface, two transports running the same SQL.

``NativeColdStore`` speaks the native protocol to a server (clickhouse-driver);
``EmbeddedColdStore`` runs ClickHouse in-process (chdb). Both are synchronous
libraries, so every call runs in a worker thread and the event loop never blocks.

SQL uses ``%(name)s`` placeholders. Timestamps are passed as integers of
microseconds (``fromUnixTimestamp64Micro(%(t)s)``): the driver's escaping would
drop sub-second precision from ``datetime`` values, so those are refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote, urlsplit

from clickhouse_driver.util.escape import escape_param

from eventide.config import Settings
from eventide.storage import _sql_files
from eventide.storage.cold_layout import ColdLayout
from eventide.storage.inline_rows import InlineRows, chdb_query, literal_table

logger = logging.getLogger(__name__)

Params = Mapping[str, Any]
Row = tuple[Any, ...]
Tables = Mapping[str, InlineRows]


class ColdStore(ABC):
    """What Eventide needs from ClickHouse; tables are named without a database."""

    database: str
    layout: ColdLayout = ColdLayout()

    @abstractmethod
    async def execute(self, sql: str, params: Params | None = None) -> None: ...

    @abstractmethod
    async def fetch(
        self, sql: str, params: Params | None = None, *, tables: Tables | None = None
    ) -> list[Row]:
        """The rows of ``sql``, where each name of ``tables`` stands for a table of its
        rows (never a table's or a column's name)."""

    @abstractmethod
    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows in one statement; datetimes must be timezone-aware."""

    @abstractmethod
    async def close(self) -> None: ...

    async def has_table(self, name: str) -> bool:
        """Whether the database holds a table ``name`` (the layout from before projects
        may be gone, or never have been)."""
        found = await self.fetch(
            "SELECT count() FROM system.tables"
            " WHERE database = currentDatabase() AND name = %(name)s",
            {"name": name},
        )
        return bool(found[0][0])

    async def ping(self) -> bool:
        try:
            return await self.fetch("SELECT 1") == [(1,)]
        except Exception:
            return False

    async def migrate(self) -> list[str]:
        """Apply pending ``clickhouse_ddl/`` files; every statement there is idempotent."""
        await self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version String, name String, "
            "applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version"
        )
        done = {row[0] for row in await self.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for file in _sql_files.load("clickhouse_ddl"):
            if file.version in done:
                continue
            for statement in file.statements():
                for each in self.layout.schema(statement, database=self.database):
                    await self.execute(each)
            # Concurrent starters may both get here: the DDL is idempotent and versions
            # are read into a set, so a second row is harmless.
            await self.insert("schema_migrations", ("version", "name"), [(file.version, file.name)])
            logger.info("applied clickhouse ddl %s", file.name)
            applied.append(file.name)
        return applied


class _UTCContext:
    """Just enough of clickhouse-driver's context for its escaping functions."""

    class server_info:  # lower case: the driver reads this attribute name
        @staticmethod
        def get_timezone() -> str:
            return "UTC"


def render(sql: str, params: Params | None) -> str:
    """Substitute ``%(name)s`` placeholders with escaped literals."""
    if not params:
        return sql
    escaped = {}
    for key, value in params.items():
        if isinstance(value, dt.datetime):
            raise TypeError(f"pass {key!r} as integer microseconds, not a datetime")
        escaped[key] = escape_param(value, _UTCContext)
    return sql % escaped


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in a cold-store insert")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class EmbeddedColdStore(ColdStore):
    """ClickHouse in-process through chdb, data kept under ``path``."""

    def __init__(self, path: str, database: str = "eventide") -> None:
        from chdb import session  # imported here: chdb is an optional extra

        self.database = database
        # chdb allows one session per process and is not thread-safe: one worker thread.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chdb")
        self._session = session.Session(path)
        self._session.query(f"CREATE DATABASE IF NOT EXISTS {database}")
        self._session.query(f"USE {database}")

    async def _run(self, sql: str, fmt: str, tables: Tables | None = None) -> Any:
        loop = asyncio.get_running_loop()
        if not tables:
            return await loop.run_in_executor(self._executor, self._session.query, sql, fmt)
        # In the worker thread, reading the rows into Arrow too (megabytes take milliseconds).
        return await loop.run_in_executor(
            self._executor, chdb_query, self._session, sql, fmt, dict(tables)
        )

    async def execute(self, sql: str, params: Params | None = None) -> None:
        await self._run(render(sql, params), "Null")

    async def fetch(
        self, sql: str, params: Params | None = None, *, tables: Tables | None = None
    ) -> list[Row]:
        table = await self._run(render(sql, params), "ArrowTable", tables)
        return list(zip(*(column.to_pylist() for column in table.columns), strict=True))

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if not rows:
            return
        body = "\n".join(json.dumps([_json_value(v) for v in row]) for row in rows)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            "SETTINGS date_time_input_format = 'best_effort' "
            f"FORMAT JSONCompactEachRow\n{body}"
        )
        await self._run(sql, "Null")

    async def close(self) -> None:
        self._executor.submit(self._session.close).result()
        self._executor.shutdown(wait=True)


class NativeColdStore(ColdStore):
    """A ClickHouse server over the native protocol (clickhouse-driver); with ``cluster``,
    one node of that cluster, holding the schema of :class:`ColdLayout` on every node."""

    def __init__(
        self,
        url: str,
        *,
        cluster: str | None = None,
        connections: int = 4,
        connect_timeout: float = Settings.clickhouse_connect_timeout_seconds,
        send_receive_timeout: float = Settings.clickhouse_send_receive_timeout_seconds,
    ) -> None:
        from clickhouse_driver import Client

        parts = urlsplit(url)
        self.database = parts.path.lstrip("/") or "default"
        # A client connects on its first call, and again on the call after a failure
        # (it drops a broken connection, and pings an idle one before reusing it), so
        # the store works again by itself once the server is back.
        options: dict[str, Any] = {
            "host": parts.hostname or "localhost",
            "port": parts.port or 9000,
            "user": unquote(parts.username or "default"),
            "password": unquote(parts.password or ""),
            "connect_timeout": connect_timeout,
            # Bounds each wait for the server; a long query keeps sending progress packets.
            "send_receive_timeout": send_receive_timeout,
            "settings": {"use_numpy": False},
        }
        self.layout = ColdLayout(cluster)
        # The database may not exist yet: create it through a connection without one.
        with Client(**options) as bootstrap:
            replicas = _replicas(bootstrap, cluster) if cluster else 0
            on_cluster = f" ON CLUSTER {cluster}" if cluster else ""
            bootstrap.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}{on_cluster}")
        options["settings"] |= self.layout.settings(replicas=replicas)
        self._executor = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="ch")
        self._clients: asyncio.Queue[Client] = asyncio.Queue()
        for _ in range(connections):
            self._clients.put_nowait(Client(database=self.database, **options))

    async def _run(self, sql: str, data: Any = None) -> Any:
        client = await self._clients.get()
        try:
            loop = asyncio.get_running_loop()
            if data is None:
                return await loop.run_in_executor(self._executor, client.execute, sql)
            return await loop.run_in_executor(self._executor, client.execute, sql, data)
        finally:
            self._clients.put_nowait(client)

    async def execute(self, sql: str, params: Params | None = None) -> None:
        await self._run(render(self.layout.statement(sql), params))

    async def fetch(
        self, sql: str, params: Params | None = None, *, tables: Tables | None = None
    ) -> list[Row]:
        rendered = render(self.layout.statement(sql), params)
        for name, rows in (tables or {}).items():
            rendered = rendered.replace(name, literal_table(rows))
        found: list[Row] = await self._run(rendered)
        return [tuple(_aware(v) for v in row) for row in found]

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if rows:
            await self._run(f"INSERT INTO {table} ({', '.join(columns)}) VALUES", list(rows))

    async def close(self) -> None:
        while not self._clients.empty():
            self._clients.get_nowait().disconnect()
        self._executor.shutdown(wait=True)


def _replicas(client: Any, cluster: str) -> int:
    """The most replicas a shard of ``cluster`` has, as the server's ``remote_servers``
    define it; refuses a cluster the server does not know."""
    rows = client.execute(
        "SELECT max(replica_num), count() FROM system.clusters WHERE cluster = %(cluster)s",
        {"cluster": cluster},
    )
    if not rows or not rows[0][1]:
        raise RuntimeError(f"ClickHouse has no cluster {cluster!r} in its remote_servers")
    return int(rows[0][0])


def _aware(value: Any) -> Any:
    # The driver returns naive datetimes for columns without an explicit zone; ours are UTC.
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


async def open_cold_store(
    url: str | None,
    *,
    embedded_path: str,
    cluster: str | None = None,
    connect_timeout: float = Settings.clickhouse_connect_timeout_seconds,
    send_receive_timeout: float = Settings.clickhouse_send_receive_timeout_seconds,
) -> ColdStore:
    """A server transport when ``url`` is set (a node of ``cluster`` when given), else the
    embedded engine under ``embedded_path``."""
    # Both constructors do blocking I/O (connect, create the database).
    if url:
        server = functools.partial(
            NativeColdStore,
            url,
            cluster=cluster,
            connect_timeout=connect_timeout,
            send_receive_timeout=send_receive_timeout,
        )
        return await asyncio.to_thread(server)
    return await asyncio.to_thread(EmbeddedColdStore, embedded_path)
