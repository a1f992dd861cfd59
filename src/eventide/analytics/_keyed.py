"""Event and distinct-user counts per key (a day, an event type) across both tiers.

Event counts add up across tiers; distinct users do not, since one user may have events
of one key in both. Each tier counts its own rows per key; a key only one tier has is
final at once. For keys both tiers have, the hot (key, user) pairs of those keys are
shipped into ClickHouse, which counts the users the two tiers have in common.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from eventide.analytics._tiers import Tiers

Counts = dict[Any, tuple[int, int]]


@dataclass(frozen=True)
class KeyedRows:
    """The rows to count, in each store, as a subquery with columns ``key`` and ``user_id``.

    ``hot_sql`` is PostgreSQL with ``$n`` arguments ``hot_args``; ``cold_sql`` is ClickHouse
    written with ``Tiers.visible`` and ``%(name)s`` parameters ``cold_params``.
    """

    hot_sql: str
    cold_sql: str
    key_type: str  # ClickHouse type of the key column
    hot_args: tuple[Any, ...] = ()
    cold_params: dict[str, Any] = field(default_factory=dict)


async def partial_counts(tiers: Tiers, rows: KeyedRows) -> tuple[Counts, Counts]:
    """(hot, cold): per key, the tier's event count and distinct users."""
    hot, cold = await asyncio.gather(
        tiers.hot.fetch(
            f"SELECT key, count(*), count(DISTINCT user_id) FROM ({rows.hot_sql}) r GROUP BY key",
            *rows.hot_args,
        ),
        tiers.cold_fetch(
            f"SELECT key, count(), uniqExact(user_id) FROM ({rows.cold_sql}) GROUP BY key",
            rows.cold_params,
        ),
    )
    return {r[0]: (r[1], r[2]) for r in hot}, {r[0]: (r[1], r[2]) for r in cold}


async def merged_counts(
    tiers: Tiers, rows: KeyedRows, hot: Counts, cold: Counts, keys: Collection[Any]
) -> Counts:
    """Exact (events, users) for ``keys``, from the partial counts of both tiers."""
    result = {key: hot.get(key) or cold.get(key) or (0, 0) for key in keys}
    shared = [key for key in keys if key in hot and key in cold]
    if not shared:
        return result
    # users(hot or cold) = users(hot) + users(cold) - users(both): ClickHouse counts, per key,
    # the cold users that the hot tier also has, reading only rows of those users.
    pushed = await tiers.push_hot(
        f"SELECT DISTINCT key, user_id FROM ({rows.hot_sql}) r"
        f" WHERE key = ANY(${len(rows.hot_args) + 1})",
        *rows.hot_args,
        shared,
        structure=f"key {rows.key_type}, user_id String",
    )
    common = await tiers.cold_fetch(
        f"""SELECT key, uniqExact(user_id) FROM ({rows.cold_sql})
            WHERE key IN %(shared_keys)s AND (key, user_id) IN (SELECT key, user_id FROM {pushed})
            GROUP BY key""",
        {**rows.cold_params, "shared_keys": tuple(shared)},
    )
    in_both: dict[Any, int] = {key: users for key, users in common}
    for key in shared:
        (hot_events, hot_users), (cold_events, cold_users) = hot[key], cold[key]
        result[key] = (hot_events + cold_events, hot_users + cold_users - in_both.get(key, 0))
    return result
