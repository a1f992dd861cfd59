"""Projects and members through the API: what each change does, and the last OWNER."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventide.projects.roles import ProjectRole
from eventide.storage.engines import Engines
from tests.graphql_client import GraphQLClient
from tests.projects._world import World, account, project, world

PROJECT = (
    "query($id: ID!) { project(id: $id) { id name timezone myRole members { role user { id } } } }"
)
PROJECTS = "{ projects { id name myRole } }"
CREATE = (
    "mutation($i: CreateProjectInput!) { createProject(input: $i) { id name timezone myRole } }"
)
UPDATE = """mutation($id: ID!, $i: UpdateProjectInput!) {
  updateProject(id: $id, input: $i) { name timezone }
}"""
DELETE = "mutation($id: ID!) { deleteProject(id: $id) }"
ADD = """mutation($p: ID!, $u: String!, $r: ProjectRole!) {
  addProjectMember(projectId: $p, username: $u, role: $r) { role user { id } }
}"""
SET_ROLE = """mutation($p: ID!, $u: ID!, $r: ProjectRole!) {
  setProjectMemberRole(projectId: $p, userId: $u, role: $r) { role }
}"""
REMOVE = "mutation($p: ID!, $u: ID!) { removeProjectMember(projectId: $p, userId: $u) }"


@pytest.fixture
async def w(engines: Engines) -> World:
    return await world(engines)


async def _members(client: GraphQLClient, w: World) -> dict[str, str]:
    data = await client.data(PROJECT, {"id": str(w.target)}, token=w.owner.token)
    return {m["user"]["id"]: m["role"] for m in data["project"]["members"]}


async def test_the_creator_owns_a_new_project(client: GraphQLClient, w: World) -> None:
    created = (
        await client.data(
            CREATE, {"i": {"name": " Shop ", "timezone": "Europe/Paris"}}, token=w.viewer.token
        )
    )["createProject"]
    assert created["name"] == "Shop"
    assert (created["timezone"], created["myRole"]) == ("Europe/Paris", "OWNER")
    listed = (await client.data(PROJECTS, token=w.viewer.token))["projects"]
    assert [(p["name"], p["myRole"]) for p in listed] == [("Target", "VIEWER"), ("Shop", "OWNER")]


@pytest.mark.parametrize(
    "project_input",
    [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "ok", "timezone": "Mars/Olympus"},
        {"name": "a\x00"},
    ],
)
async def test_invalid_project_input_is_refused(
    client: GraphQLClient, w: World, project_input: dict[str, Any]
) -> None:
    assert await client.error_code(CREATE, {"i": project_input}, token=w.owner.token) == (
        "BAD_USER_INPUT"
    )
    code = await client.error_code(
        UPDATE, {"id": str(w.target), "i": project_input}, token=w.owner.token
    )
    assert code == "BAD_USER_INPUT"


async def test_an_owner_renames_and_moves_the_project(client: GraphQLClient, w: World) -> None:
    updated = await client.data(
        UPDATE, {"id": str(w.target), "i": {"timezone": "Asia/Tokyo"}}, token=w.owner.token
    )
    assert updated["updateProject"] == {"name": "Target", "timezone": "Asia/Tokyo"}


async def test_an_admin_sees_every_live_project_without_a_role(
    client: GraphQLClient, w: World
) -> None:
    listed = (await client.data(PROJECTS, token=w.admin.token))["projects"]
    assert [(p["id"], p["myRole"]) for p in listed] == [
        ("1", None),  # the project of the fixture accounts
        (str(w.target), None),
        (str(w.outsiders_own), None),
    ]


async def test_a_deleted_project_is_gone_for_everyone_at_once(
    client: GraphQLClient, w: World
) -> None:
    assert (await client.data(DELETE, {"id": str(w.target)}, token=w.owner.token))["deleteProject"]
    for who in (w.owner, w.editor, w.admin):
        assert (
            await client.error_code(PROJECT, {"id": str(w.target)}, token=who.token) == "NOT_FOUND"
        )
        listed = (await client.data(PROJECTS, token=who.token))["projects"]
        assert str(w.target) not in [p["id"] for p in listed]
    assert (
        await client.error_code(DELETE, {"id": str(w.target)}, token=w.admin.token) == "NOT_FOUND"
    )


async def test_members_are_added_by_username_once(
    client: GraphQLClient, engines: Engines, w: World
) -> None:
    newcomer = await account(engines, name="newcomer")
    added = await client.data(
        ADD,
        {"p": str(w.target), "u": newcomer.username.upper(), "r": "EDITOR"},
        token=w.owner.token,
    )
    assert added["addProjectMember"] == {"role": "EDITOR", "user": {"id": newcomer.user_id}}
    assert (await _members(client, w))[newcomer.user_id] == "EDITOR"
    again = {"p": str(w.target), "u": newcomer.username, "r": "VIEWER"}
    assert await client.error_code(ADD, again, token=w.owner.token) == "CONFLICT"
    unknown = {"p": str(w.target), "u": "nobody-by-this-name", "r": "VIEWER"}
    assert await client.error_code(ADD, unknown, token=w.owner.token) == "NOT_FOUND"


async def test_roles_change_and_members_leave(client: GraphQLClient, w: World) -> None:
    changed = await client.data(
        SET_ROLE, {"p": str(w.target), "u": w.viewer.user_id, "r": "OWNER"}, token=w.owner.token
    )
    assert changed["setProjectMemberRole"] == {"role": "OWNER"}
    # The new owner demotes the old one, then removes the editor.
    await client.data(
        SET_ROLE, {"p": str(w.target), "u": w.owner.user_id, "r": "VIEWER"}, token=w.viewer.token
    )
    assert await client.data(
        REMOVE, {"p": str(w.target), "u": w.editor.user_id}, token=w.viewer.token
    )
    assert await _members_as(client, w, w.viewer.token) == {
        w.owner.user_id: "VIEWER",
        w.viewer.user_id: "OWNER",
    }
    # The removed editor no longer sees the project.
    assert (
        await client.error_code(PROJECT, {"id": str(w.target)}, token=w.editor.token) == "NOT_FOUND"
    )


async def _members_as(client: GraphQLClient, w: World, token: str) -> dict[str, str]:
    data = await client.data(PROJECT, {"id": str(w.target)}, token=token)
    return {m["user"]["id"]: m["role"] for m in data["project"]["members"]}


@pytest.mark.parametrize("user_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
async def test_changing_a_non_member_is_not_found(
    client: GraphQLClient, w: World, user_id: str
) -> None:
    for document, extra in ((SET_ROLE, {"r": "VIEWER"}), (REMOVE, {})):
        variables = {"p": str(w.target), "u": user_id, **extra}
        assert await client.error_code(document, variables, token=w.owner.token) == "NOT_FOUND"
    outsider = {"p": str(w.target), "u": w.outsider.user_id}
    assert await client.error_code(REMOVE, outsider, token=w.owner.token) == "NOT_FOUND"


async def test_the_last_owner_stays(client: GraphQLClient, w: World) -> None:
    last = {"p": str(w.target), "u": w.owner.user_id}
    assert await client.error_code(SET_ROLE, {**last, "r": "EDITOR"}, token=w.owner.token) == (
        "BAD_USER_INPUT"
    )
    assert await client.error_code(REMOVE, last, token=w.owner.token) == "BAD_USER_INPUT"
    # Keeping the role is no change, and an ADMIN is held to the rule too.
    assert await client.data(SET_ROLE, {**last, "r": "OWNER"}, token=w.owner.token)
    assert await client.error_code(REMOVE, last, token=w.admin.token) == "BAD_USER_INPUT"
    assert (await _members(client, w))[w.owner.user_id] == "OWNER"


@pytest.mark.parametrize("how", ["demote", "remove"])
async def test_two_owners_removing_each_other_at_once_leave_one(
    client: GraphQLClient, engines: Engines, how: str
) -> None:
    async def drop(pid: int, actor: str, target: str) -> dict[str, Any]:
        if how == "demote":
            variables = {"p": str(pid), "u": target, "r": "VIEWER"}
            return await client.execute(SET_ROLE, variables, token=actor)
        return await client.execute(REMOVE, {"p": str(pid), "u": target}, token=actor)

    for _ in range(5):
        a = await account(engines, name="a")
        b = await account(engines, name="b")
        pid = await project(engines, "Race", a=(a, ProjectRole.OWNER), b=(b, ProjectRole.OWNER))
        # Each drops the other, and one drops themself too: whichever comes first
        # wins, and what follows may not take the one owner left.
        results = await asyncio.gather(
            drop(pid, a.token, b.user_id),
            drop(pid, b.token, a.user_id),
            drop(pid, a.token, a.user_id),
        )
        owners = await engines.db.fetchval(
            "SELECT count(*) FROM project_members WHERE project_id = $1 AND role = 'OWNER'", pid
        )
        assert owners == 1, results
        codes = {r["errors"][0]["extensions"]["code"] for r in results if "errors" in r}
        assert codes <= {"BAD_USER_INPUT", "FORBIDDEN", "NOT_FOUND"}, results
