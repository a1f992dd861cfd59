"""Depth, alias, token and cost limits through the HTTP API, and their known bypasses."""

from __future__ import annotations

from typing import Any

from graphql import get_introspection_query

from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.graphql_client import GraphQLClient

TOKENS_AND_OWNERS = "{ apiTokens { owner { id } } }"  # depth 3


def single_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


async def test_depth_over_the_limit_is_refused(engines: Engines, user_token: str) -> None:
    async with configured_client(engines, max_query_depth=2) as client:
        error = single_error(await client.execute(TOKENS_AND_OWNERS, token=user_token))
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "depth 3 exceeds the limit of 2" in error["message"]
        assert await client.data("{ me { id } }", token=user_token)


async def test_depth_counts_through_fragments_and_inline_fragments(engines: Engines) -> None:
    query = """{ ...Tokens }
    fragment Tokens on Query { apiTokens { ... on ApiToken { ...Owner } } }
    fragment Owner on ApiToken { owner { id } }"""
    async with configured_client(engines, max_query_depth=2) as client:
        error = single_error(await client.execute(query))
        assert "depth 3 exceeds" in error["message"]


async def test_names_of_introspection_fields_exempt_nothing(engines: Engines) -> None:
    query = """query __schema { ...__type }
    fragment __type on Query { __typename apiTokens { owner { __schema: id } } }"""
    async with configured_client(engines, max_query_depth=2) as client:
        body = await client.execute(query)
        assert any("depth 3 exceeds" in error["message"] for error in body["errors"]), body


async def test_aliases_over_the_limit_are_refused(client: GraphQLClient) -> None:
    fifteen = " ".join(f"a{i}: version" for i in range(15))
    assert await client.data(f"{{ {fifteen} }}")
    error = single_error(await client.execute(f"{{ {fifteen} extra: version }}"))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "16 aliases exceed the limit of 15" in error["message"]


async def test_aliases_count_every_spread_of_a_fragment(client: GraphQLClient) -> None:
    eight = " ".join(f"a{i}: version" for i in range(8))
    query = f"{{ ...Eight ... on Query {{ ...Eight }} }} fragment Eight on Query {{ {eight} }}"
    error = single_error(await client.execute(query))
    assert "16 aliases" in error["message"]


async def test_circular_fragments_are_refused_without_hanging(client: GraphQLClient) -> None:
    query = """{ ...A }
    fragment A on Query { version ...B }
    fragment B on Query { a1: version ...A }"""
    body = await client.execute(query)
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert any("Cannot spread fragment" in e["message"] for e in body["errors"])


async def test_a_fragment_bomb_is_refused_quickly(client: GraphQLClient) -> None:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60)]
    query = "{ ...F0 }\n" + "\n".join(fragments) + "\nfragment F60 on Query { a: version }"
    error = single_error(await client.execute(query))
    assert f"{2**60} aliases" in error["message"]


async def test_documents_over_the_token_limit_are_refused(client: GraphQLClient) -> None:
    query = "{ " + " ".join(["__typename"] * 2100) + " }"
    error = single_error(await client.execute(query))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "limit of 2000 tokens" in error["message"]


async def test_cost_over_the_budget_is_refused_before_execution(
    engines: Engines, admin_token: str
) -> None:
    query = "query($n: Int!) { users(first: $n) { edges { node { id } } } }"
    async with configured_client(engines, max_query_cost=100) as client:
        body = await client.execute(query, {"n": 30}, token=admin_token)
        assert "errors" not in body, body
        assert body["extensions"]["cost"]["requestedQueryCost"] == 30 * 3
        body = await client.execute(query, {"n": 40}, token=admin_token)
        error = single_error(body)
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "cost 120 exceeds the limit of 100 points" in error["message"]
        assert body["extensions"]["cost"]["requestedQueryCost"] == 120


async def test_graphiql_introspection_fits_the_default_limits(client: GraphQLClient) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    data = await client.data(query)
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_deep_introspection_is_bounded(client: GraphQLClient) -> None:
    query = "{ __schema { types { " + "fields { type { ofType { " * 7 + "name" + " } } }" * 8
    body = await client.execute(query)
    assert body["data"] is None
    assert any("introspection depth 24 exceeds" in e["message"] for e in body["errors"]), body


async def test_wide_selection_sets_are_refused_before_validation(client: GraphQLClient) -> None:
    # Hundreds of repeated fields would cost graphql-core's pairwise merge check seconds.
    query = "{ " + " ".join("apiTokens { id }" for _ in range(490)) + " }"
    error = single_error(await client.execute(query))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "A selection set has 490 selections; the limit is 100."
    hundred = "{ " + " ".join("version" for _ in range(100)) + " }"
    assert await client.data(hundred) == {"version": (await client.data("{ version }"))["version"]}
