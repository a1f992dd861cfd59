"""The top-level property keys of a range's events: JSON types, events and top values.

Counts add up across tiers (an event is in one tier and holds a key once), and so do
the counts of each value, so both tiers reduce their events to (key, type, value text,
events), PostgreSQL's rows are shipped into ClickHouse, and one query there sums them
and ranks. Values are keyed by their canonical text (``filters.canonical_json``, in
ClickHouse for both tiers), so ``1`` and ``1.0`` are one value whichever store holds
them; a value is ranked only on its counts summed over both tiers, and only the ranked
keys and their ten top values leave ClickHouse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from eventide.analytics import calendar
from eventide.analytics._sources import COLD_EVENTS, HOT_EVENTS
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.analytics.filters import canonical_json, json_value
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.errors import InvalidInput
from eventide.storable import checked_text
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope

MAX_LIMIT = 1000
TOP_VALUES = 10
# Values of these JSON types are ranked; objects and arrays are not.
_SCALARS = "('string', 'number', 'boolean')"
# ClickHouse's JSONType named as PostgreSQL's jsonb_typeof names the same values.
_TYPE_NAMES = (
    "multiIf({t} = 'Object', 'object', {t} = 'Array', 'array', {t} = 'String', 'string',"
    " {t} = 'Bool', 'boolean', {t} = 'Null', 'null', 'number')"
)
# ClickHouse's JSON parser reads an integer beyond 64 bits as the string of its digits.
# Texts with a run of 19 digits may hold one: those are read with every string marked
# by a trailing U+0000 (no stored text holds one), so such a String without the mark was
# a number. Every string in JSON text (keys included) matches this, left to right.
_STRING = r'"((?:[^"\\]|\\.)*)"'
_MARKED = r'"\1\\u0000"'  # the string's content, then the JSON escape of U+0000
_AMBIGUOUS = "'[0-9]{19}'"
_MARKED_TEXT = (
    "replaceRegexpAll(properties, "
    + ", ".join("'" + t.replace("\\", "\\\\") + "'" for t in (_STRING, _MARKED))
    + ")"
)


@dataclass(frozen=True)
class PropertyInfo:
    property: str
    types: list[str]
    events: int
    top_values: list[Any]


async def event_properties(
    engines: Engines,
    *,
    project: int,
    first: dt.date,
    last: dt.date,
    timezone: str,
    event_type: str | None = None,
    limit: int = 100,
) -> list[PropertyInfo]:
    """At most ``limit`` top-level keys of the properties of the events (of
    ``event_type``, if given) on days ``first..last`` in ``timezone``, by events carrying
    the key descending, then key ascending."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    event_type = checked_text("eventType", event_type)
    days = calendar.DayRange.of(first, last)
    window = calendar.window(calendar.zone(timezone), days.first, days.last)
    if window.empty:
        return []
    async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
        rows = await _ranked(tiers, window, event_type, limit)
    return [
        PropertyInfo(key, list(types), events, [json_value(text) for text in values])
        for key, events, types, values in rows
    ]


async def _ranked(
    tiers: Tiers, window: calendar.Window, event_type: str | None, limit: int
) -> list[Any]:
    # Properties are read from events: buckets hold none.
    hot = HOT_EVENTS
    hot_filter, cold_filter = "", ""
    hot_args: tuple[str, ...] = ()
    if event_type is not None:
        hot_filter, hot_args = " AND event_type = $1", (event_type,)
        cold_filter = " AND event_type = %(event_type)s"
    pushed = await tiers.push_hot(
        f"""SELECT kv.key, jsonb_typeof(kv.value) AS type,
                   CASE WHEN jsonb_typeof(kv.value) IN {_SCALARS} THEN kv.value::text
                        ELSE '' END AS value,
                   count(*)::bigint AS events
            FROM {hot.table} CROSS JOIN LATERAL jsonb_each(properties) AS kv
            WHERE {Postgres.in_window(hot.instant, window)}{hot_filter}
            GROUP BY 1, 2, 3""",
        *hot_args,
        structure="key String, type String, value String, events UInt64",
    )
    # Each (key, canonical value) is summed over both tiers before it is ranked; values
    # of one count rank by their canonical text.
    return await tiers.cold_fetch(
        f"""SELECT key, sum(n) AS events, arraySort(groupUniqArray(type)) AS types,
                   arrayMap(v -> v.2, arraySlice(
                       arraySort(v -> (-v.1, v.2), groupArrayIf((n, canon), type IN {_SCALARS})),
                       1, {TOP_VALUES})) AS top
            FROM (
                SELECT key, type, canon, sum(events) AS n FROM (
                    SELECT key, type, if(type IN {_SCALARS}, {canonical_json("value")}, '')
                               AS canon, events
                    FROM ({_cold_values(window, cold_filter)}
                          UNION ALL SELECT key, type, value, events FROM {pushed}))
                GROUP BY key, type, canon)
            GROUP BY key
            ORDER BY events DESC, key
            LIMIT {int(limit)}""",
        {"event_type": event_type},
    )


def _cold_values(window: calendar.Window, event_filter: str) -> str:
    """The cold events reduced to (key, type, value text, events), as the hot ones."""
    cold = COLD_EVENTS
    kinds = _TYPE_NAMES.format(t="json_type")
    return f"""SELECT key, type, value, count() AS events FROM (
            SELECT kv.1 AS read_key, kv.2 AS raw, JSONType(raw) AS json_type,
                   if(marked, substring(read_key, 1, length(read_key) - 1), read_key) AS key,
                   marked AND json_type = 'String'
                       AND NOT endsWith(JSONExtractString(raw), char(0)) AS big_integer,
                   if(big_integer, 'number', {kinds}) AS type,
                   multiIf(type NOT IN {_SCALARS}, '',
                           big_integer, JSONExtractString(raw),
                           marked AND type = 'string',
                           toJSONString(substring(JSONExtractString(raw), 1,
                                                  length(JSONExtractString(raw)) - 1)),
                           raw) AS value
            FROM (SELECT properties, match(properties, {_AMBIGUOUS}) AS marked
                  FROM {cold.table}
                  WHERE {ClickHouse.in_window(cold.instant, window)}{event_filter})
            ARRAY JOIN JSONExtractKeysAndValuesRaw(
                if(marked, {_MARKED_TEXT}, properties)
            ) AS kv)
        GROUP BY key, type, value"""
