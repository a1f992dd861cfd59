"""With EVENTIDE_RETENTION_DAYS, every analytics answer equals the oracle over the events
from the boundary on, whatever the split between the tiers, before the removal of the
older ones, after it (interrupted or not), and after later archive passes."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.filters import PropertyFilter
from eventide.archive.archiver import archive_pass
from eventide.archive.boundary import BUCKET
from eventide.archive.expiry import remove_expired
from eventide.storage.engines import Engines
from tests.analytics.oracle_answers import assert_answers
from tests.analytics.random_properties import wheres
from tests.analytics.test_oracle import (
    ANCHORS,
    ORACLE_SETTINGS,
    START,
    TIMEZONES,
    TYPES,
    Wave,
    histories,
    ranges,
    store,
)

# Each example compares every kind of answer three times: some 4 s per example on a
# 2-core machine, so the suite's timeout would cut a slow run short.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
REMOVAL_STEPS = [None, "hot_day_dropped", "hot_chunk_deleted", "hot_deleted", "cold_deleted"]


class RemovalInterrupted(Exception):
    pass


@st.composite
def boundaries(draw: st.DrawFn) -> dt.datetime:
    """Where the retention period starts, before being floored to its bucket: near a
    day that is 23 or 25 hours long somewhere, or anywhere in the events' span."""
    if draw(st.booleans()):
        base = draw(st.sampled_from(ANCHORS))
        return base + dt.timedelta(seconds=draw(st.integers(-36 * 3600, 36 * 3600)))
    return START + dt.timedelta(seconds=draw(st.integers(0, 90 * 86400)))


def floored(instant: dt.datetime) -> dt.datetime:
    return EPOCH + (instant - EPOCH) // BUCKET * BUCKET


@ORACLE_SETTINGS
@given(
    history=histories(),
    start=boundaries(),
    days=st.integers(1, 40),
    tz_name=st.sampled_from(TIMEZONES),
    span=ranges(),
    event_type=st.one_of(st.none(), st.sampled_from(TYPES)),
    where=wheres(),
    interrupted_at=st.sampled_from(REMOVAL_STEPS),
)
async def test_answers_count_only_the_retained_events(
    engines: Engines,
    history: list[Wave],
    start: dt.datetime,
    days: int,
    tz_name: str,
    span: tuple[dt.date, dt.date],
    event_type: str | None,
    where: tuple[PropertyFilter, ...],
    interrupted_at: str | None,
) -> None:
    events = await store(engines, history)
    settings = dataclasses.replace(
        engines.settings, retention_days=days, retention_now=start + dt.timedelta(days=days)
    )
    keeping = dataclasses.replace(engines, settings=settings)
    boundary = floored(start)
    kept = [e for e in events if e.occurred_at >= boundary]
    await assert_answers(keeping, kept, tz_name, span, event_type, where)

    async def faults(step: str) -> None:
        if step == interrupted_at:
            raise RemovalInterrupted(step)

    with contextlib.suppress(RemovalInterrupted):
        await remove_expired(keeping, chunk=5, faults=faults)
    await assert_answers(keeping, kept, tz_name, span, event_type, where)
    await remove_expired(keeping)
    await archive_pass(keeping, trigger="cli", now=START + dt.timedelta(days=120))
    await assert_answers(keeping, kept, tz_name, span, event_type, where)
