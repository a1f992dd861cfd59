"""The enums of the services, exposed as GraphQL enums.

Registering them here, once, lets every module annotate fields with the same
``Role``, ``TokenScope`` and ``ProjectRole`` classes the permission checks compare
against.
"""

from __future__ import annotations

import strawberry

from eventide.auth.principal import Role, TokenScope
from eventide.projects.roles import ProjectRole

__all__ = ["ProjectRole", "Role", "TokenScope"]

strawberry.enum(Role, name="Role")
strawberry.enum(TokenScope, name="TokenScope")
strawberry.enum(
    ProjectRole,
    name="ProjectRole",
    description="A project's members' roles, each including the ones before it.",
)

_PROJECT_ROLE_DESCRIPTIONS = {
    ProjectRole.VIEWER: "Reads the project's analytics and events.",
    ProjectRole.EDITOR: "Also ingests with a session and manages the project's API tokens.",
    ProjectRole.OWNER: "Also renames or deletes the project and manages members and invitations.",
}
# The services' enum knows nothing of GraphQL: its values get their descriptions here.
for _value in ProjectRole.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _PROJECT_ROLE_DESCRIPTIONS[ProjectRole(_value.value)]
