"""Which operation of a document runs, and the refusals when that is not clear."""

from __future__ import annotations

from typing import Any

import pytest

from eventide.http.media_types import GRAPHQL_RESPONSE_JSON, JSON
from tests.graphql_client import GraphQLClient
from tests.http.test_guard import assert_json_error

TWO = "query A { version } query B { v: version }"


async def test_operation_name_picks_one_of_several(client: GraphQLClient) -> None:
    response = await client.http.post("/graphql", json={"query": TWO, "operationName": "B"})
    assert response.status_code == 200
    assert set(response.json()["data"]) == {"v"}


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE_JSON])
@pytest.mark.parametrize(
    ("body", "explained"),
    [
        ({"query": TWO}, "The document has 2 operations (A, B): name the one to run"),
        ({"query": TWO, "operationName": None}, "name the one to run in operationName"),
        ({"query": TWO, "operationName": "C"}, 'no operation named "C"; it has A, B'),
        ({"query": "{ version }", "operationName": "A"}, "its only operation is anonymous"),
        ({"query": "fragment F on Query { version }"}, "no operation to run"),
        ({"query": TWO, "operationName": {"name": "A"}}, "`operationName` must be a string"),
        ({"query": TWO, "operationName": ["A"]}, "`operationName` must be a string"),
        ({"query": "{ version }", "operationName": 1}, "`operationName` must be a string"),
    ],
)
async def test_no_operation_runs_unless_the_choice_is_clear(
    client: GraphQLClient, body: dict[str, Any], explained: str, accept: str
) -> None:
    response = await client.http.post("/graphql", json=body, headers={"Accept": accept})
    message = assert_json_error(response, 400, "BAD_REQUEST")
    assert explained in message
    assert "data" not in response.json()


async def test_a_missing_query_is_a_bad_request(client: GraphQLClient) -> None:
    response = await client.http.post("/graphql", json={"variables": {}})
    assert "query" in assert_json_error(response, 400, "BAD_REQUEST")
