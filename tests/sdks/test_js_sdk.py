"""The JavaScript SDK against a live server: in Node (killed server, rate limit, 413)
and in Debian's Chromium (the queue in localStorage, the flush as the page goes)."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.graphiql.test_browser import browser_page
from tests.sdks.conftest import APP_ORIGIN, STRICT_EVENTS_PER_MINUTE, STRICT_MAX_BATCH
from tests.sdks.server import Tenant, closed_port_url
from tests.sdks.site import DIST, sdk_site

DRIVER = Path(__file__).with_name("node_driver.mjs")
NODE = shutil.which("node")
IN_CI = os.environ.get("CI") == "true"
QUICK = {"baseMs": 50, "capMs": 500}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        (NODE is None or not (DIST / "index.js").exists()) and not IN_CI,
        reason="needs node and the built SDK (make install)",
    ),
]


class NodeRun:
    """The SDK tracking events in a Node process; its output lines as they come."""

    def __init__(self, tenant: Tenant, count: int, **config: Any) -> None:
        argument = {
            "endpoint": tenant.server.url,
            "token": tenant.token,
            "project": tenant.project,
            "count": count,
            **config,
        }
        self._process = subprocess.Popen(
            [str(NODE), str(DRIVER), json.dumps(argument)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(json.loads(line))

    def wait_for_accepted(self) -> None:
        while self._lines.get(timeout=30)["stats"]["accepted"] == 0:
            pass

    def result(self) -> dict[str, Any]:
        """The last line: the tracked ids and the final stats."""
        self._process.wait(timeout=120)
        self._reader.join()
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        stderr = self._process.stderr.read()
        self._process.stdout.close()
        self._process.stderr.close()
        assert self._process.returncode == 0, stderr
        last: dict[str, Any] = {}
        while not self._lines.empty():
            last = self._lines.get()
        assert "ids" in last, last
        return last


def test_node_a_server_killed_mid_batch_and_restarted_stores_every_event_once(
    tenant: Tenant,
) -> None:
    server = tenant.server
    run = NodeRun(
        tenant,
        1500,
        spreadMs=1,
        options={
            "batchSize": 50,
            "flushIntervalMs": 20,
            "backoff": QUICK,
            "timeoutMs": 5000,
            "maxQueueSize": 5000,  # room for everything tracked while the server is down
        },
    )
    run.wait_for_accepted()
    server.freeze()  # sends in flight now, answered by nobody
    time.sleep(0.3)
    server.kill()
    time.sleep(0.5)
    server.start()
    result = run.result()
    stats = result["stats"]
    assert stats["retries"] > 0
    assert (stats["dropped"], stats["refused"]) == (0, 0)
    assert stats["accepted"] + stats["duplicates"] == 1500
    stored = Counter(tenant.stored_ids())
    assert stored == Counter(result["ids"])  # each tracked event, once
    assert set(stored.values()) == {1}


def test_node_rate_limited_sends_wait_for_retry_after(strict_tenant: Tenant) -> None:
    sent = STRICT_EVENTS_PER_MINUTE + 2 * STRICT_MAX_BATCH
    started = time.monotonic()
    result = NodeRun(
        strict_tenant, sent, options={"batchSize": STRICT_MAX_BATCH, "flushIntervalMs": 60000}
    ).result()
    stats = result["stats"]
    assert stats["accepted"] == sent
    assert 1 <= stats["rateLimited"] <= 5
    assert time.monotonic() - started >= stats["rateLimited"]  # retryAfter >= 1 s each
    assert sorted(strict_tenant.stored_ids()) == sorted(result["ids"])


def test_node_a_batch_refused_as_too_large_is_split(strict_tenant: Tenant) -> None:
    result = NodeRun(
        strict_tenant,
        10,
        pad=600,  # ten of them exceed the strict server's 4 KiB body limit
        options={"batchSize": STRICT_MAX_BATCH, "flushIntervalMs": 60000},
    ).result()
    stats = result["stats"]
    assert (stats["accepted"], stats["tooLarge"], stats["retries"]) == (10, 0, 0)
    assert sorted(strict_tenant.stored_ids()) == sorted(result["ids"])


# --- in the browser ----------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

browser_only = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not IN_CI,
    reason="chromium is not installed (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def app() -> Iterator[str]:
    with sdk_site(APP_ORIGIN) as origin:
        yield origin


async def _stored_ids_become(tenant: Tenant, expected: list[str]) -> None:
    deadline = time.monotonic() + 20
    while sorted(await asyncio.to_thread(tenant.stored_ids)) != sorted(expected):
        assert time.monotonic() < deadline, "the events did not arrive"
        await asyncio.sleep(0.1)


@browser_only
async def test_browser_events_wait_in_local_storage_until_the_server_is_reachable(
    tenant: Tenant, app: str
) -> None:
    async with browser_page() as page:
        await page.goto(f"{app}/")
        ids = await page.evaluate(
            """async ([endpoint, token, project]) => {
                const sdk = await import("/sdk/index.js");
                window.client = sdk.init({endpoint, token, project, flushIntervalMs: 50,
                                          backoff: {baseMs: 50, capMs: 200}});
                return [1, 2, 3, 4, 5].map((i) => sdk.track("offline", {i}));
            }""",
            [closed_port_url(), tenant.token, tenant.project],
        )
        await page.wait_for_function("window.client.stats().retries >= 2")
        stored = await page.evaluate(
            """(prefix) => Object.keys(localStorage).filter((k) => k.startsWith(prefix))
                .flatMap((k) => JSON.parse(localStorage.getItem(k)).map((e) => e.id))""",
            f"eventide:{tenant.project}:queue:",
        )
        assert sorted(stored) == sorted(ids)

        await page.goto(f"{app}/")  # a new visit; now the server can be reached
        flushed = page.evaluate(
            """async ([endpoint, token, project]) => {
                const sdk = await import("/sdk/index.js");
                const client = sdk.init({endpoint, token, project});
                await client.flush();
                return client.stats();
            }""",
            [tenant.server.url, tenant.token, tenant.project],
        )
        stats = await asyncio.wait_for(flushed, 30)
        assert stats["accepted"] == 5
        left = await page.evaluate(
            "(prefix) => Object.keys(localStorage).filter((k) => k.startsWith(prefix)).length",
            f"eventide:{tenant.project}:queue:",
        )
        assert left == 0
    assert sorted(tenant.stored_ids()) == sorted(ids)


@browser_only
async def test_browser_events_are_sent_with_keepalive_as_the_page_goes(
    tenant: Tenant, app: str
) -> None:
    async with browser_page() as page:
        await page.goto(f"{app}/")
        ids = await page.evaluate(
            """async ([endpoint, token, project]) => {
                const sdk = await import("/sdk/index.js");
                // Neither the timer nor a full batch would send them before the page goes.
                sdk.init({endpoint, token, project, flushIntervalMs: 600000});
                return Array.from({length: 7}, (_, i) => sdk.track("leaving", {i}));
            }""",
            [tenant.server.url, tenant.token, tenant.project],
        )
        await page.goto("about:blank")
        await _stored_ids_become(tenant, ids)
