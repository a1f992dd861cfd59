"""Questions read buckets where they answer exactly what events answer, and events where
not; both give the oracle's answers, also while old batches are still being bucketed."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from eventide.analytics import calendar
from eventide.analytics._sources import COLD_EVENTS, HOT_EVENTS, cold_source, hot_source
from eventide.analytics.dau import daily_active_users
from eventide.analytics.listing import Event
from eventide.analytics.top_events import top_events
from eventide.archive.archiver import archive_pass
from eventide.archive.tiers import tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import COLD_BUCKET_TABLES, TYPE_BUCKETS, USER_BUCKETS, Scope
from tests.analytics import oracle
from tests.analytics.stores import put_hot
from tests.analytics.test_oracle import assert_retention
from tests.archive.tiers import read_tiers

UTC = dt.UTC


def window(tz: str, first: dt.date, days: int) -> calendar.Window:
    start = calendar.day_number(first)
    return calendar.window(calendar.zone(tz), start, start + days - 1)


@pytest.mark.parametrize(
    ("tz", "first", "in_buckets"),
    [
        ("America/New_York", dt.date(2026, 3, 1), True),  # a daylight-saving change inside
        ("Asia/Kathmandu", dt.date(2026, 1, 1), True),  # +05:45
        ("Australia/Lord_Howe", dt.date(2026, 3, 20), True),  # a 30-minute change
        ("Africa/Monrovia", dt.date(1971, 1, 1), False),  # -00:44:30 until 1972
        ("Europe/Amsterdam", dt.date(1930, 1, 1), False),  # +00:19:32 until 1937
        ("Asia/Kathmandu", dt.date(1900, 1, 1), False),  # +05:41:16 until 1920
    ],
)
def test_windows_of_whole_buckets(tz: str, first: dt.date, in_buckets: bool) -> None:
    assert window(tz, first, 40).in_buckets is in_buckets


async def test_each_store_reads_buckets_only_where_they_are_exact(engines: Engines) -> None:
    modern, old = (
        window("UTC", dt.date(2026, 3, 1), 7),
        window("Africa/Monrovia", dt.date(1971, 1, 1), 7),
    )
    assert hot_source(modern, event_types=False).table == USER_BUCKETS
    assert hot_source(modern, event_types=True) is HOT_EVENTS  # no hot buckets per type
    assert hot_source(old, event_types=False) is HOT_EVENTS
    async with tier_snapshot(engines, scope=Scope.of(1)) as tiers:
        assert tiers.visibility.bucketed
        assert cold_source(tiers, modern, event_types=False).table == USER_BUCKETS
        assert cold_source(tiers, modern, event_types=True).table == TYPE_BUCKETS
        assert cold_source(tiers, old, event_types=True) is COLD_EVENTS


def _events(rng: random.Random, start: dt.datetime, count: int) -> list[Event]:
    """Sessions of a few users, some spanning bucket and local-day edges."""
    events = []
    for i in range(count):
        at = start + dt.timedelta(minutes=rng.randrange(0, 20 * 24 * 60), seconds=rng.random())
        events.append(
            Event(
                event_id=f"e{i}",
                user_id=f"u{rng.randrange(12)}",
                event_type=rng.choice(["view", "click", "buy"]),
                occurred_at=at,
                received_at=at,
                properties=None,
            )
        )
    return events


async def _assert_answers(engines: Engines, events: list[Event], tz: str, first: dt.date) -> None:
    last = first + dt.timedelta(days=19)
    zone = ZoneInfo(tz)
    for event_type in (None, "view"):
        got = await daily_active_users(
            engines, project=1, first=first, last=last, timezone=tz, event_type=event_type
        )
        assert [(r.date, r.users) for r in got] == oracle.dau(events, first, last, zone, event_type)
    top = await top_events(engines, project=1, first=first, last=last, timezone=tz, limit=3)
    assert [(r.event_type, r.events, r.users) for r in top] == oracle.top_events(
        events, first, last, zone, 3
    )
    await assert_retention(engines, 1, events, (first, last), tz, periods=3, types=("view", None))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("Africa/Monrovia", dt.datetime(1971, 1, 1, tzinfo=UTC)),
        ("Europe/Amsterdam", dt.datetime(1930, 1, 1, tzinfo=UTC)),
        ("Pacific/Chatham", dt.datetime(2026, 3, 25, tzinfo=UTC)),
    ],
)
async def test_answers_in_both_tiers_with_and_without_buckets(
    engines: Engines, tz: str, start: dt.datetime
) -> None:
    events = _events(random.Random(tz), start, 400)
    await put_hot(engines, events)
    # Half the days cold, half hot; then late events on the cold days.
    await archive_pass(engines, trigger="cli", now=start + dt.timedelta(days=17), batch_size=50)
    late = _events(random.Random(1), start, 60)
    late = [Event(**{**vars(e), "event_id": f"late-{e.event_id}"}) for e in late]
    await put_hot(engines, late)
    await read_tiers(engines, 1)  # the buckets count the events of each tier
    await _assert_answers(engines, events + late, tz, start.date())


async def _unbucket(engines: Engines) -> None:
    """Make every committed batch one archived before buckets existed."""
    for table in COLD_BUCKET_TABLES:
        await engines.cold.execute(f"TRUNCATE TABLE {table}")
    await engines.db.execute("UPDATE archive_batches SET bucketed = false")


class Interrupted(Exception):
    pass


@pytest.mark.slow
async def test_batches_from_before_buckets_are_bucketed_by_later_passes(engines: Engines) -> None:
    start = dt.datetime(2026, 3, 1, tzinfo=UTC)
    events = _events(random.Random(5), start, 300)
    await put_hot(engines, events)
    await archive_pass(engines, trigger="cli", now=start + dt.timedelta(days=15), batch_size=40)
    await _unbucket(engines)
    async with tier_snapshot(engines, scope=Scope.of(1)) as tiers:
        assert not tiers.visibility.bucketed  # readers count cold events meanwhile
    await _assert_answers(engines, events, "America/New_York", start.date())

    async def die(step: str) -> None:
        if step == "old_batch_bucketed":
            raise Interrupted(step)

    # Killed after writing one batch's buckets: it stays unbucketed, and the next pass
    # writes its buckets again without counting any row twice.
    with pytest.raises(Interrupted):
        await archive_pass(engines, trigger="cli", now=start + dt.timedelta(days=15), faults=die)
    await _assert_answers(engines, events, "America/New_York", start.date())
    await archive_pass(engines, trigger="cli", now=start + dt.timedelta(days=15))
    async with tier_snapshot(engines, scope=Scope.of(1)) as tiers:
        assert tiers.visibility.bucketed
    await read_tiers(engines, 1)
    await _assert_answers(engines, events, "America/New_York", start.date())
