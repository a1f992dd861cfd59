"""Every analytics answer equals the oracle over the events no erasure removed, whatever
the tiers held when each erasure came, an archive pass copying the user's rows at that
very moment included, and whether or not the erasures have completed."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.lifecycle.completion import complete_erasures
from eventide.storage.engines import Engines
from tests.analytics.oracle_answers import assert_answers
from tests.analytics.stores import clear, put_hot
from tests.analytics.test_oracle import (
    ORACLE_SETTINGS,
    START,
    TIMEZONES,
    USERS,
    ArchiveInterrupted,
    random_events,
    ranges,
)
from tests.archive.tiers import read_tiers
from tests.conftest import TEST_PROJECT
from tests.lifecycle.erasing import erase

pytestmark = pytest.mark.slow  # each example compares hundreds of generated events

# Where in a pass an erasure may come: before it, or while a batch is being copied.
MOMENTS = [None, "batch_created", "chunk_copied", "day_copied"]


@dataclass(frozen=True)
class Wave:
    """Events ingested together; then an archive pass at ``now`` (maybe), during which
    (at ``moment``) or before which ``erased`` is erased; then (maybe) the pending
    erasures complete, or the pass dies at ``fail_at``."""

    events: list[Event]
    now: dt.datetime | None
    erased: str | None
    moment: str | None
    fail_at: str | None
    complete: bool


@st.composite
def histories(draw: st.DrawFn) -> list[Wave]:
    rng = draw(st.randoms(use_true_random=False))
    # Few users, so that an erased one has events in several tiers and waves.
    users = USERS[:4] + USERS[-3:]
    events = [
        dataclasses.replace(e, user_id=rng.choice(users))
        for e in random_events(rng, draw(st.integers(0, 250)))
    ]
    waves = draw(st.integers(1, 4))
    assignment = [rng.randrange(waves) for _ in events]
    days = sorted(draw(st.lists(st.integers(0, 100), min_size=waves, max_size=waves)))
    return [
        Wave(
            events=[e for e, w in zip(events, assignment, strict=True) if w == wave],
            now=START + dt.timedelta(days=days[wave], hours=7) if draw(st.integers(0, 3)) else None,
            erased=draw(st.one_of(st.none(), st.sampled_from(users))),
            moment=draw(st.sampled_from(MOMENTS)),
            fail_at=draw(st.sampled_from([None, None, None, "chunk_copied", "day_copied"])),
            complete=draw(st.booleans()),
        )
        for wave in range(waves)
    ]


async def store(engines: Engines, history: list[Wave]) -> list[Event]:
    """Ingest, archive and erase as ``history`` says; return the events that remain."""
    await clear(engines)
    await engines.db.execute("TRUNCATE erasures CASCADE")
    kept: list[Event] = []
    for wave in history:
        await put_hot(engines, wave.events, project=TEST_PROJECT)
        kept += wave.events
        erased = wave.erased
        if erased is not None and (wave.now is None or wave.moment is None):
            await erase(engines, TEST_PROJECT, erased)
            erased = None
        if wave.now is not None:

            async def faults(step: str, wave: Wave = wave) -> None:
                nonlocal erased
                if step == wave.moment and erased is not None:
                    await erase(engines, TEST_PROJECT, erased)
                    erased = None
                if step == wave.fail_at:
                    raise ArchiveInterrupted(step)

            with contextlib.suppress(ArchiveInterrupted):
                await archive_pass(
                    engines, trigger="cli", now=wave.now, batch_size=7, faults=faults
                )
        if erased is not None:  # the pass never reached the moment
            await erase(engines, TEST_PROJECT, erased)
        if wave.erased is not None:
            kept = [e for e in kept if e.user_id != wave.erased]
        if wave.complete:
            await complete_erasures(engines)
    return kept


@ORACLE_SETTINGS
@given(history=histories(), tz_name=st.sampled_from(TIMEZONES), span=ranges())
async def test_answers_leave_out_erased_events(
    engines: Engines, history: list[Wave], tz_name: str, span: tuple[dt.date, dt.date]
) -> None:
    events = await store(engines, history)
    for _ in range(2):  # pending erasures, then completed ones
        await _assert_answers(engines, events, tz_name, span)
        await complete_erasures(engines)
    deleted = await engines.db.fetchval("SELECT coalesce(sum(deleted_events), 0) FROM erasures")
    assert deleted == sum(len(w.events) for w in history) - len(events)


async def _assert_answers(
    engines: Engines, events: list[Event], tz_name: str, span: tuple[dt.date, dt.date]
) -> None:
    tiers = await read_tiers(engines, TEST_PROJECT)  # also checks the buckets
    assert sorted(tiers.hot + tiers.cold) == sorted(e.event_id for e in events)
    await assert_answers(engines, events, tz_name, span, "click", ())
