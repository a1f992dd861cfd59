"""Response media types and status codes of /graphql, chosen by the Accept header."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from eventide.http.media_types import GRAPHQL_RESPONSE_JSON, JSON, response_media_type
from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.graphql_client import GraphQLClient

BOTH = f"{GRAPHQL_RESPONSE_JSON}, {JSON};q=0.9"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE_JSON),
        (BOTH, GRAPHQL_RESPONSE_JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.5, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, */*;q=0.1", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0, */*", JSON),
        (f"{JSON};q=0, */*", GRAPHQL_RESPONSE_JSON),
        ("text/html", None),
        ("image/png, text/*", None),
        (f"{JSON};q=0", None),
        ("*/*;q=0", None),
        (f"{JSON};q=high", None),
        ("nonsense", None),
    ],
)
def test_the_media_type_follows_accept(accept: str | None, expected: str | None) -> None:
    assert response_media_type(accept) == expected


async def post(
    client: GraphQLClient, body: dict[str, Any], accept: str | None, **headers: str
) -> httpx.Response:
    if accept is not None:
        headers["Accept"] = accept
    return await client.http.post("/graphql", json=body, headers=headers)


def assert_graphql_response_json(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    body: dict[str, Any] = response.json()
    return body


REQUEST_ERRORS = [
    pytest.param({"query": "{"}, "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED", id="validation"),
    pytest.param(
        {"query": "query Q($id: ID) { version }", "variables": {"id": "1"}},
        "GRAPHQL_VALIDATION_FAILED",
        id="unused-variable",
    ),
    pytest.param(
        {"query": "query Q($t: String!) { validateToken(token: $t) { valid } }"},
        "BAD_USER_INPUT",
        id="variable-coercion",
    ),
]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_in_graphql_response_json(
    client: GraphQLClient, body: dict[str, Any], code: str
) -> None:
    response = await post(client, body, BOTH)
    answer = assert_graphql_response_json(response, 400)
    assert "data" not in answer
    assert [error["extensions"]["code"] for error in answer["errors"]] == [code]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
@pytest.mark.parametrize("accept", [JSON, None, "*/*"])
async def test_request_errors_stay_200_with_null_data_in_application_json(
    client: GraphQLClient, body: dict[str, Any], code: str, accept: str | None
) -> None:
    response = await post(client, body, accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON
    answer = response.json()
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == code


async def test_an_executed_operation_is_200_in_graphql_response_json(
    client: GraphQLClient,
) -> None:
    response = await post(client, {"query": "{ version }"}, GRAPHQL_RESPONSE_JSON)
    assert assert_graphql_response_json(response, 200)["data"]["version"]
    # A field error in an operation that ran: data stays, null or not.
    response = await post(client, {"query": "{ me { id } }"}, GRAPHQL_RESPONSE_JSON)
    answer = assert_graphql_response_json(response, 200)
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert answer["errors"][0]["path"] == ["me"]


async def test_an_unacceptable_accept_header_is_406(client: GraphQLClient) -> None:
    response = await post(client, {"query": "{ version }"}, "text/html, image/png")
    assert response.status_code == 406, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert GRAPHQL_RESPONSE_JSON in error["message"]


async def test_over_a_limit_is_400_in_graphql_response_json(engines: Engines) -> None:
    async with configured_client(engines, max_query_aliases=1) as client:
        body = {"query": "{ a: version b: version }"}
        answer = assert_graphql_response_json(await post(client, body, BOTH), 400)
        assert "data" not in answer
        assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        legacy = await post(client, body, JSON)
        assert legacy.status_code == 200
        assert legacy.json()["data"] is None
