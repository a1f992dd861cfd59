"""GraphQL inputs of property filters and event selectors (see analytics.filters)."""

from __future__ import annotations

import strawberry

from eventide.analytics import filters
from eventide.graphql.scalars import JSON
from eventide.storable import checked_text

FilterOp = strawberry.enum(filters.FilterOp, name="FilterOp")


@strawberry.input(
    description="A condition on an event's properties; SEMANTICS.md says how each op compares."
)
class PropertyFilter:
    property: str = strawberry.field(
        description="A top-level key, or a dotted path into nested objects (a.b.c)."
    )
    op: filters.FilterOp
    value: JSON | None = strawberry.field(
        default=None,
        description="A JSON value; an array for IN and NOT_IN; omitted for IS_SET and IS_NOT_SET.",
    )

    def to_domain(self, *, argument: str) -> filters.PropertyFilter:
        """This condition, validated; ``argument`` names it in errors (``where[0]``)."""
        return filters.property_filter(self.property, self.op, self.value, argument=argument)


def where_to_domain(
    where: list[PropertyFilter] | None, *, argument: str
) -> tuple[filters.PropertyFilter, ...]:
    """The conditions of a ``where`` list, validated; ``argument`` names the list."""
    return filters.property_filters(
        [(f.property, f.op, f.value) for f in where or ()], argument=argument
    )


@strawberry.input(
    description="Events of one type (null: of any type) whose properties match every condition."
)
class EventSelector:
    event_type: str | None = None
    where: list[PropertyFilter] | None = strawberry.field(
        default=None, description="Every condition must hold (AND)."
    )

    def to_domain(self, *, argument: str) -> filters.EventSelector:
        """This selector, validated; ``argument`` names it in errors (``steps[0]``)."""
        return filters.EventSelector(
            event_type=checked_text(f"{argument}.eventType", self.event_type),
            where=where_to_domain(self.where, argument=f"{argument}.where"),
        )
