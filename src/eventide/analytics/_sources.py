"""Where each store's rows of a question come from: its events, or its buckets.

Buckets (the events counted per 15-minute UTC bucket and user, and in the cold store
also per event type) answer exactly what events answer when the question's window is
made of whole buckets (``calendar.Window.in_buckets``), and are several times fewer
rows. A question reads them through the same columns as events: ``instant`` (a bucket's
start: not after any of its events, on the same local day and on the same side of the
window's bounds) and ``events`` (how many events a row stands for). Buckets have no
properties: a question with property conditions reads events in both stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventide.analytics.calendar import Window
from eventide.archive.tiers import Tiers
from eventide.storage.tenant_sql import EVENTS, TYPE_BUCKETS, USER_BUCKETS


@dataclass(frozen=True)
class Source:
    """A placeholder of :mod:`eventide.storage.tenant_sql` and its columns."""

    table: str
    instant: str
    events: str


HOT_EVENTS = Source(EVENTS, "occurred_at", "1")
COLD_EVENTS = Source(EVENTS, "occurred_at", "toUInt64(1)")
_HOT_USERS = Source(USER_BUCKETS, "bucket", "events")
_COLD_USERS = Source(USER_BUCKETS, "bucket", "events")
_COLD_TYPES = Source(TYPE_BUCKETS, "bucket", "events")


def hot_source(window: Window, *, event_types: bool, properties: bool = False) -> Source:
    """The hot rows to read; ``event_types`` when the question filters or groups by event
    type (the hot store has no buckets per event type), ``properties`` when it has
    conditions on properties."""
    if properties or event_types or not window.in_buckets:
        return HOT_EVENTS
    return _HOT_USERS


def cold_source(
    tiers: Tiers, window: Window, *, event_types: bool, properties: bool = False
) -> Source:
    """The cold rows to read: buckets when they count exactly the visible rows."""
    if properties or not (tiers.visibility.bucketed and window.in_buckets):
        return COLD_EVENTS
    return _COLD_TYPES if event_types else _COLD_USERS
