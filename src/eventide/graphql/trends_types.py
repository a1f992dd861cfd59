"""GraphQL types of the ``trends`` query."""

from __future__ import annotations

import datetime

import strawberry

from eventide.analytics import trends
from eventide.analytics.intervals import Interval
from eventide.analytics.trends import Measure
from eventide.graphql.filters import EventSelector
from eventide.graphql.scalars import JSON, BigInt

strawberry.enum(Interval, name="Interval", description="Intervals of the timezone's calendar.")
strawberry.enum(Measure, name="Measure", description="What a series counts.")


@strawberry.input
class TrendSeriesInput:
    event: EventSelector
    measure: Measure = Measure.EVENTS
    label: str | None = strawberry.field(
        default=None,
        description='Shown as the series label; default: the event type, or "all events".',
    )

    def to_domain(self, *, argument: str) -> trends.SeriesSpec:
        """This series, validated; ``argument`` names it in errors (``series[1]``)."""
        return trends.SeriesSpec(
            selector=self.event.to_domain(argument=f"{argument}.event"),
            measure=self.measure,
            label=self.label,
        )


@strawberry.input(description="Exactly one of property and byEventType.")
class BreakdownInput:
    property: str | None = None
    by_event_type: bool | None = None

    def to_domain(self) -> trends.Breakdown:
        return trends.Breakdown.of(self.property, self.by_event_type)


@strawberry.type
class TrendPoint:
    start: datetime.datetime = strawberry.field(
        description="The instant the interval starts (its local start in the query's timezone)."
    )
    value: BigInt


@strawberry.type
class TrendSeries:
    label: str
    breakdown_value: JSON | None = strawberry.field(
        description="The breakdown value of this series (JSON; null: events without the "
        "property); null without a breakdown."
    )
    other: bool = strawberry.field(
        description="True for the one series that gathers every breakdown value past "
        "breakdownLimit."
    )
    total: BigInt = strawberry.field(
        description="Over the whole range: the sum of events, or the distinct users of the range."
    )
    points: list[TrendPoint]

    @classmethod
    def of(cls, series: trends.TrendSeries) -> TrendSeries:
        return cls(
            label=series.label,
            breakdown_value=series.breakdown_value,
            other=series.other,
            total=BigInt(series.total),
            points=[TrendPoint(start=p.start, value=BigInt(p.value)) for p in series.points],
        )
