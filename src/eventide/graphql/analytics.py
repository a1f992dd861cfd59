"""The analytics queries: ``dau``, ``topEvents``, ``retention`` and the ``events`` listing.

Open to signed-in users and to API tokens with the READ scope. Every answer is exact
across the hot and the cold tier (see :mod:`eventide.analytics`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any

import strawberry

from eventide.analytics import calendar, dau, listing, retention, top_events
from eventide.analytics.calendar import Period
from eventide.analytics.filters import as_double, is_number
from eventide.analytics.retention import CohortKind
from eventide.auth.principal import TokenScope
from eventide.errors import InvalidInput
from eventide.graphql.analytics_types import (
    DailyActiveUsers,
    DateRange,
    Event,
    EventConnection,
    EventEdge,
    EventFilter,
    EventTypeCount,
    RetentionCohort,
)
from eventide.graphql.context import Info
from eventide.graphql.filters import PropertyFilter, where_to_domain
from eventide.graphql.pagination import PageInfo, check_page_size, decode_cursor, encode_cursor
from eventide.graphql.permissions import scoped
from eventide.graphql.project_argument import ProjectIdArgument, project_of
from eventide.projects.roles import READS

_CURSOR_KIND = "events"
_TIMEZONE = "IANA time zone whose calendar days are counted, e.g. Europe/Berlin."
RangeArgument = Annotated[
    DateRange, strawberry.argument(name="range", description="Inclusive range of days.")
]
TimezoneArgument = Annotated[str, strawberry.argument(description=_TIMEZONE)]
WhereArgument = Annotated[
    list[PropertyFilter] | None,
    strawberry.argument(description="Conditions on the events' properties; every one must hold."),
]


def _cursor(event: listing.Event, where: listing.EventFilter) -> str:
    return encode_cursor(_CURSOR_KIND, *event.key, _filter_tag(where))


def _filter_tag(where: listing.EventFilter) -> str:
    """A digest of the filter a cursor pages through: it is no position in another one."""

    def instant(value: dt.datetime | None) -> int | None:
        return None if value is None else calendar.instant_us(value)

    # Left out when there are none, so that cursors given out before conditions existed
    # keep their tags.
    conditions = [[list(c.path), c.op.value, _tagged(c.value)] for c in where.where]
    text = json.dumps(
        [
            where.user_id,
            where.event_type,
            instant(where.occurred_from),
            instant(where.occurred_to),
            *([conditions] if conditions else []),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _tagged(value: Any) -> Any:
    """A condition's value for the filter tag: numbers as the doubles they compare as."""
    if isinstance(value, tuple):
        return [_tagged(item) for item in value]
    return as_double(value) if is_number(value) else value


def _position(cursor: str, where: listing.EventFilter) -> listing.Key:
    occurred, event_id, received, tag = decode_cursor(_CURSOR_KIND, cursor, (int, str, int, str))
    # Keys are instants of stored events, which no store holds past MAX_INSTANT_US.
    if max(occurred, received) > calendar.MAX_INSTANT_US:
        raise InvalidInput("Invalid cursor")
    if tag != _filter_tag(where):
        raise InvalidInput("Invalid cursor: it was made for another filter")
    return occurred, event_id, received


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        extensions=scoped(TokenScope.READ),
        description="Distinct users with an event on each day of the range, ascending, "
        "days without any included.",
    )
    async def dau(
        self,
        info: Info,
        range_: RangeArgument,
        timezone: TimezoneArgument = "UTC",
        event_type: str | None = None,
        where: WhereArgument = None,
        project_id: ProjectIdArgument = None,
    ) -> list[DailyActiveUsers]:
        conditions = where_to_domain(where, argument="where")
        rows = await dau.daily_active_users(
            info.context.engines,
            project=await project_of(info, project_id, need=READS),
            first=range_.from_,
            last=range_.to,
            timezone=timezone,
            event_type=event_type,
            where=conditions,
        )
        return [DailyActiveUsers(date=r.date, users=r.users) for r in rows]

    @strawberry.field(
        extensions=scoped(TokenScope.READ),
        description="Event types of the range by number of events (then name), "
        "with their distinct users.",
    )
    async def top_events(
        self,
        info: Info,
        range_: RangeArgument,
        timezone: TimezoneArgument = "UTC",
        limit: int = 10,
        where: WhereArgument = None,
        project_id: ProjectIdArgument = None,
    ) -> list[EventTypeCount]:
        conditions = where_to_domain(where, argument="where")
        rows = await top_events.top_events(
            info.context.engines,
            project=await project_of(info, project_id, need=READS),
            first=range_.from_,
            last=range_.to,
            timezone=timezone,
            limit=limit,
            where=conditions,
        )
        return [EventTypeCount.of(r) for r in rows]

    @strawberry.field(
        extensions=scoped(TokenScope.READ),
        description="One cohort per period holding a day of the range: its users, and how "
        "many of them had an event each following period.",
    )
    async def retention(
        self,
        info: Info,
        range_: RangeArgument,
        period: Period = Period.DAY,
        periods: int = 7,
        cohort: CohortKind = CohortKind.FIRST_SEEN,
        cohort_event_type: str | None = None,
        return_event_type: str | None = None,
        cohort_where: WhereArgument = None,
        return_where: WhereArgument = None,
        timezone: TimezoneArgument = "UTC",
        project_id: ProjectIdArgument = None,
    ) -> list[RetentionCohort]:
        cohort_conditions = where_to_domain(cohort_where, argument="cohortWhere")
        return_conditions = where_to_domain(return_where, argument="returnWhere")
        rows = await retention.retention(
            info.context.engines,
            project=await project_of(info, project_id, need=READS),
            first=range_.from_,
            last=range_.to,
            period=period,
            periods=periods,
            kind=cohort,
            timezone=timezone,
            cohort_event_type=cohort_event_type,
            return_event_type=return_event_type,
            cohort_where=cohort_conditions,
            return_where=return_conditions,
        )
        return [RetentionCohort(cohort=r.cohort, size=r.size, retained=r.retained) for r in rows]

    @strawberry.field(
        extensions=scoped(TokenScope.READ),
        description="Events matching the filter, newest first (occurredAt, then eventId, "
        "descending).",
    )
    async def events(
        self,
        info: Info,
        filter: EventFilter | None = None,
        first: int = 50,
        after: str | None = None,
        project_id: ProjectIdArgument = None,
    ) -> EventConnection:
        check_page_size(first)
        where = filter.to_domain() if filter else listing.EventFilter()
        project = await project_of(info, project_id, need=READS)
        page = await listing.list_events(
            info.context.engines,
            project=project,
            where=where,
            first=first,
            below=_position(after, where) if after is not None else None,
        )
        edges = [
            EventEdge(cursor=_cursor(e, where), node=Event.of(e, project=project))
            for e in page.events
        ]
        return EventConnection(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], has_next_page=page.has_next_page),
        )
