"""The events a funnel reads from each tier, as rows of ``_funnel_paths.row_structure``.

A funnel needs single events in their order, so neither store's buckets can answer it.
Entries lie on the range's days; later steps up to the window after the last entry, so
both tiers are read over ``[window start, window end + windowSeconds)``. ``ORDERED``
needs only the events that are entries or match a later step; ``STRICT`` needs every
event, since any event between two steps breaks the walk. The hot rows are shipped into
the cold query (:meth:`Tiers.push_hot`), so each user's events of both tiers meet in one
array: as few and as short as can be, instants after the span's start, the breakdown's
value only with a breakdown, the event's id only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventide.analytics._funnel_paths import FunnelOrder, row_structure
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.analytics.calendar import MAX_INSTANT_US, Window
from eventide.analytics.filters import ColdConditions, EventSelector, HotConditions
from eventide.archive.tiers import HotRows, Tiers
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


async def funnel_rows(
    tiers: Tiers, question: FunnelQuestion, *, ids: bool
) -> tuple[str, dict[str, Any]]:
    """A ClickHouse subquery over both tiers' rows (with an ``id`` column if ``ids``), and
    its parameters."""
    structure = row_structure(breakdown=question.breakdown is not None, ids=ids)
    # Rendering the rows as text is most of PostgreSQL's part: two halves at the same time.
    halves = (HotRows(*_hot_rows(question, half=half, ids=ids), structure) for half in (0, 1))
    first, second = await tiers.push_hot_concurrently(*halves)
    cold_sql, params = _cold_rows(question, ids=ids)
    pushed = f"SELECT * FROM {first} UNION ALL SELECT * FROM {second}"
    return f"{cold_sql} UNION ALL {pushed}", params


def _hot_rows(question: FunnelQuestion, *, half: int, ids: bool) -> tuple[str, tuple[Any, ...]]:
    """The hot rows of the events whose id hashes to ``half`` (0 or 1)."""
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
                   {"event_id AS id, " if ids else ""}{mask} AS mask{value}
            FROM {EVENTS}
            WHERE occurred_at >= {start} AND occurred_at < {end}
              AND (hashtext(event_id) & 1) = {int(half)}{_relevant(question, bits)}
        ) events_read"""
    return sql, tuple(args)


def _cold_rows(question: FunnelQuestion, *, ids: bool) -> tuple[str, dict[str, Any]]:
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
                   {"event_id AS id, " if ids else ""}toUInt16({mask}) AS mask{value}
            FROM {EVENTS}
            WHERE occurred_at >= {start} AND occurred_at < {end}{_relevant(question, bits)}
        )"""
    return sql, params


def _relevant(question: FunnelQuestion, bits: list[str]) -> str:
    """Events that are no entry and fill no later step cannot matter to ORDERED walks.
    Tested on the columns, not on ``mask``, so that the stores' indexes see the event
    types (and the cold store reads only their granules)."""
    if question.order is not FunnelOrder.ORDERED:
        return ""
    return " AND ({})".format(" OR ".join(f"({bit})" for bit in bits))
