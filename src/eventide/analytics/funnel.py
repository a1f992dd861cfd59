"""Funnels: how many users went through a sequence of steps within a window.

A user enters with an event of step 0 on a day of the range and reaches step k when
events matching steps 1..k follow it in the order (occurredAt, eventId), the last at
most ``windowSeconds`` after the entry (``STRICT``: each the user's very next event).
Users count at the deepest step they reach from any entry; medians are taken on each
user's path (SEMANTICS.md, "funnel").

Exact across tiers: a user's events may lie in both stores, so the hot events of the
read span are shipped into one ClickHouse query, which follows every user over the
union with the visible cold events (``_funnel_rows``, ``_funnel_paths``). The events'
ids are read only when that query finds a user with differing events at one instant,
by a second one in the same snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventide.analytics import calendar
from eventide.analytics._funnel_paths import FunnelOrder, grouped, user_paths
from eventide.analytics._funnel_rows import FunnelQuestion, funnel_rows
from eventide.analytics.filters import EventSelector, canonical_json, json_value, property_path
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope

MIN_STEPS, MAX_STEPS = 2, 10
MAX_WINDOW_SECONDS = 90 * 86_400
MAX_BREAKDOWN_LIMIT = 50
# The JSON text of the breakdown value on a user's path's entry event; NULL when absent.
_ENTRY_VALUE = "nullIf(b, '')"

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
    steps: Sequence[EventSelector],
    window_seconds: int,
    order: FunnelOrder,
    breakdown: Breakdown | None = None,
    breakdown_limit: int = 10,
    medians: bool = True,
) -> list[FunnelResult]:
    """The users of each step: one result, or with a breakdown one per group of users
    (ranked by users of step 0, then by value), with ``other`` gathering those past
    ``breakdown_limit``; no result when nobody entered. Without ``medians`` every
    ``median_seconds_from_previous`` is None, and the paths' instants are not looked for."""
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise InvalidInput(f"steps must hold between {MIN_STEPS} and {MAX_STEPS} steps")
    if not 1 <= window_seconds <= MAX_WINDOW_SECONDS:
        raise InvalidInput(f"windowSeconds must be between 1 and {MAX_WINDOW_SECONDS}")
    if not 1 <= breakdown_limit <= MAX_BREAKDOWN_LIMIT:
        raise InvalidInput(f"breakdownLimit must be between 1 and {MAX_BREAKDOWN_LIMIT}")
    path = _breakdown_path(breakdown)
    days = calendar.DayRange.of(first, last)
    window = calendar.window(calendar.zone(timezone), days.first, days.last)
    groups: dict[int, tuple[str, dict[int, _Step]]] = {}
    if not window.empty:
        question = FunnelQuestion(
            steps=tuple(steps),
            window=window,
            window_us=window_seconds * calendar.SECOND_US,
            order=order,
            breakdown=path,
        )
        # Values equal as JSON (1 and 1.0) are one group, whichever store they came from.
        key = None if path is None else f"coalesce({canonical_json(_ENTRY_VALUE)}, 'null')"
        async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
            answer = await _answer(tiers, question, key, breakdown_limit, medians, ids=False)
            if any(ambiguous for *_, ambiguous in answer):
                answer = await _answer(tiers, question, key, breakdown_limit, medians, ids=True)
        for group, value, step, users, low, high, _ in answer:
            groups.setdefault(group, (value, {}))[1][step] = _Step(users, low, high)
    if path is None:
        return [FunnelResult(steps=_steps(groups.get(1, ("", {}))[1], len(steps), medians))]
    return [
        FunnelResult(
            steps=_steps(counts, len(steps), medians),
            breakdown_value=None if group > breakdown_limit else json_value(value),
            other=group > breakdown_limit,
        )
        for group, (value, counts) in sorted(groups.items())
    ]


async def _answer(
    tiers: Tiers,
    question: FunnelQuestion,
    key: str | None,
    limit: int,
    medians: bool,
    *,
    ids: bool,
) -> list[Any]:
    """The rows of :func:`grouped` for ``question``, events of one instant ordered by
    their ids only with ``ids``."""
    rows, params = await funnel_rows(tiers, question, ids=ids)
    paths = user_paths(
        rows,
        order=question.order,
        steps=len(question.steps),
        window_us=question.window_us,
        breakdown=question.breakdown is not None,
        medians=medians,
        ids=ids,
    )
    counts = grouped(paths, key=key, limit=limit, steps=len(question.steps), medians=medians)
    answer: list[Any] = await tiers.cold_fetch(counts, params)
    return answer


def _breakdown_path(breakdown: Breakdown | None) -> tuple[str, ...] | None:
    if breakdown is None:
        return None
    if (breakdown.property is None) == (not breakdown.by_event_type):
        raise InvalidInput("breakdown takes exactly one of property and byEventType")
    if breakdown.property is None:
        raise InvalidInput(
            "breakdown.byEventType is not available for funnel: every entry is of step 0"
        )
    return property_path(breakdown.property, argument="breakdown.property")


@dataclass(frozen=True)
class _Step:
    users: int
    # The lower and upper median of the microseconds from the previous step.
    low_us: int
    high_us: int


def _steps(counts: dict[int, _Step], steps: int, medians: bool) -> list[FunnelStep]:
    entered = counts[0].users if 0 in counts else 0
    result = []
    for index in range(steps):
        step = counts.get(index)
        users = step.users if step else 0
        median = None
        if medians and step is not None and index > 0:
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
