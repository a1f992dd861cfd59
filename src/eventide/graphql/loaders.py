"""Per-request DataLoaders: relation fields batch their lookups into one query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from eventide.auth import users
from eventide.auth.users import UserRecord
from eventide.projects import store
from eventide.projects.roles import ProjectRole
from eventide.projects.store import MemberRecord, ProjectRecord

if TYPE_CHECKING:
    from eventide.storage.engines import Engines


class Loaders:
    """Created for each request, so cached rows never outlive it."""

    def __init__(self, engines: Engines | None = None) -> None:
        self._engines = engines
        self.user = DataLoader[str, UserRecord | None](load_fn=self._users)
        # Live projects only: a deleted project loads as None.
        self.project = DataLoader[int, ProjectRecord | None](load_fn=self._projects)
        self.members = DataLoader[int, list[MemberRecord]](load_fn=self._members)
        # (project, user): the user's role in the project, None for a non-member.
        self.role = DataLoader[tuple[int, str], ProjectRole | None](load_fn=self._roles)

    def _db(self) -> object:
        assert self._engines is not None, "loaders need the request's engines"
        return self._engines.db

    async def _users(self, keys: list[str]) -> list[UserRecord | None]:
        found = await users.users_by_ids(self._db(), user_ids=list(keys))
        return [found.get(key) for key in keys]

    async def _projects(self, keys: list[int]) -> list[ProjectRecord | None]:
        found = await store.live_projects(self._db(), project_ids=list(keys))
        return [found.get(key) for key in keys]

    async def _members(self, keys: list[int]) -> list[list[MemberRecord]]:
        found = await store.members_of(self._db(), project_ids=list(keys))
        return [found.get(key, []) for key in keys]

    async def _roles(self, keys: list[tuple[int, str]]) -> list[ProjectRole | None]:
        found = await store.member_roles(self._db(), keys=list(keys))
        return [found.get(key) for key in keys]
