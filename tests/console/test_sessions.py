"""The console's session and error handling in a real browser: tokens refreshed when
refused and before they expire, a login that has ended, and RATE_LIMITED's countdown."""

from __future__ import annotations

import re
from typing import Any

from eventide.storage.engines import Engines
from tests.console.steps import sign_up
from tests.graphiql.test_browser import browser_page, pytestmark  # noqa: F401
from tests.live.servers import in_loop_server

SESSION = "eventide.session"


async def stored_session(page: Any) -> dict[str, Any]:
    session: dict[str, Any] = await page.evaluate(f"JSON.parse(localStorage.getItem('{SESSION}'))")
    return session


async def store_session(page: Any, session: dict[str, Any]) -> None:
    await page.evaluate(
        f"(session) => localStorage.setItem('{SESSION}', JSON.stringify(session))", session
    )


async def test_the_session_is_refreshed_when_refused_and_before_it_expires(
    engines: Engines,
) -> None:
    async with in_loop_server(engines) as server, browser_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await sign_up(page, server.http_url)
        first = await stored_session(page)

        # The server refuses the access token: the console refreshes once and asks again.
        await store_session(page, {**first, "accessToken": "not-a-token"})
        await page.reload()
        await page.wait_for_selector("#dau-table", state="attached")
        second = await stored_session(page)
        assert second["accessToken"] not in ("not-a-token", first["accessToken"])
        assert second["refreshToken"] != first["refreshToken"]

        # A minute before the access token expires, the open page refreshes it by itself.
        await store_session(
            page, {**second, "expiresAt": await page.evaluate("Date.now()") + 61_000}
        )
        await page.reload()
        await page.wait_for_function(
            f"(old) => JSON.parse(localStorage.getItem('{SESSION}')).refreshToken !== old",
            arg=second["refreshToken"],
        )
        third = await stored_session(page)
        assert third["expiresAt"] - await page.evaluate("Date.now()") > 5 * 60_000
        await page.get_by_role("link", name="Events", exact=True).click()
        await page.wait_for_selector("#events-table, .empty")

        # A login that has ended (its refresh token refused too) goes back to signing in,
        # and comes back to the page it was on.
        await store_session(page, {**third, "accessToken": "not-a-token", "refreshToken": "no"})
        await page.reload()
        await page.wait_for_url("**/signin?next=*")
        assert await page.evaluate(f"localStorage.getItem('{SESSION}')") is None
        assert errors == []


async def test_rate_limited_shows_when_to_retry_and_retries_then(engines: Engines) -> None:
    # A budget a few page loads use up (the overview costs about 1,000 points); it refills
    # at 1/60 of itself a second, so the wait is seconds.
    async with (
        in_loop_server(engines, rate_limit_query_points=6000) as server,
        browser_page() as page,
    ):
        await sign_up(page, server.http_url)
        alert = page.get_by_role("alert").filter(has_text="Too many requests.")
        pages = [("Retention", "#retention-table"), ("Overview", "#dau-table")] * 30
        for link, content in pages:
            await page.get_by_role("link", name=link, exact=True).click()
            await page.wait_for_selector(f"{content}, [role=alert]", state="attached")
            if await alert.count():
                break
        else:
            raise AssertionError("the budget was never used up")
        text = await alert.inner_text()
        assert re.search(r"You can retry in \d+ s\.", text), text
        retry = alert.get_by_role("button", name="Retry")
        assert await retry.is_disabled()
        # The countdown reaches zero, then Retry asks again and the page shows.
        await alert.get_by_text("You can retry now.").wait_for(timeout=60_000)
        await retry.click()
        await page.wait_for_selector(content, state="attached")
