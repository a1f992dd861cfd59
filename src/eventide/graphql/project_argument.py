"""The ``projectId`` argument of the fields that read or write a project's events, and
the project's own rate budget, which every caller acting in it shares."""

from __future__ import annotations

from typing import Annotated

import strawberry

from eventide.graphql.context import Info
from eventide.limits import rate
from eventide.limits.rate import Charge
from eventide.projects import access
from eventide.projects.roles import ProjectRole

ProjectIdArgument = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        name="projectId",
        description="The project; omitted: the caller's default project (an API token's, "
        "or a session's only one).",
    ),
]


async def project_of(
    info: Info, project_id: strawberry.ID | None, *, need: ProjectRole, events: int = 0
) -> int:
    """The project the field acts in, charged this operation's cost (once) and ``events``;
    NOT_FOUND, FORBIDDEN, BAD_USER_INPUT or RATE_LIMITED otherwise."""
    context = info.context
    # Every such field is guarded by scoped(), which refuses anonymous callers first.
    assert context.principal is not None
    project = await access.resolve(
        context.engines,
        context.principal,
        None if project_id is None else str(project_id),
        need=need,
    )
    settings = context.engines.settings
    key = f"project:{project}"
    charges = []
    if project not in context.charged_projects:
        context.charged_projects.add(project)
        charges.append(
            Charge(
                "project-query",
                key,
                context.operation_cost,
                settings.rate_limit_project_query_points,
            )
        )
    if events:
        charges.append(Charge("project-events", key, events, settings.rate_limit_project_events))
    # The events are charged only if the points were: one round trip for both.
    for throttle in await rate.charge_each(context.engines, charges):
        rate.check(throttle)
    return project
