"""Who may act in which project, with which role: the one place that decides it.

Every field that reads or changes a project's data asks :func:`resolve` (or
:func:`authorize`, which also returns the project) first. The answers follow the
contract: a project the caller may not see, a deleted one, an unknown id and a malformed
id are all ``NOT_FOUND`` with the same message; a member whose role is too low gets
``FORBIDDEN``; a server ADMIN with a session may act in every live project.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventide.auth.principal import Principal, Role
from eventide.errors import Forbidden, InvalidInput, NotFound
from eventide.projects import store
from eventide.projects.roles import ProjectRole
from eventide.projects.store import ProjectRecord
from eventide.storage.engines import Engines

NO_SUCH_PROJECT = "No such project"


def not_found() -> NotFound:
    return NotFound(NO_SUCH_PROJECT)


@dataclass(frozen=True, kw_only=True)
class Access:
    """A live project the caller may act in, and the caller's own role there.

    ``role`` is None for a server ADMIN who is not a member.
    """

    project: ProjectRecord
    role: ProjectRole | None


async def resolve(
    engines: Engines, principal: Principal, project_id: str | None, *, need: ProjectRole
) -> int:
    """The internal id of the project the caller acts in, holding at least ``need``.

    ``project_id`` is the field's ``projectId`` argument; None (omitted) means the
    default project: an API token's own project, or a session's only project.
    """
    return (await authorize(engines, principal, project_id, need=need)).project.id


async def authorize(
    engines: Engines, principal: Principal, project_id: str | None, *, need: ProjectRole
) -> Access:
    """As :func:`resolve`, with the project and the caller's role in it."""
    if principal.is_api_token:
        return await _token_access(engines, principal, project_id, need=need)
    if project_id is None:
        number = await _default_project(engines, principal)
    else:
        parsed = store.parse_project_id(project_id)
        if parsed is None:
            raise not_found()
        number = parsed
    return await _session_access(engines, principal, number, need=need)


async def _default_project(engines: Engines, principal: Principal) -> int:
    memberships = await store.projects_of_member(engines.db, user_id=principal.user_id)
    if len(memberships) == 1:
        return memberships[0][0].id
    why = "several projects" if memberships else "no project"
    raise InvalidInput(
        f"projectId is required: the caller is a member of {why}", argument="projectId"
    )


async def _session_access(
    engines: Engines, principal: Principal, project_id: int, *, need: ProjectRole
) -> Access:
    found = await store.live_project_with_role(
        engines.db, project_id=project_id, user_id=principal.user_id
    )
    if found is None:
        raise not_found()
    project, role = found
    if principal.holds(Role.ADMIN):
        return Access(project=project, role=role)
    _require(role, need)
    return Access(project=project, role=role)


async def _token_access(
    engines: Engines, principal: Principal, project_id: str | None, *, need: ProjectRole
) -> Access:
    own = principal.project_id
    assert own is not None, "an API token always acts in a project"
    if project_id is not None and store.parse_project_id(project_id) != own:
        raise not_found()
    # Never beyond what the owner may do right now.
    found = await store.live_project_with_role(
        engines.db, project_id=own, user_id=principal.user_id
    )
    if found is None:
        # Deleted since the token was checked: it no longer acts anywhere.
        raise not_found()
    project, role = found
    if principal.role is not Role.ADMIN:
        _require(role, need)
    return Access(project=project, role=role)


def _require(role: ProjectRole | None, need: ProjectRole) -> None:
    if role is None:
        raise not_found()
    if not role.includes(need):
        raise Forbidden(f"This needs the {need.value} role in the project")
