from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from redis.asyncio import Redis

from eventide.app import create_app
from eventide.config import Settings
from eventide.storage.engines import Engines
from tests.graphql._accounts import (
    CHANGE_PASSWORD,
    LOGOUT,
    ME,
    PASSWORD,
    REFRESH,
    admin_session,
    create_token,
    login,
    signed_up,
)
from tests.graphql_client import GraphQLClient

SET_ACTIVE = "mutation($id: ID!, $a: Boolean!) { setUserActive(userId: $id, active: $a) { id } }"
DELETE_USER = "mutation($id: ID!) { deleteUser(userId: $id) }"


async def test_refresh_rotates_the_pair(client: GraphQLClient) -> None:
    session = await signed_up(client)
    rotated = (await client.data(REFRESH, {"r": session.refresh}))["refreshToken"]
    assert rotated["refreshToken"] != session.refresh
    assert rotated["user"]["id"] == session.user_id
    assert (await client.data(ME, token=rotated["accessToken"]))["me"]["id"] == session.user_id
    again = (await client.data(REFRESH, {"r": rotated["refreshToken"]}))["refreshToken"]
    assert again["refreshToken"] not in (session.refresh, rotated["refreshToken"])


async def test_reusing_a_refresh_token_revokes_its_whole_family(client: GraphQLClient) -> None:
    session = await signed_up(client)
    other_login = (await login(client, "alice"))["data"]["login"]["refreshToken"]
    child = (await client.data(REFRESH, {"r": session.refresh}))["refreshToken"]["refreshToken"]
    # The first token again: someone holds a copy. Its family dies, the other login lives.
    assert await client.error_code(REFRESH, {"r": session.refresh}) == "UNAUTHENTICATED"
    assert await client.error_code(REFRESH, {"r": child}) == "UNAUTHENTICATED"
    assert "errors" not in await client.execute(REFRESH, {"r": other_login})


async def test_reusing_a_refresh_token_revokes_the_access_tokens_of_its_family(
    client: GraphQLClient, engines: Engines
) -> None:
    session = await signed_up(client)
    other = (await login(client, "alice"))["data"]["login"]
    first = (await client.data(REFRESH, {"r": session.refresh}))["refreshToken"]
    second = (await client.data(REFRESH, {"r": first["refreshToken"]}))["refreshToken"]
    for access in (session.access, first["accessToken"], second["accessToken"]):
        assert "errors" not in await client.execute(ME, token=access)
    # A copy of the first refresh token comes back: every access token of that login dies,
    # long before it would expire.
    assert await client.error_code(REFRESH, {"r": session.refresh}) == "UNAUTHENTICATED"
    for access in (session.access, first["accessToken"], second["accessToken"]):
        assert await client.error_code(ME, token=access) == "UNAUTHENTICATED"
    # The other login of the same account is another family.
    assert "errors" not in await client.execute(ME, token=other["accessToken"])
    # The denial lasts as long as the youngest access token can live, and no longer.
    keys = [key async for key in engines.redis.scan_iter(match="*revoked-family*")]
    assert len(keys) == 1
    ttl = await engines.redis.ttl(keys[0])
    assert engines.settings.access_token_ttl_seconds - 5 < ttl
    assert ttl <= engines.settings.access_token_ttl_seconds + 1


async def test_a_revoked_family_is_denied_again_when_its_token_comes_back(
    client: GraphQLClient, engines: Engines
) -> None:
    session = await signed_up(client)
    child = (await client.data(REFRESH, {"r": session.refresh}))["refreshToken"]
    assert await client.error_code(REFRESH, {"r": session.refresh}) == "UNAUTHENTICATED"
    # Redis lost the entry (a restart without persistence, say).
    async for key in engines.redis.scan_iter(match="*revoked-family*"):
        await engines.redis.delete(key)
    assert "errors" not in await client.execute(ME, token=child["accessToken"])
    assert await client.error_code(REFRESH, {"r": child["refreshToken"]}) == "UNAUTHENTICATED"
    assert await client.error_code(ME, token=child["accessToken"]) == "UNAUTHENTICATED"


async def test_access_and_refresh_tokens_are_not_interchangeable(client: GraphQLClient) -> None:
    session = await signed_up(client)
    assert await client.error_code(REFRESH, {"r": session.access}) == "UNAUTHENTICATED"
    assert await client.error_code(ME, token=session.refresh) == "UNAUTHENTICATED"
    # Neither attempt spent the refresh token.
    assert "errors" not in await client.execute(REFRESH, {"r": session.refresh})


async def test_unknown_refresh_token(client: GraphQLClient) -> None:
    assert await client.error_code(REFRESH, {"r": "made-up"}) == "UNAUTHENTICATED"


