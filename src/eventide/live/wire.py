"""What one ingest call's accepted events look like on their project's Redis channel.

One message per call and project: ``{"project": 7, "events": [[eventId, userId,
eventType, occurredAt, receivedAt, properties], ...]}``, instants in microseconds since
the epoch. Properties are embedded as the JSON text that ingestion validated, so the
publisher does not parse them again; subscribers parse each message once per process.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """An accepted event as subscribers receive it."""

    event_id: str
    user_id: str
    event_type: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    properties: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class AcceptedEvents:
    """The events one ingest call stored in ``project``, as columns (ingestion's own)."""

    project: int
    event_ids: Sequence[str]
    user_ids: Sequence[str]
    event_types: Sequence[str]
    occurred_at: Sequence[dt.datetime]
    properties: Sequence[str | None]
    received_at: dt.datetime

    def __len__(self) -> int:
        return len(self.event_ids)


def channel(prefix: str, project: int) -> str:
    """The Redis channel of ``project``'s live events."""
    return f"{prefix}live:project:{project}"


def encode(accepted: AcceptedEvents) -> bytes:
    received = _microseconds(accepted.received_at)
    rows = [
        [
            event_id,
            user_id,
            event_type,
            _microseconds(occurred),
            received,
            None if properties is None else orjson.Fragment(properties),
        ]
        for event_id, user_id, event_type, occurred, properties in zip(
            accepted.event_ids,
            accepted.user_ids,
            accepted.event_types,
            accepted.occurred_at,
            accepted.properties,
            strict=True,
        )
    ]
    return orjson.dumps({"project": accepted.project, "events": rows})


def decode(data: bytes) -> tuple[int, list[LiveEvent]]:
    """``(project, events)`` of a message; ValueError for anything that is not one."""
    # The standard library, not orjson: properties may hold integers beyond 64 bits,
    # which orjson would read as floats.
    message = json.loads(data)
    project = message["project"]
    if type(project) is not int:
        raise ValueError("a live message names no project")
    return project, [
        LiveEvent(
            event_id=event_id,
            user_id=user_id,
            event_type=event_type,
            occurred_at=_instant(occurred),
            received_at=_instant(received),
            properties=properties,
        )
        for event_id, user_id, event_type, occurred, received, properties in message["events"]
    ]


def _microseconds(instant: dt.datetime) -> int:
    return (instant - _EPOCH) // _MICROSECOND


def _instant(microseconds: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=microseconds)
