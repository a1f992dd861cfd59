from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.graphql_client import GraphQLClient

CREATE = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    token
    apiToken { id name prefix scopes createdAt expiresAt lastUsedAt revokedAt owner { id } }
  }
}"""
VALIDATE = "query($t: String!) { validateToken(token: $t) { valid reason expiresAt } }"


async def test_created_token_is_shown_once_and_validates(
    client: GraphQLClient, user_token: str
) -> None:
    data = await client.data(
        CREATE, {"input": {"name": "sdk", "scopes": ["INGEST"]}}, token=user_token
    )
    created = data["createApiToken"]
    secret = created["token"]
    assert secret.startswith("evt_")
    assert len(secret) >= 4 + 43  # 32 random bytes, URL-safe base64
    assert created["apiToken"]["prefix"] == secret[:12]
    assert created["apiToken"]["scopes"] == ["INGEST"]
    assert created["apiToken"]["expiresAt"] is None
    validation = (await client.data(VALIDATE, {"t": secret}))["validateToken"]
    assert validation == {"valid": True, "reason": None, "expiresAt": None}


async def test_api_token_cannot_reach_account_fields(
    client: GraphQLClient, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    secret = await api_token(["INGEST", "READ"])
    assert await client.error_code("{ me { id } }", token=secret) == "FORBIDDEN"
    assert (
        await client.error_code(CREATE, {"input": {"name": "x", "scopes": ["READ"]}}, token=secret)
        == "FORBIDDEN"
    )


async def test_fixture_tokens_are_sessions(
    client: GraphQLClient, user_token: str, admin_token: str
) -> None:
    user = await client.data("{ me { role } }", token=user_token)
    admin = await client.data("{ me { role } }", token=admin_token)
    assert (user["me"]["role"], admin["me"]["role"]) == ("USER", "ADMIN")
