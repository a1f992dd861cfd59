"""The web console in a real browser (Debian's chromium, driven by Playwright), against a
live server: what it shows must be what the API answers."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Any

from playwright.async_api import TimeoutError as PlaywrightTimeout

from eventide.storage.engines import Engines
from tests.console.steps import (
    anonymous_answer,
    api,
    assert_controls_named,
    backfill,
    create_token,
    new_project,
    sign_up,
)
from tests.graphiql.test_browser import browser_page, pytestmark  # noqa: F401
from tests.graphql_client import GraphQLClient
from tests.live.servers import in_loop_server
from tests.processes import free_port
from tests.sdks.site import sdk_site

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console-overview.png"
FUNNEL = """query($p: ID, $r: DateRange!) {
  funnel(projectId: $p, range: $r, steps: [{eventType: "view"}, {eventType: "click"}]) {
    steps { users conversion } } }"""
DAU = """query($p: ID!, $r: DateRange!, $tz: String) {
  dau(projectId: $p, range: $r, timezone: $tz) { date users } }"""
REFRESH = "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }"


def month(zone: dt.tzinfo = dt.UTC) -> dict[str, str]:
    today = dt.datetime.now(zone).date()
    return {"from": (today - dt.timedelta(days=29)).isoformat(), "to": today.isoformat()}


async def dau_rows(page: Any) -> list[list[Any]]:
    rows: list[list[Any]] = await page.locator("#dau-table tbody tr").evaluate_all(
        "rows => rows.map(r => [r.querySelector('time').dateTime, Number(r.cells[1].textContent)])"
    )
    return rows


async def test_sign_up_send_events_with_the_sdk_and_see_the_api_numbers(
    engines: Engines,
) -> None:
    # The SDK runs on a site of its own origin, which the server's CORS lets through.
    site_origin = f"http://localhost:{free_port()}"
    async with (
        in_loop_server(engines, cors_origins=(site_origin,)) as server,
        browser_page() as page,
    ):
        base_url = server.http_url
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        await page.set_viewport_size({"width": 1280, "height": 900})

        # Keyboard first: the first Tab reaches the skip link, which moves focus to the page.
        await page.goto(f"{base_url}/signin")
        await page.get_by_label("Username").wait_for()
        await assert_controls_named(page)
        project_id = await sign_up(page, base_url)
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"

        # A second project, created in the console, gets the tokens and the events: an
        # INGEST-only one for the SDK on a public page, a READ one for the API.
        shop_id = await new_project(page, "Shop")
        assert shop_id != project_id
        await assert_controls_named(page)
        sdk_token = await create_token(page, "web sdk", read=False)
        api_token = await create_token(page, "reports", read=True)
        await backfill(base_url, api_token)

        # The live tail shows the SDK's events as they are accepted. Nothing tells when the
        # server's side of the subscription is listening: send until one arrives.
        await page.get_by_role("link", name="Live", exact=True).click()
        await page.get_by_text("Live: new events appear").wait_for()
        await assert_controls_named(page)
        with sdk_site(site_origin) as site:
            app = await page.context.browser.new_page()
            await app.goto(f"{site}/")
            await app.evaluate(
                """async ([endpoint, token, project]) => {
                    window.sdk = await import("/sdk/index.js");
                    window.client = sdk.init({endpoint, token, project, flushIntervalMs: 60000});
                    sdk.identify("user-sdk");
                }""",
                [f"{base_url}/graphql", sdk_token, shop_id],
            )
            send = """async ([type, n]) => {
                const id = sdk.track(type, {plan: "pro", n});
                await sdk.flush();
                return id;
            }"""
            for n in range(40):
                event_id = await app.evaluate(send, ["view", n])
                shown = f'#live-table [data-event-id="{event_id}"]'
                with contextlib.suppress(PlaywrightTimeout):
                    await page.wait_for_selector(shown, timeout=500)
                    break
            else:
                raise AssertionError("the live tail never showed an event")
            last_id = await app.evaluate(send, ["signup", n + 1])
            row = page.locator(f'#live-table [data-event-id="{last_id}"]')
            await row.wait_for()
            assert "user-sdk" in await row.inner_text()
            stats = await app.evaluate("client.stats()")
            assert (stats["accepted"], stats["refused"], stats["dropped"]) == (n + 2, 0, 0)
            await app.close()

        # The overview's DAU table (the chart's numbers) is dau's answer, the SDK's user
        # included today.
        await page.get_by_role("link", name="Overview").click()
        await page.wait_for_selector("#top-events")
        rows = await dau_rows(page)
        expected = await api(base_url, api_token, DAU, {"p": shop_id, "r": month()})
        assert rows == [[row["date"], row["users"]] for row in expected["dau"]]
        assert any(users > 0 for _, users in rows)
        top = await page.locator("#top-events tbody th").all_inner_texts()
        assert top == ["view", "click", "signup"]
        await assert_controls_named(page)

        if os.environ.get("EVENTIDE_CONSOLE_SCREENSHOT") or not SCREENSHOT.exists():
            await page.screenshot(path=str(SCREENSHOT))

        # The explorer pages through the project's events, newest first.
        await page.get_by_role("link", name="Events", exact=True).click()
        await page.wait_for_selector("#events-table")
        assert await page.locator("#events-table tbody tr").count() == 50
        await assert_controls_named(page)
        await page.get_by_role("button", name="Next page").click()
        await page.get_by_text("Page 2").wait_for()
        await page.get_by_label("User id").fill("user-0")
        await page.get_by_role("button", name="Apply filters").click()
        await page.get_by_text("Page 1").wait_for()
        # The page number changes at once; the filtered rows follow when the answer comes.
        await page.wait_for_function(
            """() => {
                const cells = [...document.querySelectorAll("#events-table tbody td.mono")];
                return cells.length > 0 && cells.every((cell) => cell.innerText === "user-0");
            }"""
        )

        # Retention's heatmap holds the API's cohorts.
        await page.get_by_role("link", name="Retention").click()
        await page.wait_for_selector("#retention-table")
        sizes = await page.locator("#retention-table tbody td.num").all_inner_texts()
        assert len(sizes) == 14
        await assert_controls_named(page)

        # The funnel builder shows the API's users and conversion for each step.
        await page.get_by_role("link", name="Funnel").click()
        await page.get_by_label("Step 1 event").select_option("view")
        await page.get_by_label("Step 2 event").select_option("click")
        await page.get_by_role("button", name="Show funnel").click()
        await page.wait_for_selector("#funnel-results tr[data-step]")
        await assert_controls_named(page)
        shown = await page.locator("#funnel-results tr[data-step]").evaluate_all(
            "rows => rows.map(r => [Number(r.dataset.users), Number(r.dataset.conversion)])"
        )
        funnel = await api(base_url, api_token, FUNNEL, {"p": shop_id, "r": month()})
        assert shown == [[s["users"], s["conversion"]] for s in funnel["funnel"][0]["steps"]]
        assert shown[0][0] > shown[1][0] > 0

        # At phone width the overview still fits.
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.get_by_role("link", name="Overview").click()
        await page.wait_for_selector("#top-events")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400

        # Signing out ends the login on the server too: its refresh token is refused.
        session = await page.evaluate("JSON.parse(localStorage.getItem('eventide.session'))")
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url("**/signin")
        assert await page.evaluate("localStorage.getItem('eventide.session')") is None
        refused = await anonymous_answer(base_url, REFRESH, {"r": session["refreshToken"]})
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # Everything came from Eventide itself, and the tokens never travelled in a URL.
        assert all(url.startswith(base_url) for url in requests)
        assert all(token not in url for url in requests for token in (sdk_token, api_token))
        assert errors == []


async def test_the_console_is_served_at_root_and_api_clients_keep_json_404s(
    client: GraphQLClient,
) -> None:
    page = await client.http.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # A console route opened in a browser gets the same page; its router takes over.
    deep = await client.http.get("/p/7/events", headers={"Accept": "text/html,*/*"})
    assert deep.status_code == 200
    assert deep.text == page.text
    script = page.text.split('src="')[1].split('"')[0]
    asset = await client.http.get(script)
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    missing = await client.http.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await client.http.get("/assets/nothing.js")).status_code == 404
    assert (await client.http.get("/graphiql")).status_code == 200
