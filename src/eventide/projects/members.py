"""A project's members: adding, changing roles and removing, never the last OWNER.

Each change runs in a transaction holding the project's row lock
(:func:`store.lock_live_project`), and checks both the caller's role and the owners
left while holding it: two concurrent demotions or removals of a project's last two
owners run one after the other, and the second sees that it would leave none.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from eventide.auth import users
from eventide.auth.ids import parse_id
from eventide.auth.principal import Principal, Role
from eventide.errors import Conflict, Forbidden, InvalidInput, NotFound
from eventide.projects import access, store
from eventide.projects.roles import MANAGES_PROJECT, ProjectRole
from eventide.projects.store import MemberRecord
from eventide.storage.engines import Engines


class LastOwner(InvalidInput):
    def __init__(self) -> None:
        super().__init__("A project keeps at least one OWNER: this would remove the last one")


def _no_such_member() -> NotFound:
    return NotFound("No such member of this project")


@contextlib.asynccontextmanager
async def _managing(
    engines: Engines, principal: Principal, project_id: str
) -> AsyncIterator[tuple[Any, int]]:
    """A connection holding the lock of the project, and its id, for a caller who may
    manage it."""
    found = await access.authorize(engines, principal, project_id, need=MANAGES_PROJECT)
    async with engines.db.acquire() as conn, conn.transaction():
        if await store.lock_live_project(conn, project_id=found.project.id) is None:
            raise access.not_found()
        if not principal.holds(Role.ADMIN):
            # Again under the lock: the caller may have been demoted meanwhile.
            role = await store.member_role(
                conn, project_id=found.project.id, user_id=principal.user_id
            )
            if role is None:
                raise access.not_found()
            if not role.includes(MANAGES_PROJECT):
                raise Forbidden(f"This needs the {MANAGES_PROJECT.value} role in the project")
        yield conn, found.project.id


def _user_id(value: str) -> str:
    parsed = parse_id(value)
    if parsed is None:
        raise _no_such_member()
    return str(parsed)


async def add_member(
    engines: Engines, principal: Principal, project_id: str, *, username: str, role: ProjectRole
) -> MemberRecord:
    async with _managing(engines, principal, project_id) as (conn, project):
        user = await users.find_user(conn, username=username) if len(username) <= 64 else None
        if user is None:
            raise NotFound("No account has this username")
        member = await store.insert_member(conn, project_id=project, user_id=user.id, role=role)
        if member is None:
            raise Conflict("This account already is a member of the project")
        return member


async def set_member_role(
    engines: Engines, principal: Principal, project_id: str, *, user_id: str, role: ProjectRole
) -> MemberRecord:
    member_id = _user_id(user_id)
    async with _managing(engines, principal, project_id) as (conn, project):
        member = await store.get_member(conn, project_id=project, user_id=member_id)
        if member is None:
            raise _no_such_member()
        if member.role is ProjectRole.OWNER and role is not ProjectRole.OWNER:
            await _refuse_if_last_owner(conn, project, member_id)
        updated = await store.update_member_role(
            conn, project_id=project, user_id=member_id, role=role
        )
        assert updated is not None, "the member row is held by the project's lock"
        return updated


async def remove_member(
    engines: Engines, principal: Principal, project_id: str, *, user_id: str
) -> None:
    member_id = _user_id(user_id)
    async with _managing(engines, principal, project_id) as (conn, project):
        member = await store.get_member(conn, project_id=project, user_id=member_id)
        if member is None:
            raise _no_such_member()
        if member.role is ProjectRole.OWNER:
            await _refuse_if_last_owner(conn, project, member_id)
        await store.delete_member(conn, project_id=project, user_id=member_id)


async def _refuse_if_last_owner(conn: Any, project_id: int, user_id: str) -> None:
    if await store.other_owners(conn, project_id=project_id, user_id=user_id) == 0:
        raise LastOwner
