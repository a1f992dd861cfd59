"""A pass killed at every step of the protocol loses nothing and counts nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest

from eventide.archive.archiver import archive_pass
from eventide.archive.recovery import SETTLE_AFTER
from eventide.archive.tiers import tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope
from tests.archive.tiers import NOW, Event, assert_exactly_once, copied_events, put_hot, spread


class Killed(BaseException):
    """Stands for the process dying: no ``except Exception`` handler of the pass runs."""


# With 10 events a day and batches of 4, a day is copied in 3 batches. Days past the hot
# window leave PostgreSQL; closed days within it move to copied_events.
DAYS = {
    "past": (dt.date(2026, 11, 1), dt.date(2026, 11, 2)),
    "window": (dt.date(2026, 11, 20), dt.date(2026, 11, 21)),
}
BATCH_SIZE = 4
BATCHES_PER_DAY = 3
STEPS_PER_PASS = {
    # step: (times in a pass that drops partitions, times in a pass that deletes by id)
    "batch_created": (6, 6),
    "chunk_copied": (6, 6),
    "day_copied": (2, 2),
    "hot_removed": (2, 6),
    "committed": (2, 6),
}
CASES = [
    pytest.param(days, path, step, nth, id=f"{days}-{path}-{step}-{nth}")
    for days in DAYS
    for path, column in (("drop", 0), ("delete", 1))
    for step, times in STEPS_PER_PASS.items()
    for nth in sorted({1, 2, times[column]})
    if nth <= times[column]
]


def _scenario(days: tuple[dt.date, ...]) -> list[Event]:
    recent = [Event("recent", NOW - dt.timedelta(hours=3))]
    return [e for i, day in enumerate(days) for e in spread(f"d{i}-", day, 10)] + recent


async def _invisible_cold_rows(engines: Engines) -> int:
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        predicate, params = tiers.visibility.sql()
        rows = await engines.cold.fetch(
            f"SELECT count() FROM project_events WHERE NOT ({predicate})", params
        )
    return int(rows[0][0])


@pytest.mark.parametrize(("days", "path", "step", "nth"), CASES)
async def test_a_pass_killed_at_any_step_is_recovered(
    engines: Engines, days: str, path: str, step: str, nth: int
) -> None:
    events = _scenario(DAYS[days])
    await put_hot(engines, events)
    seen: dict[str, int] = {}

    async def kill(name: str) -> None:
        copied = seen.get("chunk_copied", 0)
        if path == "delete" and name == "chunk_copied" and copied % BATCHES_PER_DAY == 0:
            # A late event for the day being copied: its partition can no longer be
            # dropped, so every batch is committed by deleting its own rows.
            day = DAYS[days][copied // BATCHES_PER_DAY]
            late = Event(f"late-{day}", dt.datetime.combine(day, dt.time(), dt.UTC))
            events.append(late)
            await put_hot(engines, [late])
        seen[name] = seen.get(name, 0) + 1
        if name == step and seen[name] == nth:
            raise Killed

    with pytest.raises(Killed):
        await archive_pass(engines, trigger="cli", now=NOW, batch_size=BATCH_SIZE, faults=kill)
    # Whatever was copied or committed so far, every event counts once.
    await assert_exactly_once(engines, events)

    run = await archive_pass(engines, trigger="cli", now=NOW, batch_size=BATCH_SIZE)

    assert run.status == "succeeded"
    tiers = await assert_exactly_once(engines, events)
    assert tiers.hot == ["recent"]
    # Rows of the interrupted batches are deleted, not only hidden.
    assert await _invisible_cold_rows(engines) == 0
    runs = await engines.db.fetch("SELECT status, error, moved FROM archive_runs ORDER BY id")
    assert [(r["status"], r["error"]) for r in runs] == [
        ("failed", "interrupted"),
        ("succeeded", None),
    ]
    assert sum(r["moved"] for r in runs) == len(events) - 1
    # PostgreSQL keeps one copy of each event of the window's closed days, none of the others.
    kept = sorted(e.event_id for e in events if e.event_id != "recent") if days == "window" else []
    assert await copied_events(engines) == kept
    await _assert_exclusions_settle(engines)


async def _assert_exclusions_settle(engines: Engines) -> None:
    """Aborted batches stay excluded until they are old enough, then leave the list."""
    states = {r["state"] for r in await engines.db.fetch("SELECT state FROM archive_batches")}
    assert states <= {"committed", "aborted"}
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        aborted = await engines.db.fetch(
            "SELECT id FROM archive_batches WHERE state = 'aborted' AND id < $1 ORDER BY id",
            tiers.visibility.max_committed,
        )
        assert tiers.visibility.excluded == tuple(r["id"] for r in aborted)
    await engines.db.execute(
        "UPDATE archive_batches SET finished_at = finished_at - $1::interval"
        " WHERE state = 'aborted'",
        SETTLE_AFTER,
    )
    await archive_pass(engines, trigger="cli", now=NOW)
    assert (
        await engines.db.fetchval(
            "SELECT count(*) FROM archive_batches WHERE state = 'aborted' AND NOT cleaned"
        )
        == 0
    )
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        assert tiers.visibility.excluded == ()


async def test_a_failing_pass_is_recorded_and_retried(engines: Engines) -> None:
    events = _scenario(DAYS["past"])
    await put_hot(engines, events)

    async def cold_store_down(name: str) -> None:
        if name == "chunk_copied":
            raise ConnectionError("cold store unreachable")

    with pytest.raises(ConnectionError):
        await archive_pass(engines, trigger="cli", now=NOW, faults=cold_store_down)
    failed = await engines.db.fetchrow("SELECT status, error, finished_at FROM archive_runs")
    assert (failed["status"], failed["error"]) == ("failed", "ConnectionError")
    assert failed["finished_at"] is not None
    await assert_exactly_once(engines, events)

    assert (await archive_pass(engines, trigger="cli", now=NOW)).moved == len(events) - 1
    assert (await assert_exactly_once(engines, events)).hot == ["recent"]
    assert await _invisible_cold_rows(engines) == 0
    await _assert_exclusions_settle(engines)
