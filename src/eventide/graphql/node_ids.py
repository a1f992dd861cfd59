"""Global ids of the objects that client caches (Relay, Apollo) normalise by.

An event's ``id`` is opaque to clients: base64url (unpadded) of the JSON array
``["Event", project, eventId, receivedAt]``. ``project`` is the event's project, and
``null`` for the project that holds every event accepted before projects existed (the
Default project), so that ids given out before then keep naming the same events.
``receivedAt`` (microseconds since the epoch) is part of it because an ``eventId`` is
accepted again once its dedup window has passed, and each such copy is its own event.

Every part is stored with the event and copied unchanged by the archiver, so the id is
the same on every page and in either store.
"""

from __future__ import annotations

import base64
import binascii
import json

from eventide.analytics import calendar
from eventide.analytics.listing import Event
from eventide.errors import InvalidInput
from eventide.storage.tenant_sql import LEGACY_PROJECT

_EVENT = "Event"


def event_node_id(event: Event, *, project: int) -> str:
    """The global id of ``event``, an event of ``project``."""
    named = None if project == LEGACY_PROJECT else str(project)
    parts = [_EVENT, named, event.event_id, calendar.instant_us(event.received_at)]
    text = json.dumps(parts, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_event_node_id(node_id: str) -> tuple[str | None, str, int]:
    """``(project, eventId, receivedAt in microseconds)`` of an event's global id;
    BAD_USER_INPUT for anything that is not one."""
    try:
        raw = base64.urlsafe_b64decode(node_id + "=" * (-len(node_id) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidInput("Invalid event id") from None
    if not isinstance(value, list) or len(value) != 4 or value[0] != _EVENT:
        raise InvalidInput("Invalid event id")
    _, project, event_id, received = value
    if (
        not isinstance(project, str | None)
        or not isinstance(event_id, str)
        or type(received) is not int
    ):
        raise InvalidInput("Invalid event id")
    return project, event_id, received
