"""The events a funnel reads from each tier, as rows of ``_funnel_paths.row_structure``.

A funnel needs single events in their order, so neither store's buckets can answer it.
Entries lie on the range's days; later steps up to the window after the last entry, so
both tiers are read over ``[window start, window end + windowSeconds)``. ``ORDERED``
needs only the events that are entries or match a later step; ``STRICT`` needs every
event, since any event between two steps breaks the walk. The hot rows are shipped into
the cold query (:meth:`Tiers.push_hot`), so each user's events of both tiers meet in one
array: as few and as short as can be, instants after the span's start and receipts as
delays (both order ties only), the breakdown's value only with a breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventide.analytics._funnel_paths import FunnelOrder, row_structure
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.analytics.calendar import MAX_INSTANT_US, Window
from eventide.analytics.filters import ColdConditions, EventSelector, HotConditions
from eventide.archive.tiers import Tiers
from eventide.storage.tenant_sql import EVENTS


@dataclass(frozen=True)
class FunnelQuestion:
    """A validated funnel: its steps in order, and the path of the property its users
    are broken down by (on entries only: the path's entry event gives the value)."""

    steps: tuple[EventSelector, ...]
    window: Window
    window_us: int
    order: FunnelOrder
    breakdown: tuple[str, ...] | None = None

    @property
    def read_end_us(self) -> int:
        # No store holds an instant past MAX_INSTANT_US.
        return min(self.window.end_us + self.window_us, MAX_INSTANT_US)


async def funnel_rows(tiers: Tiers, question: FunnelQuestion) -> tuple[str, dict[str, Any]]:
    """A ClickHouse subquery over both tiers' rows, and its parameters."""
    hot_sql, hot_args = _hot_rows(question)
    structure = row_structure(breakdown=question.breakdown is not None)
    pushed = await tiers.push_hot(hot_sql, *hot_args, structure=structure)
    cold_sql, params = _cold_rows(question)
    return f"{cold_sql} UNION ALL SELECT * FROM {pushed}", params


def _hot_rows(question: FunnelQuestion) -> tuple[str, list[Any]]:
    args: list[Any] = []
    conditions = HotConditions(args)
    matches = [conditions.selector(step) for step in question.steps]
    entry = f"({matches[0]}) AND {Postgres.in_window('occurred_at', question.window)}"
    bits = [entry, *matches[1:]]
    mask = " + ".join(f"(CASE WHEN {m} THEN {1 << k} ELSE 0 END)" for k, m in enumerate(bits))
    value = ""
    if question.breakdown is not None:
        json = conditions.value_json(question.breakdown)
        value = f", (CASE WHEN {entry} THEN coalesce({json}, '') ELSE '' END) AS b"
    start = Postgres.instant(question.window.start_us)
    end = Postgres.instant(question.read_end_us)
    sql = f"""
        SELECT * FROM (
            SELECT user_id,
                   (EXTRACT(EPOCH FROM occurred_at - {start}) * 1000000)::bigint AS t,
                   event_id AS id,
                   (EXTRACT(EPOCH FROM received_at - occurred_at) * 1000000)::bigint AS r,
                   {mask} AS mask{value}
            FROM {EVENTS} WHERE occurred_at >= {start} AND occurred_at < {end}
        ) events_read{_relevant(question)}"""
    return sql, args


def _cold_rows(question: FunnelQuestion) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    conditions = ColdConditions(params, "funnel")
    matches = [conditions.selector(step) for step in question.steps]
    entry = f"({matches[0]}) AND {ClickHouse.in_window('occurred_at', question.window)}"
    bits = [entry, *matches[1:]]
    mask = " + ".join(f"if({m}, {1 << k}, 0)" for k, m in enumerate(bits))
    value = ""
    if question.breakdown is not None:
        json = conditions.value_json(question.breakdown)
        value = f", if(bitTest(mask, 0), coalesce({json}, ''), '') AS b"
    start = ClickHouse.instant(question.window.start_us)
    end = ClickHouse.instant(question.read_end_us)
    sql = f"""
        SELECT * FROM (
            SELECT user_id,
                   toUnixTimestamp64Micro(occurred_at) - {question.window.start_us} AS t,
                   event_id AS id,
                   toUnixTimestamp64Micro(received_at) - toUnixTimestamp64Micro(occurred_at) AS r,
                   toUInt16({mask}) AS mask{value}
            FROM {EVENTS} WHERE occurred_at >= {start} AND occurred_at < {end}
        ){_relevant(question)}"""
    return sql, params


def _relevant(question: FunnelQuestion) -> str:
    """Events that are no entry and fill no later step cannot matter to ORDERED walks."""
    return " WHERE mask <> 0" if question.order is FunnelOrder.ORDERED else ""
