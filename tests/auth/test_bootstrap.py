from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from eventide.auth import users
from eventide.auth.bootstrap import InvalidAdmin, bootstrap_admin, ensure_admin
from eventide.auth.principal import Role
from eventide.config import Settings
from eventide.storage.engines import Engines
from tests.graphql._accounts import ME, PASSWORD, login, signed_up
from tests.graphql_client import GraphQLClient

NEW_PASSWORD = "the admin password"


def with_settings(engines: Engines, **changes: Any) -> Engines:
    return dataclasses.replace(engines, settings=dataclasses.replace(engines.settings, **changes))


async def test_ensure_admin_creates_an_admin(client: GraphQLClient, engines: Engines) -> None:
    user = await ensure_admin(engines, username="root", password=NEW_PASSWORD)
    assert (user.role, user.is_active) == (Role.ADMIN, True)
    body = await login(client, "root", NEW_PASSWORD)
    assert "errors" not in body


async def test_ensure_admin_resets_an_existing_account(
    client: GraphQLClient, engines: Engines
) -> None:
    session = await signed_up(client, "alice")
    await engines.db.execute("UPDATE users SET is_active = false")
    await ensure_admin(engines, username="ALICE", password=NEW_PASSWORD)
    user = await users.find_user(engines.db, username="alice")
    assert user is not None
    assert (user.role, user.is_active) == (Role.ADMIN, True)
    # A new password ends the sessions made with the old one.
    assert await client.error_code(ME, token=session.access) == "UNAUTHENTICATED"
    assert "errors" in await login(client, "alice", PASSWORD)
    fresh = (await login(client, "alice", NEW_PASSWORD))["data"]["login"]["accessToken"]
    # Applying the same settings again (every start) keeps sessions alive.
    await ensure_admin(engines, username="alice", password=NEW_PASSWORD)
    assert (await client.data(ME, token=fresh))["me"]["role"] == "ADMIN"


async def test_ensure_admin_applies_the_account_rules(engines: Engines) -> None:
    with pytest.raises(InvalidAdmin):
        await ensure_admin(engines, username="x", password=NEW_PASSWORD)
    with pytest.raises(InvalidAdmin):
        await ensure_admin(engines, username="root", password="short")


async def test_startup_applies_the_configured_admin(
    client: GraphQLClient, engines: Engines
) -> None:
    configured = with_settings(engines, admin_username="boss", admin_password=NEW_PASSWORD)
    await bootstrap_admin(configured)
    await bootstrap_admin(configured)
    assert "errors" not in await login(client, "boss", NEW_PASSWORD)
    assert await engines.db.fetchval("SELECT count(*) FROM users") == 1


async def test_development_without_admin_generates_one(
    client: GraphQLClient, engines: Engines, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await bootstrap_admin(with_settings(engines, env="development"))
    match = re.search(r"created development admin 'admin' with password (\S+)", caplog.text)
    assert match is not None
    assert "errors" not in await login(client, "admin", match.group(1))
    caplog.clear()
    await bootstrap_admin(with_settings(engines, env="development"))
    assert "created development admin" not in caplog.text
    assert await engines.db.fetchval("SELECT count(*) FROM users") == 1


async def test_production_creates_nobody_unasked(engines: Engines) -> None:
    await bootstrap_admin(with_settings(engines, env="production"))
    assert await engines.db.fetchval("SELECT count(*) FROM users") == 0


async def test_create_admin_command(settings: Settings, engines: Engines, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "EVENTIDE_DATABASE_URL": settings.database_url or "",
        "EVENTIDE_REDIS_URL": settings.redis_url or "",
        "EVENTIDE_REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "EVENTIDE_DATA_DIR": str(tmp_path),  # an embedded ClickHouse of its own
        "EVENTIDE_JWT_SECRET": settings.jwt_secret,
    }
    command = Path(sys.executable).parent / "eventide"
    process = await asyncio.create_subprocess_exec(
        str(command),
        "create-admin",
        "--username",
        "ops",
        "--password-stdin",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(f"{NEW_PASSWORD}\n".encode()), 180)
    assert process.returncode == 0, err.decode()
    assert "ops is an active admin" in out.decode()
    assert NEW_PASSWORD not in (out + err).decode()
    user = await users.find_user(engines.db, username="ops")
    assert user is not None
    assert (user.role, user.is_active) == (Role.ADMIN, True)
