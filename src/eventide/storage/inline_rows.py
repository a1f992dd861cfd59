"""Rows sent along with a cold statement, standing for a table under a name in it.

The readers ship the hot side of a question this way (``archive.tiers``): PostgreSQL
renders the rows as CSV lines itself, so Python never handles them one by one. A
ClickHouse server reads them as a literal of the statement (``format(CSV, ...)``). chdb,
in this process, reads them as an Arrow table through its ``Python()`` table function:
a bare 2.4 MB literal (80,000 funnel rows) takes ClickHouse some 35 ms to parse, and in
two halves of a funnel's statement added some 65 ms to its planning, where Arrow reads
the same lines in a few milliseconds.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

# Put in once the statement's parameters are: no percent sign needs doubling.
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'"})
# The names chdb's Python() table function finds the Arrow tables under: it looks a name
# up among the variables of the frames calling it, here _query's parameters.
_ARROW_NAMES = ("rows_0", "rows_1", "rows_2", "rows_3")
# The column types rows are shipped with, and how Arrow holds each.
_ARROW_TYPES = {
    "String": pa.string(),
    "UInt8": pa.uint8(),
    "UInt16": pa.uint16(),
    "UInt64": pa.uint64(),
    "Int64": pa.int64(),
}


@dataclass(frozen=True)
class InlineRows:
    """``csv``: lines without a header, strings quoted (quotes doubled), no NULLs, of the
    columns ``structure`` names and types (``"key Int64, user_id String"``)."""

    structure: str
    csv: str

    def columns(self) -> list[tuple[str, str]]:
        return [(name, kind) for name, kind in (c.split() for c in self.structure.split(","))]


def literal_table(rows: InlineRows) -> str:
    """A table expression holding ``rows`` in the statement's text."""
    return f"format(CSV, '{rows.structure}', '{rows.csv.translate(_LITERAL_ESCAPES)}')"


def arrow_table(rows: InlineRows) -> pa.Table:
    """``rows`` as an Arrow table with the columns' names and types."""
    # Not nullable, or ClickHouse reads each column as Nullable (so another type).
    schema = pa.schema(
        [pa.field(name, _ARROW_TYPES[kind], nullable=False) for name, kind in rows.columns()]
    )
    if not rows.csv:
        return schema.empty_table()
    read = pa_csv.read_csv(
        io.BytesIO(rows.csv.encode()),
        read_options=pa_csv.ReadOptions(column_names=schema.names),
        # Quoted strings may hold line breaks; every string, even "NULL", is a string.
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=schema, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    return pa.Table.from_arrays(read.columns, schema=schema)


def chdb_query(session: Any, sql: str, fmt: str, tables: Mapping[str, InlineRows]) -> Any:
    """Run ``sql`` on the chdb ``session``, each name of ``tables`` standing for an Arrow
    table of its rows."""
    if len(tables) > len(_ARROW_NAMES):
        raise ValueError(f"at most {len(_ARROW_NAMES)} tables of rows in one statement")
    for name, arrow_name in zip(tables, _ARROW_NAMES, strict=False):
        sql = sql.replace(name, f"Python({arrow_name})")
    return _query(session, sql, fmt, *map(arrow_table, tables.values()))


def _query(
    session: Any,
    sql: str,
    fmt: str,
    rows_0: pa.Table | None = None,
    rows_1: pa.Table | None = None,
    rows_2: pa.Table | None = None,
    rows_3: pa.Table | None = None,
) -> Any:
    return session.query(sql, fmt)
