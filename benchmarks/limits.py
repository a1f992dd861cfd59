"""What the operation guard costs per request, against the same schema without it.

For each document, BENCH_ROUNDS executions (after warm-up) through ``schema.execute``:

- guarded: the served schema (observer and guard: token, breadth, depth, alias and cost
  checks, one Redis token-bucket call, timeout);
- bare: the same types and resolvers with no extension;
- redis: one raw ``PING`` round trip, the floor of the bucket call.

Documents: ``{ version }``, and GraphiQL's introspection query (about 700 tokens, the
largest document a normal client sends). Prints p50/p95 in microseconds and the
guarded/bare ratio. Environment: BENCH_ROUNDS (default 2,000), BENCH_REDIS_URL
(redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import get_introspection_query
from starlette.requests import Request
from starlette.responses import Response

from eventide.config import Settings
from eventide.graphql.context import Context
from eventide.graphql.schema import build_schema, schema
from eventide.storage.engines import Engines
from eventide.storage.redis import connect_redis

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2000"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DOCUMENTS = {
    "version": "{ version }",
    "introspection": get_introspection_query(descriptions=True, input_value_deprecation=True),
}


async def timed(run: Callable[[], Awaitable[Any]]) -> list[float]:
    for _ in range(min(200, ROUNDS)):
        await run()
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95)]


async def main() -> None:
    redis = connect_redis(REDIS_URL)
    prefix = f"eventide-bench-{secrets.token_hex(4)}:"
    settings = Settings(redis_key_prefix=prefix, jwt_secret="x" * 32)
    # The guard touches only the settings and Redis; the other engines stay unopened.
    engines = Engines(settings=settings, db=None, cold=None, redis=redis)  # type: ignore[arg-type]
    bare = build_schema()

    def context() -> Context:
        request = Request({"type": "http", "method": "POST", "headers": [], "client": ("b", 1)})
        return Context(request=request, response=Response(), engines=engines)

    print(f"rounds per figure: {ROUNDS}")
    print(f"{'document':<14}{'guarded p50/p95 us':>22}{'bare p50/p95 us':>20}{'ratio':>8}")
    try:
        for name, document in DOCUMENTS.items():

            async def guarded(document: str = document) -> None:
                result = await schema.execute(document, context_value=context())
                assert not result.errors, result.errors

            async def unguarded(document: str = document) -> None:
                result = await bare.execute(document, context_value=context())
                assert not result.errors, result.errors

            with_guard = summary(await timed(guarded))
            without = summary(await timed(unguarded))
            print(
                f"{name:<14}{with_guard[0]:>12.0f} /{with_guard[1]:>7.0f}"
                f"{without[0]:>12.0f} /{without[1]:>6.0f}{with_guard[0] / without[0]:>8.2f}"
            )
        ping = summary(await timed(redis.ping))
        print(f"{'redis PING':<14}{ping[0]:>12.0f} /{ping[1]:>7.0f}")
    finally:
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
