"""Persisted queries while Redis is down: clients fall back to sending the document."""

from __future__ import annotations

import dataclasses
import shutil

from eventide.storage.engines import Engines
from eventide.storage.redis import connect_redis
from tests.configured import configured_client
from tests.faults.servers import redis_server, require
from tests.graphql.test_persisted_queries import VERSION, get, only_error, post

require(shutil.which("redis-server") is not None, "redis-server is not installed")

OTHER = "query Other { version }"


async def test_a_hash_alone_is_not_found_and_a_full_query_runs_while_redis_is_down(
    engines: Engines,
) -> None:
    with redis_server() as server:
        redis = connect_redis(server.url, timeout=1.0)
        try:
            async with configured_client(dataclasses.replace(engines, redis=redis)) as client:
                assert "errors" not in (await post(client, VERSION, send_query=True)).json()
                server.stop()
                hash_only = [
                    await post(client, VERSION, send_query=False),
                    await get(client, VERSION, send_query=False),
                ]
                # The client's fallback: the document with its hash runs, unstored.
                full = await post(client, OTHER, send_query=True)
                server.start()
                # This server restarts empty: the client registers again, as on any miss.
                forgotten = await post(client, VERSION, send_query=False)
                again = await post(client, VERSION, send_query=True)
                back = await post(client, VERSION, send_query=False)
        finally:
            await redis.aclose()
    for response in hash_only:
        assert only_error(response) == {
            "message": "PersistedQueryNotFound",
            "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
        }
        assert str(server.port) not in response.text
    assert "errors" not in full.json()
    assert full.json()["data"]["version"]
    assert only_error(forgotten)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # The same client stores and finds again once Redis is back, without a restart.
    assert "errors" not in again.json()
    assert back.json()["data"] == full.json()["data"]
