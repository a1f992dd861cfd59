"""The console's live tail when the server drops it: it says that events may have been
missed, reconnects by itself, and shows new events again."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from playwright.async_api import TimeoutError as PlaywrightTimeout

from eventide.storage.engines import Engines
from tests.console.steps import INGEST, api, create_token, sign_up
from tests.graphiql.test_browser import browser_page, pytestmark  # noqa: F401
from tests.live.servers import cuttable_redis, in_loop_server


async def shows_an_event(page: Any, base_url: str, token: str, prefix: str) -> None:
    """Send events until one is in the tail: nothing tells when the server's side of a
    subscription is listening."""
    now = dt.datetime.now(dt.UTC).isoformat()
    for n in range(60):
        event = {"eventId": f"{prefix}-{n}", "userId": "u", "eventType": "view", "occurredAt": now}
        await api(base_url, token, INGEST, {"e": [event]})
        with contextlib.suppress(PlaywrightTimeout):
            await page.wait_for_selector(f'#live-table [data-event-id="{prefix}-{n}"]', timeout=500)
            return
    raise AssertionError("the live tail never showed an event")


async def test_the_live_tail_tells_of_a_drop_and_reconnects(engines: Engines) -> None:
    async with (
        cuttable_redis(engines) as (live_redis, cut),
        in_loop_server(engines, live_redis=live_redis) as server,
        browser_page() as page,
    ):
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await sign_up(page, server.http_url)
        await page.get_by_role("link", name="Settings").click()
        token = await create_token(page, "feed", read=False)
        await page.get_by_role("link", name="Live", exact=True).click()
        await page.get_by_text("Live: new events appear").wait_for()
        await shows_an_event(page, server.http_url, token, "before")

        await cut()
        alert = page.get_by_role("alert")
        await alert.filter(has_text="Disconnected by the server").wait_for()
        text = await alert.inner_text()
        assert "lost its connection to Redis" in text
        assert "the Events page lists every one" in text
        # graphql-ws connects again, and the tail goes on.
        await page.get_by_text("Live: new events appear").wait_for(timeout=30_000)
        await shows_an_event(page, server.http_url, token, "after")
        assert errors == []
