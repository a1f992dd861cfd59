"""An erased user's events vanish for every reader at once and leave both stores exactly,
whenever the completion or an archive pass is interrupted; nothing else changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest

from eventide.archive.archiver import archive_pass
from eventide.lifecycle.completion import complete_erasures, erasure_completion
from eventide.projects import store as projects
from eventide.storage.engines import Engines
from tests.archive.tiers import NOW, TODAY, Event, put_hot, read_tiers, spread
from tests.conftest import TEST_PROJECT
from tests.lifecycle.erasing import answers, cold_buckets, cold_rows, erase, record
from tests.waiting import eventually


class Killed(BaseException):
    """Stands for the process dying: no ``except Exception`` handler runs."""


# A day past the hot window, and a closed day within it (also kept in copied_events).
DAYS = (dt.date(2026, 11, 1), dt.date(2026, 11, 21))
ERASED = "u1"


def _events(project: int, *, prefix: str = "") -> list[Event]:
    old = [e for i, day in enumerate(DAYS) for e in spread(f"{prefix}d{i}-", day, 12)]
    recent = [
        Event(f"{prefix}recent-{i}", NOW - dt.timedelta(hours=3 + i), user_id=f"u{i % 3}")
        for i in range(6)
    ]
    return [dataclasses.replace(e, project=project) for e in old + recent]


async def _projects(engines: Engines) -> int:
    """TEST_PROJECT and another with the same events, both tiers; the other's id."""
    other = (await projects.insert_project(engines.db, name="Other", timezone="UTC")).id
    for project in (TEST_PROJECT, other):
        await put_hot(engines, _events(project))
    await archive_pass(engines, trigger="cli", now=NOW, batch_size=5)
    return other


def _kept(project: int) -> Counter[str]:
    return Counter(e.event_id for e in _events(project) if e.user_id != ERASED)


async def test_erased_events_vanish_at_once_and_leave_both_stores(engines: Engines) -> None:
    other = await _projects(engines)
    before_other = await answers(engines, other)
    erasure = await erase(engines, TEST_PROJECT, ERASED)
    erased = sum(e.user_id == ERASED for e in _events(TEST_PROJECT))
    # Pending: hidden in both tiers, though the cold rows are still there.
    assert (await answers(engines, TEST_PROJECT))["events"] == _kept(TEST_PROJECT)
    assert await cold_rows(engines, TEST_PROJECT, ERASED) > 0
    assert erasure.completed_at is None
    assert erasure.deleted_events is None

    assert await complete_erasures(engines) == [erasure.id]
    done = await record(engines, erasure.id)
    assert done.completed_at is not None
    assert done.deleted_events == erased
    assert await cold_rows(engines, TEST_PROJECT, ERASED) == 0
    assert not any(user == ERASED for _, user, _ in await cold_buckets(engines, TEST_PROJECT))
    assert (await answers(engines, TEST_PROJECT))["events"] == _kept(TEST_PROJECT)
    assert await answers(engines, other) == before_other
    assert await engines.db.fetchval("SELECT count(*) FROM erased_events") == 0
    # PostgreSQL's copies of the archived rows of the window go with the erasure.
    copied = await engines.db.fetch("SELECT project_id, user_id FROM copied_events")
    assert {(r["project_id"], r["user_id"]) for r in copied} == {
        (p, u) for p in (TEST_PROJECT, other) for u in ("u0", "u1", "u2")
    } - {(TEST_PROJECT, ERASED)}
    # Nothing left to do.
    assert await complete_erasures(engines) == []


async def test_events_accepted_after_the_erasure_stay(engines: Engines) -> None:
    await _projects(engines)
    erasure = await erase(engines, TEST_PROJECT, ERASED)
    later = [
        Event("later-old", dt.datetime(2026, 11, 3, 5, tzinfo=dt.UTC), user_id=ERASED),
        Event("later-new", NOW - dt.timedelta(hours=1), user_id=ERASED),
    ]
    later = [dataclasses.replace(e, project=TEST_PROJECT) for e in later]
    await put_hot(engines, later)
    await archive_pass(engines, trigger="cli", now=NOW, batch_size=5)
    expected = _kept(TEST_PROJECT) + Counter(e.event_id for e in later)
    assert (await read_tiers(engines, TEST_PROJECT)).all == expected
    await complete_erasures(engines)
    assert (await read_tiers(engines, TEST_PROJECT)).all == expected
    erased = sum(e.user_id == ERASED for e in _events(TEST_PROJECT))
    assert (await record(engines, erasure.id)).deleted_events == erased


