"""The export leaves out what end-user erasures and retention leave out of every answer:
it equals the ``events`` listing and the oracle over the kept events, in every format,
while an erasure is pending and once it is complete, before the removal of the events
past retention, after an interrupted one and after a whole one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from eventide.analytics.export_formats import FORMATS
from eventide.analytics.listing import Event, EventFilter
from eventide.archive.archiver import archive_pass
from eventide.archive.expiry import remove_expired
from eventide.lifecycle.completion import complete_erasures
from eventide.storage.engines import Engines
from tests.analytics import oracle
from tests.analytics.stores import put_hot
from tests.configured import configured_client, configured_engines
from tests.conftest import TEST_PROJECT
from tests.export.read_back import listed
from tests.export.test_export import (
    ARCHIVE_NOW,
    RANGE,
    both_tiers,
    days_of_events,
    exported,
)
from tests.graphql_client import GraphQLClient
from tests.lifecycle.erasing import cold_rows, erase

RETENTION_DAYS = 30
# Two boundaries: among the cold events (the archive pass moved 1 and 2 March), and
# among the hot ones.
BOUNDARIES = [dt.datetime(2026, 3, 2, 6, tzinfo=dt.UTC), dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)]


class RemovalInterrupted(Exception):
    pass


def as_listed(events: list[Event]) -> list[dict[str, Any]]:
    """What the ``events`` listing returns for ``events`` in ``RANGE``, by the oracle,
    properties aside (the stores render numbers as JSON text their own way: 1.5e308 as
    digits; the listing and the export agree on that text)."""
    start, end = (dt.datetime.fromisoformat(bound) for bound in RANGE)
    return [
        {
            "eventId": e.event_id,
            "userId": e.user_id,
            "eventType": e.event_type,
            "occurredAt": _instant(e.occurred_at),
            "receivedAt": _instant(e.received_at),
        }
        for e in oracle.listing(events, EventFilter(occurred_from=start, occurred_to=end))
    ]


async def past(engines: Engines, boundary: dt.datetime) -> tuple[int, int]:
    """The hot rows stored before ``boundary``, and the cold ones before its day."""
    hot = await engines.db.fetchval("SELECT count(*) FROM events WHERE occurred_at < $1", boundary)
    day = f"toDateTime64('{boundary:%Y-%m-%d} 00:00:00', 6, 'UTC')"
    ((cold,),) = await engines.cold.fetch(
        f"SELECT count() FROM project_events WHERE occurred_at < {day}"
    )
    return hot, cold


def _unproperty(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "properties"} for row in rows]


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def assert_exports(
    engines: Engines, client: GraphQLClient, token: str, kept: list[Event]
) -> None:
    expected = await listed(client, token, start=RANGE[0], end=RANGE[1])
    assert _unproperty(expected) == as_listed(kept)
    for format in FORMATS:
        for chunk in (3, 1000):
            assert await exported(engines, format, chunk=chunk) == expected, (format, chunk)


async def test_erased_users_events_are_left_out_pending_and_completed(
    engines: Engines, client: GraphQLClient, user_token: str
) -> None:
    stored = await both_tiers(engines)
    # A user with events in both tiers, erased with no pass running.
    gone = stored[1].user_id
    assert {e.user_id for e in stored} > {gone}
    # Another, erased while a pass copies its hot rows: readers hide those copies by id.
    copied = days_of_events(30, first=300)
    await put_hot(engines, copied)
    other = copied[2].user_id
    assert other != gone
    erased: list[str] = []

    async def erasing(step: str) -> None:
        if step == "chunk_copied" and not erased:
            erased.append((await erase(engines, TEST_PROJECT, other)).user_id)

    await archive_pass(engines, trigger="cli", now=ARCHIVE_NOW, faults=erasing)
    assert erased
    await erase(engines, TEST_PROJECT, gone)
    kept = [e for e in [*stored, *copied] if e.user_id not in {gone, other}]
    # Pending: the users' cold rows are still stored (their hot ones are gone).
    assert await cold_rows(engines, TEST_PROJECT, gone) > 0
    assert await cold_rows(engines, TEST_PROJECT, other) > 0
    await assert_exports(engines, client, user_token, kept)
    assert len(await complete_erasures(engines)) == 2
    assert await cold_rows(engines, TEST_PROJECT, gone) == 0
    assert await cold_rows(engines, TEST_PROJECT, other) == 0
    await assert_exports(engines, client, user_token, kept)


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=["cold", "hot"])
async def test_events_past_retention_are_left_out_before_and_after_their_removal(
    engines: Engines, user_token: str, boundary: dt.datetime
) -> None:
    stored = await both_tiers(engines)
    retention: dict[str, Any] = {
        "retention_days": RETENTION_DAYS,
        "retention_now": boundary + dt.timedelta(days=RETENTION_DAYS),
    }
    retained = configured_engines(engines, **retention)
    kept = [e for e in stored if e.occurred_at >= boundary]
    assert 0 < len(kept) < len(stored)
    hot, cold = await past(engines, boundary)
    # Rows past retention in both tiers (the cold ones before the boundary's day).
    assert hot > 0
    assert cold > 0

    async def interrupted(step: str) -> None:
        if step == "hot_deleted":
            raise RemovalInterrupted(step)

    async with configured_client(engines, **retention) as client:
        await assert_exports(retained, client, user_token, kept)
        with pytest.raises(RemovalInterrupted):
            await remove_expired(retained, chunk=4, faults=interrupted)
        await assert_exports(retained, client, user_token, kept)
        removal = await remove_expired(retained)
        assert removal is not None
        assert removal.boundary == boundary
        # Hot rows go up to the boundary; cold ones up to the start of its day.
        assert await past(engines, boundary) == (0, 0)
        await assert_exports(retained, client, user_token, kept)
