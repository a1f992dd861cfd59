"""Accounts and projects made directly in storage, for the projects tests.

``world()`` builds one target project with a member of every role, an outsider who owns
a project of their own and owned a project that was then deleted, and an ADMIN who is a
member of nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from eventide.auth import users
from eventide.auth.jwt_tokens import issue_access_token
from eventide.auth.principal import Principal, Role
from eventide.projects import store
from eventide.projects.roles import ProjectRole
from eventide.storage.engines import Engines
from tests.hashes import password_hash

PASSWORD = "password of a projects test"
# Ids that name no live project the outsider may see, besides other tenants' ids.
RANDOM_ID = "987654321"
MALFORMED_IDS = ("not-a-project", "-1", "0", "1.0", "", " 1", "\u0661", "9" * 40)


@dataclass(frozen=True)
class Account:
    user_id: str
    username: str
    role: Role
    token: str

    @property
    def principal(self) -> Principal:
        return Principal(user_id=self.user_id, role=self.role)


async def account(engines: Engines, role: Role = Role.USER, *, name: str = "user") -> Account:
    username = f"{name}-{uuid.uuid4().hex[:10]}"
    user = await users.create_user(
        engines.db,
        username=username,
        email=None,
        password_hash=await password_hash(PASSWORD),
        role=role,
    )
    token = issue_access_token(engines.settings, user_id=user.id, session_epoch=0)
    return Account(user_id=user.id, username=username, role=role, token=token)


async def project(engines: Engines, name: str, **members: tuple[Account, ProjectRole]) -> int:
    created = await store.insert_project(engines.db, name=name, timezone="UTC")
    for who, role in members.values():
        await join(engines, created.id, who, role)
    return created.id


async def join(engines: Engines, project_id: int, who: Account, role: ProjectRole) -> None:
    await store.insert_member(engines.db, project_id=project_id, user_id=who.user_id, role=role)


async def delete(engines: Engines, project_id: int) -> None:
    await store.mark_deleted(engines.db, project_id=project_id)


@dataclass(frozen=True)
class World:
    owner: Account
    editor: Account
    viewer: Account
    outsider: Account
    admin: Account
    target: int
    outsiders_own: int
    deleted: int

    def member(self, role: ProjectRole) -> Account:
        return {
            ProjectRole.OWNER: self.owner,
            ProjectRole.EDITOR: self.editor,
            ProjectRole.VIEWER: self.viewer,
        }[role]

    def foreign_ids(self) -> dict[str, str]:
        """What the outsider must get NOT_FOUND for, by why."""
        return {
            "another tenant's": str(self.target),
            "deleted": str(self.deleted),
            "random": RANDOM_ID,
            "malformed": MALFORMED_IDS[0],
        }


async def world(engines: Engines) -> World:
    owner = await account(engines, name="owner")
    editor = await account(engines, name="editor")
    viewer = await account(engines, name="viewer")
    outsider = await account(engines, name="outsider")
    admin = await account(engines, Role.ADMIN, name="admin")
    target = await project(
        engines,
        "Target",
        o=(owner, ProjectRole.OWNER),
        e=(editor, ProjectRole.EDITOR),
        v=(viewer, ProjectRole.VIEWER),
    )
    outsiders_own = await project(engines, "Outsider's", o=(outsider, ProjectRole.OWNER))
    deleted = await project(engines, "Deleted", o=(outsider, ProjectRole.OWNER))
    await delete(engines, deleted)
    return World(owner, editor, viewer, outsider, admin, target, outsiders_own, deleted)
