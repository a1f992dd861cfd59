"""Event and distinct-user counts per key (a day, an event type) across both tiers.

Event counts add up across tiers; distinct users do not, since one user may have events
of one key in both. Two plans, both exact:

- :func:`union_counts`, when most keys are in both tiers (event types): the hot tier is
  reduced to (key, user, events) rows, shipped into one ClickHouse query that counts
  over the union with the visible cold rows.
- :func:`partial_counts` then :func:`merged_counts`, when few keys are (days: only those
  of late events): both tiers count per key at the same time, a key only one tier has
  is final, and for a key both have, users = hot + cold - common, where ClickHouse
  counts the common users in the same cold pass, from the hot (key, user) pairs near
  and before the archive watermark shipped ahead of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from eventide.archive.tiers import Tiers

Counts = dict[Any, tuple[int, int]]
# Every hot row of a key holding an event before an instant t occurred before this long
# after t: a local day lasts at most 25 hours, and offsets differ by at most 26.
_KEY_SPAN = dt.timedelta(days=3)


@dataclass(frozen=True)
class KeyedRows:
    """The rows to count, in each store, as a subquery with columns ``key``, ``user_id``
    and ``events`` (how many events the row stands for: 1 for an event, more for a
    bucket), and in the hot one ``instant`` (not after any of the row's events, on the
    same key: an event's instant or its bucket's start), for ``late_before``.

    ``hot_sql`` is PostgreSQL with ``$n`` arguments ``hot_args``; ``cold_sql`` is ClickHouse
    reading ``EVENTS`` (:mod:`eventide.storage.tenant_sql`), with ``%(name)s``
    parameters ``cold_params``; ``hot_sql`` reads ``EVENTS`` too.
    """

    hot_sql: str
    cold_sql: str
    key_type: str  # ClickHouse type of the key column
    hot_args: tuple[Any, ...] = ()
    cold_params: dict[str, Any] = field(default_factory=dict)

    def hot_arg(self, offset: int = 1) -> str:
        """The placeholder of the ``offset``-th argument after ``hot_args``."""
        return f"${len(self.hot_args) + offset}"


async def union_counts(tiers: Tiers, rows: KeyedRows) -> Counts:
    """Exact (events, users) of every key, in one pass of each tier."""
    pushed = await tiers.push_hot(
        f"SELECT key, user_id, sum(events)::bigint AS events FROM ({rows.hot_sql}) r"
        " GROUP BY key, user_id",
        *rows.hot_args,
        structure=f"key {rows.key_type}, user_id String, events UInt64",
    )
    counts = await tiers.cold_fetch(
        f"""SELECT key, sum(events), uniqExact(user_id) FROM (
                SELECT key, user_id, toUInt64(events) AS events FROM ({rows.cold_sql})
                UNION ALL SELECT key, user_id, events FROM {pushed})
            GROUP BY key""",
        rows.cold_params,
    )
    return {key: (events, users) for key, events, users in counts}


@dataclass(frozen=True)
class Partial:
    hot: Counts
    cold: Counts
    # Keys of hot events that occurred before the archive watermark, with the cold users
    # of each that also have hot events of that key.
    common: dict[Any, int]


async def partial_counts(
    tiers: Tiers, rows: KeyedRows, *, late_before: dt.datetime | None, last_late_key: Any = None
) -> Partial:
    """Each tier's (events, users) per key, counted concurrently, and the common users of
    the keys of hot events that occurred before ``late_before`` (the archive watermark:
    the hot events whose keys the cold tier is likely to have too). With
    ``late_before``, keys must be local days, and ``last_late_key`` the latest key of an
    instant before it.

    The hot (key, user) pairs near and before the watermark are read first (from those
    partitions and the late events' only); the cold pass counts the common users of
    every key against them while the hot pass counts."""
    late = f"min(instant) < {rows.hot_arg()}" if late_before is not None else "false"
    hot_args = (*rows.hot_args, late_before) if late_before is not None else rows.hot_args
    common = "toUInt64(0)"
    if late_before is not None:
        # Every hot row of a key holding an event before late_before is among these.
        pairs = await tiers.push_hot(
            f"SELECT DISTINCT key, user_id FROM ({rows.hot_sql}) r"
            f" WHERE instant < {rows.hot_arg()} AND key <= {rows.hot_arg(2)}",
            *rows.hot_args,
            late_before + _KEY_SPAN,
            last_late_key,
            structure=f"key {rows.key_type}, user_id String",
        )
        common = f"uniqExactIf(user_id, (key, user_id) IN (SELECT key, user_id FROM {pairs}))"
    hot, cold = await asyncio.gather(
        tiers.hot.fetch(
            f"""SELECT key, sum(events)::bigint, count(*), bool_or(late) FROM (
                    SELECT key, user_id, sum(events) AS events, {late} AS late
                    FROM ({rows.hot_sql}) r GROUP BY key, user_id) pairs
                GROUP BY key""",
            *hot_args,
        ),
        tiers.cold_fetch(
            f"SELECT key, sum(events), uniqExact(user_id), {common}"
            f" FROM ({rows.cold_sql}) GROUP BY key",
            rows.cold_params,
        ),
    )
    late_keys = {key for key, _, _, late in hot if late}
    return Partial(
        hot={key: (events, users) for key, events, users, _ in hot},
        cold={key: (events, users) for key, events, users, _ in cold},
        common={key: both for key, _, _, both in cold if key in late_keys},
    )


async def merged_counts(
    tiers: Tiers, partial: Partial, rows: KeyedRows, keys: Collection[Any]
) -> Counts:
    """Exact (events, users) for ``keys``."""
    hot, cold = partial.hot, partial.cold
    result = {key: _added(hot.get(key, (0, 0)), cold.get(key, (0, 0))) for key in keys}
    shared = [key for key in keys if key in hot and key in cold]
    common = {key: partial.common[key] for key in shared if key in partial.common}
    # Cold keys past the watermark (a pass between committing a day and advancing the
    # watermark) may have hot events too: their common users are counted here.
    rest = [key for key in shared if key not in common]
    if rest:
        pairs = await tiers.push_hot(
            f"SELECT DISTINCT key, user_id FROM ({rows.hot_sql}) r"
            f" WHERE key = ANY({rows.hot_arg()})",
            *rows.hot_args,
            rest,
            structure=f"key {rows.key_type}, user_id String",
        )
        common.update(
            await tiers.cold_fetch(
                f"""SELECT key, uniqExact(user_id) FROM ({rows.cold_sql})
                    WHERE key IN %(keys)s
                      AND (key, user_id) IN (SELECT key, user_id FROM {pairs})
                    GROUP BY key""",
                {**rows.cold_params, "keys": tuple(rest)},
            )
        )
    for key, users in common.items():
        events, all_users = result[key]
        result[key] = (events, all_users - users)
    return result


def _added(hot: tuple[int, int], cold: tuple[int, int]) -> tuple[int, int]:
    return hot[0] + cold[0], hot[1] + cold[1]
