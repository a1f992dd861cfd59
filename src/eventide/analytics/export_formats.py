"""The files an export writes: NDJSON, CSV or Parquet, each written as the rows come.

Every format carries the listing's fields under its names (``eventId``, ``userId``,
``eventType``, ``occurredAt``, ``receivedAt``, ``properties``). Rows come from
:func:`eventide.analytics.export.export_events` with instants already rendered as the
API writes them and properties as their stored JSON text: the text the API itself parses
to answer, so a reader parsing it gets exactly the API's value (integers of any size,
every character), whatever the spacing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable
from json.encoder import encode_basestring
from typing import Any, BinaryIO, Protocol

from eventide.analytics.export import Row
from eventide.errors import InvalidInput

FORMATS = ("ndjson", "csv", "parquet")
FIELDS = ("eventId", "userId", "eventType", "occurredAt", "receivedAt", "properties")
# Parquet row groups of about this many events: few enough groups that readers skip
# well, small enough that a group's columns stay a few megabytes before they are written.
ROW_GROUP_EVENTS = 100_000


class Writer(Protocol):
    def write(self, rows: list[Row]) -> None: ...

    def close(self) -> None:
        """Finish the file (Parquet writes its footer here); ``out`` stays open."""


class _NdjsonWriter:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def write(self, rows: list[Row]) -> None:
        # Stored JSON text holds no raw line break (JSON escapes them in strings), so
        # each event stays on its line.
        lines = [
            f'{{"eventId":{encode_basestring(event_id)},"userId":{encode_basestring(user)}'
            f',"eventType":{encode_basestring(kind)},"occurredAt":"{occurred}"'
            f',"receivedAt":"{received}","properties":{properties or "null"}}}\n'
            for event_id, user, kind, occurred, received, properties in rows
        ]
        text = "".join(lines)
        # Valid in JSON as they are, but line breaks to many a line splitter.
        if "\u2028" in text or "\u2029" in text:
            text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        self._out.write(text.encode())

    def close(self) -> None:
        self._out.flush()


class _CsvWriter:
    """RFC 4180 (CRLF line ends, fields quoted where they need it); ``properties`` is
    its JSON text, empty where the event has none."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._csv.writerow(FIELDS)

    def write(self, rows: list[Row]) -> None:
        self._csv.writerows(rows)
        self._out.write(self._text.getvalue().encode())
        self._text.seek(0)
        self._text.truncate()

    def close(self) -> None:
        self._out.write(self._text.getvalue().encode())
        self._out.flush()


class _ParquetWriter:
    """Row groups of :data:`ROW_GROUP_EVENTS` events or a batch more; instants as
    ``timestamp[us, UTC]``, properties as JSON text (null where the event has none)."""

    def __init__(self, out: BinaryIO) -> None:
        # Imported here: pyarrow takes a while to load, and only Parquet needs it.
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        instant_type = pa.timestamp("us", tz="UTC")
        self._schema = pa.schema(
            [
                pa.field("eventId", pa.string(), nullable=False),
                pa.field("userId", pa.string(), nullable=False),
                pa.field("eventType", pa.string(), nullable=False),
                pa.field("occurredAt", instant_type, nullable=False),
                pa.field("receivedAt", instant_type, nullable=False),
                pa.field("properties", pa.string()),
            ]
        )
        self._writer = pq.ParquetWriter(out, self._schema, compression="zstd")
        # Held as Arrow columns (a fraction of the rows' size as Python objects) until a
        # row group's worth is there.
        self._pending: list[Any] = []
        self._held = 0

    def write(self, rows: list[Row]) -> None:
        pa = self._pa
        # Instants go in as their text, which Arrow reads exactly (microseconds, UTC).
        arrays = [
            pa.array(column, type=pa.string()).cast(field.type)
            for column, field in zip(zip(*rows, strict=True), self._schema, strict=True)
        ]
        self._pending.append(pa.RecordBatch.from_arrays(arrays, schema=self._schema))
        self._held += len(rows)
        if self._held >= ROW_GROUP_EVENTS:
            self._flush()

    def _flush(self) -> None:
        table = self._pa.Table.from_batches(self._pending, schema=self._schema)
        self._pending, self._held = [], 0
        self._writer.write_table(table, row_group_size=len(table))

    def close(self) -> None:
        if self._pending:
            self._flush()
        self._writer.close()


def writer(format: str, out: BinaryIO) -> Writer:
    """A writer of ``format`` (one of :data:`FORMATS`) into the binary stream ``out``."""
    if format == "ndjson":
        return _NdjsonWriter(out)
    if format == "csv":
        return _CsvWriter(out)
    if format == "parquet":
        return _ParquetWriter(out)
    raise InvalidInput(f"unknown format {format!r}: one of {', '.join(FORMATS)}")


async def write_all(batches: AsyncIterable[list[Row]], format: str, out: BinaryIO) -> int:
    """Write every batch to ``out`` in ``format``; the number of events written."""
    output = writer(format, out)
    written = 0
    async for rows in batches:
        output.write(rows)
        written += len(rows)
    output.close()
    return written
