"""Automatic persisted queries over HTTP, stored in the session's Redis."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.graphql._accounts import admin_session
from tests.graphql_client import GraphQLClient

VERSION = "query Version { version }"
ME = "query Me { me { id username } }"
PURGE = "mutation Purge { purgeExpiredTokens }"


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256(document)}}


async def post(
    client: GraphQLClient,
    document: str,
    *,
    send_query: bool,
    token: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"extensions": extensions or persisted(document)}
    if send_query:
        body["query"] = document
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.http.post("/graphql", json=body, headers=headers)


async def get(
    client: GraphQLClient, document: str, *, send_query: bool, token: str | None = None
) -> httpx.Response:
    # What Apollo Client sends with useGETForHashedQueries, Accept header included.
    params = {"extensions": json.dumps(persisted(document), separators=(",", ":"))}
    if send_query:
        params["query"] = document
    headers = {"Accept": "*/*"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.http.get("/graphql", params=params, headers=headers)


def only_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


async def stored(engines: Engines, document: str) -> bytes | None:
    value = await engines.redis.get(engines.redis_key("persisted-query", sha256(document)))
    assert value is None or isinstance(value, bytes)
    return value


async def test_the_apollo_round_trip_over_post(client: GraphQLClient, engines: Engines) -> None:
    unknown = await post(client, VERSION, send_query=False)
    assert only_error(unknown) == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    # The answer depends on what is stored right now: no cache may keep it.
    assert "no-cache" in unknown.headers["Cache-Control"]
    assert await stored(engines, VERSION) is None

    sent = await post(client, VERSION, send_query=True)
    assert "errors" not in sent.json()
    version = sent.json()["data"]["version"]
    assert await stored(engines, VERSION) == VERSION.encode()
    ttl = await engines.redis.ttl(engines.redis_key("persisted-query", sha256(VERSION)))
    assert 0 < ttl <= engines.settings.persisted_query_ttl_seconds

    again = await post(client, VERSION, send_query=False)
    assert "errors" not in again.json()
    assert again.json()["data"] == {"version": version}


async def test_the_round_trip_over_get_and_a_hash_shared_with_post(
    client: GraphQLClient, engines: Engines
) -> None:
    unknown = await get(client, VERSION, send_query=False)
    assert unknown.status_code == 200  # an operation, not the IDE's page
    assert only_error(unknown)["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    sent = await get(client, VERSION, send_query=True)
    assert "errors" not in sent.json()
    cached = await get(client, VERSION, send_query=False)
    assert "errors" not in cached.json()
    assert cached.json()["data"] == sent.json()["data"]
    # A replica, or another transport, finds what was stored.
    posted = await post(client, VERSION, send_query=False)
    assert posted.json()["data"] == sent.json()["data"]


async def test_a_stored_document_answers_per_caller(
    client: GraphQLClient, engines: Engines
) -> None:
    admin = await admin_session(client, engines, "root")
    assert "errors" not in (await post(client, ME, send_query=True, token=admin.access)).json()
    mine = await get(client, ME, send_query=False, token=admin.access)
    assert mine.json()["data"]["me"]["username"] == "root"
    anonymous = await get(client, ME, send_query=False)
    assert only_error(anonymous)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_hash_that_is_not_the_documents_is_refused_and_nothing_stored(
    client: GraphQLClient, engines: Engines
) -> None:
    forged = await post(client, ME, send_query=True, extensions=persisted(VERSION))
    error = only_error(forged)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "sha256Hash is not the SHA-256 of the query" in error["message"]
    assert forged.json()["data"] is None
    assert await stored(engines, VERSION) is None
    assert await stored(engines, ME) is None
    # The hash alone still names nothing.
    code = only_error(await post(client, VERSION, send_query=False))["extensions"]["code"]
    assert code == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("extension", "says"),
    [
        ({"version": 2, "sha256Hash": sha256(VERSION)}, "version 2 is not supported"),
        ({"version": "1", "sha256Hash": sha256(VERSION)}, "version '1' is not supported"),
        ({"sha256Hash": sha256(VERSION)}, "version None is not supported"),
        ({"version": 1}, "must be a SHA-256 in hexadecimal"),
        ({"version": 1, "sha256Hash": "abc"}, "must be a SHA-256 in hexadecimal"),
        ({"version": 1, "sha256Hash": sha256(VERSION)[:-1] + "g"}, "hexadecimal"),
        ("yes", "must be an object with version and sha256Hash"),
    ],
)
async def test_malformed_or_unsupported_extensions_are_bad_user_input(
    client: GraphQLClient, engines: Engines, extension: object, says: str
) -> None:
    for send_query in (False, True):
        response = await post(
            client, VERSION, send_query=send_query, extensions={"persistedQuery": extension}
        )
        error = only_error(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert says in error["message"]
    assert await stored(engines, VERSION) is None


async def test_an_uppercase_hash_names_the_same_document(
    client: GraphQLClient, engines: Engines
) -> None:
    upper = {"persistedQuery": {"version": 1, "sha256Hash": sha256(VERSION).upper()}}
    assert "errors" not in (await post(client, VERSION, send_query=True, extensions=upper)).json()
    assert "errors" not in (await post(client, VERSION, send_query=False)).json()


async def test_a_mutation_never_runs_over_get(client: GraphQLClient, engines: Engines) -> None:
    admin = await admin_session(client, engines, "root")
    refused = await get(client, PURGE, send_query=True, token=admin.access)
    assert refused.status_code == 405
    assert refused.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await stored(engines, PURGE) is None  # refused before it could run

    registered = await post(client, PURGE, send_query=True, token=admin.access)
    assert registered.json()["data"] == {"purgeExpiredTokens": 0}
    assert await stored(engines, PURGE) == PURGE.encode()
    by_hash = await get(client, PURGE, send_query=False, token=admin.access)
    assert by_hash.status_code == 405
    assert "mutation" in by_hash.json()["errors"][0]["message"].lower()
    # Over POST the hash runs it.
    posted = await post(client, PURGE, send_query=False, token=admin.access)
    assert posted.json()["data"] == {"purgeExpiredTokens": 0}


async def test_a_stored_document_meets_every_limit_of_the_server_that_runs_it(
    client: GraphQLClient, engines: Engines
) -> None:
    admin = await admin_session(client, engines, "root")
    assert "errors" not in (await post(client, ME, send_query=True, token=admin.access)).json()
    async with configured_client(engines, max_query_depth=1) as strict:
        refused = await post(strict, ME, send_query=False, token=admin.access)
        error = only_error(refused)
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "depth" in error["message"]


async def test_a_document_refused_by_a_limit_is_not_stored(
    client: GraphQLClient, engines: Engines
) -> None:
    async with configured_client(engines, max_query_depth=1) as strict:
        refused = await post(strict, ME, send_query=True)
        assert only_error(refused)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        invalid = "query { nonsense }"
        error = only_error(await post(strict, invalid, send_query=True))
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await stored(engines, ME) is None
    assert await stored(engines, "query { nonsense }") is None


async def test_hash_only_operations_are_rate_limited_like_any(
    client: GraphQLClient, engines: Engines
) -> None:
    assert "errors" not in (await post(client, VERSION, send_query=True)).json()
    async with configured_client(engines, rate_limit_query_points=3, address="198.51.100.9") as c:
        answers = [await post(c, VERSION, send_query=False) for _ in range(4)]
    assert ["errors" in a.json() for a in answers] == [False, False, False, True]
    assert only_error(answers[3])["extensions"]["code"] == "RATE_LIMITED"


async def test_documents_over_the_size_bound_are_refused(
    client: GraphQLClient, engines: Engines
) -> None:
    padded = VERSION + " " * 300 + "# a comment is no token, but it takes room\n"
    async with configured_client(engines, persisted_query_max_bytes=256) as small:
        refused = await post(small, padded, send_query=True)
        error = only_error(refused)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert f"has {len(padded)} bytes" in error["message"]
        assert "at most 256" in error["message"]
        # Without the hash, the same document is an ordinary request and runs.
        plain = await small.http.post("/graphql", json={"query": padded})
        assert "errors" not in plain.json()
    assert await stored(engines, padded) is None
