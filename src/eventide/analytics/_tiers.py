"""Reading both tiers through one snapshot, and handing hot rows to ClickHouse.

Every analytics question reads the hot store through the snapshot's connection and
filters every cold query with the snapshot's visibility, so each event is counted in
exactly one tier. Where a distinct count spans both tiers, the hot side (the small
one) is shipped into the ClickHouse query as inline data.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from eventide.archive.snapshot import ColdVisibility, joined_snapshot, tier_snapshot
from eventide.storage.clickhouse import Row
from eventide.storage.engines import Engines

# Inline data makes long statements; they are built here, never from caller text.
_MAX_QUERY_BYTES = 1 << 30
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'"})


@dataclass
class Tiers:
    """The hot connection and the cold store as of one snapshot."""

    hot: asyncpg.Connection
    engines: Engines
    visibility: ColdVisibility

    @property
    def visible(self) -> str:
        """The ClickHouse predicate selecting the cold rows of this snapshot."""
        return self.visibility.sql()[0]

    async def cold_fetch(self, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
        """Run a cold query written with :attr:`visible` (and maybe :meth:`push_hot`)."""
        merged = {**self.visibility.sql()[1], **(params or {})}
        return await self.engines.cold.fetch(
            f"{sql} SETTINGS max_query_size = {_MAX_QUERY_BYTES}", merged
        )

    async def push_hot(self, sql: str, *args: Any, structure: str) -> str:
        """A ClickHouse table expression holding the rows of the hot query ``sql``.

        ``structure`` names and types the columns ``sql`` selects, e.g.
        ``"key Int64, user_id String"``. PostgreSQL renders the rows as CSV lines itself,
        and they are inlined into the cold query as one string literal: no per-row work
        in Python, and the cold store needs no write access.
        """
        return await _pushed(self.hot, HotRows(sql, args, structure))

    async def push_hot_concurrently(self, first: HotRows, second: HotRows) -> tuple[str, str]:
        """:meth:`push_hot` of both, at the same time when a second connection can join
        the snapshot."""
        async with joined_snapshot(self.engines, self.hot) as other:
            if other is None:
                return await _pushed(self.hot, first), await _pushed(self.hot, second)
            return await asyncio.gather(_pushed(self.hot, first), _pushed(other, second))


@dataclass(frozen=True)
class HotRows:
    """A hot query with its ``$n`` arguments, and the ``structure`` of :meth:`Tiers.push_hot`."""

    sql: str
    args: tuple[Any, ...]
    structure: str


async def _pushed(conn: asyncpg.Connection, rows: HotRows) -> str:
    data: str = await conn.fetchval(
        f"SELECT {csv_lines(rows.structure)} FROM ({rows.sql}) hot_rows", *rows.args
    )
    return inline_table(data, rows.structure)


def csv_lines(structure: str) -> str:
    """A PostgreSQL aggregate: the rows' columns named in ``structure`` as CSV lines
    (cheaper for PostgreSQL to render and for ClickHouse to parse than JSON). The columns
    must not be NULL. Strings are quoted, with quotes doubled: CSV knows no other escape."""
    fields = []
    for column in structure.split(","):
        name, kind = column.split()
        quoted = f"""'"' || replace({name}, '"', '""') || '"'"""
        fields.append(quoted if kind == "String" else f"{name}::text")
    line = " || ',' || ".join(fields)
    return f"coalesce(string_agg({line}, E'\\n'), '')"


def inline_table(data: str, structure: str) -> str:
    """A ClickHouse table expression over CSV lines ``data`` (from :func:`csv_lines`)."""
    # Every cold query is rendered with parameters (the visibility's at least), so a
    # literal percent sign is written twice.
    literal = data.translate(_LITERAL_ESCAPES).replace("%", "%%")
    return f"format(CSV, '{structure}', '{literal}')"


@contextlib.asynccontextmanager
async def snapshot(engines: Engines) -> AsyncIterator[Tiers]:
    async with tier_snapshot(engines) as (conn, visibility):
        yield Tiers(hot=conn, engines=engines, visibility=visibility)
