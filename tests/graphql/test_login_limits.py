from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from eventide.app import create_app
from eventide.config import Settings
from eventide.storage.engines import Engines
from tests.graphql._accounts import LOGIN, PASSWORD, login, signup
from tests.graphql_client import GraphQLClient

ClientAt = Callable[[str], AbstractAsyncContextManager[GraphQLClient]]


@pytest.fixture
def client_at(engines: Engines, settings: Settings) -> ClientAt:
    """Clients from a given address, on a server allowing, per minute, 3 failed logins
    per username and address, 5 per address and 6 per username."""
    strict = dataclasses.replace(
        engines,
        settings=dataclasses.replace(
            settings,
            login_attempts=3,
            login_address_attempts=5,
            login_username_attempts=6,
            login_window_seconds=60,
        ),
    )

    @asynccontextmanager
    async def open_client(address: str) -> AsyncIterator[GraphQLClient]:
        app = create_app(settings)
        app.state.engines = strict
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://e.test") as http:
            yield GraphQLClient(http)

    return open_client


def codes(body: dict[str, object]) -> list[str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [error["extensions"]["code"] for error in errors]


async def test_one_address_failing_for_a_username_is_stopped_quickly(
    client: GraphQLClient, client_at: ClientAt
) -> None:
    await signup(client)
    async with client_at("198.51.100.1") as attacker:
        for _ in range(3):
            assert codes(await login(attacker, "alice", "wrong password")) == ["UNAUTHENTICATED"]
        limited = await login(attacker, "ALICE", "wrong password")
        assert codes(limited) == ["RATE_LIMITED"]
        assert 1 <= limited["errors"][0]["extensions"]["retryAfter"] <= 60
        # Even the right password waits for the window, from that address.
        assert codes(await login(attacker, "alice")) == ["RATE_LIMITED"]


async def test_failures_from_another_address_do_not_lock_the_owner_out(
    client: GraphQLClient, client_at: ClientAt
) -> None:
    await signup(client)
    async with client_at("198.51.100.1") as attacker, client_at("198.51.100.2") as owner:
        for _ in range(3):
            assert codes(await login(attacker, "alice", "wrong password")) == ["UNAUTHENTICATED"]
        # Refused attempts go on counting nowhere: they cannot use up the account's
        # allowance shared by all addresses either.
        for _ in range(20):
            assert codes(await login(attacker, "alice", "wrong password")) == ["RATE_LIMITED"]
        assert codes(await login(owner, "alice")) == []
        # A typo of the owner is counted for the owner's address alone.
        assert codes(await login(owner, "alice", "typo typo")) == ["UNAUTHENTICATED"]
        assert codes(await login(owner, "alice")) == []


async def test_guesses_from_many_addresses_are_bounded_per_username(
    client: GraphQLClient, client_at: ClientAt
) -> None:
    await signup(client)
    async with client_at("192.0.2.200") as home:
        assert codes(await login(home, "alice")) == []  # the owner signed in here before
    outcomes: list[str] = []
    for host in range(1, 6):  # 5 addresses of 3 guesses each would be 15
        async with client_at(f"198.51.100.{host}") as attacker:
            for _ in range(3):
                outcomes += codes(await login(attacker, "alice", f"guess {host}"))
    assert outcomes.count("UNAUTHENTICATED") == 6
    assert outcomes.count("RATE_LIMITED") == 9
    # The account is under attack: a new address waits, even with the right password...
    async with client_at("203.0.113.50") as elsewhere:
        assert codes(await login(elsewhere, "alice")) == ["RATE_LIMITED"]
    # ...but the owner still signs in from where they did before.
    async with client_at("192.0.2.200") as home:
        assert codes(await login(home, "alice")) == []
    # Other accounts are not affected.
    await signup(client, "bob")
    async with client_at("198.51.100.9") as clean:
        assert codes(await login(clean, "bob")) == []


async def test_failed_logins_per_address_are_limited(
    client: GraphQLClient, client_at: ClientAt
) -> None:
    await signup(client)
    async with client_at("198.51.100.3") as attacker, client_at("198.51.100.4") as other:
        for name in ("u1", "u2", "u3", "u4", "u5"):
            assert codes(await login(attacker, name, "guess guess")) == ["UNAUTHENTICATED"]
        assert codes(await login(attacker, "alice")) == ["RATE_LIMITED"]
        assert codes(await login(other, "alice")) == []


async def test_successful_logins_do_not_count(client: GraphQLClient, client_at: ClientAt) -> None:
    await signup(client)
    async with client_at("198.51.100.5") as user:
        for _ in range(6):
            assert codes(await login(user, "alice")) == []
        for _ in range(2):
            await login(user, "alice", "typo typo")
        assert codes(await login(user, "alice")) == []


async def test_aliased_logins_cannot_multiply_guesses(
    client: GraphQLClient, client_at: ClientAt
) -> None:
    await signup(client)
    aliases = "\n".join(
        f'a{n}: login(username: "alice", password: "guess {n}") {{ accessToken }}' for n in range(8)
    )
    async with client_at("198.51.100.6") as attacker:
        # Mutations run one after the other and a failed login (non-null) ends the
        # request, so each request tries one guess, and that guess counts.
        for _ in range(3):
            body = (await attacker.post(f"mutation {{ {aliases} }}")).json()
            assert body["data"] is None
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
                (["a0"], "UNAUTHENTICATED")
            ]
        body = (await attacker.post(f"mutation {{ {aliases} }}")).json()
        assert codes(body) == ["RATE_LIMITED"]


async def test_login_mutation_shape(client: GraphQLClient) -> None:
    await signup(client)
    data = await client.data(LOGIN, {"u": "alice", "p": PASSWORD})
    assert data["login"]["expiresIn"] == 900


async def test_parallel_guesses_cannot_slip_past_the_limit(
    client: GraphQLClient, client_at: ClientAt
) -> None:
    await signup(client)
    async with client_at("198.51.100.7") as attacker:
        bodies = await asyncio.gather(*(login(attacker, "alice", f"guess {n}") for n in range(10)))
    outcomes = sorted(code for body in bodies for code in codes(body))
    assert outcomes == ["RATE_LIMITED"] * 7 + ["UNAUTHENTICATED"] * 3
