"""Per-request DataLoaders: relation fields batch their lookups into one query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from eventide.auth import users
from eventide.auth.users import UserRecord

if TYPE_CHECKING:
    from eventide.services import Services


class Loaders:
    """Created for each request, so cached rows never outlive it."""

    def __init__(self, services: Services | None = None) -> None:
        self._services = services
        self.user = DataLoader[str, UserRecord | None](load_fn=self._users)

    async def _users(self, keys: list[str]) -> list[UserRecord | None]:
        assert self._services is not None, "loaders need the request's services"
        found = await users.users_by_ids(self._services.db, user_ids=list(keys))
        return [found.get(key) for key in keys]
