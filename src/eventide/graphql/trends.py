"""The ``trends`` query: counts per interval of one or more series.

Open to signed-in users and to API tokens with the READ scope, like the other analytics;
exact across the hot and the cold tier (see :mod:`eventide.analytics.trends`).
"""

from __future__ import annotations

import strawberry

from eventide.analytics import trends
from eventide.analytics.intervals import Interval
from eventide.auth.principal import TokenScope
from eventide.graphql.analytics import RangeArgument, TimezoneArgument
from eventide.graphql.context import Info
from eventide.graphql.permissions import scoped
from eventide.graphql.project_argument import ProjectIdArgument, project_of
from eventide.graphql.trends_types import BreakdownInput, TrendSeries, TrendSeriesInput
from eventide.projects.roles import READS


@strawberry.type
class TrendsQuery:
    @strawberry.field(
        extensions=scoped(TokenScope.READ),
        description="Counts per interval of one or more series, optionally broken down by "
        "a property or by event type.",
    )
    async def trends(
        self,
        info: Info,
        range_: RangeArgument,
        series: list[TrendSeriesInput],
        timezone: TimezoneArgument = "UTC",
        interval: Interval = Interval.DAY,
        breakdown: BreakdownInput | None = None,
        breakdown_limit: int = 10,
        project_id: ProjectIdArgument = None,
    ) -> list[TrendSeries]:
        project = await project_of(info, project_id, need=READS)
        rows = await trends.trends(
            info.context.engines,
            project=project,
            first=range_.from_,
            last=range_.to,
            timezone=timezone,
            interval=interval,
            series=[s.to_domain(argument=f"series[{i}]") for i, s in enumerate(series)],
            breakdown=breakdown.to_domain() if breakdown is not None else None,
            breakdown_limit=breakdown_limit,
        )
        return [TrendSeries.of(r) for r in rows]
