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
  Each step is one jump, through per-step arrays of "the next match at or after each
  position", so a user's walks cost steps x entries, not entries x events.
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


def _layer(inner: str, *columns: str) -> str:
    """``inner`` with more columns. Each layer is a subquery of its own because ClickHouse
    substitutes an alias's expression where it is used: a per-user array used inside a
    lambda over the entries would be computed again for every entry."""
    return f"SELECT *, {', '.join(columns)} FROM ({inner})"


def _nexts(steps: int) -> str:
    """At ``k * length(ts) + p``: the position of the first event at or after position p
    that matches step k (0: none), found in one backward fill per step."""
    at = "arrayMap((m, j) -> if(bitTest(m, k), j, 0), masks, arrayEnumerate(masks))"
    return f"arrayFlatten(arrayMap(k -> arrayReverseFill(x -> x != 0, {at}), range({steps})))"


def _walks(users: str, order: FunnelOrder, steps: int, window_us: int) -> str:
    """``users`` with ``paths``: per entry (a position in ``ts``), the instants of its walk."""
    if order is FunnelOrder.STRICT:
        # The first of the next events that does not fill its step ends the walk (0: none).
        broken = (
            f"arrayFirstIndex(k -> NOT (i + k <= length(ts) AND bitTest(masks[i + k], k)"
            f" AND ts[i + k] <= ts[i] + {window_us}), range(1, {steps}))"
        )
        walk = f"arraySlice(ts, i, if({broken} = 0, {steps}, {broken}))"
        return _layer(users, f"arrayMap(i -> {walk}, entries) AS paths")
    # Step k of every entry's walk at once: one jump from its step k - 1 to the first
    # later event of step k (0: none, or past the entry's deadline, and from then on).
    layers = _layer(users, f"{_nexts(steps)} AS nexts")
    previous = "entries"
    for k in range(1, steps):
        jump = f"nexts[{k} * length(ts) + p + 1]"
        layers = _layer(
            layers,
            f"arrayMap((p, e) -> if(p = 0 OR p >= length(ts) OR {jump} = 0"
            f" OR ts[{jump}] > ts[e] + {window_us}, 0, {jump}), {previous}, entries) AS step_{k}",
        )
        previous = f"step_{k}"
    # Each step's instants, then each walk as arrays of lambda arguments only: a per-user
    # array read in a lambda nested in another is copied for every outer element.
    layers = _layer(
        layers,
        "arrayMap(p -> ts[p], entries) AS time_0",
        *(f"arrayMap(p -> if(p = 0, 0, ts[p]), step_{k}) AS time_{k}" for k in range(1, steps)),
    )
    lanes = [f"p{k}" for k in range(1, steps)]
    times = [f"t{k}" for k in range(steps)]
    depth = " + ".join(f"({p} != 0)" for p in lanes)
    arrays = [f"step_{k}" for k in range(1, steps)] + [f"time_{k}" for k in range(steps)]
    walk = f"arraySlice([{', '.join(times)}], 1, 1 + {depth})"
    return _layer(
        layers, f"arrayMap(({', '.join(lanes + times)}) -> {walk}, {', '.join(arrays)}) AS paths"
    )


def user_paths(rows: str, *, order: FunnelOrder, steps: int, window_us: int) -> str:
    """A subquery of (user_id, b, path) per user with an entry: ``path`` holds the
    instants of the path's events (depth + 1 of them), ``b`` the entry's ``b``."""
    users = f"""
        SELECT user_id,
               arrayMap(e -> e.1, ev) AS ts,
               arrayMap(e -> e.4, ev) AS masks,
               arrayMap(e -> e.6, ev) AS values,
               arrayFilter(i -> ev[i].5 = 1, arrayEnumerate(ev)) AS entries
        FROM (
            SELECT user_id, arraySort(groupArray((t, id, r, mask, entry, b))) AS ev
            FROM ({rows}) GROUP BY user_id HAVING max(entry) = 1
        )"""
    walked = _walks(users, order, steps, window_us)
    # The earliest entry reaching the deepest step: entries are in event order.
    chosen = _layer(
        _layer(walked, "arrayMap(q -> length(q), paths) AS lengths"),
        "indexOf(lengths, arrayMax(lengths)) AS chosen",
    )
    return f"SELECT user_id, paths[chosen] AS path, values[entries[chosen]] AS b FROM ({chosen})"


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
