"""Introspection for administrators only in production, suggestions hidden, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.graphql_client import GraphQLClient

SCHEMA_QUERY = "{ __schema { queryType { name } } }"
TYPE_QUERY = '{ __type(name: "Query") { name } }'
HIDDEN_IN_FRAGMENT = "{ ...Peek } fragment Peek on Query { __schema { types { name } } }"
ALIASED = 'query version { version: __type(name: "User") { fields { name } } }'


async def test_production_refuses_introspection_to_anonymous_callers(engines: Engines) -> None:
    async with configured_client(engines, env="production") as client:
        for query in (SCHEMA_QUERY, TYPE_QUERY, HIDDEN_IN_FRAGMENT, ALIASED):
            body = await client.execute(query)
            assert body["data"] is None, query
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert "introspection" in body["errors"][0]["message"]
        assert await client.data("{ __typename }") == {"__typename": "Query"}


async def test_production_refuses_introspection_to_users_and_api_tokens(
    engines: Engines, user_token: str, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    token = await api_token(["READ", "INGEST"])
    async with configured_client(engines, env="production") as client:
        for credential in (user_token, token):
            code = await client.error_code(SCHEMA_QUERY, token=credential)
            assert code == "GRAPHQL_VALIDATION_FAILED"


async def test_production_allows_introspection_to_admins(
    engines: Engines, admin_token: str
) -> None:
    async with configured_client(engines, env="production") as client:
        data = await client.data(SCHEMA_QUERY, token=admin_token)
        assert data["__schema"]["queryType"]["name"] == "Query"


async def test_development_allows_introspection_to_anyone(client: GraphQLClient) -> None:
    data = await client.data(TYPE_QUERY)
    assert data["__type"]["name"] == "Query"


async def test_production_hides_field_suggestions(engines: Engines) -> None:
    async with configured_client(engines, env="production") as client:
        for query in ("{ versio }", "{ me { usernam } }", '{ validateToken(tokn: "x") { valid } }'):
            message = (await client.execute(query))["errors"][0]["message"]
            assert "Did you mean" not in message, message
            assert "version" not in message
            assert "username" not in message


async def test_development_keeps_field_suggestions(client: GraphQLClient) -> None:
    message = (await client.execute("{ versio }"))["errors"][0]["message"]
    assert "Did you mean 'version'?" in message


async def test_a_query_over_the_time_limit_is_cancelled(engines: Engines, user_token: str) -> None:
    # A real stall: the table the resolver reads is locked by another transaction.
    async with engines.db.acquire() as blocker, blocker.transaction():
        await blocker.execute("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")
        async with configured_client(engines, query_timeout_seconds=0.3) as client:
            body = await asyncio.wait_for(
                client.execute("{ apiTokens { id } }", token=user_token), timeout=10
            )
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TIMEOUT"
    assert "longer than 0.3 s" in error["message"]
    # The cancelled query gave its connection back: the table answers again.
    async with configured_client(engines) as client:
        assert await client.data("{ apiTokens { id } }", token=user_token) == {"apiTokens": []}
