"""Every funnel equals the plain-Python one over all events, whatever the split of the
events between the tiers: after archive passes, interrupted passes and late events, with
events at the same instant and steps interleaved between users, asked with medians and
without (then only depths and entries are looked for)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.filters import EventSelector, FilterOp, property_filters
from eventide.analytics.funnel import Breakdown, FunnelOrder, FunnelResult, funnel
from eventide.analytics.listing import Event
from eventide.storage.engines import Engines
from tests.analytics import oracle_funnel
from tests.analytics.test_oracle import ORACLE_SETTINGS, START, TIMEZONES, Wave, store

pytestmark = pytest.mark.slow

USERS = ["o'brien", "100%", "ü", *(f"user-{i}" for i in range(5))]
TYPES = ["view", "cart", "buy"]
# Values equal as JSON in different spellings, JSON null, an object, and no properties.
PROPERTIES = [
    None,
    {"plan": "pro", "n": 1},
    {"plan": "free", "n": 2},
    {"plan": 1, "n": 1.0},
    {"plan": 1.0},
    {"plan": None, "n": 3},
    {"plan": {"tier": "x"}, "n": 2},
]


def session_events(rng: random.Random, sessions: int) -> list[Event]:
    """Sessions of a few events seconds to an hour apart (many at the same instant), of
    few users over a month, so users' sessions overlap in time and repeat."""
    events = []
    for session in range(sessions):
        user = rng.choice(USERS)
        instant = START + dt.timedelta(seconds=rng.randrange(30 * 86_400))
        for i in range(rng.randint(1, 8)):
            instant += dt.timedelta(seconds=rng.choice([0, 0, 1, 5, 60, 600, 3600]))
            events.append(
                Event(
                    # Ids out of step with time, so ties are ordered by id, not by arrival.
                    event_id=f"{rng.choice('abc')}{session:03d}-{i}",
                    user_id=user,
                    event_type=rng.choice(TYPES),
                    occurred_at=instant,
                    received_at=instant,
                    properties=rng.choice(PROPERTIES),
                )
            )
    return events


@st.composite
def histories(draw: st.DrawFn) -> list[Wave]:
    # A seeded generator, uniform where hypothesis's own randoms favour the simplest values.
    rng = random.Random(draw(st.integers(0, 2**32)))
    events = session_events(rng, draw(st.integers(5, 40)))
    waves = draw(st.integers(1, 3))
    assignment = [rng.randrange(waves) for _ in events]
    days = sorted(draw(st.lists(st.integers(0, 70), min_size=waves, max_size=waves)))
    return [
        Wave(
            events=[e for e, w in zip(events, assignment, strict=True) if w == wave],
            now=START + dt.timedelta(days=days[wave], hours=7) if draw(st.integers(0, 3)) else None,
            fail_at=draw(st.sampled_from([None, None, "chunk_copied", "day_copied"])),
        )
        for wave in range(waves)
    ]


@st.composite
def selectors(draw: st.DrawFn) -> EventSelector:
    """An event type or any, maybe with a condition: selectors often overlap."""
    where: list[tuple[str, FilterOp, object]] = draw(
        st.sampled_from(
            [
                [],
                [],
                [("n", FilterOp.GTE, 2)],
                [("plan", FilterOp.IS_SET, None)],
                [("plan", FilterOp.NEQ, "pro")],
            ]
        )
    )
    event_type = draw(st.sampled_from([None, *TYPES]))
    return EventSelector(event_type, property_filters(where, argument="where"))


def observed(results: list[FunnelResult]) -> list[oracle_funnel.Result]:
    return [
        (
            r.breakdown_value,
            r.other,
            [(s.users, s.conversion, s.median_seconds_from_previous) for s in r.steps],
        )
        for r in results
    ]


@ORACLE_SETTINGS
@given(
    history=histories(),
    tz_name=st.sampled_from(TIMEZONES),
    start=st.integers(-2, 20),
    length=st.integers(0, 20),
    steps=st.lists(selectors(), min_size=2, max_size=4),
    window_seconds=st.sampled_from([60, 3600, 86_400, 7 * 86_400]),
    breakdown=st.one_of(st.none(), st.sampled_from([("plan",), ("plan", "tier"), ("n",)])),
    limit=st.integers(1, 3),
)
async def test_funnel_equals_the_oracle(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    start: int,
    length: int,
    steps: list[EventSelector],
    window_seconds: int,
    breakdown: tuple[str, ...] | None,
    limit: int,
) -> None:
    events = await store(engines, history)
    first = START.date() + dt.timedelta(days=start)
    last = first + dt.timedelta(days=length)
    for order, medians in itertools.product(FunnelOrder, (True, False)):
        got = await funnel(
            engines,
            project=1,
            first=first,
            last=last,
            timezone=tz_name,
            steps=steps,
            window_seconds=window_seconds,
            order=order,
            breakdown=None if breakdown is None else Breakdown(property=".".join(breakdown)),
            breakdown_limit=limit,
            medians=medians,
        )
        expected = oracle_funnel.funnel(
            events,
            first,
            last,
            ZoneInfo(tz_name),
            steps,
            window_seconds=window_seconds,
            strict=order is FunnelOrder.STRICT,
            breakdown=breakdown,
            limit=limit,
        )
        if not medians:
            # Without medians only each user's depth (and the path's entry) is looked for.
            expected = [
                (value, other, [(users, conversion, None) for users, conversion, _ in steps_])
                for value, other, steps_ in expected
            ]
        assert observed(got) == expected, (order, medians)
