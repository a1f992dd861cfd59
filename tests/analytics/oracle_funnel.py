"""The funnel computed in plain Python, straight from SEMANTICS.md ("funnel").

Deliberately literal rather than clever: a step is reached when some choice of later
events fills it (searched with memoisation, not the greedy walk the server relies on),
and the path is chosen exactly as the text says.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from eventide.analytics.filters import EventSelector
from eventide.analytics.listing import Event
from tests.analytics import oracle_filters
from tests.analytics.oracle_filters import answered, canonical, value_at

Step = EventSelector
Result = tuple[object, bool, list[tuple[int, float, float | None]]]


def matches(step: Step, event: Event) -> bool:
    type_ok = step.event_type is None or event.event_type == step.event_type
    return type_ok and oracle_filters.matches(event.properties, step.where)


def _us(instant: dt.datetime) -> int:
    return (instant - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def user_path(
    events: Sequence[Event], steps: Sequence[Step], window_us: int, strict: bool, entries: list[int]
) -> list[int] | None:
    """The user's path (indices into ``events``, sorted), or None without entries."""
    times = [_us(e.occurred_at) for e in events]

    def depth_from(entry: int) -> int:
        deadline = times[entry] + window_us

        @functools.cache
        def deepest(k: int, at: int) -> int:
            """The deepest step reachable when step k is filled by event ``at``."""
            if k == len(steps) - 1:
                return k
            best = k
            later = (
                range(at + 1, min(at + 2, len(events))) if strict else range(at + 1, len(events))
            )
            for j in later:
                if times[j] <= deadline and matches(steps[k + 1], events[j]):
                    best = max(best, deepest(k + 1, j))
            return best

        return deepest(0, entry)

    if not entries:
        return None
    depths = {entry: depth_from(entry) for entry in entries}
    depth = max(depths.values())
    entry = min(e for e in entries if depths[e] == depth)
    deadline = times[entry] + window_us
    path = [entry]

    @functools.cache
    def reaches(k: int, at: int) -> bool:
        """Whether filling step k with ``at`` still lets the path reach ``depth``."""
        if k == depth:
            return True
        later = range(at + 1, min(at + 2, len(events))) if strict else range(at + 1, len(events))
        return any(
            times[j] <= deadline and matches(steps[k + 1], events[j]) and reaches(k + 1, j)
            for j in later
        )

    for k in range(1, depth + 1):
        later = range(path[-1] + 1, path[-1] + 2) if strict else range(path[-1] + 1, len(events))
        path.append(
            next(
                j
                for j in later
                if times[j] <= deadline and matches(steps[k], events[j]) and reaches(k, j)
            )
        )
    return path


def funnel(
    events: Sequence[Event],
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    steps: Sequence[Step],
    *,
    window_seconds: int,
    strict: bool,
    breakdown: tuple[str, ...] | None = None,
    limit: int = 10,
) -> list[Result]:
    by_user: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_user[e.user_id].append(e)
    # Each user's path (its instants), by the canonical text of its entry's value.
    groups: dict[str, list[list[int]]] = defaultdict(list)
    for user_events in by_user.values():
        ordered = sorted(user_events, key=lambda e: (e.occurred_at, e.event_id, e.received_at))
        entries = [
            i
            for i, e in enumerate(ordered)
            if matches(steps[0], e) and first <= e.occurred_at.astimezone(tz).date() <= last
        ]
        path = user_path(ordered, steps, window_seconds * 1_000_000, strict, entries)
        if path is None:
            continue
        key = "null"
        if breakdown is not None:
            found, value = value_at(ordered[path[0]].properties, breakdown)
            key = canonical(value) if found else "null"
        groups[key].append([_us(ordered[i].occurred_at) for i in path])
    if breakdown is None:
        return [(None, False, _steps(groups["null"], len(steps)))]
    ranked = sorted(groups, key=lambda k: (-len(groups[k]), k.encode()))
    results: list[Result] = [
        (answered(key), False, _steps(groups[key], len(steps))) for key in ranked[:limit]
    ]
    if len(ranked) > limit:
        rest = [path for key in ranked[limit:] for path in groups[key]]
        results.append((None, True, _steps(rest, len(steps))))
    return results


def _steps(paths: list[list[int]], steps: int) -> list[tuple[int, float, float | None]]:
    entered = len(paths)
    result: list[tuple[int, float, float | None]] = []
    for k in range(steps):
        reached = [p for p in paths if len(p) > k]
        median = None
        if k > 0 and reached:
            gaps = sorted(p[k] - p[k - 1] for p in reached)
            middle = len(gaps) // 2
            low, high = (
                (gaps[middle - 1], gaps[middle]) if len(gaps) % 2 == 0 else (gaps[middle],) * 2
            )
            median = (low + high) / 2_000_000
        result.append((len(reached), len(reached) / entered if entered else 0.0, median))
    return result