async def test_logout_kills_the_access_token_and_the_refresh_family(
    client: GraphQLClient,
) -> None:
    session = await signed_up(client)
    assert await client.data(LOGOUT, {"r": session.refresh}, token=session.access) == {
        "logout": True
    }
    assert await client.error_code(ME, token=session.access) == "UNAUTHENTICATED"
    assert await client.error_code(REFRESH, {"r": session.refresh}) == "UNAUTHENTICATED"


async def test_logout_with_only_a_refresh_token(client: GraphQLClient) -> None:
    session = await signed_up(client)
    rotated = (await client.data(REFRESH, {"r": session.refresh}))["refreshToken"]
    assert await client.data(LOGOUT, {"r": rotated["refreshToken"]}) == {"logout": True}
    assert await client.error_code(REFRESH, {"r": rotated["refreshToken"]}) == "UNAUTHENTICATED"
    # The access tokens of that login were not presented, yet they end with it.
    for access in (session.access, rotated["accessToken"]):
        assert await client.error_code(ME, token=access) == "UNAUTHENTICATED"


async def test_logout_with_only_an_access_token_ends_its_login(client: GraphQLClient) -> None:
    session = await signed_up(client)
    other = (await login(client, "alice"))["data"]["login"]
    assert await client.data(LOGOUT, {"r": None}, token=session.access) == {"logout": True}
    assert await client.error_code(ME, token=session.access) == "UNAUTHENTICATED"
    assert await client.error_code(REFRESH, {"r": session.refresh}) == "UNAUTHENTICATED"
    assert "errors" not in await client.execute(ME, token=other["accessToken"])
    assert "errors" not in await client.execute(REFRESH, {"r": other["refreshToken"]})


async def test_logout_needs_something_to_revoke(client: GraphQLClient) -> None:
    assert await client.error_code(LOGOUT, {"r": None}) == "UNAUTHENTICATED"


async def test_logout_keeps_other_sessions(client: GraphQLClient) -> None:
    first = await signed_up(client)
    second = (await login(client, "alice"))["data"]["login"]
    await client.data(LOGOUT, {"r": first.refresh}, token=first.access)
    assert "errors" not in await client.execute(ME, token=second["accessToken"])
    assert "errors" not in await client.execute(REFRESH, {"r": second["refreshToken"]})


async def test_changing_the_password_ends_every_session(client: GraphQLClient) -> None:
    session = await signed_up(client)
    other = (await login(client, "alice"))["data"]["login"]
    await client.data(
        CHANGE_PASSWORD, {"c": PASSWORD, "n": "brand new secret"}, token=session.access
    )
    for access in (session.access, other["accessToken"]):
        assert await client.error_code(ME, token=access) == "UNAUTHENTICATED"
    for refresh in (session.refresh, other["refreshToken"]):
        assert await client.error_code(REFRESH, {"r": refresh}) == "UNAUTHENTICATED"


async def test_deactivation_refuses_every_token_at_once(
    client: GraphQLClient, engines: Engines
) -> None:
    admin = await admin_session(client, engines, "root")
    user = await signed_up(client)
    secret = (await create_token(client, user.access, ["READ"]))["token"]
    await client.data(SET_ACTIVE, {"id": user.user_id, "a": False}, token=admin.access)
    assert await client.error_code(ME, token=user.access) == "UNAUTHENTICATED"
    assert await client.error_code(REFRESH, {"r": user.refresh}) == "UNAUTHENTICATED"
    assert await client.error_code("{ apiTokens { id } }", token=secret) == "UNAUTHENTICATED"
    assert (await login(client, "alice"))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    validation = await client.data(
        "query($t: String!) { validateToken(token: $t) { valid reason } }", {"t": secret}
    )
    assert validation["validateToken"] == {"valid": False, "reason": "OWNER_INACTIVE"}
    # Reactivation lets the user sign in again; no token issued before comes back.
    await client.data(SET_ACTIVE, {"id": user.user_id, "a": True}, token=admin.access)
    assert await client.error_code(ME, token=user.access) == "UNAUTHENTICATED"
    assert await client.error_code(REFRESH, {"r": user.refresh}) == "UNAUTHENTICATED"
    assert await client.error_code("{ apiTokens { id } }", token=secret) == "UNAUTHENTICATED"
    validation = await client.data(
        "query($t: String!) { validateToken(token: $t) { valid reason } }", {"t": secret}
    )
    assert validation["validateToken"] == {"valid": False, "reason": "REVOKED"}
    fresh = (await login(client, "alice"))["data"]["login"]
    assert (await client.data(ME, token=fresh["accessToken"]))["me"]["id"] == user.user_id
    listed = (await client.data("{ apiTokens { revokedAt } }", token=fresh["accessToken"]))[
        "apiTokens"
    ]
    assert [token["revokedAt"] is not None for token in listed] == [True]
    new_secret = (await create_token(client, fresh["accessToken"], ["READ"]))["token"]
    # Authenticated (an API token may not list tokens), where the old one was not.
    assert await client.error_code("{ apiTokens { id } }", token=new_secret) == "FORBIDDEN"


