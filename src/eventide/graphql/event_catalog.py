"""What a project's events hold, for dashboards' pickers: ``eventTypes`` and
``eventProperties``.

Open like the other analytics to signed-in users and to API tokens with the READ scope;
exact across the hot and the cold tier.
"""

from __future__ import annotations

import datetime
from typing import cast

import strawberry

from eventide.analytics import event_properties, event_types
from eventide.auth.principal import TokenScope
from eventide.graphql.analytics import RangeArgument, TimezoneArgument
from eventide.graphql.context import Info
from eventide.graphql.permissions import scoped
from eventide.graphql.project_argument import ProjectIdArgument, project_of
from eventide.graphql.scalars import JSON, BigInt
from eventide.projects.roles import READS


@strawberry.type
class EventTypeInfo:
    event_type: str
    events: BigInt
    users: int
    last_seen_at: datetime.datetime

    @classmethod
    def of(cls, row: event_types.EventTypeInfo) -> EventTypeInfo:
        return cls(
            event_type=row.event_type,
            events=BigInt(row.events),
            users=row.users,
            last_seen_at=row.last_seen_at,
        )


@strawberry.type
class PropertyInfo:
    property: str
    types: list[str] = strawberry.field(
        description="JSON types seen: string, number, boolean, object, array, null."
    )
    events: BigInt
    top_values: list[JSON] = strawberry.field(
        description="Up to 10 most frequent scalar values, most frequent first."
    )

    @classmethod
    def of(cls, row: event_properties.PropertyInfo) -> PropertyInfo:
        return cls(
            property=row.property,
            types=row.types,
            events=BigInt(row.events),
            top_values=[cast(JSON, value) for value in row.top_values],
        )


@strawberry.type
class EventCatalogQuery:
    @strawberry.field(
        extensions=scoped(TokenScope.READ),
        description="Every event type with events in the range, by events descending then name.",
    )
    async def event_types(
        self,
        info: Info,
        range_: RangeArgument,
        timezone: TimezoneArgument = "UTC",
        project_id: ProjectIdArgument = None,
    ) -> list[EventTypeInfo]:
        rows = await event_types.event_types(
            info.context.engines,
            project=await project_of(info, project_id, need=READS),
            first=range_.from_,
            last=range_.to,
            timezone=timezone,
        )
        return [EventTypeInfo.of(r) for r in rows]

    @strawberry.field(
        extensions=scoped(TokenScope.READ),
        description="Top-level property keys seen in the range (of one event type, if given), "
        "by events descending then name.",
    )
    async def event_properties(
        self,
        info: Info,
        range_: RangeArgument,
        timezone: TimezoneArgument = "UTC",
        event_type: str | None = None,
        limit: int = 100,
        project_id: ProjectIdArgument = None,
    ) -> list[PropertyInfo]:
        rows = await event_properties.event_properties(
            info.context.engines,
            project=await project_of(info, project_id, need=READS),
            first=range_.from_,
            last=range_.to,
            timezone=timezone,
            event_type=event_type,
            limit=limit,
        )
        return [PropertyInfo.of(r) for r in rows]
