"""Reading both tiers through one snapshot, and handing hot rows to ClickHouse.

Every analytics question reads the hot store through the snapshot's connection and
filters every cold query with the snapshot's visibility, so each event is counted in
exactly one tier. Where a distinct count spans both tiers, the (small) hot side is
shipped into the ClickHouse query as inline data and ClickHouse counts the union.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from eventide.archive.snapshot import ColdVisibility, tier_snapshot
from eventide.services import Services
from eventide.storage.clickhouse import Row

# Inline data makes long statements; they are built here, never from caller text.
_MAX_QUERY_BYTES = 1 << 30


@dataclass
class Tiers:
    """The hot connection and the cold store as of one snapshot."""

    hot: asyncpg.Connection
    services: Services
    visibility: ColdVisibility
    _pushed: int = field(default=0)

    @property
    def visible(self) -> str:
        """The ClickHouse predicate selecting the cold rows of this snapshot."""
        return self.visibility.sql()[0]

    async def cold_fetch(self, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
        """Run a cold query written with :attr:`visible` (and maybe :meth:`push`)."""
        merged = {**self.visibility.sql()[1], **(params or {})}
        return await self.services.cold.fetch(
            f"{sql} SETTINGS max_query_size = {_MAX_QUERY_BYTES}", merged
        )

    def push(self, params: dict[str, Any], structure: str, rows: Iterable[Sequence[Any]]) -> str:
        """A ClickHouse table expression holding ``rows``; adds its data to ``params``.

        ``structure`` names and types the columns, e.g. ``"day Int64, user_id String"``.
        """
        name = f"pushed_{self._pushed}"
        self._pushed += 1
        params[name] = "\n".join(json.dumps(list(row), ensure_ascii=False) for row in rows)
        return f"format(JSONCompactEachRow, '{structure}', %({name})s)"


@contextlib.asynccontextmanager
async def snapshot(services: Services) -> AsyncIterator[Tiers]:
    async with tier_snapshot(services) as (conn, visibility):
        yield Tiers(hot=conn, services=services, visibility=visibility)
