"""Event and distinct-user counts per key (a day, an event type) across both tiers.

Event counts add up across tiers; distinct users do not, since one user may have events
of one key in both. Both tiers count their own rows per key at the same time, in one
pass each; a key only one tier has is final at once. For a key both tiers have,
ClickHouse counts the users the two tiers have in common, from the hot (key, user)
pairs of that key shipped into the query and the cold rows of those users only:
users(hot or cold) = users(hot) + users(cold) - users(both).

The hot pass already returns the pairs of the keys of late hot events (those that
occurred before the archive watermark: the only hot events whose keys the cold tier is
likely to have too), so the common case needs no second hot query.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from eventide.analytics._tiers import Tiers, inline_table, json_lines

Counts = dict[Any, tuple[int, int]]


@dataclass(frozen=True)
class KeyedRows:
    """The rows to count, in each store, as a subquery with columns ``key``, ``user_id``
    (and ``occurred_at`` in the hot one).

    ``hot_sql`` is PostgreSQL with ``$n`` arguments ``hot_args``; ``cold_sql`` is ClickHouse
    written with ``Tiers.visible`` and ``%(name)s`` parameters ``cold_params``.
    """

    hot_sql: str
    cold_sql: str
    key_type: str  # ClickHouse type of the key column
    hot_args: tuple[Any, ...] = ()
    cold_params: dict[str, Any] = field(default_factory=dict)

    @property
    def pairs_structure(self) -> str:
        return f"key {self.key_type}, user_id String"

    def hot_arg(self) -> str:
        """The placeholder of one more argument after ``hot_args``."""
        return f"${len(self.hot_args) + 1}"


@dataclass(frozen=True)
class Partial:
    hot: Counts
    cold: Counts
    late_keys: frozenset[Any]
    late_pairs: str  # JSON lines of the hot (key, user) pairs of late_keys


async def partial_counts(
    tiers: Tiers,
    rows: KeyedRows,
    *,
    late_before: dt.datetime | None = None,
    every_key_late: bool = False,
) -> Partial:
    """Each tier's (events, users) per key, and the hot pairs of the keys of hot events
    that occurred before ``late_before`` (of every key, with ``every_key_late``)."""
    late = "false"
    if every_key_late:
        late = "true"
    elif late_before is not None:
        late = f"min(occurred_at) < {rows.hot_arg()}"
    hot_args = rows.hot_args
    if late_before is not None and not every_key_late:
        hot_args = (*hot_args, late_before)
    # One scan of the hot rows: (key, user) pairs first, everything else from them.
    hot_query = tiers.hot.fetchrow(
        f"""WITH pairs AS MATERIALIZED (
                SELECT key, user_id, count(*) AS events, {late} AS late
                FROM ({rows.hot_sql}) r GROUP BY key, user_id),
            keys AS (
                SELECT key, sum(events)::bigint AS events, count(*) AS users,
                       bool_or(late) AS late
                FROM pairs GROUP BY key)
            SELECT
                (SELECT coalesce(json_agg(json_build_array(key, events, users, late)), '[]')
                 FROM keys)::text,
                (SELECT {json_lines(rows.pairs_structure)} FROM pairs
                 WHERE key IN (SELECT key FROM keys WHERE late))""",
        *hot_args,
    )
    cold_query = tiers.cold_fetch(
        f"SELECT key, count(), uniqExact(user_id) FROM ({rows.cold_sql}) GROUP BY key",
        rows.cold_params,
    )
    (keys, late_pairs), cold = await asyncio.gather(hot_query, cold_query)
    hot_keys = json.loads(keys)
    return Partial(
        hot={key: (events, users) for key, events, users, _ in hot_keys},
        cold={key: (events, users) for key, events, users in cold},
        late_keys=frozenset(key for key, _, _, late in hot_keys if late),
        late_pairs=late_pairs,
    )


async def merged_counts(
    tiers: Tiers, partial: Partial, rows: KeyedRows, keys: Collection[Any]
) -> Counts:
    """Exact (events, users) for ``keys``."""
    hot, cold = partial.hot, partial.cold
    result = {key: _added(hot.get(key, (0, 0)), cold.get(key, (0, 0))) for key in keys}
    shared = [key for key in keys if key in hot and key in cold]
    if not shared:
        return result
    if partial.late_keys.issuperset(shared):
        pairs = inline_table(partial.late_pairs, rows.pairs_structure)
    else:
        pairs = await tiers.push_hot(
            f"SELECT DISTINCT key, user_id FROM ({rows.hot_sql}) r"
            f" WHERE key = ANY({rows.hot_arg()})",
            *rows.hot_args,
            shared,
            structure=rows.pairs_structure,
        )
    common = await tiers.cold_fetch(
        f"""SELECT key, uniqExact(user_id) FROM ({rows.cold_sql})
            WHERE key IN %(keys)s AND (key, user_id) IN (SELECT key, user_id FROM {pairs})
            GROUP BY key""",
        {**rows.cold_params, "keys": tuple(shared)},
    )
    for key, users in common:
        events, all_users = result[key]
        result[key] = (events, all_users - users)
    return result


def _added(hot: tuple[int, int], cold: tuple[int, int]) -> tuple[int, int]:
    return hot[0] + cold[0], hot[1] + cold[1]
