"""Signup with and without invitations, under both signup policies."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from eventide.app import create_app
from eventide.config import Settings, load_settings
from eventide.storage.engines import Engines
from tests.graphql_client import GraphQLClient
from tests.projects._world import World, world

SIGNUP = """mutation($i: SignupInput!) {
  signup(input: $i) { accessToken user { id username } }
}"""
INVITE = """mutation($p: ID!, $r: ProjectRole!, $ttl: Int!) {
  createInvitation(projectId: $p, role: $r, ttlSeconds: $ttl) {
    code role expiresAt project { id name myRole }
  }
}"""
PROJECTS = "{ projects { id name myRole } }"


def _input(username: str, invitation: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "username": username,
        "email": f"{username}@example.com",
        "password": "long enough password",
    }
    if invitation is not None:
        fields["invitation"] = invitation
    return {"i": fields}


async def _invite(client: GraphQLClient, w: World, role: str = "EDITOR", ttl: int = 3600) -> str:
    data = await client.data(
        INVITE, {"p": str(w.target), "r": role, "ttl": ttl}, token=w.owner.token
    )
    created = data["createInvitation"]
    assert created["project"] == {"id": str(w.target), "name": "Target", "myRole": "OWNER"}
    assert created["code"].startswith("evi_")
    code: str = created["code"]
    return code


async def _projects(client: GraphQLClient, token: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = (await client.data(PROJECTS, token=token))["projects"]
    return result


async def test_signup_without_invitation_owns_a_project_of_its_own(client: GraphQLClient) -> None:
    token = (await client.data(SIGNUP, _input("alice")))["signup"]["accessToken"]
    projects = await _projects(client, token)
    assert [(p["name"], p["myRole"]) for p in projects] == [("alice", "OWNER")]


async def test_signup_with_an_invitation_joins_its_project_only(
    client: GraphQLClient, engines: Engines
) -> None:
    w = await world(engines)
    code = await _invite(client, w, "VIEWER")
    stored = await engines.db.fetchval("SELECT code_hash FROM invitations")
    assert code.encode() not in stored
    token = (await client.data(SIGNUP, _input("bob", code)))["signup"]["accessToken"]
    assert await _projects(client, token) == [
        {"id": str(w.target), "name": "Target", "myRole": "VIEWER"}
    ]
    # The world's two, the fixture accounts' one, and no new one.
    assert await engines.db.fetchval("SELECT count(*) FROM projects") == 3 + 1
    # Used: the next one is refused, and leaves no account behind.
    assert await client.error_code(SIGNUP, _input("carol", code)) == "BAD_USER_INPUT"
    assert await engines.db.fetchval("SELECT count(*) FROM users WHERE username = 'carol'") == 0


@pytest.mark.parametrize("code", ["evi_unknown", "nonsense", "evi_" + "x" * 200])
async def test_unknown_invitations_are_refused(client: GraphQLClient, code: str) -> None:
    assert await client.error_code(SIGNUP, _input("dave", code)) == "BAD_USER_INPUT"


async def test_expired_and_deleted_projects_invitations_are_refused(
    client: GraphQLClient, engines: Engines
) -> None:
    w = await world(engines)
    expired = await _invite(client, w)
    await engines.db.execute("UPDATE invitations SET expires_at = now() - interval '1 second'")
    assert await client.error_code(SIGNUP, _input("erin", expired)) == "BAD_USER_INPUT"
    orphan = await _invite(client, w)
    await client.data(
        "mutation($id: ID!) { deleteProject(id: $id) }", {"id": str(w.target)}, token=w.owner.token
    )
    assert await client.error_code(SIGNUP, _input("erin", orphan)) == "BAD_USER_INPUT"


@pytest.mark.parametrize("ttl", [59, 30 * 24 * 3600 + 1])
async def test_invitation_lifetimes_are_bounded(
    client: GraphQLClient, engines: Engines, ttl: int
) -> None:
    w = await world(engines)
    variables = {"p": str(w.target), "r": "VIEWER", "ttl": ttl}
    assert await client.error_code(INVITE, variables, token=w.owner.token) == "BAD_USER_INPUT"


async def test_a_taken_username_leaves_the_invitation_unused(
    client: GraphQLClient, engines: Engines
) -> None:
    w = await world(engines)
    code = await _invite(client, w)
    await client.data(SIGNUP, _input("frank"))
    assert await client.error_code(SIGNUP, _input("frank", code)) == "CONFLICT"
    assert (await client.data(SIGNUP, _input("grace", code)))["signup"]["user"][
        "username"
    ] == "grace"


async def test_two_signups_with_one_code_only_one_wins(
    client: GraphQLClient, engines: Engines
) -> None:
    w = await world(engines)
    for round_ in range(3):
        code = await _invite(client, w)
        bodies = await asyncio.gather(
            *(client.execute(SIGNUP, _input(f"racer{round_}-{n}", code)) for n in range(4))
        )
        winners = [b for b in bodies if "errors" not in b]
        assert len(winners) == 1, bodies
        assert {b["errors"][0]["extensions"]["code"] for b in bodies if "errors" in b} == {
            "BAD_USER_INPUT"
        }
    members = await engines.db.fetchval(
        "SELECT count(*) FROM project_members WHERE project_id = $1", w.target
    )
    assert members == 3 + 3


@pytest.fixture
async def invite_only(engines: Engines, settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(dataclasses.replace(settings, signup="invite"))
    app.state.engines = dataclasses.replace(
        engines, settings=dataclasses.replace(settings, signup="invite")
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://eventide.test") as http:
        yield GraphQLClient(http)


async def test_invite_only_signup_needs_a_valid_invitation(
    invite_only: GraphQLClient, engines: Engines
) -> None:
    w = await world(engines)
    assert await invite_only.error_code(SIGNUP, _input("henry")) == "FORBIDDEN"
    assert await invite_only.error_code(SIGNUP, _input("henry", "evi_unknown")) == "BAD_USER_INPUT"
    code = await _invite(invite_only, w)
    token = (await invite_only.data(SIGNUP, _input("henry", code)))["signup"]["accessToken"]
    assert [p["myRole"] for p in await _projects(invite_only, token)] == ["EDITOR"]


def test_the_signup_policy_defaults_by_environment() -> None:
    assert load_settings({}).signup_policy == "open"
    production = {"EVENTIDE_ENV": "production", "EVENTIDE_JWT_SECRET": "s" * 40}
    assert load_settings(production).signup_policy == "invite"
    assert load_settings({**production, "EVENTIDE_SIGNUP": "open"}).signup_policy == "open"
    assert load_settings({"EVENTIDE_SIGNUP": "INVITE"}).signup_policy == "invite"
