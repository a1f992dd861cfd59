"""Passwords and tokens never show up in logs or error messages."""

from __future__ import annotations

import json
import logging

import pytest

from tests.graphql._accounts import (
    CHANGE_PASSWORD,
    LOGOUT,
    ME,
    PASSWORD,
    REFRESH,
    create_token,
    login,
    signed_up,
)
from tests.graphql_client import GraphQLClient

VALIDATE = "query($t: String!) { validateToken(token: $t) { valid reason } }"


async def test_no_secret_reaches_a_log_or_an_error(
    client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[object] = []

    async def run(query: str, variables: dict[str, object] | None = None, **kw: str) -> None:
        body = await client.execute(query, variables, **kw)
        errors.extend(body.get("errors") or [])

    session = await signed_up(client)
    wrong_password = "wrong password 1234"
    await login(client, "alice", wrong_password)
    await login(client, "nobody", PASSWORD)
    secret = (await create_token(client, session.access, ["READ"]))["token"]
    await run(VALIDATE, {"t": secret})
    await run(ME, token=secret)
    await run(ME, token=secret + "x")
    await run(ME, token=session.access[:-3])
    rotated = (await client.data(REFRESH, {"r": session.refresh}))["refreshToken"]
    await run(REFRESH, {"r": session.refresh})  # reuse: revokes the family
    await run(LOGOUT, {"r": rotated["refreshToken"]}, token=rotated["accessToken"])
    await run(ME, token=rotated["accessToken"])
    other = await signed_up(client, "bob")
    new_password = "bob's new password"
    await run(CHANGE_PASSWORD, {"c": wrong_password, "n": new_password}, token=other.access)
    await run(CHANGE_PASSWORD, {"c": PASSWORD, "n": new_password}, token=other.access)

    assert errors  # the refused calls above did produce errors
    exposed = caplog.text + json.dumps(errors)
    for value in (
        PASSWORD,
        wrong_password,
        new_password,
        secret,
        secret[12:],
        session.access,
        session.refresh,
        rotated["accessToken"],
        rotated["refreshToken"],
        other.refresh,
    ):
        assert value not in exposed
