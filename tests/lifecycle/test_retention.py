"""End-user erasure and retention together: every analytics answer equals the oracle
over the events both keep (not erased, not past the boundary), with the erasures
pending while the removal of the events past retention runs (whole or interrupted), an
erasure made between two of the removal's steps, a removal interrupted before the
erasures complete, and after both are done.

Pinned cases, not generated ones: the oracles of each rule alone are exercised widely
by their own tests; here the events straddle the boundary in both tiers, and the erased
users have events on both sides of it in both tiers too."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Awaitable, Callable

import pytest

from eventide.analytics.filters import FilterOp, PropertyFilter
from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.archive.expiry import remove_expired
from eventide.lifecycle.completion import complete_erasures
from eventide.storage.engines import Engines
from tests.analytics.oracle_answers import assert_answers
from tests.analytics.stores import clear, put_hot
from tests.analytics.test_oracle import START, USERS, random_events
from tests.analytics.test_oracle_expiry import floored
from tests.configured import configured_engines
from tests.conftest import TEST_PROJECT
from tests.export.test_lifecycle import past
from tests.lifecycle.erasing import cold_rows, erase

RETENTION_DAYS = 30
# A pass at ARCHIVED moves what occurred before 26 March (a 7-day hot window).
ARCHIVED = START + dt.timedelta(days=60)
# Among the cold events (in March: February's month partitions go whole), and among
# the hot ones.
BOUNDARIES = {
    "cold": floored(START + dt.timedelta(days=38, hours=5, minutes=7)),
    "hot": floored(START + dt.timedelta(days=63, hours=2)),
}
SPAN = (START.date() - dt.timedelta(days=1), START.date() + dt.timedelta(days=92))
# Few users, so that each erased one has events in both tiers, on both sides.
FEW = [*USERS[:3], *USERS[-3:]]
ERASED_IN_PASS, ERASED = FEW[0], FEW[-2]  # "ü-ñ": a user id a literal must escape
WHERE = (PropertyFilter(("plan",), FilterOp.EQ, "pro"),)


class Interrupted(Exception):
    pass


def interrupting(step: str) -> Callable[[str], Awaitable[None]]:
    async def faults(name: str) -> None:
        if name == step:
            raise Interrupted(name)

    return faults


async def stored(engines: Engines, *, erasing_last: bool = True) -> list[Event]:
    """Events over three months, archived while ``ERASED_IN_PASS`` is erased, then late
    hot events among the cold ones, then (with ``erasing_last``) ``ERASED`` erased with no
    pass running; returns the events no erasure took."""
    await clear(engines)
    await engines.db.execute("TRUNCATE erasures CASCADE")
    rng = random.Random(20261202)
    events = [dataclasses.replace(e, user_id=rng.choice(FEW)) for e in random_events(rng, 240)]
    early, late = events[:160], events[160:]
    await put_hot(engines, early, project=TEST_PROJECT)
    copied: list[str] = []

    async def erasing(step: str) -> None:
        # Midway: days copied and committed before, and the chunk just copied, keep
        # the user's cold rows (those of the chunk are hidden by event id).
        if step == "chunk_copied":
            copied.append(step)
            if len(copied) == 8:
                await erase(engines, TEST_PROJECT, ERASED_IN_PASS)

    await archive_pass(engines, trigger="cli", now=ARCHIVED, batch_size=9, faults=erasing)
    assert len(copied) > 8
    assert await engines.db.fetchval("SELECT count(*) FROM erased_events")  # copies by id
    await put_hot(engines, late, project=TEST_PROJECT)
    # The late events of ERASED_IN_PASS came after its erasure: new data, kept.
    kept = [e for e in early if e.user_id != ERASED_IN_PASS] + late
    if not erasing_last:
        return kept
    await erase(engines, TEST_PROJECT, ERASED)
    return [e for e in kept if e.user_id != ERASED]


def retaining(engines: Engines, boundary: dt.datetime) -> Engines:
    return configured_engines(
        engines,
        retention_days=RETENTION_DAYS,
        retention_now=boundary + dt.timedelta(days=RETENTION_DAYS),
    )


async def check(engines: Engines, kept: list[Event]) -> None:
    # Every kind of answer, each with and without a selection.
    await assert_answers(engines, kept, "America/New_York", SPAN, "view", WHERE)


@pytest.mark.parametrize(
    ("where", "interrupted_at"), [("cold", "cold_partition_dropped"), ("hot", None)]
)
async def test_erasures_pending_while_the_removal_runs(
    engines: Engines, where: str, interrupted_at: str | None
) -> None:
    boundary = BOUNDARIES[where]
    keeping = retaining(engines, boundary)
    remaining = await stored(engines)
    kept = [e for e in remaining if e.occurred_at >= boundary]
    assert all(await past(engines, boundary))
    assert await cold_rows(engines, TEST_PROJECT, ERASED) > 0
    assert await cold_rows(engines, TEST_PROJECT, ERASED_IN_PASS) > 0
    await check(keeping, kept)
    if interrupted_at is not None:
        with pytest.raises(Interrupted):
            await remove_expired(keeping, chunk=7, faults=interrupting(interrupted_at))
        await check(keeping, kept)
    await remove_expired(keeping, chunk=7)
    assert await past(engines, boundary) == (0, 0)
    await check(keeping, kept)  # the erasures still pending
    assert len(await complete_erasures(engines)) == 2
    assert await cold_rows(engines, TEST_PROJECT, ERASED) == 0
    await check(keeping, kept)


@pytest.mark.parametrize(
    ("where", "interrupted_at"), [("cold", "cold_partition_dropped"), ("hot", "hot_day_dropped")]
)
async def test_erasures_complete_after_an_interrupted_removal(
    engines: Engines, where: str, interrupted_at: str
) -> None:
    boundary = BOUNDARIES[where]
    keeping = retaining(engines, boundary)
    kept = [e for e in await stored(engines) if e.occurred_at >= boundary]
    with pytest.raises(Interrupted):
        await remove_expired(keeping, chunk=7, faults=interrupting(interrupted_at))
    # The bucket tables of a month whose rows' partition is gone may still count them.
    assert len(await complete_erasures(keeping)) == 2
    assert await cold_rows(engines, TEST_PROJECT, ERASED_IN_PASS) == 0
    await check(keeping, kept)
    await remove_expired(keeping)
    assert await past(engines, boundary) == (0, 0)
    await check(keeping, kept)
    # Later passes move the rest: still the same answers.
    await archive_pass(keeping, trigger="cli", now=START + dt.timedelta(days=120))
    await check(keeping, kept)


@pytest.mark.parametrize("step", ["hot_deleted", "cold_partition_dropped"])
async def test_an_erasure_made_while_the_removal_runs(engines: Engines, step: str) -> None:
    boundary = BOUNDARIES["cold"]
    keeping = retaining(engines, boundary)
    before = [e for e in await stored(engines, erasing_last=False) if e.occurred_at >= boundary]
    await check(keeping, before)
    erased: list[int] = []

    async def erasing(name: str) -> None:
        # Between two of the removal's steps, under its archive lock.
        if name == step and not erased:
            erased.append((await erase(engines, TEST_PROJECT, ERASED)).id)

    await remove_expired(keeping, chunk=7, faults=erasing)
    assert erased
    kept = [e for e in before if e.user_id != ERASED]
    await check(keeping, kept)  # pending
    assert len(await complete_erasures(engines)) == 2
    assert await past(engines, boundary) == (0, 0)
    await check(keeping, kept)
