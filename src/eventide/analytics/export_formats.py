"""The files an export writes: NDJSON, CSV or Parquet, each written as the events come.

Every format carries the listing's fields under its names (``eventId``, ``userId``,
``eventType``, ``occurredAt``, ``receivedAt``, ``properties``). Properties are the JSON
the API returns, written by the standard library's encoder, which keeps integers of
any size exact (orjson would not past 64 bits); instants are UTC with microseconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterable
from typing import Any, BinaryIO, Protocol

from eventide.analytics.listing import Event
from eventide.errors import InvalidInput

FORMATS = ("ndjson", "csv", "parquet")
FIELDS = ("eventId", "userId", "eventType", "occurredAt", "receivedAt", "properties")
# Parquet row groups of about this many events: few enough groups that readers skip
# well, small enough that a group's columns stay a few megabytes before they are written.
ROW_GROUP_EVENTS = 100_000

_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def instant(value: dt.datetime) -> str:
    """An instant as the API writes it: UTC, microseconds, ``Z``."""
    utc = value.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def properties_json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else _json(value)


class Writer(Protocol):
    def write(self, events: list[Event]) -> None: ...

    def close(self) -> None:
        """Finish the file (Parquet writes its footer here); ``out`` stays open."""


class _NdjsonWriter:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def write(self, events: list[Event]) -> None:
        lines = [
            _json(
                {
                    "eventId": e.event_id,
                    "userId": e.user_id,
                    "eventType": e.event_type,
                    "occurredAt": instant(e.occurred_at),
                    "receivedAt": instant(e.received_at),
                    "properties": e.properties,
                }
            )
            for e in events
        ]
        lines.append("")
        self._out.write("\n".join(lines).encode())

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

    def write(self, events: list[Event]) -> None:
        self._csv.writerows(
            (
                e.event_id,
                e.user_id,
                e.event_type,
                instant(e.occurred_at),
                instant(e.received_at),
                "" if e.properties is None else _json(e.properties),
            )
            for e in events
        )
        self._out.write(self._text.getvalue().encode())
        self._text.seek(0)
        self._text.truncate()

    def close(self) -> None:
        self._out.write(self._text.getvalue().encode())
        self._out.flush()


class _ParquetWriter:
    """One row group per :data:`ROW_GROUP_EVENTS` events; instants as
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
        self._pending: list[Event] = []

    def write(self, events: list[Event]) -> None:
        self._pending.extend(events)
        if len(self._pending) >= ROW_GROUP_EVENTS:
            self._flush()

    def _flush(self) -> None:
        pa, events = self._pa, self._pending
        self._pending = []
        columns = [
            [e.event_id for e in events],
            [e.user_id for e in events],
            [e.event_type for e in events],
            [e.occurred_at for e in events],
            [e.received_at for e in events],
            [properties_json(e.properties) for e in events],
        ]
        arrays = [
            pa.array(values, type=field.type)
            for values, field in zip(columns, self._schema, strict=True)
        ]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

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


async def write_all(batches: AsyncIterable[list[Event]], format: str, out: BinaryIO) -> int:
    """Write every batch to ``out`` in ``format``; the number of events written."""
    output = writer(format, out)
    written = 0
    async for events in batches:
        output.write(events)
        written += len(events)
    output.close()
    return written
