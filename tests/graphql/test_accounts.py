from __future__ import annotations

from typing import Any

from tests.graphql_client import GraphQLClient

SIGNUP = """mutation($input: SignupInput!) {
  signup(input: $input) {
    accessToken refreshToken tokenType expiresIn
    user { id username email role isActive createdAt }
  }
}"""
LOGIN = """mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { accessToken refreshToken expiresIn user { id username } }
}"""
ME = "{ me { id username email role isActive } }"


async def signup(
    client: GraphQLClient,
    username: str = "alice",
    password: str = "correct horse",  # noqa: S107
) -> dict[str, Any]:
    data = await client.data(
        SIGNUP,
        {"input": {"username": username, "email": f"{username}@example.com", "password": password}},
    )
    payload: dict[str, Any] = data["signup"]
    return payload


async def test_signup_signs_the_new_user_in(client: GraphQLClient) -> None:
    payload = await signup(client)
    assert payload["tokenType"] == "Bearer"
    assert payload["expiresIn"] == 900
    assert payload["user"]["role"] == "USER"
    assert payload["user"]["isActive"] is True
    assert payload["user"]["createdAt"].endswith("Z")
    me = (await client.data(ME, token=payload["accessToken"]))["me"]
    assert me == {
        "id": payload["user"]["id"],
        "username": "alice",
        "email": "alice@example.com",
        "role": "USER",
        "isActive": True,
    }


async def test_login_with_any_case_of_the_username(client: GraphQLClient) -> None:
    created = await signup(client, "Bob.Smith")
    data = await client.data(LOGIN, {"u": "bob.smith", "p": "correct horse"})
    assert data["login"]["user"]["id"] == created["user"]["id"]
    me = await client.data(ME, token=data["login"]["accessToken"])
    assert me["me"]["username"] == "Bob.Smith"


async def test_me_without_credentials_is_unauthenticated(client: GraphQLClient) -> None:
    assert await client.error_code(ME) == "UNAUTHENTICATED"
