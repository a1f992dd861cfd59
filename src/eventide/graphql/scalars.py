"""Custom scalars of the contract: DateTime (UTC, ``Z``), BigInt and JSON.

Annotate with ``datetime.datetime`` for DateTime and with :data:`BigInt` for BigInt.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import deque
from typing import Any, NewType

import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

__all__ = [
    "JSON",
    "SCALAR_MAP",
    "BigInt",
    "format_datetime",
    "parse_datetime",
    "parse_datetimes",
]

MAX_SAFE_INTEGER = 2**53
_STRINGS = frozenset({str})
_TZINFO = operator.attrgetter("tzinfo")
_IN_UTC = operator.methodcaller("astimezone", dt.UTC)


def format_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime in an API response")
    text = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def parse_datetime(value: Any) -> dt.datetime:
    """RFC 3339 with an explicit offset; ``Z`` accepted. Naive timestamps are refused."""
    if not isinstance(value, str):
        raise ValueError("DateTime must be an RFC 3339 string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"invalid RFC 3339 timestamp: {value[:64]!r}") from None
    if parsed.tzinfo is None:
        raise ValueError("DateTime needs a UTC offset, e.g. 2026-11-20T10:00:00Z")
    try:
        # Year 1 at +23:59 or year 9999 at -23:59 has no UTC instant within the calendar.
        parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(
            f"DateTime out of range: {value[:64]!r} falls outside years 1 to 9999 in UTC"
        ) from None
    return parsed


def parse_datetimes(values: list[Any]) -> list[dt.datetime]:
    """:func:`parse_datetime` of every value, a step at a time over all of them; raises
    ValueError, without saying which, when any value is refused (or is not exactly a
    ``str``)."""
    if not set(map(type, values)) <= _STRINGS:
        raise ValueError("DateTime must be an RFC 3339 string")
    parsed = list(map(dt.datetime.fromisoformat, values))
    if None in map(_TZINFO, parsed):
        raise ValueError("DateTime needs a UTC offset")
    try:
        deque(map(_IN_UTC, parsed), maxlen=0)
    except OverflowError:
        raise ValueError("DateTime out of range") from None
    return parsed


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("BigInt must be an integer")
    number = int(value)
    if abs(number) > MAX_SAFE_INTEGER:
        raise ValueError("BigInt out of range")
    return number


BigInt = NewType("BigInt", int)

# Passed to StrawberryConfig: plain ``datetime`` annotations become the contract's
# DateTime, and ``BigInt`` annotations its BigInt.
SCALAR_MAP: dict[object, ScalarDefinition] = {
    dt.datetime: strawberry.scalar(
        name="DateTime",
        description="RFC 3339 timestamp with an offset; output is always UTC with a Z suffix.",
        serialize=format_datetime,
        parse_value=parse_datetime,
    ),
    BigInt: strawberry.scalar(
        name="BigInt",
        description="Integer that may exceed 32 bits (event counts); a JSON number up to 2^53.",
        serialize=int,
        parse_value=_parse_bigint,
    ),
}