STEPS = ("counted", "rows_deleted", "buckets_deleted", "buckets_counted", "completed")


@pytest.mark.parametrize("step", STEPS)
async def test_a_completion_killed_at_any_step_is_finished_exactly(
    engines: Engines, step: str
) -> None:
    other = await _projects(engines)
    before_other = await answers(engines, other)
    erasure = await erase(engines, TEST_PROJECT, ERASED)
    expected = await answers(engines, TEST_PROJECT)

    async def die(name: str) -> None:
        if name == step:
            raise Killed(name)

    with pytest.raises(Killed):
        await complete_erasures(engines, faults=die)
    assert await answers(engines, TEST_PROJECT) == expected
    await complete_erasures(engines)
    erased = sum(e.user_id == ERASED for e in _events(TEST_PROJECT))
    assert (await record(engines, erasure.id)).deleted_events == erased
    assert await answers(engines, TEST_PROJECT) == expected
    assert await answers(engines, other) == before_other
    assert await cold_rows(engines, TEST_PROJECT, ERASED) == 0


Fault = Callable[[str], Awaitable[None]]


@pytest.mark.parametrize("when", ["batch_created", "chunk_copied", "day_copied"])
async def test_an_erasure_while_a_batch_is_copied(engines: Engines, when: str) -> None:
    """The pass copying the user's rows commits without them (its copies stay hidden),
    neither failing nor losing or doubling any other row."""
    events = _events(TEST_PROJECT)
    await put_hot(engines, events)
    erased: list[int] = []

    async def erase_meanwhile(name: str) -> None:
        if name == when and not erased:
            erased.append((await erase(engines, TEST_PROJECT, ERASED)).id)
            assert (await read_tiers(engines, TEST_PROJECT)).all == _kept(TEST_PROJECT)

    run = await archive_pass(engines, trigger="cli", now=NOW, batch_size=5, faults=erase_meanwhile)
    assert run.status == "succeeded"
    tiers = await read_tiers(engines, TEST_PROJECT)
    assert tiers.all == _kept(TEST_PROJECT)
    assert {e.event_id for e in events if e.occurred_at < TODAY} - {
        e.event_id for e in events if e.user_id == ERASED
    } == set(tiers.cold)
    # The batch committed the copies of erased rows; hidden, they wait for the completion.
    assert await cold_rows(engines, TEST_PROJECT, ERASED) > 0
    await complete_erasures(engines)
    assert (await read_tiers(engines, TEST_PROJECT)).all == _kept(TEST_PROJECT)
    assert (await record(engines, erased[0])).deleted_events == sum(
        e.user_id == ERASED for e in events
    )
    assert await cold_rows(engines, TEST_PROJECT, ERASED) == 0


async def test_user_ids_are_data_not_sql(engines: Engines) -> None:
    odd = "o'ne\\' OR 1=1 -- %(vis_max)s {events} __pushed_hot_rows_0__ ü"
    events = [
        dataclasses.replace(e, user_id=odd if e.user_id == ERASED else e.user_id)
        for e in _events(TEST_PROJECT)
    ]
    await put_hot(engines, events)
    await archive_pass(engines, trigger="cli", now=NOW, batch_size=5)
    await erase(engines, TEST_PROJECT, odd)
    assert (await read_tiers(engines, TEST_PROJECT)).all == Counter(
        e.event_id for e in events if e.user_id != odd
    )
    await complete_erasures(engines)
    assert (await read_tiers(engines, TEST_PROJECT)).all == Counter(
        e.event_id for e in events if e.user_id != odd
    )
    assert await cold_rows(engines, TEST_PROJECT, odd) == 0


async def test_a_pending_erasure_is_completed_at_startup(engines: Engines) -> None:
    """An erasure whose process died before completing it is finished by the next
    process's first turn."""
    await _projects(engines)
    erasure = await erase(engines, TEST_PROJECT, ERASED)

    async def completed() -> bool | None:
        return (await record(engines, erasure.id)).completed_at is not None or None

    async with erasure_completion(engines, interval=3600):
        await eventually(completed, what="the erasure completes")
    assert await cold_rows(engines, TEST_PROJECT, ERASED) == 0
