from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from eventide.app import create_app
from eventide.auth import authenticate
from eventide.config import Settings
from eventide.storage.engines import Engines
from tests.graphql._accounts import CREATE_TOKEN, admin_session, create_token, signed_up
from tests.graphql_client import GraphQLClient

VALIDATE = "query($t: String!) { validateToken(token: $t) { valid reason expiresAt } }"
LIST = "{ apiTokens { id name prefix scopes lastUsedAt revokedAt owner { id username } } }"
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) }"
INGEST = """mutation {
  ingestEvents(events: [{eventId: "e1", userId: "u", eventType: "t",
                         occurredAt: "2026-01-01T00:00:00Z"}]) { accepted }
}"""


async def validate(client: GraphQLClient, secret: str) -> dict[str, Any]:
    result: dict[str, Any] = (await client.data(VALIDATE, {"t": secret}))["validateToken"]
    return result


async def test_created_token_is_shown_once_and_validates(
    client: GraphQLClient, user_token: str
) -> None:
    created = await create_token(client, user_token, ["INGEST", "READ", "INGEST"])
    secret = created["token"]
    assert secret.startswith("evt_")
    assert len(secret) >= 4 + 43  # 32 random bytes, URL-safe base64
    assert created["apiToken"]["prefix"] == secret[:12]
    assert created["apiToken"]["scopes"] == ["INGEST", "READ"]
    assert created["apiToken"]["expiresAt"] is None
    assert await validate(client, secret) == {"valid": True, "reason": None, "expiresAt": None}
    listed = (await client.data(LIST, token=user_token))["apiTokens"]
    assert secret not in str(listed)


async def test_only_a_digest_is_stored(
    client: GraphQLClient, user_token: str, engines: Engines
) -> None:
    secret = (await create_token(client, user_token, ["READ"]))["token"]
    rows = await engines.db.fetch("SELECT * FROM api_tokens")
    assert len(rows) == 1
    assert all(secret not in str(value) for value in rows[0].values())


@pytest.mark.parametrize(
    "token_input",
    [
        {"name": "", "scopes": ["READ"]},
        {"name": "x" * 101, "scopes": ["READ"]},
        {"name": "ok", "scopes": []},
        {"name": "ok", "scopes": ["READ"], "ttlSeconds": 0},
        {"name": "ok", "scopes": ["READ"], "ttlSeconds": -5},
    ],
)
async def test_create_refuses_invalid_input(
    client: GraphQLClient, user_token: str, token_input: dict[str, Any]
) -> None:
    code = await client.error_code(CREATE_TOKEN, {"input": token_input}, token=user_token)
    assert code == "BAD_USER_INPUT"


async def test_validate_tells_why_a_token_is_refused(
    client: GraphQLClient, user_token: str, engines: Engines
) -> None:
    assert await validate(client, "evt_unknown") == {
        "valid": False,
        "reason": "UNKNOWN",
        "expiresAt": None,
    }
    assert (await validate(client, "no prefix"))["reason"] == "UNKNOWN"
    expiring = await create_token(client, user_token, ["READ"], ttlSeconds=3600)
    result = await validate(client, expiring["token"])
    assert result["valid"] is True
    assert result["expiresAt"] == expiring["apiToken"]["expiresAt"]
    await engines.db.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    assert (await validate(client, expiring["token"]))["reason"] == "EXPIRED"
    revoked = await create_token(client, user_token, ["READ"])
    await client.data(REVOKE, {"id": revoked["apiToken"]["id"]}, token=user_token)
    assert (await validate(client, revoked["token"]))["reason"] == "REVOKED"


async def test_expired_and_revoked_tokens_are_unauthenticated(
    client: GraphQLClient, user_token: str, engines: Engines
) -> None:
    expired = await create_token(client, user_token, ["INGEST"], ttlSeconds=60)
    revoked = await create_token(client, user_token, ["INGEST"])
    await engines.db.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
        expired["apiToken"]["id"],
    )
    await client.data(REVOKE, {"id": revoked["apiToken"]["id"]}, token=user_token)
    for secret in (expired["token"], revoked["token"], "evt_" + "A" * 43):
        assert await client.error_code(INGEST, token=secret) == "UNAUTHENTICATED"


