"""The ``projectId`` argument of the fields that read or write a project's events."""

from __future__ import annotations

from typing import Annotated

import strawberry

from eventide.graphql.context import Info
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


async def project_of(info: Info, project_id: strawberry.ID | None, *, need: ProjectRole) -> int:
    """The project the field acts in; NOT_FOUND, FORBIDDEN or BAD_USER_INPUT otherwise."""
    principal = info.context.principal
    # Every such field is guarded by scoped(), which refuses anonymous callers first.
    assert principal is not None
    return await access.resolve(
        info.context.engines,
        principal,
        None if project_id is None else str(project_id),
        need=need,
    )