async def test_deleting_a_user_refuses_its_tokens(client: GraphQLClient, engines: Engines) -> None:
    admin = await admin_session(client, engines, "root")
    user = await signed_up(client)
    secret = (await create_token(client, user.access, ["INGEST"]))["token"]
    assert await client.data(DELETE_USER, {"id": user.user_id}, token=admin.access) == {
        "deleteUser": True
    }
    assert await client.error_code(ME, token=user.access) == "UNAUTHENTICATED"
    assert await client.error_code(REFRESH, {"r": user.refresh}) == "UNAUTHENTICATED"
    assert await client.error_code("{ apiTokens { id } }", token=secret) == "UNAUTHENTICATED"
    async with engines.db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM refresh_tokens") == 1  # the admin's
        assert await conn.fetchval("SELECT count(*) FROM api_tokens") == 0


async def test_malformed_authorization_header_is_refused(client: GraphQLClient) -> None:
    response = await client.post(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_token_does_not_become_anonymous(client: GraphQLClient) -> None:
    # Guarded fields answer UNAUTHENTICATED; public ones still work.
    body = await client.execute("{ me { id } version }", token="not-a-token")
    assert body["data"] is None or body["data"].get("me") is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    public = await client.execute(
        "query($t: String!) { validateToken(token: $t) { valid } }", {"t": "x"}, token="bad"
    )
    assert public["data"] == {"validateToken": {"valid": False}}


@pytest.fixture
async def redis_down_client(engines: Engines, settings: Settings) -> AsyncIterator[GraphQLClient]:
    """A client whose server reaches PostgreSQL but not Redis."""
    dead = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    app = create_app(settings)
    app.state.engines = dataclasses.replace(engines, redis=dead)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://eventide.test") as http:
        yield GraphQLClient(http)
    await dead.aclose()


async def test_session_checks_fail_closed_without_redis(
    client: GraphQLClient, redis_down_client: GraphQLClient
) -> None:
    session = await signed_up(client)
    await client.data(LOGOUT, {"r": None}, token=session.access)
    # The denylist cannot be read, so the revoked token must not pass.
    code = await redis_down_client.error_code(ME, token=session.access)
    assert code == "SERVICE_UNAVAILABLE"
    body = await login(redis_down_client, "alice")
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


def _forgeries(settings: Settings, user_id: str) -> dict[str, str]:
    now = int(time.time())
    good = {
        "sub": user_id,
        "epoch": 0,
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": "j1",
        "typ": "access",
    }
    key = settings.jwt_secret

    def unsigned(claims: dict[str, object]) -> str:
        header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"{header}.{body}."

    return {
        "control": jwt.encode(good, key, algorithm="HS256"),
        "alg-none": unsigned(good),
        "wrong-key": jwt.encode(good, "k" * 64, algorithm="HS256"),
        "wrong-aud": jwt.encode({**good, "aud": "other"}, key, algorithm="HS256"),
        "wrong-iss": jwt.encode({**good, "iss": "other"}, key, algorithm="HS256"),
        "expired": jwt.encode({**good, "exp": now - 1}, key, algorithm="HS256"),
        "no-jti": jwt.encode({k: v for k, v in good.items() if k != "jti"}, key, algorithm="HS256"),
        "typ-refresh": jwt.encode({**good, "typ": "refresh"}, key, algorithm="HS256"),
        "old-epoch": jwt.encode({**good, "epoch": -1}, key, algorithm="HS256"),
    }


async def test_forged_access_tokens_are_refused_by_the_api(
    client: GraphQLClient, settings: Settings
) -> None:
    session = await signed_up(client)
    forgeries = _forgeries(settings, session.user_id)
    # The control proves the forgeries fail for their one defect, not for another reason.
    assert "errors" not in await client.execute(ME, token=forgeries.pop("control"))
    for name, token in forgeries.items():
        assert await client.error_code(ME, token=token) == "UNAUTHENTICATED", name


async def test_logout_without_redis_says_so_and_still_revokes_the_family(
    client: GraphQLClient, redis_down_client: GraphQLClient, engines: Engines
) -> None:
    session = await signed_up(client)
    # Authentication itself needs Redis, so only the refresh token reaches logout here.
    # Its family is revoked in PostgreSQL, but its access tokens cannot be refused yet.
    code = await redis_down_client.error_code(LOGOUT, {"r": session.refresh})
    assert code == "SERVICE_UNAVAILABLE"
    assert await client.error_code(REFRESH, {"r": session.refresh}) == "UNAUTHENTICATED"
    # The retry, with Redis back, finishes the job.
    assert await client.data(LOGOUT, {"r": session.refresh}) == {"logout": True}
    assert await client.error_code(ME, token=session.access) == "UNAUTHENTICATED"
