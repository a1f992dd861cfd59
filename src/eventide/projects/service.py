"""Creating, listing, reading, renaming and deleting projects."""

from __future__ import annotations

from dataclasses import dataclass

from eventide.analytics.calendar import zone
from eventide.auth.principal import Principal, Role
from eventide.errors import InvalidInput
from eventide.projects import access, purge, store
from eventide.projects.roles import MANAGES_PROJECT, READS, ProjectRole
from eventide.projects.store import ProjectRecord
from eventide.storable import text_problem
from eventide.storage.engines import Engines

MAX_NAME_LENGTH = 100


@dataclass(frozen=True, kw_only=True)
class ProjectView:
    """A project as one caller sees it: with their role (None: an ADMIN, not a member)."""

    project: ProjectRecord
    my_role: ProjectRole | None


def checked_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidInput(f"Project name must be 1 to {MAX_NAME_LENGTH} characters")
    if problem := text_problem("Project name", name):
        raise InvalidInput(problem)
    return name


def checked_timezone(timezone: str) -> str:
    zone(timezone)
    return timezone


async def create_project(
    engines: Engines, principal: Principal, *, name: str, timezone: str
) -> ProjectView:
    """A new project with the caller as its OWNER."""
    name = checked_name(name)
    timezone = checked_timezone(timezone)
    async with engines.db.acquire() as conn, conn.transaction():
        project = await store.insert_project(conn, name=name, timezone=timezone)
        await store.insert_member(
            conn, project_id=project.id, user_id=principal.user_id, role=ProjectRole.OWNER
        )
    return ProjectView(project=project, my_role=ProjectRole.OWNER)


async def my_projects(engines: Engines, principal: Principal) -> list[ProjectView]:
    """The caller's projects, oldest first; a server ADMIN's session: every live project."""
    memberships = await store.projects_of_member(engines.db, user_id=principal.user_id)
    if not principal.holds(Role.ADMIN):
        return [ProjectView(project=project, my_role=role) for project, role in memberships]
    roles = {project.id: role for project, role in memberships}
    return [
        ProjectView(project=project, my_role=roles.get(project.id))
        for project in await store.all_live_projects(engines.db)
    ]


async def get_project(engines: Engines, principal: Principal, project_id: str) -> ProjectView:
    found = await access.authorize(engines, principal, project_id, need=READS)
    return ProjectView(project=found.project, my_role=found.role)


async def update_project(
    engines: Engines,
    principal: Principal,
    project_id: str,
    *,
    name: str | None,
    timezone: str | None,
) -> ProjectView:
    found = await access.authorize(engines, principal, project_id, need=MANAGES_PROJECT)
    updated = await store.update_project(
        engines.db,
        project_id=found.project.id,
        name=None if name is None else checked_name(name),
        timezone=None if timezone is None else checked_timezone(timezone),
    )
    if updated is None:
        raise access.not_found()  # deleted meanwhile
    return ProjectView(project=updated, my_role=found.role)


async def delete_project(engines: Engines, principal: Principal, project_id: str) -> None:
    """When this returns, the project is gone for every caller and its tokens fail.

    Its rows stay until the removal started here, in the background, takes them
    (``purged_at``; see :mod:`eventide.projects.purge`).
    """
    found = await access.authorize(engines, principal, project_id, need=MANAGES_PROJECT)
    async with engines.db.acquire() as conn, conn.transaction():
        # After any change of members in flight: none lands in a deleted project.
        if await store.lock_live_project(conn, project_id=found.project.id) is None:
            raise access.not_found()
        await store.mark_deleted(conn, project_id=found.project.id)
    purge.purge_soon(engines)
