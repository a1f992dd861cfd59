"""Authentication cost per request, against the raw engine work it needs, in the same run.

On a fresh PostgreSQL database (created and dropped here) with BENCH_USERS accounts, each
holding one API token, measures sequentially BENCH_REQUESTS times:

- jwt: ``authenticate()`` of an access token (signature and claims, Redis denylist,
  the user's row by primary key), against raw: the same Redis EXISTS and PK lookup alone;
- api token: ``authenticate()`` of an ``evt_`` secret (digest, token row joined to its
  owner and its live project, the once-a-minute lastUsedAt key), against raw: the same
  joins and Redis SET NX;
- login: argon2id verifications per second (the cost of one login), on 1 and 2 threads.

Prints microseconds per call and the ratios against raw.

Environment: BENCH_USERS (default 1000), BENCH_REQUESTS (20,000), BENCH_LOGINS (40),
BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL
(redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable

from _engines import bench_account, bench_services

from eventide.auth import api_tokens, passwords
from eventide.auth._secrets import digest
from eventide.auth.authenticate import authenticate, denylist_key
from eventide.auth.jwt_tokens import issue_access_token
from eventide.auth.principal import TokenScope
from eventide.storage.engines import Engines

PASSWORD = "benchmark password"  # noqa: S105


async def timed(calls: int, call: Callable[[int], Awaitable[object]]) -> float:
    """Microseconds per call, after a short warm-up."""
    for i in range(min(200, calls)):
        await call(i)
    started = time.perf_counter()
    for i in range(calls):
        await call(i)
    return (time.perf_counter() - started) / calls * 1e6


async def seed(engines: Engines, users: int) -> tuple[list[str], list[str], list[str]]:
    password_hash = await passwords.hash_password(PASSWORD)
    ids = [
        str(row["id"])
        for row in await engines.db.fetch(
            """INSERT INTO users (username, password_hash)
               SELECT 'bench-' || i, $2 FROM generate_series(1, $1) AS i RETURNING id""",
            users,
            password_hash,
        )
    ]
    # Every token acts in one project, as a token of a shared project does.
    _, (project,) = await bench_account(engines.db, projects=1)
    await engines.db.execute(
        """INSERT INTO project_members (project_id, user_id, role)
           SELECT $1, unnest($2::uuid[]), 'EDITOR'""",
        project,
        ids,
    )
    tokens = [
        issue_access_token(
            engines.settings, user_id=user_id, session_epoch=0, family_id=uuid.uuid4().hex
        )
        for user_id in ids
    ]
    secrets_ = []
    for user_id in ids:
        secret, _ = await api_tokens.create_api_token(
            engines.db,
            user_id=user_id,
            project_id=project,
            name="bench",
            scopes=[TokenScope.READ],
            ttl_seconds=None,
        )
        secrets_.append(secret)
    return ids, tokens, secrets_


async def run(engines: Engines, *, users: int, requests: int, logins: int) -> None:
    ids, tokens, evt = await seed(engines, users)
    redis, db = engines.redis, engines.db

    async def jwt_auth(i: int) -> None:
        assert (await authenticate(engines, f"Bearer {tokens[i % users]}")).principal

    async def jwt_raw(i: int) -> None:
        await redis.exists(denylist_key(engines, uuid.uuid4().hex))
        await db.fetchrow("SELECT * FROM users WHERE id = $1", uuid.UUID(ids[i % users]))

    async def token_auth(i: int) -> None:
        assert (await authenticate(engines, f"Bearer {evt[i % users]}")).principal

    async def token_raw(i: int) -> None:
        await db.fetchrow(
            """SELECT t.*, u.role, u.is_active FROM api_tokens t
               JOIN users u ON u.id = t.user_id
               JOIN projects p ON p.id = t.project_id AND p.deleted_at IS NULL
               WHERE t.token_hash = $1""",
            digest(evt[i % users]),
        )
        await redis.set(engines.redis_key("bench", str(i % users)), b"1", nx=True, ex=60)

    # Alternating rounds, best of each: a shared machine's noise hits both sides alike.
    results = {}
    for name, ours, raw in (("jwt", jwt_auth, jwt_raw), ("api token", token_auth, token_raw)):
        rounds = [(await timed(requests, ours), await timed(requests, raw)) for _ in range(3)]
        results[name] = (min(r[0] for r in rounds), min(r[1] for r in rounds))
    print(f"users={users} requests={requests} (sequential, one process)")
    for name, (ours, raw) in results.items():
        print(f"{name:>10}: {ours:8.1f} us/request  raw {raw:8.1f} us  ratio {ours / raw:5.2f}")

    stored = await passwords.hash_password(PASSWORD)
    for threads in (1, 2):
        started = time.perf_counter()
        per_thread = max(1, logins // threads)
        await asyncio.gather(
            *(
                asyncio.gather(
                    *(passwords.verify_password(PASSWORD, stored) for _ in range(per_thread))
                )
                for _ in range(threads)
            )
        )
        elapsed = time.perf_counter() - started
        rate = per_thread * threads / elapsed
        print(f"     login: {rate:8.1f} argon2id verifications/s with {threads} thread(s)")


async def main() -> None:
    env = os.environ
    users = int(env.get("BENCH_USERS", "1000"))
    requests = int(env.get("BENCH_REQUESTS", "20000"))
    logins = int(env.get("BENCH_LOGINS", "40"))
    async with bench_services() as engines:
        await run(engines, users=users, requests=requests, logins=logins)


if __name__ == "__main__":
    asyncio.run(main())
