"""API tokens belong to a project: created by its EDITORs, gone with it."""

from __future__ import annotations

from typing import Any

import pytest

from eventide.storage.engines import Engines
from tests.graphql_client import GraphQLClient
from tests.projects._world import World, world

CREATE = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { id project { id name myRole } } }
}"""
LIST = "{ apiTokens { id project { id } owner { id } } }"
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) }"
VALIDATE = "query($t: String!) { validateToken(token: $t) { valid reason } }"


@pytest.fixture
async def w(engines: Engines) -> World:
    return await world(engines)


async def _create(client: GraphQLClient, token: str, project_id: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": "sdk", "scopes": ["READ"]}
    if project_id is not None:
        fields["projectId"] = project_id
    created: dict[str, Any] = (await client.data(CREATE, {"input": fields}, token=token))[
        "createApiToken"
    ]
    return created


async def test_a_token_acts_in_the_project_it_was_created_in(
    client: GraphQLClient, engines: Engines, w: World
) -> None:
    created = await _create(client, w.editor.token, None)
    assert created["apiToken"]["project"] == {
        "id": str(w.target),
        "name": "Target",
        "myRole": "EDITOR",
    }
    stored = await engines.db.fetchval("SELECT project_id FROM api_tokens")
    assert stored == w.target


async def test_an_editors_tokens_are_listed_and_revoked_by_the_projects_editors(
    client: GraphQLClient, w: World
) -> None:
    token_id = (await _create(client, w.editor.token, str(w.target)))["apiToken"]["id"]
    for who, sees in ((w.owner, True), (w.editor, True), (w.viewer, False), (w.outsider, False)):
        listed = [t["id"] for t in (await client.data(LIST, token=who.token))["apiTokens"]]
        assert (token_id in listed) is sees, who
    for who in (w.viewer, w.outsider):
        assert (
            await client.error_code(REVOKE, {"id": token_id}, token=who.token) == "BAD_USER_INPUT"
        )
    assert (await client.data(REVOKE, {"id": token_id}, token=w.owner.token))["revokeApiToken"]


async def test_a_removed_member_no_longer_sees_their_tokens_project(
    client: GraphQLClient, engines: Engines, w: World
) -> None:
    await _create(client, w.editor.token, str(w.target))
    await client.data(
        "mutation($p: ID!, $u: ID!) { removeProjectMember(projectId: $p, userId: $u) }",
        {"p": str(w.target), "u": w.editor.user_id},
        token=w.owner.token,
    )
    assert (await client.data(LIST, token=w.editor.token))["apiTokens"] == []


async def test_tokens_of_a_deleted_project_fail_at_once(client: GraphQLClient, w: World) -> None:
    secret = (await _create(client, w.owner.token, str(w.target)))["token"]
    assert (await client.data(VALIDATE, {"t": secret}))["validateToken"]["valid"]
    await client.data(
        "mutation($id: ID!) { deleteProject(id: $id) }", {"id": str(w.target)}, token=w.owner.token
    )
    assert (await client.data(VALIDATE, {"t": secret}))["validateToken"] == {
        "valid": False,
        "reason": "UNKNOWN",
    }
    # Any field that takes credentials refuses it as invalid, not as out of scope.
    assert await client.error_code("{ me { id } }", token=secret) == "UNAUTHENTICATED"
    assert (await client.data(LIST, token=w.admin.token))["apiTokens"] == []


async def test_api_tokens_cannot_manage_projects(client: GraphQLClient, w: World) -> None:
    secret = (await _create(client, w.owner.token, str(w.target)))["token"]
    assert await client.error_code("{ projects { id } }", token=secret) == "FORBIDDEN"
    variables = {"id": str(w.target)}
    code = await client.error_code(
        "query($id: ID!) { project(id: $id) { id } }", variables, token=secret
    )
    assert code == "FORBIDDEN"
