"""The Python SDK against a live server: events stored once each, whatever fails."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import pytest

from eventide_sdk import AsyncClient, Backoff, Client
from tests.sdks.conftest import STRICT_EVENTS_PER_MINUTE, STRICT_MAX_BATCH
from tests.sdks.server import Tenant

pytestmark = pytest.mark.slow  # each module starts live servers

QUICK = Backoff(base=0.05, cap=0.5)


def client_for(tenant: Tenant, **options: object) -> Client:
    return Client(tenant.server.url, tenant.token, tenant.project, **options)  # type: ignore[arg-type]


def test_tracked_events_are_stored_with_their_fields(tenant: Tenant) -> None:
    with client_for(tenant, batch_size=40) as client:
        client.identify("user-1")
        ids = [client.track("view", {"n": i, "tags": ["a", "b"]}) for i in range(95)]
        ids.append(client.track("signup", None, user_id="user-2"))
        assert client.flush(timeout=30)
        assert client.stats.accepted == 96
    stored = {event["eventId"]: event for event in tenant.stored_events()}
    assert sorted(stored) == sorted(ids)
    assert stored[ids[0]]["userId"] == "user-1"
    assert stored[ids[0]]["properties"] == {"n": 0, "tags": ["a", "b"]}
    assert stored[ids[-1]] | {"occurredAt": None} == {
        "eventId": ids[-1],
        "userId": "user-2",
        "eventType": "signup",
        "occurredAt": None,
        "properties": None,
    }


async def test_the_asyncio_client_sends_in_the_background(tenant: Tenant) -> None:
    async with AsyncClient(
        tenant.server.url, tenant.token, tenant.project, batch_size=25, flush_interval=0.05
    ) as client:
        ids = [client.track("tap", {"i": i}) for i in range(60)]
        for _ in range(200):  # the size and the timer send it all, no flush() needed
            if client.stats.accepted == 60:
                break
            await asyncio.sleep(0.05)
        assert client.stats.accepted == 60
    assert sorted(await asyncio.to_thread(tenant.stored_ids)) == sorted(ids)


def test_a_server_killed_mid_batch_and_restarted_stores_every_event_once(
    tenant: Tenant,
) -> None:
    server = tenant.server
    client = client_for(tenant, batch_size=50, flush_interval=0.02, backoff=QUICK, timeout=5)
    ids: list[str] = []

    def keep_tracking() -> None:
        for i in range(1500):
            ids.append(client.track("step", {"i": i}))
            time.sleep(0.002)

    tracking = threading.Thread(target=keep_tracking)
    tracking.start()
    while client.stats.accepted == 0:
        time.sleep(0.01)
    # Frozen first, so that sends are surely in flight when it dies: the kill resets
    # them, whether the server had stored their batch or not.
    server.freeze()
    time.sleep(0.3)
    server.kill()
    time.sleep(0.5)  # sends now find the port closed
    server.start()
    tracking.join()
    assert client.flush(timeout=60)
    client.close()
    stats = client.stats
    assert stats.retries > 0
    assert (stats.dropped, stats.refused) == (0, 0)
    assert stats.accepted + stats.duplicates == 1500
    stored = Counter(tenant.stored_ids())
    assert stored == Counter(ids)  # each tracked event, once
    assert set(stored.values()) == {1}


def test_rate_limited_sends_wait_for_retry_after(strict_tenant: Tenant) -> None:
    sent = STRICT_EVENTS_PER_MINUTE + 2 * STRICT_MAX_BATCH  # past one minute's allowance
    started = time.monotonic()
    with client_for(strict_tenant, batch_size=STRICT_MAX_BATCH, flush_interval=10) as client:
        ids = [client.track("burst") for _ in range(sent)]
        assert client.flush(timeout=60)
        stats = client.stats
    assert stats.accepted == sent
    assert stats.rate_limited >= 1
    # Each RATE_LIMITED answer was waited out (retryAfter is at least 1 s) rather than
    # retried at once: a client that hammered would collect many more of them.
    assert time.monotonic() - started >= stats.rate_limited
    assert stats.rate_limited <= 5
    assert sorted(strict_tenant.stored_ids()) == sorted(ids)


def test_a_batch_refused_as_too_large_is_split(strict_tenant: Tenant) -> None:
    with client_for(strict_tenant, batch_size=STRICT_MAX_BATCH, flush_interval=10) as client:
        # Ten of these make a body above the strict server's 4 KiB, a few fit.
        ids = [client.track("bulky", {"text": "x" * 600, "i": i}) for i in range(10)]
        huge = client.track("bulky", {"text": "x" * 5000})  # too large even alone
        assert client.flush(timeout=30)
        stats = client.stats
    assert (stats.accepted, stats.too_large, stats.retries) == (10, 1, 0)
    assert sorted(strict_tenant.stored_ids()) == sorted(ids)
    assert huge not in ids


def test_a_full_queue_drops_its_oldest_events(tenant: Tenant) -> None:
    with client_for(tenant, max_queue_size=5, flush_interval=30) as client:
        ids = [client.track("queued", {"i": i}) for i in range(8)]
        assert client.flush(timeout=30)
        assert (client.stats.dropped, client.stats.accepted) == (3, 5)
    assert sorted(tenant.stored_ids()) == sorted(ids[3:])


def test_a_batch_the_server_refuses_for_good_is_dropped(tenant: Tenant) -> None:
    with Client(tenant.server.url, "evt_not-a-token", tenant.project, backoff=QUICK) as client:
        client.track("lost")
        assert client.flush(timeout=30)
        assert (client.stats.refused, client.stats.retries) == (1, 0)


@pytest.mark.parametrize("kind", ["threaded", "asyncio"])
def test_events_left_queued_are_sent_at_interpreter_exit(tenant: Tenant, kind: str) -> None:
    program = {
        "threaded": """
            from eventide_sdk import Client
            client = Client(URL, TOKEN, PROJECT, flush_interval=60)
            print(client.track("goodbye"))
        """,
        "asyncio": """
            import asyncio
            from eventide_sdk import AsyncClient
            async def main():
                client = AsyncClient(URL, TOKEN, PROJECT, flush_interval=60)
                print(client.track("goodbye"))
            asyncio.run(main())
        """,
    }[kind]
    prelude = f"URL, TOKEN, PROJECT = {tenant.server.url!r}, {tenant.token!r}, {tenant.project!r}"
    run = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(program)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert tenant.stored_ids() == [run.stdout.strip()]
