"""Queries and helpers shared by the account, session and admin tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventide.auth import users
from eventide.auth.principal import Role
from eventide.storage.engines import Engines
from tests.graphql_client import GraphQLClient
from tests.hashes import password_hash

PASSWORD = "correct horse battery"

SIGNUP = """mutation($input: SignupInput!) {
  signup(input: $input) {
    accessToken refreshToken tokenType expiresIn
    user { id username email role isActive createdAt }
  }
}"""
LOGIN = """mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { accessToken refreshToken expiresIn user { id username } }
}"""
REFRESH = """mutation($r: String!) {
  refreshToken(refreshToken: $r) { accessToken refreshToken tokenType expiresIn user { id } }
}"""
CHANGE_PASSWORD = """mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n)
}"""

LOGOUT = "mutation($r: String) { logout(refreshToken: $r) }"
ME = "{ me { id username email role isActive } }"
CREATE_TOKEN = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    token
    apiToken { id name prefix scopes createdAt expiresAt lastUsedAt revokedAt owner { id } }
  }
}"""


@dataclass
class Session:
    user_id: str
    username: str
    access: str
    refresh: str


async def signup(
    client: GraphQLClient, username: str = "alice", password: str = PASSWORD
) -> dict[str, Any]:
    data = await client.data(
        SIGNUP,
        {"input": {"username": username, "email": f"{username}@example.com", "password": password}},
    )
    payload: dict[str, Any] = data["signup"]
    return payload


async def login(client: GraphQLClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    return await client.execute(LOGIN, {"u": username, "p": password})


async def signed_up(client: GraphQLClient, username: str = "alice") -> Session:
    payload = await signup(client, username)
    return Session(
        user_id=payload["user"]["id"],
        username=username,
        access=payload["accessToken"],
        refresh=payload["refreshToken"],
    )


async def admin_session(client: GraphQLClient, engines: Engines, username: str) -> Session:
    """A signed-in ADMIN, created directly in storage (signup only makes USERs)."""
    await users.create_user(
        engines.db,
        username=username,
        email=None,
        password_hash=await password_hash(PASSWORD),
        role=Role.ADMIN,
    )
    body = await login(client, username)
    payload = body["data"]["login"]
    return Session(
        user_id=payload["user"]["id"],
        username=username,
        access=payload["accessToken"],
        refresh=payload["refreshToken"],
    )


async def create_token(
    client: GraphQLClient, token: str, scopes: list[str], **extra: Any
) -> dict[str, Any]:
    data = await client.data(
        CREATE_TOKEN, {"input": {"name": "sdk", "scopes": scopes, **extra}}, token=token
    )
    created: dict[str, Any] = data["createApiToken"]
    return created
