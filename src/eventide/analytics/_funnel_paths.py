"""Each user's funnel path, and the step counts and medians of the paths, in ClickHouse.

The input is one row per event that matters, from both tiers (``_funnel_rows``): the
user, the instant ``t`` (microseconds after the read span's start), ``mask`` (bit 0: the
event is an entry, i.e. it matches step 0 on a day of the range; bit k > 0: it matches
step k; selectors may overlap, so several bits may be set), with a breakdown ``b`` (on
entries, the JSON text of the value; '' when absent) and, when asked for, ``id`` (the
event id, which orders events of the same instant: unique in a project). Per user, the
events are sorted by (t, id) into arrays, and each step costs a few passes over them
with array functions whose lambdas read their arrays' elements and single values only
(a lambda reading another per-user array copies it for every element: events x events).

Ids are most of the bytes read and sorted, and they matter only where one user has
events at the same instant that differ in mask or value. So a funnel is first walked
without them, events of one instant sorted by their other fields, and each user whose
events at one instant differ is flagged ``ambiguous``; only when there is one is the
question walked again with the ids.

- ORDERED. The greedy walk (each step at the earliest later event matching it) reaches
  the deepest step from its entry, and it is the path SEMANTICS chooses: taking the
  earliest match never hurts, as every later step then has at least as many candidates
  within the same deadline. An event fills one step at most, since each step takes a
  strictly later event. The depth comes forwards: step k is filled by an event of step k
  when the latest entry that filled step k - 1 strictly before it is within the window
  (the latest entry leaves the most time). The path comes backwards: the instant the
  greedy walk from the next event of step k fills the user's deepest step, per position;
  the earliest entry whose walk fills it within its window is the path's entry, and its
  steps the first matches after one another.
- STRICT. At each entry, whether its next k events fill steps 1..k within its window;
  the path is the earliest entry's walk to the deepest step.

Everything per user stays in ClickHouse: Python sees one row per breakdown group and step.
"""

from __future__ import annotations

import enum

# Greater and less than any instant a store holds (no overflow with the window added).
_NEVER = "toInt64(9223372036854775807)"
_NONE = "toInt64(-9223372036854775807)"
# A mask has a bit per step (at most MASK_BITS): each event's (t, mask) is sorted as one
# UInt64, t times 2 ** MASK_BITS plus the mask, as no t exceeds the span of the instants
# a store holds, which is less than 2 ** (64 - MASK_BITS) microseconds.
MASK_BITS = 10


class FunnelOrder(enum.Enum):
    ORDERED = "ORDERED"
    STRICT = "STRICT"


class Need(enum.Enum):
    """How much of each user's path a question reads: its depth (the counts), also its
    entry (a breakdown's value), or all its instants (the medians)."""

    DEPTH = 1
    ENTRY = 2
    PATH = 3


def row_structure(*, breakdown: bool, ids: bool) -> str:
    """The rows' columns (``id`` only with ``ids``, ``b`` only with a breakdown), in
    ClickHouse's structure syntax."""
    columns = ["user_id String", "t Int64", *["id String"] * ids, "mask UInt16"]
    return ", ".join(columns + ["b String"] * breakdown)


def _later(array: str, by: int, fill: str) -> str:
    """At position p: ``array``'s element at p + ``by`` (``fill`` past the end)."""
    return f"arrayResize(arraySlice({array}, {by + 1}), length({array}), {fill})"


def _carried(fill: str, value: str, before: str | None = None) -> str:
    """Per position, ``value`` (of ``t`` and ``m`` from ``ts`` and ``masks``, and ``x``
    from ``before`` if given) or, where that is _NONE, the nearest one set before it
    (``arrayFill``) or after it (``arrayReverseFill``); _NONE if there is none."""
    lambda_, arrays = "(t, m)", "ts, masks"
    if before is not None:
        lambda_, arrays = "(x, t, m)", f"{before}, ts, masks"
    return f"{fill}(x -> x != {_NONE}, arrayMap({lambda_} -> {value}, {arrays}))"


