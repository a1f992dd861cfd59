"""What goes over the wire: events as JSON, the ingestEvents request, and what its
answer means for the batch."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventide_sdk._uuid7 import uuid7

DOCUMENT = (
    "mutation Ingest($projectId: ID, $events: [EventInput!]!, $sentAt: DateTime) "
    "{ ingestEvents(projectId: $projectId, events: $events, sentAt: $sentAt) "
    "{ accepted duplicates rejected { index eventId code message } } }"
)
# Errors that sending the same batch again may cure; any other error refuses it for good
# (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, ...).
_TRANSIENT_CODES = frozenset({"SERVICE_UNAVAILABLE", "QUERY_TIMEOUT", "INTERNAL_SERVER_ERROR"})


@dataclass(frozen=True)
class Event:
    """One tracked event, already encoded: its properties are fixed when it is tracked,
    and every retry sends the very same bytes, eventId included."""

    event_id: str
    json: str


def encode_event(event_type: str, user_id: str, properties: Mapping[str, Any] | None) -> Event:
    event_id = str(uuid7())
    fields = {
        "eventId": event_id,
        "userId": user_id,
        "eventType": event_type,
        "occurredAt": _now(),
        "properties": dict(properties) if properties is not None else None,
    }
    # NaN and infinities are not JSON; the server would refuse them anyway.
    return Event(event_id, json.dumps(fields, allow_nan=False, separators=(",", ":")))


def request_body(project: str | None, events: list[Event]) -> bytes:
    """The request for one send. sentAt is the moment of this send, not of the first
    try: the server shifts occurredAt by its own clock minus sentAt, so a stale sentAt
    on a retry would shift every event by the time spent retrying."""
    head = json.dumps({"query": DOCUMENT})[:-1]
    variables = json.dumps({"projectId": project, "sentAt": _now()})[:-1]
    joined = ",".join(event.json for event in events)
    return f'{head},"variables":{variables},"events":[{joined}]}}}}'.encode()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Verdict(enum.Enum):
    DELIVERED = "delivered"  # stored, or counted as duplicates or rejected events
    RETRY = "retry"  # the same batch may succeed later
    RATE_LIMITED = "rate_limited"  # the same batch, after retry_after seconds
    TOO_LARGE = "too_large"  # HTTP 413: send it in smaller pieces
    REFUSED = "refused"  # the server will never take this batch


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    retry_after: float = 0.0
    message: str = ""


def judge(status: int, retry_after_header: str | None, body: bytes) -> Answer:
    """What the server's answer to one ingestEvents request means for its batch."""
    if status == 413:
        return Answer(Verdict.TOO_LARGE)
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        # A proxy's error page, a cut-off body: nothing says the batch was stored.
        return Answer(Verdict.RETRY, message=f"HTTP {status} without a GraphQL answer")
    errors = document.get("errors") or []
    result = (document.get("data") or {}).get("ingestEvents")
    if isinstance(result, dict) and not errors:
        return Answer(
            Verdict.DELIVERED,
            accepted=int(result.get("accepted", 0)),
            duplicates=int(result.get("duplicates", 0)),
            rejected=len(result.get("rejected") or []),
        )
    error = errors[0] if errors and isinstance(errors[0], dict) else {}
    extensions = error.get("extensions") or {}
    code = extensions.get("code")
    message = f"{code}: {error.get('message', '')}"
    if code == "RATE_LIMITED" or status == 429:
        wait = _seconds(extensions.get("retryAfter")) or _seconds(retry_after_header) or 1.0
        return Answer(Verdict.RATE_LIMITED, retry_after=wait, message=message)
    if code in _TRANSIENT_CODES or status >= 500:
        return Answer(Verdict.RETRY, message=message)
    return Answer(Verdict.REFUSED, message=message)


def _seconds(value: object) -> float | None:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
