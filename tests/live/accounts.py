"""Accounts and tokens of projects other than the fixture accounts' one."""

from __future__ import annotations

import uuid

from eventide.auth import api_tokens, users
from eventide.auth.principal import Role, TokenScope
from eventide.storage.engines import Engines
from tests.hashes import password_hash
from tests.own_projects import own_project


async def token_of_new_project(engines: Engines, scopes: list[str]) -> str:
    """An API token with ``scopes`` of a fresh USER, in a new project of its own."""
    name = f"live-{uuid.uuid4().hex[:12]}"
    user = await users.create_user(
        engines.db,
        username=name,
        email=f"{name}@example.test",
        password_hash=await password_hash("password of a live-events account"),
        role=Role.USER,
    )
    project = await own_project(engines.db, user.id)
    secret, _ = await api_tokens.create_api_token(
        engines.db,
        user_id=user.id,
        project_id=project,
        name="live token",
        scopes=[TokenScope(scope) for scope in scopes],
        ttl_seconds=None,
    )
    return secret
