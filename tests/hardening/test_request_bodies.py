"""Malformed requests are refused at the HTTP level with 400 BAD_REQUEST, and counted so."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.graphql_client import GraphQLClient
from tests.observability.test_metrics import operations, scrape

JSON = {"content-type": "application/json"}
# Deeper than either JSON parser goes (orjson: 1024, the standard library: the
# recursion limit), but small enough for a URL.
DEEP = 3000
DEEP_ARRAY = "[" * DEEP + "]" * DEEP


def assert_bad_request(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    for word in words:
        assert word in error["message"], error["message"]


@pytest.mark.parametrize("body", [b"null", b'"{ version }"', b"1", b"true", b"1e400"])
async def test_a_json_body_that_is_not_an_object_is_refused(
    client: GraphQLClient, body: bytes
) -> None:
    response = await client.http.post("/graphql", content=body, headers=JSON)
    assert_bad_request(response, "JSON object")


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ version }", "x": "\xff"}',
        b'{"query": "{ version \xc3 }"}',
        b'{"query": "{ version }", "n": 12345678901234567890, "x": "\xc0\xaf"}',
    ],
)
async def test_a_body_that_is_not_utf8_is_refused(client: GraphQLClient, body: bytes) -> None:
    response = await client.http.post("/graphql", content=body, headers=JSON)
    assert_bad_request(response, "UTF-8")


@pytest.mark.parametrize(
    "template",
    [
        '{"query": "{ version }", "variables": {"a": %s}}',
        '{"query": "{ version }", "extensions": {"a": %s}}',
        # 19 digits in a row take the standard library's parser.
        '{"query": "{ version }", "extensions": {"n": 1234567890123456789012, "a": %s}}',
        '{"query": "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }",'
        ' "variables": {"e": [{"eventId": "a", "userId": "u", "eventType": "t",'
        ' "occurredAt": "2024-01-01T00:00:00Z", "properties": {"a": %s}}]}}',
    ],
)
async def test_json_nested_past_the_parsers_limit_is_refused(
    client: GraphQLClient, admin_token: str, template: str
) -> None:
    body = (template % DEEP_ARRAY).encode()
    response = await client.http.post(
        "/graphql", content=body, headers={**JSON, "authorization": f"Bearer {admin_token}"}
    )
    assert_bad_request(response, "deeply")


async def test_an_integer_of_more_digits_than_python_converts_is_refused(
    client: GraphQLClient,
) -> None:
    body = b'{"query": "{ version }", "variables": {"n": %s}}' % (b"7" * 5000)
    response = await client.http.post("/graphql", content=body, headers=JSON)
    assert_bad_request(response, "JSON")


@pytest.mark.parametrize("name", ["1", "[]", '{"a": 1}', "true"])
async def test_an_operation_name_that_is_not_a_string_is_refused(
    client: GraphQLClient, name: str
) -> None:
    body = '{"query": "query A { version }", "operationName": ' + name + "}"
    response = await client.http.post("/graphql", content=body.encode(), headers=JSON)
    assert_bad_request(response, "operationName")


@pytest.mark.parametrize("field", ["variables", "extensions"])
@pytest.mark.parametrize("value", ['"x"', "[1]", "3"])
async def test_variables_and_extensions_must_be_objects(
    client: GraphQLClient, field: str, value: str
) -> None:
    body = '{"query": "{ version }", "' + field + '": ' + value + "}"
    response = await client.http.post("/graphql", content=body.encode(), headers=JSON)
    assert_bad_request(response, field)
    response = await client.http.get("/graphql", params={"query": "{ version }", field: value})
    assert_bad_request(response, field)


@pytest.mark.parametrize("field", ["variables", "extensions"])
@pytest.mark.parametrize("value", [DEEP_ARRAY, "{", "7" * 5000])
async def test_query_string_json_that_cannot_be_parsed_is_refused(
    client: GraphQLClient, field: str, value: str
) -> None:
    response = await client.http.get("/graphql", params={"query": "{ version }", field: value})
    assert_bad_request(response, field)


async def test_get_keeps_answering_well_formed_requests(client: GraphQLClient) -> None:
    response = await client.http.get(
        "/graphql",
        params={
            "query": "query V($t: String!) { validateToken(token: $t) { valid } }",
            "variables": '{"t": "nope"}',
            "extensions": "{}",
            "operationName": "V",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"validateToken": {"valid": False}}, response.text


async def test_refusals_are_counted_by_their_code_not_as_internal_errors(
    client: GraphQLClient,
) -> None:
    refused = ("eventide_http_refusals_total", (("code", "BAD_REQUEST"),))
    internal = operations("anonymous", "INTERNAL_SERVER_ERROR")
    before = await scrape(client)
    for body in (b"null", b"\xff", b'{"query": "{ version }", "operationName": 1}'):
        response = await client.http.post("/graphql", content=body, headers=JSON)
        assert response.status_code == 400
    after = await scrape(client)
    assert after.get(refused, 0) - before.get(refused, 0) == 3
    assert after.get(internal, 0) == before.get(internal, 0)
    status = ("eventide_http_requests_total", (("route", "/graphql"), ("status", "500")))
    assert after.get(status, 0) == before.get(status, 0)
