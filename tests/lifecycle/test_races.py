"""An erasure against what runs at the same time: ingestion under way, a day about to be
dropped by an archive pass, the rewrite of the cold layout from before projects."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import Counter

from eventide.archive.archiver import archive_pass
from eventide.archive.tiers import tier_snapshot
from eventide.lifecycle.completion import complete_erasures
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, LEGACY_COLD_TABLE, LEGACY_PROJECT, Scope
from tests.archive.tiers import NOW, Event, put_hot, read_tiers, spread
from tests.conftest import TEST_PROJECT
from tests.lifecycle.erasing import cold_rows, erase, record
from tests.projects.test_purge import _legacy_batch, _recreate_legacy_table
from tests.waiting import backend_waiting_for_lock

DAY = dt.date(2026, 11, 2)
ERASED = "u1"


async def test_ingestion_under_way_commits_before_the_erasure_deletes(engines: Engines) -> None:
    """An event whose ingestion statement began before the call is accepted before it:
    the erasure waits for that statement and deletes the event."""
    await put_hot(engines, [Event("warm", NOW - dt.timedelta(hours=1), user_id=ERASED)])
    async with engines.db.acquire() as writer, engines.db.acquire() as observer:
        ingesting = writer.transaction()
        await ingesting.start()
        await writer.execute(
            """INSERT INTO events (project_id, event_id, user_id, event_type, occurred_at,
                                   received_at)
               VALUES ($1, 'in-flight', $2, 'click', $3, $3)""",
            TEST_PROJECT,
            ERASED,
            NOW - dt.timedelta(hours=2),
        )
        erasing = asyncio.create_task(erase(engines, TEST_PROJECT, ERASED))
        await backend_waiting_for_lock(observer, "LOCK TABLE ONLY events%")
        assert not erasing.done()
        await ingesting.commit()
        erasure = await erasing
    assert (await record(engines, erasure.id)).id == erasure.id
    await complete_erasures(engines)
    assert (await read_tiers(engines, TEST_PROJECT)).all == Counter()
    assert (await record(engines, erasure.id)).deleted_events == 2


async def test_late_events_replacing_erased_rows_keep_their_day_hot(engines: Engines) -> None:
    """The erasure takes as many rows out of a day being copied as late events then add:
    the day's row count is what was copied, yet the late events must not be dropped."""
    events = [dataclasses.replace(e, project=TEST_PROJECT) for e in spread("d-", DAY, 12)]
    await put_hot(engines, events)
    erased = [e for e in events if e.user_id == ERASED]
    late = [
        Event(f"late-{i}", e.occurred_at + dt.timedelta(seconds=1), user_id="late")
        for i, e in enumerate(erased)
    ]

    async def meanwhile(step: str) -> None:
        if step == "day_copied":
            await erase(engines, TEST_PROJECT, ERASED)
            await put_hot(engines, late)

    await archive_pass(engines, trigger="cli", now=NOW, batch_size=5, faults=meanwhile)
    tiers = await read_tiers(engines, TEST_PROJECT)
    kept = [e.event_id for e in events if e.user_id != ERASED]
    assert sorted(tiers.hot) == sorted(e.event_id for e in late)
    assert sorted(tiers.cold) == sorted(kept)
    await complete_erasures(engines)
    await archive_pass(engines, trigger="cli", now=NOW, batch_size=5)
    tiers = await read_tiers(engines, TEST_PROJECT)
    assert tiers.all == Counter(kept + [e.event_id for e in late])


async def _legacy_rows(engines: Engines, user_id: str) -> int:
    rows = await engines.cold.fetch(
        f"SELECT count() FROM {LEGACY_COLD_TABLE} WHERE user_id = %(u)s", {"u": user_id}
    )
    return int(rows[0][0])


async def _legacy_table_present(engines: Engines) -> bool:
    rows = await engines.cold.fetch(
        "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = %(n)s",
        {"n": LEGACY_COLD_TABLE},
    )
    return bool(rows[0][0])