async def test_scopes_limit_what_a_token_reaches(
    client: GraphQLClient, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    assert await client.error_code(INGEST, token=await api_token(["READ"])) == "FORBIDDEN"
    ingest = await api_token(["INGEST"])
    assert (await client.data(INGEST, token=ingest))["ingestEvents"]["accepted"] == 1
    for field in (LIST, "{ me { id } }"):
        assert await client.error_code(field, token=ingest) == "FORBIDDEN"
    revoke = await client.error_code(REVOKE, {"id": "x"}, token=ingest)
    assert revoke == "FORBIDDEN"


async def test_users_see_their_own_tokens_and_admins_all(
    client: GraphQLClient, engines: Engines
) -> None:
    alice = await signed_up(client, "alice")
    bob = await signed_up(client, "bob")
    admin = await admin_session(client, engines, "root")
    mine = await create_token(client, alice.access, ["READ"])
    theirs = await create_token(client, bob.access, ["READ"])
    listed = (await client.data(LIST, token=alice.access))["apiTokens"]
    assert [t["id"] for t in listed] == [mine["apiToken"]["id"]]
    assert listed[0]["owner"] == {"id": alice.user_id, "username": "alice"}
    everything = (await client.data(LIST, token=admin.access))["apiTokens"]
    assert {t["id"] for t in everything} == {mine["apiToken"]["id"], theirs["apiToken"]["id"]}
    # Another user's token cannot be revoked, nor told apart from an unknown one.
    denied = await client.execute(REVOKE, {"id": theirs["apiToken"]["id"]}, token=alice.access)
    unknown = await client.execute(
        REVOKE, {"id": "00000000-0000-0000-0000-000000000000"}, token=alice.access
    )
    assert denied["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert denied["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert (await validate(client, theirs["token"]))["valid"] is True
    # An admin may revoke anyone's; twice is fine.
    for _ in range(2):
        await client.data(REVOKE, {"id": theirs["apiToken"]["id"]}, token=admin.access)
    assert (await validate(client, theirs["token"]))["reason"] == "REVOKED"


async def test_last_used_is_written_at_most_once_a_minute(
    client: GraphQLClient, user_token: str, engines: Engines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "minute" of one second, so that the test can wait for the next one.
    monkeypatch.setattr(authenticate, "LAST_USED_RESOLUTION_SECONDS", 1)
    created = await create_token(client, user_token, ["INGEST"])
    assert created["apiToken"]["lastUsedAt"] is None
    await client.data(INGEST, token=created["token"])
    first = await engines.db.fetchval("SELECT last_used_at FROM api_tokens")
    assert first is not None
    await client.data(INGEST, token=created["token"])
    assert await engines.db.fetchval("SELECT last_used_at FROM api_tokens") == first
    # Once the minute is over, the next use is recorded again.
    await asyncio.sleep(1.1)
    await client.data(INGEST, token=created["token"])
    assert await engines.db.fetchval("SELECT last_used_at FROM api_tokens") > first


async def test_last_used_is_noted_once_a_minute_across_processes(
    client: GraphQLClient, user_token: str, engines: Engines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process used the token this minute: the key in Redis says so, and this
    # process, which has not seen it, writes nothing either.
    created = await create_token(client, user_token, ["INGEST"])
    key = engines.redis_key("auth", "token-used", created["apiToken"]["id"])
    await engines.redis.set(key, b"1", ex=60)
    await client.data(INGEST, token=created["token"])
    assert await engines.db.fetchval("SELECT last_used_at FROM api_tokens") is None
    # Nor does it ask Redis again while the key lives.
    asked = []
    monkeypatch.setattr(engines.redis, "pipeline", lambda **_: asked.append(1))
    await client.data(INGEST, token=created["token"])
    assert asked == []


class CountingPool:
    """The real pool, counting the statements sent through it."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self.statements = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._pool, name)
        if name in {"fetch", "fetchrow", "fetchval", "execute"}:
            self.statements += 1
        elif name == "acquire":
            raise AssertionError("listing tokens should not need a dedicated connection")
        return attribute


@pytest.fixture
async def counting_client(
    engines: Engines, settings: Settings
) -> AsyncIterator[tuple[GraphQLClient, CountingPool]]:
    pool = CountingPool(engines.db)
    app = create_app(settings)
    app.state.engines = dataclasses.replace(engines, db=pool)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://eventide.test") as http:
        yield GraphQLClient(http), pool


async def test_listing_tokens_costs_the_same_queries_for_5_or_50(
    client: GraphQLClient,
    engines: Engines,
    counting_client: tuple[GraphQLClient, CountingPool],
) -> None:
    admin = await admin_session(client, engines, "root")
    owners = [await signed_up(client, f"owner{n}") for n in range(5)]
    counted, pool = counting_client

    async def statements_for_listing() -> tuple[int, int]:
        before = pool.statements
        listed = (await counted.data(LIST, token=admin.access))["apiTokens"]
        return len(listed), pool.statements - before

    for owner in owners:
        await create_token(client, owner.access, ["READ"])
    few, few_statements = await statements_for_listing()
    for n in range(45):
        await create_token(client, owners[n % 5].access, ["READ"])
    many, many_statements = await statements_for_listing()
    assert (few, many) == (5, 50)
    # Authentication, the listing, and one batched owner lookup.
    assert few_statements == many_statements == 3
