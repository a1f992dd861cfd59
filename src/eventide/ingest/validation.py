"""Per-event validation of an ingestion batch.

Input events are mappings keyed by the GraphQL field names of ``EventInput``
(``eventId``, ``userId``, ``eventType``, ``occurredAt`` as an aware datetime, and
optionally ``properties``), exactly as GraphQL coerced them. Each event is checked on
its own; the valid ones come out as columns ready for a bulk insert. The common batch,
every event valid, is recognised by the same checks made a column at a time, which
cost far less than a pass of Python code per event; any other goes event by event.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import NoneType
from typing import Any

import orjson

from eventide.ingest import _properties

MAX_EVENT_ID_CHARS = 128
MAX_USER_ID_CHARS = 256
MAX_EVENT_TYPE_CHARS = 128
MAX_PROPERTIES_BYTES = 32 * 1024
MAX_PROPERTIES_DEPTH = 10
MAX_FUTURE = dt.timedelta(hours=24)
# Older instants are refused: they are no product analytics, the cold store cannot hold
# every instant before 1900, and each distinct day would become a hot-store partition.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# The escape orjson writes for U+0000, which PostgreSQL's jsonb cannot hold.
_ESCAPED_NUL = b"\\u0000"
_PROPERTIES_TYPES = frozenset({dict, NoneType})


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    event_id: str | None
    code: str
    message: str


@dataclass(slots=True)
class ValidatedBatch:
    """The valid events of a call, one column per attribute, ordered by event id.

    The order makes concurrent calls take the ledger's row locks in the same sequence,
    so overlapping batches wait for each other instead of deadlocking.
    """

    event_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)
    occurred_at: list[dt.datetime] = field(default_factory=list)
    properties: list[str | None] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # Valid events whose eventId an earlier event of the same call already carries.
    repeats: int = 0

    def __len__(self) -> int:
        return len(self.event_ids)


class _Invalid(Exception):
    def __init__(self, code: str, message: str, *, field: str = "") -> None:
        self.code = code
        self.message = message
        self.field = field


def validate_batch(
    events: Sequence[Mapping[str, Any]],
    *,
    received_at: dt.datetime,
    sent_at: dt.datetime | None,
    retained_from: dt.datetime | None = None,
) -> ValidatedBatch:
    """Check every event; valid ones become columns, invalid ones rejections.

    With ``sent_at``, each ``occurredAt`` is shifted by ``received_at - sent_at`` (the
    device's clock skew) before the future check, so a device whose clock runs ahead is
    judged, and stored, on the server's clock. With ``retained_from`` (the retention
    boundary), an event that occurred before it is refused: no query would count it.
    """
    skew = received_at - sent_at if sent_at is not None else None
    span = _Span(max(EARLIEST, retained_from or EARLIEST), received_at + MAX_FUTURE)
    whole = _valid_whole(events, skew, span)
    return whole if whole is not None else _validate_each(events, skew, span)


@dataclass(frozen=True, slots=True)
class _Span:
    """The instants an event may have occurred at: from ``earliest``, up to ``latest``."""

    earliest: dt.datetime
    latest: dt.datetime


def _valid_whole(
    events: Sequence[Mapping[str, Any]], skew: dt.timedelta | None, span: _Span
) -> ValidatedBatch | None:
    """The batch when every event is valid, checked a column at a time; None when some
    event may not be (then each is checked on its own, for its own rejection).

    Each check is the one :func:`_validate_each` makes of every event, made of the
    whole column at once: its extremes, or a scan of its values joined together.
    """
    if not events:
        return ValidatedBatch()
    try:
        event_ids = [event["eventId"] for event in events]
        user_ids = [event["userId"] for event in events]
        event_types = [event["eventType"] for event in events]
        occurred_at = [event["occurredAt"] for event in events]
        values = [event.get("properties") for event in events]
        if not (
            _texts_valid(event_ids, MAX_EVENT_ID_CHARS)
            and _texts_valid(user_ids, MAX_USER_ID_CHARS)
            and _texts_valid(event_types, MAX_EVENT_TYPE_CHARS)
        ):
            return None
        if skew is not None:
            occurred_at = [instant + skew for instant in occurred_at]
        if max(occurred_at) > span.latest or min(occurred_at) < span.earliest:
            return None
        properties = _properties_valid(values)
    except (LookupError, TypeError, ValueError, OverflowError):
        return None  # what the checks of each event say more exactly
    if properties is None:
        return None
    batch = ValidatedBatch()
    if len(set(event_ids)) == len(event_ids) and event_ids == sorted(event_ids):
        # Distinct ids sent in order, as a client numbering its events sends them.
        batch.event_ids, batch.user_ids, batch.event_types = event_ids, user_ids, event_types
        batch.occurred_at, batch.properties = occurred_at, properties
    else:
        # The first copy of each event id, in id order.
        first = dict(zip(reversed(event_ids), range(len(event_ids) - 1, -1, -1), strict=True))
        order = list(map(first.__getitem__, sorted(first)))
        batch.repeats = len(event_ids) - len(first)
        batch.event_ids = [event_ids[i] for i in order]
        batch.user_ids = [user_ids[i] for i in order]
        batch.event_types = [event_types[i] for i in order]
        batch.occurred_at = [occurred_at[i] for i in order]
        batch.properties = [properties[i] for i in order]
    return batch


def _texts_valid(values: list[str], limit: int) -> bool:
    """Whether :func:`_check_text` passes every value: checked on the values joined."""
    joined = "".join(values)
    if "\x00" in joined or "" in values or max(map(len, values)) > limit:
        return False
    if not joined.isascii():
        try:
            joined.encode()
        except UnicodeEncodeError:
            return False
    return True


def _properties_valid(values: list[Any]) -> list[str | None] | None:
    """Every ``properties`` serialized when :func:`_serialize_properties` passes each;
    None when it might not."""
    kinds = set(map(type, values))
    if not kinds <= _PROPERTIES_TYPES:
        return None
    present = [value for value in values if value is not None] if NoneType in kinds else values
    texts = list(map(orjson.dumps, present))  # refuses what _serialize_slowly may take
    if not texts:
        return list(values)
    if max(map(len, texts)) > MAX_PROPERTIES_BYTES:
        return None
    joined = b"".join(texts)
    # Every text opens at least one object: when they open few more containers than
    # that altogether, none of them opens more than the depth limit.
    opened = joined.count(b"{") + joined.count(b"[")
    if opened > len(texts) + MAX_PROPERTIES_DEPTH - 1:
        for value, text in zip(present, texts, strict=True):
            opens = text.count(b"{") + text.count(b"[")
            if opens > MAX_PROPERTIES_DEPTH and _too_deep(value):
                return None
    if _ESCAPED_NUL in joined or b"null" in joined:
        for value, text in zip(present, texts, strict=True):
            if (_ESCAPED_NUL in text or b"null" in text) and _properties.unstorable(value):
                return None
    decoded: list[str | None] = list(map(bytes.decode, texts))
    if present is values:
        return decoded
    found = iter(decoded)
    return [None if value is None else next(found) for value in values]


def _validate_each(
    events: Sequence[Mapping[str, Any]], skew: dt.timedelta | None, span: _Span
) -> ValidatedBatch:
    valid: dict[str, tuple[str, str, dt.datetime, str | None]] = {}
    batch = ValidatedBatch()
    for index, event in enumerate(events):
        event_id = event["eventId"]
        try:
            _check_text(event_id, "eventId", MAX_EVENT_ID_CHARS)
            user_id = event["userId"]
            _check_text(user_id, "userId", MAX_USER_ID_CHARS)
            event_type = event["eventType"]
            _check_text(event_type, "eventType", MAX_EVENT_TYPE_CHARS)
            occurred_at = _occurred_at(event["occurredAt"], skew, span)
            properties = _serialize_properties(event.get("properties"))
        except _Invalid as invalid:
            # An unusable eventId is not echoed: the index identifies the event.
            echoed = None if invalid.field == "eventId" else event_id
            batch.rejected.append(Rejection(index, echoed, invalid.code, invalid.message))
            continue
        if event_id in valid:
            batch.repeats += 1
        else:
            valid[event_id] = (user_id, event_type, occurred_at, properties)
    for event_id in sorted(valid):
        user_id, event_type, occurred_at, properties = valid[event_id]
        batch.event_ids.append(event_id)
        batch.user_ids.append(user_id)
        batch.event_types.append(event_type)
        batch.occurred_at.append(occurred_at)
        batch.properties.append(properties)
    return batch


def _check_text(value: str, name: str, limit: int) -> None:
    if (problem := text_problem(value, limit)) is not None:
        raise _Invalid("INVALID_FIELD", f"{name} {problem}", field=name)


def text_problem(value: str, limit: int) -> str | None:
    """Why ``value`` cannot be an id or a name of an event (of at most ``limit``
    characters), as the end of a sentence naming it; None if it can."""
    if not value:
        return "must not be empty"
    if len(value) > limit:
        return f"must be at most {limit} characters"
    if "\x00" in value:
        # PostgreSQL text cannot hold U+0000.
        return "must not contain NUL (U+0000) characters"
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return "must not contain unpaired surrogate characters"
    return None


def _occurred_at(value: dt.datetime, skew: dt.timedelta | None, span: _Span) -> dt.datetime:
    if skew is not None:
        try:
            value = value + skew
        except OverflowError:
            raise _Invalid(
                "INVALID_FIELD", "occurredAt corrected by sentAt falls outside years 1 to 9999"
            ) from None
    if value > span.latest:
        raise _Invalid(
            "FUTURE_TIMESTAMP", "occurredAt is more than 24 hours after the time of receipt"
        )
    if value < EARLIEST:
        raise _Invalid("TIMESTAMP_TOO_OLD", "occurredAt is before 1970-01-01T00:00:00Z")
    if value < span.earliest:
        earliest = span.earliest.isoformat().replace("+00:00", "Z")
        raise _Invalid(
            "TIMESTAMP_TOO_OLD",
            f"occurredAt is before {earliest}, the start of the retention period: "
            "older events are not kept",
        )
    return value


def _serialize_properties(value: Any) -> str | None:
    """The properties as compact JSON text, or None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Invalid("PROPERTIES_NOT_OBJECT", "properties must be a JSON object")
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError:
        text = _serialize_slowly(value)
    # Depth can only exceed the limit if the text opens more containers than the limit.
    if text.count(b"{") + text.count(b"[") > MAX_PROPERTIES_DEPTH:
        _check_depth(value)
    if len(text) > MAX_PROPERTIES_BYTES:
        raise _Invalid(
            "PROPERTIES_TOO_LARGE",
            f"properties take {len(text)} bytes serialized, more than {MAX_PROPERTIES_BYTES}",
        )
    # orjson writes NaN and infinities as null; both signs may also be innocent text.
    if (_ESCAPED_NUL in text or b"null" in text) and (problem := _properties.unstorable(value)):
        raise _Invalid("INVALID_FIELD", f"properties must not contain {problem}")
    return text.decode()


def _serialize_slowly(value: dict[str, Any]) -> bytes:
    """The standard library's encoding, for what orjson refuses.

    That is: integers beyond 64 bits (jsonb keeps them exactly), nesting deeper than
    orjson's limit, and unpaired surrogates, which no UTF-8 text can carry.
    """
    _check_depth(value)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        raise _Invalid(
            "INVALID_FIELD", "properties must not contain unpaired surrogate characters"
        ) from None


def _check_depth(value: dict[str, Any]) -> None:
    if _too_deep(value):
        raise _Invalid(
            "PROPERTIES_TOO_DEEP", f"properties nest deeper than {MAX_PROPERTIES_DEPTH} levels"
        )


def _too_deep(value: dict[str, Any]) -> bool:
    return _properties.depth(value, limit=MAX_PROPERTIES_DEPTH) > MAX_PROPERTIES_DEPTH
