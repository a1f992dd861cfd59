"""CSRF, GET-only-for-queries, batching, body size and CORS at the HTTP level."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from eventide.config import Settings
from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.graphql_client import GraphQLClient

QUERY = json.dumps({"query": "{ version }"})


def assert_json_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    message: str = error["message"]
    return message


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ],
)
async def test_posts_a_form_could_send_are_refused(
    client: GraphQLClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.http.post("/graphql", content=QUERY, headers=headers)
    message = assert_json_error(response, 400, "BAD_REQUEST")
    assert "cross-site request forgery" in message


@pytest.mark.parametrize("header", ["X-Eventide-CSRF", "Apollo-Require-Preflight"])
async def test_a_custom_header_lifts_the_csrf_block(client: GraphQLClient, header: str) -> None:
    response = await client.http.post(
        "/graphql", content=QUERY, headers={"Content-Type": "text/plain", header: "1"}
    )
    # Past the CSRF check; the view itself only takes JSON.
    message = assert_json_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "content-type: application/json" in message.lower()


async def test_json_posts_pass(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", content=QUERY, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["version"]


async def test_get_runs_queries_but_refuses_mutations(client: GraphQLClient) -> None:
    response = await client.http.get("/graphql", params={"query": "{ version }"})
    assert response.status_code == 200
    assert response.json()["data"]["version"]
    response = await client.http.get("/graphql", params={"query": "mutation { logout }"})
    message = assert_json_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "mutations are not allowed" in message.lower()
    assert response.headers["allow"] == "POST"


async def test_the_cdn_ide_is_not_served_at_graphql(client: GraphQLClient) -> None:
    response = await client.http.get("/graphql", headers={"Accept": "text/html"})
    assert "text/html" not in response.headers["content-type"]
    assert "cdn" not in response.text.lower()
    # text/html is no response type of the endpoint.
    assert_json_error(response, 406, "NOT_ACCEPTABLE")


async def test_batches_are_refused(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", json=[{"query": "{ version }"}, {"query": "{ version }"}]
    )
    message = assert_json_error(response, 400, "BAD_REQUEST")
    assert "batching" in message.lower()


async def test_malformed_json_is_a_json_error(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_json_error(response, 400, "BAD_REQUEST")


async def test_bodies_over_the_limit_are_refused(engines: Engines) -> None:
    async with configured_client(engines, max_body_bytes=4096) as client:
        padding = "#" + "x" * 5000 + "\n"
        response = await client.http.post("/graphql", json={"query": padding + "{ version }"})
        message = assert_json_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert "4096 bytes" in message

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
            for _ in range(5):
                yield b" " * 1000

        response = await client.http.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert_json_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert (
            await client.http.post("/graphql", json={"query": "{ version }"})
        ).status_code == 200


def full_batch() -> list[dict[str, object]]:
    """1,000 events with properties as an SDK sends them: a few keys of each kind."""
    occurred = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    return [
        {
            "eventId": f"0b7d1c3e-5f6a-4b8c-9d0e-{i:012d}",
            "userId": f"user-{i % 97:08d}@example.com",
            "eventType": "checkout.completed",
            "occurredAt": (occurred + dt.timedelta(milliseconds=i)).isoformat(),
            "properties": {
                "plan": "business-annual",
                "amount": 1299.5,
                "currency": "EUR",
                "items": [{"sku": f"SKU-{i:06d}", "qty": 2}, {"sku": "SKU-000042", "qty": 1}],
                "page": "https://shop.example.com/checkout/confirm?step=3",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126",
                "campaign": {"source": "newsletter", "medium": "email", "id": "2026-11-w3"},
                "flags": {"beta": True, "returning": i % 2 == 0},
            },
        }
        for i in range(1000)
    ]


async def test_a_typical_full_batch_fits_the_default_limit(
    client: GraphQLClient, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    batch = full_batch()
    mutation = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }"
    assert len(json.dumps({"query": mutation, "variables": {"e": batch}})) < 1024 * 1024
    data = await client.data(mutation, {"e": batch}, token=await api_token(["INGEST"]))
    assert data["ingestEvents"]["accepted"] == 1000


async def test_a_full_batch_of_the_largest_valid_events_exceeds_the_default_limit(
    client: GraphQLClient, settings: Settings
) -> None:
    assert settings.max_body_bytes is None
    assert settings.body_limit_bytes == 5 * 1024 * 1024
    batch = full_batch()
    for event in batch:
        # Just under the 32 KiB the contract allows once serialized.
        event["properties"] = {"blob": "x" * (32 * 1024 - 20)}
    mutation = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }"
    response = await client.http.post(
        "/graphql", json={"query": mutation, "variables": {"e": batch}}
    )
    message = assert_json_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert "5242880 bytes (5 MiB)" in message
    assert "EVENTIDE_MAX_BODY_BYTES" in message


@pytest.mark.parametrize("streamed", [False, True])
async def test_the_default_limit_holds_to_the_byte(client: GraphQLClient, streamed: bool) -> None:
    limit = 5 * 1024 * 1024

    def body(size: int) -> bytes:
        # JSON allows any whitespace after the value.
        return QUERY.encode() + b" " * (size - len(QUERY))

    async def post(content: bytes) -> httpx.Response:
        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
            for start in range(0, len(content), 1 << 20):
                yield content[start : start + (1 << 20)]

        return await client.http.post(
            "/graphql",
            content=chunks() if streamed else content,
            headers={"Content-Type": "application/json"},
        )

    for size in (limit - 1, limit):
        response = await post(body(size))
        assert response.status_code == 200, response.text
        assert response.json()["data"]["version"]
    message = assert_json_error(await post(body(limit + 1)), 413, "PAYLOAD_TOO_LARGE")
    assert "5242880 bytes" in message


async def test_cors_is_off_by_default(client: GraphQLClient) -> None:
    response = await client.http.options(
        "/graphql",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_cors_answers_configured_origins_only(engines: Engines) -> None:
    async with configured_client(engines, cors_origins=("https://app.example",)) as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        }
        allowed = await client.http.options(
            "/graphql", headers={"Origin": "https://app.example", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        refused = await client.http.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers
        response = await client.http.post(
            "/graphql", json={"query": "{ version }"}, headers={"Origin": "https://app.example"}
        )
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        assert "RateLimit-Remaining" in response.headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    "requested",
    [
        "content-type, authorization",
        "content-type, apollo-require-preflight",
        "content-type, x-apollo-operation-name",
        "apollographql-client-name, apollographql-client-version, content-type",
        "traceparent, tracestate, baggage",
        "sentry-trace, baggage, content-type, authorization",
        "x-eventide-csrf, x-request-id",
    ],
)
async def test_cors_preflight_admits_the_headers_clients_send(
    engines: Engines, requested: str
) -> None:
    async with configured_client(engines, cors_origins=("https://app.example",)) as client:
        response = await client.http.options(
            "/graphql",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": requested,
            },
        )
        assert response.status_code == 200, response.text
        allowed = {
            h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
        }
        assert {h.strip() for h in requested.split(",")} <= allowed


async def test_cors_preflight_refuses_headers_nobody_needs(engines: Engines) -> None:
    # The control for the test above: an unknown header fails the preflight.
    async with configured_client(engines, cors_origins=("https://app.example",)) as client:
        response = await client.http.options(
            "/graphql",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-not-a-header-we-allow",
            },
        )
        assert response.status_code == 400


async def test_routing_refusals_are_json_too(client: GraphQLClient) -> None:
    response = await client.http.put("/graphql", json={"query": "{ version }"})
    assert_json_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}
    assert_json_error(await client.http.get("/nowhere"), 404, "NOT_FOUND")
