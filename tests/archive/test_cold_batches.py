"""The archiver's cold-store statements."""

from __future__ import annotations

import datetime as dt

from eventide.archive import cold_batches
from eventide.archive.cold_batches import Batch
from eventide.storage.engines import Engines


def _row(event_id: str, day: dt.date, batch_id: int) -> tuple[object, ...]:
    at = dt.datetime.combine(day, dt.time(12, 0, 0, 123456), dt.UTC)
    return (1, event_id, "u", "t", at, at, "", batch_id)


async def _remaining(engines: Engines) -> list[tuple[str, int]]:
    rows = await engines.cold.fetch(
        "SELECT event_id, batch_id FROM project_events ORDER BY event_id"
    )
    return [(r[0], r[1]) for r in rows]


async def test_deletes_batches_in_several_monthly_partitions(engines: Engines) -> None:
    october, november = dt.date(2026, 10, 31), dt.date(2026, 11, 1)
    rows = [
        _row("a", october, 1),
        _row("b", october, 2),
        _row("c", november, 3),
        _row("d", november, 4),
    ]
    await engines.cold.insert("project_events", cold_batches.COLUMNS, rows)

    gone = await cold_batches.delete_batches(
        engines.cold, batches=[Batch(1, 1, october), Batch(3, 1, november)]
    )

    assert gone
    assert await _remaining(engines) == [("b", 2), ("d", 4)]


async def test_batch_keys_are_exact_to_the_microsecond(engines: Engines) -> None:
    day = dt.date(2026, 11, 2)
    rows = [_row("a", day, 7), _row("b", day, 7), _row("c", day, 8)]
    await engines.cold.insert("project_events", cold_batches.COLUMNS, rows)

    event_ids, received = await cold_batches.batch_keys(engines.cold, batch=Batch(7, 1, day))

    assert sorted(zip(event_ids, received, strict=True)) == [
        ("a", rows[0][5]),
        ("b", rows[1][5]),
    ]
