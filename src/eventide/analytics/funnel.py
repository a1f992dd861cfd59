"""Funnels: how many users went through a sequence of steps within a window.

A user enters with an event of step 0 on a day of the range and reaches step k when
events matching steps 1..k follow it in the order (occurredAt, eventId), the last at
most ``windowSeconds`` after the entry (``STRICT``: each the user's very next event).
Users count at the deepest step they reach from any entry; medians are taken on each
user's path (SEMANTICS.md, "funnel").

Exact across tiers: a user's events may lie in both stores, so the hot events of the
read span are shipped into one ClickHouse query, which follows every user over the
union with the visible cold events (``_funnel_rows``, ``_funnel_paths``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from eventide.analytics import calendar
from eventide.analytics._funnel_paths import FunnelOrder, grouped, user_paths
from eventide.analytics._funnel_rows import FunnelQuestion, funnel_rows
from eventide.archive.tiers import tier_snapshot
from eventide.errors import InvalidInput
from eventide.storable import checked_text
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope

MIN_STEPS, MAX_STEPS = 2, 10
MAX_WINDOW_SECONDS = 90 * 86_400
MAX_BREAKDOWN_LIMIT = 50

__all__ = ["Breakdown", "FunnelOrder", "FunnelResult", "FunnelStep", "funnel"]


@dataclass(frozen=True)
class Breakdown:
    """Group users by the value of ``property`` (a dotted path) on their path's entry
    event; ``by_event_type`` is refused (an entry's type is step 0's)."""

    property: str | None = None
    by_event_type: bool = False


@dataclass(frozen=True)
class FunnelStep:
    index: int
    users: int
    conversion: float
    median_seconds_from_previous: float | None


@dataclass(frozen=True)
class FunnelResult:
    steps: list[FunnelStep]
    breakdown_value: object = None
    other: bool = False


async def funnel(
    engines: Engines,
    *,
    project: int,
    first: dt.date,
    last: dt.date,
    timezone: str,
    steps: Sequence[str | None],
    window_seconds: int,
    order: FunnelOrder,
    breakdown: Breakdown | None = None,
    breakdown_limit: int = 10,
) -> list[FunnelResult]:
    """The users of each step (of each breakdown group)."""
    if not 1 <= breakdown_limit <= MAX_BREAKDOWN_LIMIT:
        raise InvalidInput(f"breakdownLimit must be between 1 and {MAX_BREAKDOWN_LIMIT}")
    if breakdown is not None:
        if (breakdown.property is None) == (not breakdown.by_event_type):
            raise InvalidInput("breakdown takes exactly one of property and byEventType")
        if breakdown.by_event_type:
            raise InvalidInput("breakdown.byEventType is not available for funnel")
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise InvalidInput(f"steps must hold between {MIN_STEPS} and {MAX_STEPS} steps")
    if not 1 <= window_seconds <= MAX_WINDOW_SECONDS:
        raise InvalidInput(f"windowSeconds must be between 1 and {MAX_WINDOW_SECONDS}")
    event_types = tuple(
        checked_text(f"steps[{k}].eventType", event_type) for k, event_type in enumerate(steps)
    )
    days = calendar.DayRange.of(first, last)
    window = calendar.window(calendar.zone(timezone), days.first, days.last)
    counts: dict[int, _Step] = {}
    if not window.empty:
        question = FunnelQuestion(
            steps=event_types,
            window=window,
            window_us=window_seconds * calendar.SECOND_US,
            order=order,
        )
        async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
            rows, params = await funnel_rows(tiers, question)
            paths = user_paths(
                rows, order=order, steps=len(event_types), window_us=question.window_us
            )
            answer = await tiers.cold_fetch(grouped(paths, key=None, limit=1), params)
        counts = {step: _Step(users, low, high) for _, _, step, users, low, high in answer}
    return [FunnelResult(steps=_steps(counts, len(event_types)))]


@dataclass(frozen=True)
class _Step:
    users: int
    # The lower and upper median of the microseconds from the previous step.
    low_us: int
    high_us: int


def _steps(counts: dict[int, _Step], steps: int) -> list[FunnelStep]:
    entered = counts[0].users if 0 in counts else 0
    result = []
    for index in range(steps):
        step = counts.get(index)
        users = step.users if step else 0
        median = None
        if step is not None and index > 0:
            # The mean of the middle two for an even count (equal ones for an odd count).
            median = (step.low_us + step.high_us) / (2 * calendar.SECOND_US)
        result.append(
            FunnelStep(
                index=index,
                users=users,
                conversion=users / entered if entered else 0.0,
                median_seconds_from_previous=median,
            )
        )
    return result