async def test_rows_from_before_projects_are_erased_in_their_layout(engines: Engines) -> None:
    """A pending erasure holds back the rewrite into the current layout (the copy would
    count again); once complete, the rewrite carries on without the user's rows."""
    assert TEST_PROJECT == LEGACY_PROJECT
    await _recreate_legacy_table(engines)
    await _legacy_batch(engines, DAY, "old-")
    old = spread("old-", DAY, 10)
    erasure = await erase(engines, TEST_PROJECT, ERASED)
    kept = Counter(e.event_id for e in old if e.user_id != ERASED)
    assert (await read_tiers(engines, TEST_PROJECT)).all == kept
    await archive_pass(engines, trigger="cli", now=NOW)
    assert (await read_tiers(engines, TEST_PROJECT)).all == kept
    assert await _legacy_table_present(engines)
    await complete_erasures(engines)
    assert await _legacy_rows(engines, ERASED) == 0
    assert (await record(engines, erasure.id)).deleted_events == len(old) - len(kept)
    await archive_pass(engines, trigger="cli", now=NOW)
    assert not await _legacy_table_present(engines)
    assert (await read_tiers(engines, TEST_PROJECT)).all == kept
    assert await cold_rows(engines, TEST_PROJECT, ERASED) == 0


async def test_an_erasure_while_the_old_layout_is_rewritten(engines: Engines) -> None:
    await _recreate_legacy_table(engines)
    await _legacy_batch(engines, DAY, "old-")
    old = spread("old-", DAY, 10)
    kept = Counter(e.event_id for e in old if e.user_id != ERASED)
    erased: list[int] = []

    async def meanwhile(step: str) -> None:
        if step == "relayout_copied" and not erased:
            erased.append((await erase(engines, TEST_PROJECT, ERASED)).id)

    run = await archive_pass(engines, trigger="cli", now=NOW, faults=meanwhile)
    assert run.status == "succeeded"
    assert (await read_tiers(engines, TEST_PROJECT)).all == kept
    await complete_erasures(engines)
    assert (await read_tiers(engines, TEST_PROJECT)).all == kept
    await archive_pass(engines, trigger="cli", now=NOW)
    assert (await read_tiers(engines, TEST_PROJECT)).all == kept
    assert (await record(engines, erased[0])).deleted_events == len(old) - len(kept)
    scope = Scope.of(TEST_PROJECT)
    left = await engines.cold.fetch(
        scope.cold(f"SELECT count() FROM {EVENTS}", visible="", legacy=True)
    )
    assert int(left[0][0]) == len(kept)


async def test_a_reader_from_before_the_erasure_keeps_its_answer(engines: Engines) -> None:
    """A snapshot taken before the call counts the user's events in both tiers until it
    ends: the cold ones wait for it."""
    events = [dataclasses.replace(e, project=TEST_PROJECT) for e in spread("d-", DAY, 12)]
    await put_hot(engines, events)
    await archive_pass(engines, trigger="cli", now=NOW, batch_size=5)
    scope = Scope.of(TEST_PROJECT)
    async with tier_snapshot(engines, scope=scope) as before:
        seen = await before.cold_fetch(f"SELECT count() FROM {EVENTS}")
        erasure = await erase(engines, TEST_PROJECT, ERASED)
        assert await complete_erasures(engines) == []  # gave up waiting for this reader
        assert await before.cold_fetch(f"SELECT count() FROM {EVENTS}") == seen
    assert await complete_erasures(engines) == [erasure.id]
    assert (await record(engines, erasure.id)).deleted_events == sum(
        e.user_id == ERASED for e in events
    )


async def test_erasures_and_a_pass_at_the_same_time(engines: Engines) -> None:
    """Truly concurrent, not stepped: whatever the interleaving, nothing deadlocks, the
    pass succeeds, and exactly the erased users' events are gone."""
    days = [dt.date(2026, 11, d) for d in (1, 2, 3)]
    events = [
        dataclasses.replace(e, project=TEST_PROJECT, user_id=f"u{i % 5}")
        for n, day in enumerate(days)
        for i, e in enumerate(spread(f"d{n}-", day, 40))
    ]
    await put_hot(engines, events)
    doomed = ["u1", "u3"]

    async def erase_later(user_id: str, delay: float) -> int:
        await asyncio.sleep(delay)
        return (await erase(engines, TEST_PROJECT, user_id)).id

    run, *erasures = await asyncio.gather(
        archive_pass(engines, trigger="cli", now=NOW, batch_size=3),
        erase_later(doomed[0], 0.01),
        erase_later(doomed[1], 0.05),
    )
    assert run.status == "succeeded"
    kept = Counter(e.event_id for e in events if e.user_id not in doomed)
    assert (await read_tiers(engines, TEST_PROJECT)).all == kept
    assert await complete_erasures(engines) == sorted(erasures)
    assert (await read_tiers(engines, TEST_PROJECT)).all == kept
    deleted = [(await record(engines, e)).deleted_events for e in erasures]
    assert deleted == [sum(e.user_id == u for e in events) for u in doomed]
