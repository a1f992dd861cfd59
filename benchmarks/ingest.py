"""Ingestion throughput: the server end to end against raw asyncpg, in the same run.

Starts ``eventide serve`` in a subprocess on a fresh PostgreSQL database (created and
dropped here), then, at 1, 4 and 16 concurrent clients, sends 1,000-event batches to
``POST /graphql`` with an INGEST API token, and writes the same kind of events with
asyncpg alone into the same tables. Prints events/s, their ratio, and the server's RSS
before and after the whole load.

Environment: BENCH_EVENTS (total sent to the server, default 1,000,000), BENCH_BATCH
(1000), BENCH_CLIENTS ("1,4,16"), BENCH_DATABASE_URL (a PostgreSQL server URL, default
postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL
(redis://127.0.0.1:6379/0), BENCH_PROFILE (a path: run the server under cProfile and
write its profile there; read it with ``python -m pstats``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson

from eventide.ingest.store import STORE_EVENTS_SQL

INGEST = (
    "mutation($events: [EventInput!]!) "
    "{ ingestEvents(events: $events) { accepted duplicates rejected { index code } } }"
)
EVENT_TYPES = [f"event_type_{i}" for i in range(20)]
# Events only, no ledger: what PostgreSQL costs for the rows themselves.
RAW_EVENTS_SQL = """
INSERT INTO events (event_id, user_id, event_type, occurred_at, received_at, properties)
SELECT event_id, user_id, event_type, occurred_at, $6, properties::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
    AS t(event_id, user_id, event_type, occurred_at, properties)
"""


@dataclass(frozen=True)
class Config:
    events: int
    batch: int
    clients: list[int]
    database_url: str
    redis_url: str

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        return cls(
            events=int(env.get("BENCH_EVENTS", "1000000")),
            batch=int(env.get("BENCH_BATCH", "1000")),
            clients=[int(c) for c in env.get("BENCH_CLIENTS", "1,4,16").split(",")],
            database_url=env.get(
                "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
            ),
            redis_url=env.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        )


class Events:
    """Distinct synthetic events: ``prefix`` keeps each phase's ids apart."""

    def __init__(self, prefix: str, size: int) -> None:
        self.prefix = prefix
        self.size = size
        self.now = dt.datetime.now(dt.UTC)

    def columns(self, number: int) -> tuple[list[str], list[str], list[str], list[dt.datetime]]:
        ids, users, types, occurred = [], [], [], []
        for i in range(number * self.size, (number + 1) * self.size):
            ids.append(f"{self.prefix}-{i:012d}")
            users.append(f"user-{i * 7919 % 10_000}")
            types.append(EVENT_TYPES[i % len(EVENT_TYPES)])
            occurred.append(self.now - dt.timedelta(seconds=i % 172_800))
        return ids, users, types, occurred

    def properties(self, i: int) -> dict[str, object]:
        return {"path": f"/page/{i % 500}", "referrer": "https://example.com/", "n": i}

    def body(self, number: int) -> bytes:
        ids, users, types, occurred = self.columns(number)
        first = number * self.size
        events = [
            {
                "eventId": ids[k],
                "userId": users[k],
                "eventType": types[k],
                "occurredAt": occurred[k].isoformat(),
                "properties": self.properties(first + k),
            }
            for k in range(self.size)
        ]
        return orjson.dumps({"query": INGEST, "variables": {"events": events}})

    def args(self, number: int) -> tuple[object, ...]:
        ids, users, types, occurred = self.columns(number)
        first = number * self.size
        props = [orjson.dumps(self.properties(first + k)).decode() for k in range(self.size)]
        return ids, users, types, occurred, props


async def run_clients(clients: int, batches: int, send: Callable[[int], Awaitable[None]]) -> float:
    """Send batches 0..batches-1 from ``clients`` concurrent workers; return seconds."""
    queue = iter(range(batches))

    async def worker() -> None:
        for number in queue:
            await send(number)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


async def server_phase(
    http: httpx.AsyncClient, token: str, events: Events, clients: int, batches: int
) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def send(number: int) -> None:
        response = await http.post("/graphql", content=events.body(number), headers=headers)
        body = response.json()
        if "errors" in body or body["data"]["ingestEvents"]["accepted"] != events.size:
            raise RuntimeError(f"ingestion failed: {str(body)[:500]}")

    return await run_clients(clients, batches, send)


async def raw_phase(
    pool: asyncpg.Pool, *, ledger: bool, events: Events, clients: int, batches: int
) -> float:
    async def send(number: int) -> None:
        now = dt.datetime.now(dt.UTC)
        args = events.args(number)  # ids come in order, as the server sorts them
        if ledger:
            await pool.execute(STORE_EVENTS_SQL, *args, now, now - dt.timedelta(days=30))
        else:
            await pool.execute(RAW_EVENTS_SQL, *args, now)

    return await run_clients(clients, batches, send)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process: unlike wall time, it ignores other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Row:
    clients: int
    server: float  # events/s
    raw: float
    ledger: float
    server_cpu_ms: float  # server CPU per batch


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    name = f"eventide_bench_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def running_server(database_url: str, redis_url: str, data_dir: str) -> Iterator[tuple[int, str]]:
    port = free_port()
    env = os.environ | {
        "EVENTIDE_DATABASE_URL": database_url,
        "EVENTIDE_REDIS_URL": redis_url,
        "EVENTIDE_REDIS_KEY_PREFIX": f"eventide-bench-{secrets.token_hex(4)}:",
        "EVENTIDE_DATA_DIR": data_dir,
        "EVENTIDE_JWT_SECRET": secrets.token_urlsafe(48),
        "EVENTIDE_PORT": str(port),
        "EVENTIDE_LOG_LEVEL": "WARNING",
        "EVENTIDE_DATABASE_POOL_SIZE": "20",
        # One client sends far more than a tenant's fair share: no rate limits here.
        "EVENTIDE_RATE_LIMIT_EVENTS": "0",
        "EVENTIDE_RATE_LIMIT_QUERY_POINTS": "0",
    }
    script = Path(data_dir) / "serve.py"
    script.write_text("from eventide.cli import main\n\nmain(['serve'])\n")
    command = [sys.executable, str(script)]
    if profile := os.environ.get("BENCH_PROFILE"):
        # cProfile of the whole server run, written when the server stops.
        command[1:1] = ["-m", "cProfile", "-o", profile]
    process = subprocess.Popen(command, env=env)  # noqa: S603 (a fixed command)
    try:
        yield process.pid, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/ready")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready")


async def ingest_token(http: httpx.AsyncClient) -> str:
    async def call(query: str, variables: dict[str, object], token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = (
            await http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
        ).json()
        if body.get("errors"):
            raise RuntimeError(str(body["errors"]))
        return dict(body["data"])

    password = secrets.token_urlsafe(16)
    signup = await call(
        "mutation($i: SignupInput!) { signup(input: $i) { accessToken } }",
        {"i": {"username": "bench", "email": "bench@example.test", "password": password}},
    )
    created = await call(
        "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }",
        {"i": {"name": "bench", "scopes": ["INGEST"]}},
        signup["signup"]["accessToken"],
    )
    return str(created["createApiToken"]["token"])


@contextlib.asynccontextmanager
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:
        yield http


async def truncate(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE events, event_ids")


async def measure(config: Config, database_url: str, pid: int, base_url: str) -> None:
    per_level = max(1, config.events // len(config.clients) // config.batch)
    rows: list[Row] = []
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=max(config.clients))
    async with client(base_url) as http:
        await wait_ready(http)
        token = await ingest_token(http)
        # Warm up: prepared statements, imports; and the days' partitions for the raw writes.
        await server_phase(http, token, Events("warm", config.batch), 1, 2)
        now = dt.datetime.now(dt.UTC)
        days = [now - dt.timedelta(days=n) for n in range(3)]
        await pool.execute("SELECT ensure_event_partitions($1::timestamptz[])", days)
        await truncate(pool)
        rss_before = rss_kib(pid)
        ledger_bytes = 0.0
        for clients in config.clients:
            seconds = {}
            cpu_before = cpu_seconds(pid)
            for name, run in (
                ("raw", False),
                ("ledger", True),
                ("server", None),
            ):
                events = Events(f"{name}{clients}", config.batch)
                if run is None:
                    phase = server_phase(http, token, events, clients, per_level)
                else:
                    phase = raw_phase(
                        pool, ledger=run, events=events, clients=clients, batches=per_level
                    )
                seconds[name] = await phase
                if name == "ledger":
                    ledger_bytes = await pool.fetchval(
                        "SELECT pg_total_relation_size('event_ids')::float8"
                        " / greatest(count(*), 1) FROM event_ids"
                    )
                await truncate(pool)
            # The raw phases leave the server idle, so this is the ingestion's CPU.
            server_cpu_ms = (cpu_seconds(pid) - cpu_before) / per_level * 1000
            sent = per_level * config.batch
            rows.append(
                Row(
                    clients,
                    sent / seconds["server"],
                    sent / seconds["raw"],
                    sent / seconds["ledger"],
                    server_cpu_ms,
                )
            )
        rss_after = rss_kib(pid)
    await pool.close()

    total = per_level * config.batch * len(config.clients)
    print(f"\n{config.batch}-event batches, {per_level * config.batch:,} events per row")
    print(
        f"{'clients':>7} {'server ev/s':>12} {'raw ev/s':>10} {'ratio':>6} "
        f"{'raw+ledger ev/s':>16} {'ratio':>6} {'server CPU ms/batch':>20}"
    )
    for row in rows:
        print(
            f"{row.clients:>7} {row.server:>12,.0f} {row.raw:>10,.0f} {row.server / row.raw:>6.2f} "
            f"{row.ledger:>16,.0f} {row.server / row.ledger:>6.2f} {row.server_cpu_ms:>20.1f}"
        )
    print(
        "raw: asyncpg inserting the events only; raw+ledger: asyncpg running the server's"
        " ledger-and-events statement"
    )
    for row in rows:
        cost_ms = (1 / row.ledger - 1 / row.raw) * config.batch * 1000
        print(f"ledger cost at {row.clients} clients: {cost_ms:.1f} ms per batch")
    print(f"ledger size: {ledger_bytes:.0f} bytes per event (table and indexes)")
    print(
        f"server RSS: {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB after"
        f" {total:,} events"
    )


def main() -> None:
    config = Config.from_env()
    with (
        fresh_database(config.database_url) as database_url,
        tempfile.TemporaryDirectory() as data_dir,
        running_server(database_url, config.redis_url, data_dir) as (pid, base_url),
    ):
        asyncio.run(measure(config, database_url, pid, base_url))


if __name__ == "__main__":
    main()
