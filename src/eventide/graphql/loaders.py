"""Per-request DataLoaders: relation fields batch their lookups into one query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from eventide.auth import users
from eventide.auth.users import UserRecord

if TYPE_CHECKING:
    from eventide.storage.engines import Engines


class Loaders:
    """Created for each request, so cached rows never outlive it."""

    def __init__(self, engines: Engines | None = None) -> None:
        self._engines = engines
        self.user = DataLoader[str, UserRecord | None](load_fn=self._users)

    async def _users(self, keys: list[str]) -> list[UserRecord | None]:
        assert self._engines is not None, "loaders need the request's engines"
        found = await users.users_by_ids(self._engines.db, user_ids=list(keys))
        return [found.get(key) for key in keys]
