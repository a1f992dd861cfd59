"""How many items a sizing argument's value asks for, as the cost model reads it
(:mod:`eventide.graphql.limits.analysis`).

A value the API refuses anyway counts 1: the resolver rejects it before any work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from eventide.analytics.calendar import MAX_RANGE_DAYS
from eventide.analytics.intervals import MAX_HOUR_RANGE_DAYS
from eventide.analytics.trends import MAX_BREAKDOWN_LIMIT, MAX_SERIES

_PERIOD_DAYS = {"DAY": 1, "WEEK": 7, "MONTH": 28}
_HOURS_A_DAY = 25  # the most a local day has


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def bounded(value: Any, maximum: int) -> int:
    return value if is_int(value) and 1 <= value <= maximum else 1


def range_units(value: Any, period: Any) -> int:
    """The days of a ``range`` value, or its weeks or months for such a ``period``."""
    if not isinstance(value, Mapping):
        return 1
    start, end = _date(value.get("from")), _date(value.get("to"))
    if start is None or end is None or not 0 <= (end - start).days < MAX_RANGE_DAYS:
        return 1
    days = (end - start).days + 1
    period_days = _PERIOD_DAYS.get(_name(period), 1)
    # A range may touch one more week or month than its length suggests.
    return days if period_days == 1 else min(days, days // period_days + 2)


def trend_size(values: Mapping[str, Any]) -> int:
    """The series ``trends`` answers times their points: the series inputs, times
    ``breakdownLimit + 1`` when broken down, times the range's intervals."""
    series, interval = values["series"], _name(values["interval"])
    size = len(series) if isinstance(series, list) and 1 <= len(series) <= MAX_SERIES else 1
    if interval == "HOUR":
        days = range_units(values.get("range"), "DAY")
        size *= days * _HOURS_A_DAY if days <= MAX_HOUR_RANGE_DAYS else 1
    else:
        size *= range_units(values.get("range"), interval)
    if values.get("breakdown") is not None:
        size *= bounded(values.get("breakdownLimit"), MAX_BREAKDOWN_LIMIT) + 1
    return size


def _name(value: Any) -> str:
    """An enum value's name, whether a literal, a variable or a coerced default."""
    return str(getattr(value, "name", value))


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None
