"""Each user's funnel path, and the step counts and medians of the paths, in ClickHouse.

The input is one row per event that matters, from both tiers (``_funnel_rows``): the
user, the instant ``t`` (microseconds), ``id`` and ``r`` (the event id and the receipt
instant, which order events of the same instant), ``mask`` (bit k: the event matches
step k; selectors may overlap, so several bits may be set), ``entry`` (it matches step 0
on a day of the range) and ``b`` (on entries, the JSON text of the breakdown value; ''
when absent). Per user, the events are sorted by (t, id, r) into arrays and each entry
is followed to the deepest step it reaches:

- ORDERED: greedily, each step at the earliest later event matching it. Taking the
  earliest match never hurts: every later step then has at least as many candidates,
  within the same deadline (the entry's instant plus the window). So the greedy walk
  reaches the entry's depth, and it is the path SEMANTICS chooses from that entry. An
  event is used for one step at most, since each step takes a strictly later event.
- STRICT: the entry's next events, one per step, while each matches its step.

The user's depth is the longest walk; the path is that of the earliest entry reaching
it (entries are in event order). Everything per user stays in ClickHouse: Python sees
one row per breakdown group and step.
"""

from __future__ import annotations

import enum

ROW_STRUCTURE = "user_id String, t Int64, id String, r Int64, mask UInt16, entry UInt8, b String"


class FunnelOrder(enum.Enum):
    ORDERED = "ORDERED"
    STRICT = "STRICT"


def _walk(order: FunnelOrder, steps: int, window_us: int) -> str:
    """A lambda body: the instants of the walk from the entry at index ``i`` of ``ts``."""
    deadline = f"ts[i] + {window_us}"
    if order is FunnelOrder.ORDERED:
        # Only the events up to the deadline: ts is sorted, so they are a prefix of the rest.
        within = f"arrayCount(x -> x <= {deadline}, arraySlice(ts, i + 1))"
        later = f"arraySlice(arrayEnumerate(ts), i + 1, {within})"
        return (
            f"arrayFold((acc, j) -> if(length(acc) < {steps} AND bitTest(masks[j], length(acc)),"
            f" arrayPushBack(acc, ts[j]), acc), {later}, [ts[i]])"
        )
    # The first of the next events that does not fill its step ends the walk (0: none).
    broken = (
        f"arrayFirstIndex(k -> NOT (i + k <= length(ts) AND bitTest(masks[i + k], k)"
        f" AND ts[i + k] <= {deadline}), range(1, {steps}))"
    )
    return f"arraySlice(ts, i, if({broken} = 0, {steps}, {broken}))"


def user_paths(rows: str, *, order: FunnelOrder, steps: int, window_us: int) -> str:
    """A subquery of (user_id, b, path) per user with an entry: ``path`` holds the
    instants of the path's events (depth + 1 of them), ``b`` the entry's ``b``."""
    return f"""
        SELECT user_id, paths[chosen] AS path, ev[entries[chosen]].6 AS b FROM (
            SELECT user_id, ev,
                   arrayMap(e -> e.1, ev) AS ts,
                   arrayMap(e -> e.4, ev) AS masks,
                   arrayFilter(i -> ev[i].5 = 1, arrayEnumerate(ev)) AS entries,
                   arrayMap(i -> {_walk(order, steps, window_us)}, entries) AS paths,
                   arrayFirstIndex(
                       p -> length(p) = arrayMax(arrayMap(q -> length(q), paths)), paths
                   ) AS chosen
            FROM (
                SELECT user_id, arraySort(groupArray((t, id, r, mask, entry, b))) AS ev
                FROM ({rows}) GROUP BY user_id HAVING max(entry) = 1
            )
        )"""


def grouped(paths: str, *, key: str | None, limit: int) -> str:
    """Rows of (group, key, step, users, lower and upper median of the microseconds from
    the previous step). Without a breakdown ``key`` every user is in group 1; with one,
    ``key`` (an expression of ``b``) ranks the groups by users (descending, then key
    ascending), the first ``limit`` are groups 1..limit and the rest group limit + 1."""
    if key is None:
        ranked = f"SELECT path, 1 AS grp, '' AS key FROM ({paths})"
    else:
        ranked = f"""
            SELECT path, key, if(rank <= {limit}, rank, {limit + 1}) AS grp FROM (
                SELECT path, key, dense_rank() OVER (ORDER BY users DESC, key ASC) AS rank
                FROM (SELECT path, key, count() OVER (PARTITION BY key) AS users
                      FROM (SELECT path, {key} AS key FROM ({paths}))))"""
    gaps = "arrayMap(k -> if(k = 1, toInt64(0), path[k] - path[k - 1]), arrayEnumerate(path))"
    return f"""
        SELECT grp, any(key), k - 1 AS step, count(),
               quantileExactLow(0.5)(gap), quantileExactHigh(0.5)(gap)
        FROM (SELECT grp, key, {gaps} AS gaps FROM ({ranked}))
        ARRAY JOIN gaps AS gap, arrayEnumerate(gaps) AS k
        GROUP BY grp, step ORDER BY grp, step"""
