from __future__ import annotations

import asyncio
import datetime as dt

from eventide.storage.engines import Engines
from tests.graphql._accounts import ME, admin_session, create_token, login, signed_up
from tests.graphql_client import GraphQLClient

USERS = """query($first: Int!, $after: String) {
  users(first: $first, after: $after) {
    edges { cursor node { username role isActive } }
    pageInfo { hasNextPage endCursor hasPreviousPage startCursor }
  }
}"""
SET_ROLE = "mutation($id: ID!, $r: Role!) { setUserRole(userId: $id, role: $r) { role } }"
SET_ACTIVE = (
    "mutation($id: ID!, $a: Boolean!) { setUserActive(userId: $id, active: $a) { isActive } }"
)
DELETE_USER = "mutation($id: ID!) { deleteUser(userId: $id) }"
PURGE = "mutation { purgeExpiredTokens }"


async def test_users_pages_through_every_account_once(
    client: GraphQLClient, engines: Engines
) -> None:
    admin = await admin_session(client, engines, "root")
    for n in range(6):
        await signed_up(client, f"user{n}")
    seen: list[str] = []
    after = None
    while True:
        page = (await client.data(USERS, {"first": 4, "after": after}, token=admin.access))["users"]
        seen += [edge["node"]["username"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        # Paging forward, even past the first page, there is no previous page (Relay).
        assert page["pageInfo"]["hasPreviousPage"] is False
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["root"] + [f"user{n}" for n in range(6)]


async def test_users_argument_checks(client: GraphQLClient, engines: Engines) -> None:
    admin = await admin_session(client, engines, "root")
    for variables in (
        {"first": 0},
        {"first": 1001},
        {"first": 10, "after": "garbage"},
        {"first": 10, "after": "eyJub3QiOiAiYSBsaXN0In0"},
    ):
        assert await client.error_code(USERS, variables, token=admin.access) == "BAD_USER_INPUT"
    assert "errors" not in await client.execute(USERS, {"first": 1000}, token=admin.access)


async def test_roles_change_at_the_next_request(client: GraphQLClient, engines: Engines) -> None:
    admin = await admin_session(client, engines, "root")
    user = await signed_up(client)
    assert await client.error_code(USERS, {"first": 5}, token=user.access) == "FORBIDDEN"
    promoted = await client.data(SET_ROLE, {"id": user.user_id, "r": "ADMIN"}, token=admin.access)
    assert promoted == {"setUserRole": {"role": "ADMIN"}}
    assert "errors" not in await client.execute(USERS, {"first": 5}, token=user.access)
    await client.data(SET_ROLE, {"id": user.user_id, "r": "USER"}, token=admin.access)
    assert await client.error_code(USERS, {"first": 5}, token=user.access) == "FORBIDDEN"


async def test_unknown_user_ids(client: GraphQLClient, engines: Engines) -> None:
    admin = await admin_session(client, engines, "root")
    for user_id in ("nope", "00000000-0000-0000-0000-000000000000"):
        code = await client.error_code(DELETE_USER, {"id": user_id}, token=admin.access)
        assert code == "BAD_USER_INPUT"


async def test_the_last_active_admin_stays(client: GraphQLClient, engines: Engines) -> None:
    admin = await admin_session(client, engines, "root")
    for query, variables in (
        (SET_ROLE, {"id": admin.user_id, "r": "USER"}),
        (SET_ACTIVE, {"id": admin.user_id, "a": False}),
        (DELETE_USER, {"id": admin.user_id}),
    ):
        assert await client.error_code(query, variables, token=admin.access) == "BAD_USER_INPUT"
    assert (await client.data(ME, token=admin.access))["me"]["role"] == "ADMIN"
    # With a second admin, the first may step down.
    second = await admin_session(client, engines, "root2")
    await client.data(SET_ROLE, {"id": admin.user_id, "r": "USER"}, token=second.access)
    assert await client.error_code(DELETE_USER, {"id": second.user_id}, token=second.access) == (
        "BAD_USER_INPUT"
    )


async def test_an_inactive_admin_does_not_count(client: GraphQLClient, engines: Engines) -> None:
    first = await admin_session(client, engines, "root")
    second = await admin_session(client, engines, "root2")
    await client.data(SET_ACTIVE, {"id": second.user_id, "a": False}, token=first.access)
    code = await client.error_code(SET_ROLE, {"id": first.user_id, "r": "USER"}, token=first.access)
    assert code == "BAD_USER_INPUT"


async def test_two_admins_demoting_each_other_at_once_leave_one(
    client: GraphQLClient, engines: Engines
) -> None:
    first = await admin_session(client, engines, "root")
    second = await admin_session(client, engines, "root2")
    for _ in range(5):
        results = await asyncio.gather(
            client.execute(SET_ROLE, {"id": second.user_id, "r": "USER"}, token=first.access),
            client.execute(SET_ROLE, {"id": first.user_id, "r": "USER"}, token=second.access),
        )
        async with engines.db.acquire() as conn:
            admins = await conn.fetchval("SELECT count(*) FROM users WHERE role = 'ADMIN'")
        assert admins == 1
        assert sum("errors" in body for body in results) == 1
        # Restore both for the next round.
        await engines.db.execute("UPDATE users SET role = 'ADMIN'")


async def test_delete_user_leaves_events(client: GraphQLClient, engines: Engines) -> None:
    admin = await admin_session(client, engines, "root")
    user = await signed_up(client)
    now = dt.datetime.now(dt.UTC)
    async with engines.db.acquire() as conn:
        await conn.execute("SELECT ensure_event_partitions($1)", [now])
        await conn.execute(
            """INSERT INTO events (project_id, event_id, user_id, event_type, occurred_at,
                                   received_at)
               VALUES (1, 'e1', 'alice', 'click', $1, $1)""",
            now,
        )
    await client.data(DELETE_USER, {"id": user.user_id}, token=admin.access)
    assert await engines.db.fetchval("SELECT count(*) FROM events") == 1
    assert "errors" in await login(client, "alice")


async def test_purge_deletes_expired_and_revoked_tokens(
    client: GraphQLClient, engines: Engines
) -> None:
    admin = await admin_session(client, engines, "root")
    user = await signed_up(client)
    keep = await create_token(client, user.access, ["READ"])
    expired = await create_token(client, user.access, ["READ"], ttlSeconds=60)
    revoked = await create_token(client, user.access, ["READ"])
    await engines.db.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
        expired["apiToken"]["id"],
    )
    await client.data(
        "mutation($id: ID!) { revokeApiToken(id: $id) }",
        {"id": revoked["apiToken"]["id"]},
        token=user.access,
    )
    assert await client.data(PURGE, token=admin.access) == {"purgeExpiredTokens": 2}
    assert await client.data(PURGE, token=admin.access) == {"purgeExpiredTokens": 0}
    remaining = await engines.db.fetch("SELECT id::text FROM api_tokens")
    assert [row["id"] for row in remaining] == [keep["apiToken"]["id"]]