def _ordered(steps: int, window_us: int, need: Need) -> list[list[str]]:
    """The levels of columns giving ``depth`` and, as ``need`` says, ``entry`` and
    ``path``, for ORDERED."""
    within = f"toInt64({window_us})"
    # Forwards: at each position, the latest entry whose walk has filled step k by then.
    latest = [f"{_carried('arrayFill', f'if(bitTest(m, 0), t, {_NONE})')} AS latest_0"]
    for k in range(1, steps):
        before = f"arrayPushFront(arrayPopBack(latest_{k - 1}), {_NONE})"
        fills = f"if(bitTest(m, {k}) AND t <= x + {within}, x, {_NONE})"
        latest.append(f"{_carried('arrayFill', fills, before)} AS latest_{k}")
    depth = " + ".join(f"(latest_{k}[-1] != {_NONE})" for k in range(1, steps))
    levels = [latest, [f"toUInt8({depth}) AS depth"]]
    if need is Need.DEPTH:
        return levels
    # Backwards: at each position, the instant at which the greedy walk from the next
    # event of step k fills step ``depth`` (_NEVER: it does not). Steps past the depth
    # are computed but never read.
    done = []
    for k in reversed(range(1, steps)):
        if k + 1 < steps:
            fills = f"if(bitTest(m, {k}), if(depth = {k}, t, x), {_NONE})"
            filled = _carried("arrayReverseFill", fills, _later(f"done_{k + 1}", 1, _NEVER))
        else:
            filled = _carried("arrayReverseFill", f"if(bitTest(m, {k}), t, {_NONE})")
        done.append(f"arrayMap(x -> if(x = {_NONE}, {_NEVER}, x), {filled}) AS done_{k}")
    # The earliest entry whose walk fills it within the window, then each of the walk's
    # steps at the first match after the step before.
    reaches = f"(x, t, m) -> bitTest(m, 0) AND x <= t + {within}"
    reaching = f"arrayFirstIndex({reaches}, {_later('done_1', 1, _NEVER)}, ts, masks)"
    first = "arrayFirstIndex(m -> bitTest(m, 0), masks)"
    levels += [done, [f"if(depth = 0, {first}, {reaching}) AS entry"]]
    if need is Need.ENTRY:
        return levels
    at = ["entry"] + [f"at_{k}" for k in range(1, steps)]
    after = "(m, i) -> i > {} AND bitTest(m, {})"
    steps_at = [
        f"arrayFirstIndex({after.format(at[k - 1], k)}, masks, arrayEnumerate(masks)) AS at_{k}"
        for k in range(1, steps)
    ]
    times = ", ".join(f"ts[{a}]" for a in at)
    return [*levels, steps_at, [f"arraySlice([{times}], 1, depth + 1) AS path"]]


def _strict(steps: int, window_us: int, need: Need) -> list[list[str]]:
    """The levels of columns giving ``depth`` and, as ``need`` says, ``entry`` and
    ``path``, for STRICT."""
    # At each entry: whether its next k events fill steps 1..k within its window.
    walks = ["arrayMap(m -> bitTest(m, 0), masks) AS walks_0"]
    for k in range(1, steps):
        fills = f"(w, m, t, e) -> w AND bitTest(m, {k}) AND t <= e + toInt64({window_us})"
        later = f"{_later('masks', k, 'toUInt16(0)')}, {_later('ts', k, _NEVER)}"
        walks.append(f"arrayMap({fills}, walks_{k - 1}, {later}, ts) AS walks_{k}")
    depth = " + ".join(f"has(walks_{k}, 1)" for k in range(1, steps))
    levels = [walks, [f"toUInt8({depth}) AS depth"]]
    if need is Need.DEPTH:
        return levels
    firsts = ", ".join(f"depth = {k}, arrayFirstIndex(w -> w, walks_{k})" for k in range(1, steps))
    levels.append([f"multiIf({firsts}, arrayFirstIndex(w -> w, walks_0)) AS entry"])
    if need is Need.ENTRY:
        return levels
    return [*levels, ["arraySlice(ts, entry, depth + 1) AS path"]]


