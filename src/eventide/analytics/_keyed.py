"""Event and distinct-user counts per key (a day, an event type) across both tiers.

Event counts add up across tiers; distinct users do not, since one user may have events
of one key in both. Each tier counts its own rows per key, and a key only one tier has
is final at once. A key both tiers have is settled in ClickHouse, with the hot
(key, user) pairs of that key shipped into the query:

- up front, for the keys of late hot events (those that occurred before the archive
  watermark, the only hot events whose keys the cold tier is likely to have too):
  ClickHouse counts the distinct users of the union in the same pass as its own counts;
- afterwards, for any other key both tiers turned out to have (a day whose archiving
  committed after the watermark was read, or an event type): ClickHouse counts the
  users the two tiers have in common, reading only the rows of those users.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from eventide.analytics._tiers import Tiers

Counts = dict[Any, tuple[int, int]]


@dataclass(frozen=True)
class KeyedRows:
    """The rows to count, in each store, as a subquery with columns ``key`` and ``user_id``
    (and ``occurred_at`` in the hot one).

    ``hot_sql`` is PostgreSQL with ``$n`` arguments ``hot_args``; ``cold_sql`` is ClickHouse
    written with ``Tiers.visible`` and ``%(name)s`` parameters ``cold_params``.
    """

    hot_sql: str
    cold_sql: str
    key_type: str  # ClickHouse type of the key column
    hot_args: tuple[Any, ...] = ()
    cold_params: dict[str, Any] = field(default_factory=dict)

    def hot_arg(self, offset: int = 1) -> str:
        """The placeholder of the ``offset``-th argument after ``hot_args``."""
        return f"${len(self.hot_args) + offset}"


@dataclass(frozen=True)
class Partial:
    hot: Counts
    cold: Counts
    settled: dict[Any, int]  # distinct users of keys already counted over both tiers


async def partial_counts(
    tiers: Tiers, rows: KeyedRows, *, late_before: dt.datetime | None = None
) -> Partial:
    """Each tier's (events, users) per key; with ``late_before``, the keys of hot events
    that occurred before it are settled at once."""
    hot_query = tiers.hot.fetch(
        f"SELECT key, count(*), count(DISTINCT user_id) FROM ({rows.hot_sql}) r GROUP BY key",
        *rows.hot_args,
    )
    if late_before is None:
        hot, cold = await asyncio.gather(hot_query, _cold_counts(tiers, rows, pushed=None))
    else:
        hot = await hot_query
        pushed = await tiers.push_hot(
            f"""SELECT DISTINCT key, user_id FROM ({rows.hot_sql}) r WHERE key IN (
                    SELECT key FROM ({rows.hot_sql}) l WHERE occurred_at < {rows.hot_arg()})""",
            *rows.hot_args,
            late_before,
            structure=f"key {rows.key_type}, user_id String",
        )
        cold = await _cold_counts(tiers, rows, pushed=pushed)
    return Partial(
        hot={key: (events, users) for key, events, users in hot},
        cold={key: (events, users) for key, events, users, _ in cold if events},
        settled={key: union for key, _, _, union in cold if union is not None},
    )


async def _cold_counts(
    tiers: Tiers, rows: KeyedRows, *, pushed: str | None
) -> list[tuple[Any, int, int, int | None]]:
    if pushed is None:
        result = await tiers.cold_fetch(
            f"SELECT key, count(), uniqExact(user_id), NULL FROM ({rows.cold_sql}) GROUP BY key",
            rows.cold_params,
        )
    else:
        result = await tiers.cold_fetch(
            f"""SELECT key, countIf(cold), uniqExactIf(user_id, cold),
                       if(countIf(NOT cold) > 0, uniqExact(user_id), NULL)
                FROM (SELECT key, user_id, true AS cold FROM ({rows.cold_sql})
                      UNION ALL SELECT key, user_id, false FROM {pushed})
                GROUP BY key""",
            rows.cold_params,
        )
    return [(key, events, users, union) for key, events, users, union in result]


async def merged_counts(
    tiers: Tiers, partial: Partial, rows: KeyedRows, keys: Collection[Any]
) -> Counts:
    """Exact (events, users) for ``keys``."""
    hot, cold = partial.hot, partial.cold
    result: Counts = {}
    unsettled = []
    for key in keys:
        hot_events, hot_users = hot.get(key, (0, 0))
        cold_events, cold_users = cold.get(key, (0, 0))
        if key in partial.settled:
            result[key] = (hot_events + cold_events, partial.settled[key])
        elif key in hot and key in cold:
            unsettled.append(key)
        else:
            result[key] = (hot_events + cold_events, hot_users + cold_users)
    if not unsettled:
        return result
    # users(hot or cold) = users(hot) + users(cold) - users(both).
    pushed = await tiers.push_hot(
        f"SELECT DISTINCT key, user_id FROM ({rows.hot_sql}) r WHERE key = ANY({rows.hot_arg()})",
        *rows.hot_args,
        unsettled,
        structure=f"key {rows.key_type}, user_id String",
    )
    common = await tiers.cold_fetch(
        f"""SELECT key, uniqExact(user_id) FROM ({rows.cold_sql})
            WHERE key IN %(keys)s AND (key, user_id) IN (SELECT key, user_id FROM {pushed})
            GROUP BY key""",
        {**rows.cold_params, "keys": tuple(unsettled)},
    )
    in_both: dict[Any, int] = {key: users for key, users in common}
    for key in unsettled:
        (hot_events, hot_users), (cold_events, cold_users) = hot[key], cold[key]
        result[key] = (hot_events + cold_events, hot_users + cold_users - in_both.get(key, 0))
    return result
