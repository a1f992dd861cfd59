"""The ``funnel`` query: how many users went through the steps in order within a window.

Open like the other analytics to signed-in members and READ tokens; exact across the
tiers (see :mod:`eventide.analytics.funnel`).
"""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from eventide.analytics import funnel
from eventide.analytics.funnel import FunnelOrder
from eventide.auth.principal import TokenScope
from eventide.graphql.analytics import RangeArgument, TimezoneArgument
from eventide.graphql.context import Info
from eventide.graphql.filters import EventSelector
from eventide.graphql.permissions import scoped
from eventide.graphql.project_argument import ProjectIdArgument, project_of
from eventide.graphql.scalars import JSON
from eventide.graphql.trends_types import BreakdownInput
from eventide.projects.roles import READS

strawberry.enum(FunnelOrder, name="FunnelOrder")
_ORDER_DESCRIPTIONS = {
    FunnelOrder.ORDERED: "Each step after the previous one; other events may come between.",
    FunnelOrder.STRICT: "Each step is the user's very next event after the previous step.",
}
# The service's enum knows nothing of GraphQL: its values get their descriptions here.
for _value in FunnelOrder.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _ORDER_DESCRIPTIONS[FunnelOrder(_value.value)]


@strawberry.type
class FunnelStep:
    index: int
    users: int = strawberry.field(
        description="Users who reached this step (and so every step before it)."
    )
    conversion: float = strawberry.field(
        description="users / users of step 0; 0 when step 0 has none."
    )
    median_seconds_from_previous: float | None = strawberry.field(
        description="Median seconds from the previous step over the users who reached this "
        "one; null for step 0 or none."
    )

    @classmethod
    def of(cls, step: funnel.FunnelStep) -> FunnelStep:
        return cls(
            index=step.index,
            users=step.users,
            conversion=step.conversion,
            median_seconds_from_previous=step.median_seconds_from_previous,
        )


@strawberry.type
class FunnelResult:
    breakdown_value: JSON | None = strawberry.field(
        description="Breakdown value of the users' entry events (null: without the property); "
        "null without a breakdown."
    )
    other: bool
    steps: list[FunnelStep]

    @classmethod
    def of(cls, result: funnel.FunnelResult) -> FunnelResult:
        return cls(
            breakdown_value=cast(JSON | None, result.breakdown_value),
            other=result.other,
            steps=[FunnelStep.of(s) for s in result.steps],
        )


@strawberry.type
class FunnelQuery:
    @strawberry.field(
        extensions=scoped(TokenScope.READ),
        description="How many users went through the steps in order within the window.",
    )
    async def funnel(
        self,
        info: Info,
        range_: RangeArgument,
        steps: list[EventSelector],
        timezone: TimezoneArgument = "UTC",
        window_seconds: int = 86_400,
        order: FunnelOrder = FunnelOrder.ORDERED,
        breakdown: BreakdownInput | None = None,
        breakdown_limit: int = 10,
        project_id: ProjectIdArgument = None,
    ) -> list[FunnelResult]:
        results = await funnel.funnel(
            info.context.engines,
            project=await project_of(info, project_id, need=READS),
            first=range_.from_,
            last=range_.to,
            timezone=timezone,
            steps=[s.to_domain(argument=f"steps[{k}]") for k, s in enumerate(steps)],
            window_seconds=window_seconds,
            order=order,
            breakdown=(
                funnel.Breakdown(
                    property=breakdown.property, by_event_type=bool(breakdown.by_event_type)
                )
                if breakdown
                else None
            ),
            breakdown_limit=breakdown_limit,
            # The paths' instants cost most of a funnel: looked for only when asked for.
            medians=_asks(info.selected_fields, "medianSecondsFromPrevious"),
        )
        return [FunnelResult.of(r) for r in results]


def _asks(selections: list[Selection], name: str) -> bool:
    """Whether the field ``name`` is selected anywhere below, fragments included."""
    return any(
        (isinstance(s, SelectedField) and s.name == name) or _asks(s.selections, name)
        for s in selections
    )