def user_paths(
    rows: str,
    *,
    order: FunnelOrder,
    steps: int,
    window_us: int,
    breakdown: bool,
    medians: bool,
    ids: bool,
) -> str:
    """A subquery with a row per user with an entry, holding (among the walk's columns)
    ``path``, the instants of the path's events (depth + 1 of them; zeros without
    ``medians``), ``b``, the entry's ``b`` ('' without a breakdown), and ``ambiguous``
    (1 when, without ``ids``, the user's events at one instant differ: then their order,
    and so the walk, is not known).

    Every subquery level costs planning time over the inline hot rows, so each phase of
    the walk is one level: ClickHouse computes an alias once however many later columns
    of its level read it. A phase reads the one before as columns, not as aliases:
    expanded aliases of aliases would make the query tree grow as a power of the steps."""
    need = Need.PATH if medians else Need.ENTRY if breakdown else Need.DEPTH
    walk = _ordered if order is FunnelOrder.ORDERED else _strict
    levels = walk(steps, window_us, need)
    if not medians:
        levels[-1].append("arrayWithConstant(depth + 1, toInt64(0)) AS path")
    # Each event as (t, mask) in one number (a numeric array sorts fastest), after (t, id)
    # with ids, and with its value. groupArray of a tuple takes a slower, generic path:
    # one array per column, zipped.
    key = f"toUInt64(t) * {1 << MASK_BITS} + mask"
    events = (["t", "id", key] if ids else [key]) + ["b"] * breakdown
    value = f"tupleElement(ev, {len(events)})[entry]" if breakdown else "''"
    levels[-1].append(f"{value} AS b")
    # Sorted, the events of one instant are next to one another.
    if len(events) > 1:
        ev = f"arrayZip({', '.join(f'groupArray({e})' for e in events)})"
        keys = f"tupleElement(ev, {events.index(key) + 1})"
        ambiguous = (
            f"arrayExists((x, y) -> bitShiftRight(x.1, {MASK_BITS}) ="
            f" bitShiftRight(y.1, {MASK_BITS}) AND x != y, arrayPopBack(ev), arrayPopFront(ev))"
        )
    else:
        ev, keys = f"groupArray({key})", "ev"
        # Of equal instants, the keys differ where the masks do.
        ambiguous = (
            "arrayExists((d, e) -> d = 0 AND e != 0, arrayDifference(ts), arrayDifference(ev))"
        )
    query = f"""
        SELECT user_id, arraySort({ev}) AS ev, {keys} AS keys,
               arrayMap(k -> toInt64(bitShiftRight(k, {MASK_BITS})), keys) AS ts,
               arrayMap(k -> toUInt16(bitAnd(k, {(1 << MASK_BITS) - 1})), keys) AS masks,
               toUInt8({"0" if ids else ambiguous}) AS ambiguous
        FROM ({rows}) GROUP BY user_id HAVING max(bitTest(mask, 0)) = 1"""
    for columns in levels:
        query = f"SELECT *, {', '.join(columns)} FROM ({query})"
    return query


def grouped(paths: str, *, key: str | None, limit: int, steps: int, medians: bool) -> str:
    """Rows of (group, key, step, users, lower and upper median of the microseconds from
    the previous step, whether any of those users is ambiguous), in no order. Without a
    breakdown ``key`` every user is in group 1; with one, ``key`` (an expression of ``b``)
    ranks the groups by users (descending, then key ascending), the first ``limit`` are
    groups 1..limit and the rest group limit + 1.
    Every subquery level costs planning time over the inline hot rows: as few as can be.
    Without ``medians`` the medians are 0."""
    if key is None and not medians:
        # Each step's users counted in one pass over the users, not over a row per step.
        reached = ", ".join(f"countIf(depth >= {k})" for k in range(steps))
        return f"""
            SELECT 1, '', step, users[step + 1], 0, 0, ambiguous FROM (
                SELECT [{reached}] AS users, max(ambiguous) AS ambiguous FROM ({paths}))
            ARRAY JOIN range({steps}) AS step"""
    if key is None:
        source, group, value, keys = paths, "1", "''", "step"
    else:
        source = f"""
            SELECT path, ambiguous, key, if(rank <= {limit}, rank, {limit + 1}) AS grp FROM (
                SELECT path, ambiguous, key,
                       dense_rank() OVER (ORDER BY users DESC, key ASC) AS rank
                FROM (SELECT path, ambiguous, key, count() OVER (PARTITION BY key) AS users
                      FROM (SELECT path, ambiguous, {key} AS key FROM ({paths}))))"""
        group, value, keys = "grp", "any(key)", "grp, step"
    # arrayDifference: 0 for the entry, then each step's microseconds after the one before.
    return f"""
        SELECT {group} AS grp, {value}, k - 1 AS step, count(),
               quantileExactLow(0.5)(gap), quantileExactHigh(0.5)(gap), max(ambiguous)
        FROM ({source})
        ARRAY JOIN arrayDifference(path) AS gap, arrayEnumerate(path) AS k
        GROUP BY {keys}"""
