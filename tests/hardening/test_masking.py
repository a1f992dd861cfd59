"""Unexpected failures reach clients as INTERNAL_SERVER_ERROR, without internals."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from eventide.storage.engines import Engines
from tests.graphql_client import GraphQLClient

INTERNALS = ("api_tokens", "relation", "SELECT", "Traceback", "asyncpg", ".py", "postgres")


@contextlib.asynccontextmanager
async def table_missing(engines: Engines, table: str) -> AsyncIterator[None]:
    """A real database failure: the table a resolver reads is gone for a moment."""
    await engines.db.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        yield
    finally:
        await engines.db.execute(f"ALTER TABLE {table}_away RENAME TO {table}")


async def test_a_database_failure_is_masked_and_logged(
    client: GraphQLClient,
    engines: Engines,
    user_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with table_missing(engines, "api_tokens"):
        with caplog.at_level(logging.ERROR, logger="eventide.errors"):
            response = await client.post("{ version apiTokens { id } }", token=user_token)
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None  # apiTokens is non-null: its failure nulls the whole data
    error = body["errors"][0]
    assert error == {
        "message": "Internal server error",
        "locations": error["locations"],
        "path": ["apiTokens"],
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }
    for internal in INTERNALS:
        assert internal not in response.text
    # The operator still learns what happened.
    assert any("api_tokens" in str(record.exc_info) for record in caplog.records)
