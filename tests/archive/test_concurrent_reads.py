"""Readers running alongside archive passes always see every event exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

from eventide.archive.archiver import archive_pass
from eventide.storage.engines import Engines
from tests.archive.tiers import NOW, Event, put_hot, read_tiers, spread


async def test_reads_during_passes_never_see_a_wrong_total(engines: Engines) -> None:
    days = [dt.date(2026, 11, d) for d in (3, 5, 6)]
    events = [e for day in days for e in spread(f"{day:%d}-", day, 25)]
    events.append(Event("recent", NOW - dt.timedelta(hours=1)))
    await put_hot(engines, events)
    late = Event("late", dt.datetime(2026, 11, 3, 0, 0, tzinfo=dt.UTC))  # before any copied row
    expected = Counter(e.event_id for e in events)
    with_late = expected + Counter([late.event_id])
    done = asyncio.Event()
    reads: list[int] = []
    stored_late: list[Event] = []

    async def reader() -> None:
        while not done.is_set():
            seen = (await read_tiers(engines)).all
            # Before the late event is stored, or after: never anything else.
            assert seen in (expected, with_late), seen - with_late or with_late - seen
            reads.append(1)

    async def interleave(step: str) -> None:
        if step == "chunk_copied" and not stored_late:
            stored_late.append(late)
            await put_hot(engines, stored_late)
        await asyncio.sleep(0.005)

    readers = [asyncio.create_task(reader()) for _ in range(3)]
    try:
        first = await archive_pass(
            engines, trigger="cli", now=NOW, batch_size=10, faults=interleave
        )
        second = await archive_pass(
            engines, trigger="cli", now=NOW, batch_size=10, faults=interleave
        )
    finally:
        done.set()
        await asyncio.gather(*readers)

    assert (first.moved, second.moved) == (75, 1)
    assert len(reads) > 10
    tiers = await read_tiers(engines)
    assert tiers.all == with_late
    assert tiers.hot == ["recent"]
