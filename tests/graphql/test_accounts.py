from __future__ import annotations

import pytest

from tests.graphql._accounts import ME, PASSWORD, SIGNUP, login, signed_up, signup
from tests.graphql_client import GraphQLClient

UPDATE_PROFILE = "mutation($e: String) { updateProfile(input: {email: $e}) { email } }"
CHANGE_PASSWORD = """mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n)
}"""


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


@pytest.mark.parametrize(
    ("username", "email", "password"),
    [
        ("ab", "a@example.com", PASSWORD),
        ("a" * 65, "a@example.com", PASSWORD),
        ("with space", "a@example.com", PASSWORD),
        ("émile", "a@example.com", PASSWORD),
        ("alice", "not-an-email", PASSWORD),
        ("alice", "a@b", PASSWORD),
        ("alice", "two@@example.com", PASSWORD),
        ("alice", "alice@example.com", "short"),
    ],
)
async def test_signup_refuses_invalid_input(
    client: GraphQLClient, username: str, email: str, password: str
) -> None:
    variables = {"input": {"username": username, "email": email, "password": password}}
    assert await client.error_code(SIGNUP, variables) == "BAD_USER_INPUT"


async def test_signup_accepts_edge_lengths_and_symbols(client: GraphQLClient) -> None:
    await signup(client, "a_.")
    await signup(client, "b" * 64)
    await signup(client, "x-y.z_1", password="8 chars!")


async def test_usernames_and_emails_are_unique_case_insensitively(client: GraphQLClient) -> None:
    await signup(client, "Alice")
    taken_name = {"username": "ALICE", "email": "other@example.com", "password": PASSWORD}
    taken_email = {"username": "bob", "email": "ALICE@example.com", "password": PASSWORD}
    assert await client.error_code(SIGNUP, {"input": taken_name}) == "CONFLICT"
    assert await client.error_code(SIGNUP, {"input": taken_email}) == "CONFLICT"


async def test_login_with_any_case_of_the_username(client: GraphQLClient) -> None:
    created = await signup(client, "Bob.Smith")
    body = await login(client, "bob.smith")
    assert body["data"]["login"]["user"]["id"] == created["user"]["id"]
    me = await client.data(ME, token=body["data"]["login"]["accessToken"])
    assert me["me"]["username"] == "Bob.Smith"


async def test_wrong_password_and_unknown_user_answer_alike(client: GraphQLClient) -> None:
    await signup(client)
    wrong = await login(client, "alice", "wrong password")
    unknown = await login(client, "nobody", PASSWORD)
    assert wrong["data"] is None
    assert unknown["data"] is None
    assert wrong["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert unknown["errors"][0]["message"] == wrong["errors"][0]["message"]
    assert unknown["errors"][0]["extensions"] == wrong["errors"][0]["extensions"]


async def test_me_without_credentials_is_unauthenticated(client: GraphQLClient) -> None:
    assert await client.error_code(ME) == "UNAUTHENTICATED"


async def test_update_profile_changes_the_email(client: GraphQLClient) -> None:
    session = await signed_up(client)
    await signed_up(client, "bob")
    changed = await client.data(UPDATE_PROFILE, {"e": "new@example.com"}, token=session.access)
    assert changed["updateProfile"]["email"] == "new@example.com"
    unchanged = await client.data(UPDATE_PROFILE, {"e": None}, token=session.access)
    assert unchanged["updateProfile"]["email"] == "new@example.com"
    taken = await client.error_code(UPDATE_PROFILE, {"e": "BOB@example.com"}, token=session.access)
    assert taken == "CONFLICT"
    invalid = await client.error_code(UPDATE_PROFILE, {"e": "nope"}, token=session.access)
    assert invalid == "BAD_USER_INPUT"
    assert await client.error_code(UPDATE_PROFILE, {"e": "x@example.com"}) == "UNAUTHENTICATED"


async def test_change_password(client: GraphQLClient) -> None:
    session = await signed_up(client)
    wrong = await client.error_code(
        CHANGE_PASSWORD, {"c": "not it at all", "n": "a new password"}, token=session.access
    )
    assert wrong == "BAD_USER_INPUT"
    too_short = await client.error_code(
        CHANGE_PASSWORD, {"c": PASSWORD, "n": "short"}, token=session.access
    )
    assert too_short == "BAD_USER_INPUT"
    done = await client.data(
        CHANGE_PASSWORD, {"c": PASSWORD, "n": "a new password"}, token=session.access
    )
    assert done == {"changePassword": True}
    assert "errors" in await login(client, "alice", PASSWORD)
    assert "errors" not in await login(client, "alice", "a new password")
