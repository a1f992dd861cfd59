"""GraphQL types of the analytics queries."""

from __future__ import annotations

import datetime
from typing import cast

import strawberry

from eventide.analytics import listing, top_events
from eventide.analytics.calendar import Period
from eventide.analytics.retention import CohortKind
from eventide.graphql.filters import PropertyFilter, where_to_domain
from eventide.graphql.node_ids import event_node_id
from eventide.graphql.pagination import PageInfo
from eventide.graphql.scalars import JSON, BigInt

# The domain enums, registered once as the contract's GraphQL enums.
strawberry.enum(Period, name="RetentionPeriod", description="Calendar periods, in the timezone.")
strawberry.enum(CohortKind, name="CohortKind", description="How users are put into cohorts.")


@strawberry.input(description="Inclusive range of calendar days, read in the query's timezone.")
class DateRange:
    from_: datetime.date = strawberry.field(name="from")
    to: datetime.date


@strawberry.input
class EventFilter:
    user_id: str | None = None
    event_type: str | None = None
    from_: datetime.datetime | None = strawberry.field(
        name="from", default=None, description="Inclusive lower bound on occurredAt."
    )
    to: datetime.datetime | None = strawberry.field(
        default=None, description="Exclusive upper bound on occurredAt."
    )
    where: list[PropertyFilter] | None = strawberry.field(
        default=None, description="Every condition must hold (AND)."
    )

    def to_domain(self) -> listing.EventFilter:
        return listing.EventFilter(
            user_id=self.user_id,
            event_type=self.event_type,
            occurred_from=self.from_,
            occurred_to=self.to,
            where=where_to_domain(self.where, argument="filter.where"),
        )


@strawberry.type
class DailyActiveUsers:
    date: datetime.date
    users: int


@strawberry.type
class EventTypeCount:
    event_type: str
    events: BigInt
    users: int

    @classmethod
    def of(cls, row: top_events.EventTypeCount) -> EventTypeCount:
        return cls(event_type=row.event_type, events=BigInt(row.events), users=row.users)


@strawberry.type
class RetentionCohort:
    cohort: datetime.date = strawberry.field(description="First day of the cohort period.")
    size: int
    retained: list[int] = strawberry.field(
        description="retained[k]: cohort users with an event in period cohort+k; "
        "retained[0] == size."
    )


@strawberry.type
class Event:
    id: strawberry.ID = strawberry.field(
        description="Globally unique and stable (project and eventId), for client caches."
    )
    event_id: str
    user_id: str
    event_type: str
    occurred_at: datetime.datetime
    received_at: datetime.datetime
    properties: JSON | None

    @classmethod
    def of(cls, event: listing.Event, *, project: int) -> Event:
        return cls(
            id=strawberry.ID(event_node_id(event, project=project)),
            event_id=event.event_id,
            user_id=event.user_id,
            event_type=event.event_type,
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            properties=cast(JSON | None, event.properties),
        )


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo
