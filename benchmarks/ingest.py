"""Ingestion throughput: the server end to end against raw asyncpg, in the same run.

Starts ``eventide serve`` in a subprocess on a fresh PostgreSQL database (created and
dropped here), then, at each client level (by default 1 and 8 concurrent clients),
sends 1,000-event batches to ``POST /graphql`` with an INGEST API token of each project,
and writes the same kind of events of the same projects with asyncpg alone into the
same tables. Prints events/s, their ratio, and the server's RSS before and after the
whole load.

Projects (BENCH_PROJECTS, default 5; see _engines): the big one takes 90% of each
client level's events, the small ones the rest, at least one batch each. Each phase
(raw, raw+ledger, server) writes the big project's batches first, then the small
projects' (interleaved), and keeps both in the tables until the phase ends: the small
projects' figures are those of writing next to the big one's rows. Each is reported
on its own row.

Environment: BENCH_EVENTS (total sent to the server, default 1,000,000, split evenly
over the client levels), BENCH_BATCH (1000), BENCH_CLIENTS (the client levels,
comma-separated, default "1,8"), BENCH_PROJECTS (5), BENCH_DATABASE_URL (a PostgreSQL
server URL, default postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL
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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import orjson
from _engines import (
    DATABASE_URL,
    PROJECTS,
    REDIS_URL,
    bench_account,
    fresh_database,
    project_sizes,
)

from eventide.auth import api_tokens
from eventide.auth.principal import TokenScope
from eventide.ingest.store import STORE_EVENTS_SQL

INGEST = (
    "mutation($events: [EventInput!]!) "
    "{ ingestEvents(events: $events) { accepted duplicates rejected { index code } } }"
)
EVENT_TYPES = [f"event_type_{i}" for i in range(20)]
# Events only, no ledger: what PostgreSQL costs for the rows themselves.
RAW_EVENTS_SQL = """
INSERT INTO events (project_id, event_id, user_id, event_type, occurred_at, received_at,
                    properties)
SELECT $7, event_id, user_id, event_type, occurred_at, $6, properties::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
    AS t(event_id, user_id, event_type, occurred_at, properties)
"""


@dataclass(frozen=True)
class Config:
    events: int
    batch: int
    clients: list[int]
    projects: int

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        return cls(
            events=int(env.get("BENCH_EVENTS", "1000000")),
            batch=int(env.get("BENCH_BATCH", "1000")),
            clients=[int(c) for c in env.get("BENCH_CLIENTS", "1,8").split(",")],
            projects=PROJECTS,
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


@dataclass(frozen=True)
class Stream:
    """One project's batches in one phase: their events and the token acting in it."""

    project: int
    token: str
    events: Events


Work = Sequence[tuple[Stream, int]]  # (stream, batch number), in sending order


def interleaved(streams: Sequence[tuple[Stream, int]]) -> list[tuple[Stream, int]]:
    """The batches of every ``(stream, batches)``, taking one of each stream in turn."""
    longest = max(batches for _, batches in streams)
    return [(s, n) for n in range(longest) for s, batches in streams if n < batches]


async def run_clients(
    clients: int, work: Work, send: Callable[[Stream, int], Awaitable[None]]
) -> float:
    """Send every batch of ``work`` from ``clients`` concurrent workers; return seconds."""
    queue = iter(work)

    async def worker() -> None:
        for stream, number in queue:
            await send(stream, number)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


async def server_phase(http: httpx.AsyncClient, work: Work, clients: int) -> float:
    async def send(stream: Stream, number: int) -> None:
        headers = {"Authorization": f"Bearer {stream.token}", "Content-Type": "application/json"}
        body = stream.events.body(number)
        reply = (await http.post("/graphql", content=body, headers=headers)).json()
        if "errors" in reply or reply["data"]["ingestEvents"]["accepted"] != stream.events.size:
            raise RuntimeError(f"ingestion failed: {str(reply)[:500]}")

    return await run_clients(clients, work, send)


async def raw_phase(pool: asyncpg.Pool, *, ledger: bool, work: Work, clients: int) -> float:
    async def send(stream: Stream, number: int) -> None:
        now = dt.datetime.now(dt.UTC)
        args = stream.events.args(number)  # ids come in order, as the server sorts them
        if ledger:
            await pool.execute(
                STORE_EVENTS_SQL, *args, now, now - dt.timedelta(days=30), stream.project
            )
        else:
            await pool.execute(RAW_EVENTS_SQL, *args, now, stream.project)

    if ledger:
        return await run_clients(clients, work, send)
    # Raw asyncpg writes the events only: without the server's hot buckets either, which
    # the triggers on events would keep for any insert.
    await pool.execute("ALTER TABLE events DISABLE TRIGGER events_counted")
    try:
        return await run_clients(clients, work, send)
    finally:
        await pool.execute("ALTER TABLE events ENABLE TRIGGER events_counted")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process: unlike wall time, it ignores other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Row:
    clients: int
    group: str  # "big", "small" (every small project), or "all" with one project
    events: int  # per phase
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
        "EVENTIDE_RATE_LIMIT_PROJECT_EVENTS": "0",
        "EVENTIDE_RATE_LIMIT_PROJECT_QUERY_POINTS": "0",
    }
    script = Path(data_dir) / "serve.py"
    command = [sys.executable, str(script)]
    source = "from eventide.cli import main\n\nmain(['serve'])\n"
    if profile := os.environ.get("BENCH_PROFILE"):
        # cProfile of the whole server run, written when the server stops. Uvicorn
        # raises the SIGTERM it shut down on again once it is done, which would end the
        # process before cProfile writes: the handler it restores first exits instead.
        source = (
            "import signal, sys\n\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n" + source
        )
        command[1:1] = ["-m", "cProfile", "-o", profile]
    script.write_text(source)
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


@contextlib.asynccontextmanager
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:
        yield http


async def truncate(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE events, event_ids")


async def ingest_tokens(pool: asyncpg.Pool, projects: int) -> list[tuple[int, str]]:
    """``(project, INGEST token)`` of each of ``projects`` new projects, the big one first."""
    user_id, ids = await bench_account(pool, projects=projects)
    tokens = []
    for project in ids:
        secret, _ = await api_tokens.create_api_token(
            pool,
            user_id=user_id,
            project_id=project,
            name="bench",
            scopes=[TokenScope.INGEST],
            ttl_seconds=None,
        )
        tokens.append((project, secret))
    return tokens


def groups(
    tokens: list[tuple[int, str]], *, events: int, batch: int
) -> list[tuple[str, list[tuple[int, str, int]]]]:
    """The projects reported together, each ``(project, token, batches)``: the big one,
    then every small one; or one group when there is one project."""
    sized = [
        (project, token, max(1, round(size / batch)))
        for (project, token), size in zip(tokens, project_sizes(events, len(tokens)), strict=True)
    ]
    if len(sized) == 1:
        return [("all", sized)]
    return [("big", sized[:1]), ("small", sized[1:])]


async def measure(config: Config, database_url: str, pid: int, base_url: str) -> None:
    per_level = max(1, config.events // len(config.clients))
    rows: list[Row] = []
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=max(config.clients))
    async with client(base_url) as http:
        await wait_ready(http)  # the server has migrated the database
        tokens = await ingest_tokens(pool, config.projects)
        plan = groups(tokens, events=per_level, batch=config.batch)
        # Warm up (prepared statements, imports, every token), then create the days'
        # partitions for the raw writes.
        warm = [(Stream(p, t, Events("warm", config.batch)), 2) for p, t in tokens]
        await server_phase(http, interleaved(warm), 1)
        now = dt.datetime.now(dt.UTC)
        days = [now - dt.timedelta(days=n) for n in range(3)]
        await pool.execute("SELECT ensure_event_partitions($1::timestamptz[])", days)
        await truncate(pool)
        rss_before = rss_kib(pid)
        ledger_bytes = 0.0
        for clients in config.clients:
            seconds: dict[tuple[str, str], float] = {}
            cpu_ms: dict[str, float] = {}
            for name in ("raw", "ledger", "server"):
                # Every group writes into the same tables, the big project first.
                for group, members in plan:
                    work = interleaved(
                        [
                            (Stream(p, t, Events(f"{name}{clients}", config.batch)), batches)
                            for p, t, batches in members
                        ]
                    )
                    if name == "server":
                        cpu_before = cpu_seconds(pid)
                        seconds[name, group] = await server_phase(http, work, clients)
                        # The raw phases leave the server idle: this is the ingestion's CPU.
                        cpu_ms[group] = (cpu_seconds(pid) - cpu_before) / len(work) * 1000
                    else:
                        seconds[name, group] = await raw_phase(
                            pool, ledger=name == "ledger", work=work, clients=clients
                        )
                if name == "ledger":
                    ledger_bytes = await pool.fetchval(
                        "SELECT pg_total_relation_size('event_ids')::float8"
                        " / greatest(count(*), 1) FROM event_ids"
                    )
                await truncate(pool)
            for group, members in plan:
                sent = sum(batches for _, _, batches in members) * config.batch
                rows.append(
                    Row(
                        clients,
                        group,
                        sent,
                        sent / seconds["server", group],
                        sent / seconds["raw", group],
                        sent / seconds["ledger", group],
                        cpu_ms[group],
                    )
                )
        rss_after = rss_kib(pid)
    await pool.close()
    report(config, plan, rows, ledger_bytes, rss_before, rss_after)


def report(
    config: Config,
    plan: list[tuple[str, list[tuple[int, str, int]]]],
    rows: list[Row],
    ledger_bytes: float,
    rss_before: int,
    rss_after: int,
) -> None:
    sizes = ", ".join(
        f"{group}: {len(members)} project(s) of {members[0][2] * config.batch:,} events"
        for group, members in plan
    )
    print(f"\n{config.batch}-event batches; per client level and phase, {sizes}")
    print(
        f"{'clients':>7} {'projects':>8} {'server ev/s':>12} {'raw ev/s':>10} {'ratio':>6} "
        f"{'raw+ledger ev/s':>16} {'ratio':>6} {'server CPU ms/batch':>20}"
    )
    for row in rows:
        print(
            f"{row.clients:>7} {row.group:>8} {row.server:>12,.0f} {row.raw:>10,.0f}"
            f" {row.server / row.raw:>6.2f} {row.ledger:>16,.0f} {row.server / row.ledger:>6.2f}"
            f" {row.server_cpu_ms:>20.1f}"
        )
    print(
        "raw: asyncpg inserting the events only (no buckets); raw+ledger: asyncpg running the"
        " server's ledger-and-events statement; both with each row's project"
    )
    for row in rows:
        cost_ms = (1 / row.ledger - 1 / row.raw) * config.batch * 1000
        print(f"ledger cost at {row.clients} clients ({row.group}): {cost_ms:.1f} ms per batch")
    print(f"ledger size: {ledger_bytes:.0f} bytes per event (table and indexes)")
    total = sum(row.events for row in rows)
    print(
        f"server RSS: {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB after"
        f" {total:,} events"
    )


async def run(config: Config) -> None:
    async with fresh_database(DATABASE_URL) as database_url:
        with (
            tempfile.TemporaryDirectory() as data_dir,
            running_server(database_url, REDIS_URL, data_dir) as (pid, base_url),
        ):
            await measure(config, database_url, pid, base_url)


def main() -> None:
    asyncio.run(run(Config.from_env()))


if __name__ == "__main__":
    main()
