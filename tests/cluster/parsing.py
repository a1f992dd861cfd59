"""ClickHouse's own parser, from the embedded engine (chdb): no cluster runs in tests."""

from __future__ import annotations

import re

from eventide.storage.clickhouse import ColdStore

# An insert as the embedded transport sends it: the statement, then its rows.
_ROWS = re.compile(r"^(INSERT INTO [^\n]*? FORMAT \w+)\n.*\Z", re.DOTALL)


async def formatted(cold: ColdStore, statement: str) -> str:
    """``statement`` as ClickHouse's parser formats it; raises on a syntax error. An
    insert's rows are left out: they are data, not SQL."""
    statement = _ROWS.sub(r"\1", statement)
    rows = await cold.fetch("SELECT formatQuery(%(statement)s)", {"statement": statement})
    return str(rows[0][0])
