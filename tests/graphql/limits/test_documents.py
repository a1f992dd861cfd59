"""Remembered validations: skipped only where a fresh validation would pass the same way."""

from __future__ import annotations

from graphql import parse

from eventide.graphql.limits._documents import parsed, validation_key
from eventide.storage.engines import Engines
from tests.configured import configured_client

USERS = "query($n: Int!) { users(first: $n) { edges { node { id } } } }"
# Parsed only: one variable that sizes a field, one that does not.
SIZED_AND_NOT = (
    "mutation($events: [EventInput!]!, $n: Int) "
    "{ ingestEvents(events: $events) { accepted } users(first: $n) { totalCount } }"
)
SCHEMA_QUERY = "{ __schema { queryType { name } } }"


def test_the_key_holds_the_values_measures_read_and_nothing_else() -> None:
    document = parse(SIZED_AND_NOT)
    one = validation_key("q", document=document, variables={"events": [1], "n": 1})
    assert one == validation_key("q", document=document, variables={"events": [2, 3], "n": 1})
    assert one != validation_key("q", document=document, variables={"events": [1], "n": 2})
    # A boolean is no integer to the measures, though Python finds true == 1.
    assert one != validation_key("q", document=document, variables={"events": [1], "n": True})
    assert one != validation_key("q", document=document, variables={"events": [1]})
    assert validation_key("q", document=document, variables={"n": [1]}) is None


def test_documents_are_parsed_once_and_invalid_ones_left_to_the_caller() -> None:
    assert parsed(USERS, max_tokens=2000) is parsed(USERS, max_tokens=2000)
    assert parsed("{ users(", max_tokens=2000) is None
    assert parsed("{ " + "version " * 50 + "}", max_tokens=10) is None


async def test_a_remembered_document_reports_the_cost_of_each_request(
    engines: Engines, admin_token: str
) -> None:
    async with configured_client(engines, max_query_cost=100) as client:
        for n, cost in ((30, 90), (30, 90), (20, 60), (30, 90)):
            body = await client.execute(USERS, {"n": n}, token=admin_token)
            assert "errors" not in body, body
            assert body["extensions"]["cost"]["requestedQueryCost"] == cost
        body = await client.execute(USERS, {"n": 40}, token=admin_token)
        assert "cost 120 exceeds the limit of 100 points" in body["errors"][0]["message"]


async def test_a_document_accepted_under_some_limits_is_judged_again_under_others(
    engines: Engines, admin_token: str
) -> None:
    async with configured_client(engines) as client:
        assert "errors" not in await client.execute(USERS, {"n": 40}, token=admin_token)
    async with configured_client(engines, max_query_cost=100) as client:
        body = await client.execute(USERS, {"n": 40}, token=admin_token)
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_introspection_accepted_for_an_administrator_stays_refused_to_others(
    engines: Engines, admin_token: str, user_token: str
) -> None:
    async with configured_client(engines, env="production") as client:
        for _ in range(2):
            data = await client.data(SCHEMA_QUERY, token=admin_token)
            assert data["__schema"]["queryType"]["name"] == "Query"
            code = await client.error_code(SCHEMA_QUERY, token=user_token)
            assert code == "GRAPHQL_VALIDATION_FAILED"
