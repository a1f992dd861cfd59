"""The web console in a real browser (Debian's chromium, driven by Playwright), against a
live server: what it shows must be what the API answers."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import TimeoutError as PlaywrightTimeout

from eventide.storage.engines import Engines
from tests.graphiql.test_browser import browser_page, pytestmark  # noqa: F401
from tests.graphql_client import GraphQLClient
from tests.live.servers import in_loop_server

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console-overview.png"
FUNNEL = """query($p: ID, $r: DateRange!) {
  funnel(projectId: $p, range: $r, steps: [{eventType: "view"}, {eventType: "click"}]) {
    steps { users conversion } } }"""
DAU = "query($p: ID!, $r: DateRange!) { dau(projectId: $p, range: $r) { date users } }"


async def api(base_url: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def sample_events() -> list[dict[str, Any]]:
    """A month of a small product: more users on some days than others."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    events = []
    for day in range(30):
        for user in range(3 + (day * 7) % 11):
            occurred = (now - dt.timedelta(days=day, minutes=5 + user)).isoformat()
            for kind in ("view", "click", "signup")[: 1 + (user + day) % 3]:
                events.append(
                    {
                        "eventId": f"{day}-{user}-{kind}",
                        "userId": f"user-{user}",
                        "eventType": kind,
                        "occurredAt": occurred,
                        "properties": {"plan": "pro" if user % 3 == 0 else "free"},
                    }
                )
    return events


async def test_sign_up_create_a_token_and_see_the_api_numbers(engines: Engines) -> None:
    async with in_loop_server(engines) as server, browser_page() as page:
        base_url = server.http_url
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        await page.set_viewport_size({"width": 1280, "height": 900})

        await page.goto(f"{base_url}/")
        await page.wait_for_url("**/signin")
        await page.get_by_role("link", name="Sign up").click()
        name = f"console-{uuid.uuid4().hex[:8]}"
        await page.get_by_label("Username").fill(name)
        await page.get_by_label("Email").fill(f"{name}@example.test")
        await page.get_by_label("Password").fill("a long passphrase")
        await page.get_by_role("button", name="Sign up").click()
        await page.wait_for_selector("#dau-table", state="attached")
        project_id = page.url.rstrip("/").split("/")[-1]

        # A second project, created in the console, gets the token and the events.
        await page.locator("#project-switcher").select_option("new")
        await page.get_by_label("Name", exact=True).fill("Shop")
        await page.get_by_role("button", name="Create project").click()
        await page.wait_for_url("**/settings")
        shop_id = page.url.split("/")[-2]
        assert shop_id != project_id
        await page.get_by_label("Token name").fill("web sdk")
        await page.get_by_role("checkbox", name="READ").check()
        await page.get_by_role("button", name="Create token").click()
        token = await page.locator("#secret-value").input_value()
        assert token.startswith("evt_")
        await page.get_by_role("rowheader", name="web sdk").wait_for()

        events = sample_events()
        for start in range(0, len(events), 1000):
            batch = events[start : start + 1000]
            answer = await api(
                base_url,
                token,
                "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }",
                {"e": batch},
            )
            assert answer["ingestEvents"]["accepted"] == len(batch)

        await page.get_by_role("link", name="Overview").click()
        await page.wait_for_selector("#top-events")
        rows = await page.locator("#dau-table tbody tr").evaluate_all(
            "rows => rows.map(r => [r.querySelector('time').dateTime,"
            " Number(r.cells[1].textContent)])"
        )
        today = dt.datetime.now(dt.UTC).date()
        month = {"from": (today - dt.timedelta(days=29)).isoformat(), "to": today.isoformat()}
        expected = await api(base_url, token, DAU, {"p": shop_id, "r": month})
        assert rows == [[row["date"], row["users"]] for row in expected["dau"]]
        assert any(users > 0 for _, users in rows)
        top = await page.locator("#top-events tbody th").all_inner_texts()
        assert top == ["view", "click", "signup"]

        if os.environ.get("EVENTIDE_CONSOLE_SCREENSHOT") or not SCREENSHOT.exists():
            await page.screenshot(path=str(SCREENSHOT))

        # The explorer pages through the project's events, newest first.
        await page.get_by_role("link", name="Events", exact=True).click()
        await page.wait_for_selector("#events-table")
        assert await page.locator("#events-table tbody tr").count() == 50
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

        # The funnel builder shows the API's users and conversion for each step.
        await page.get_by_role("link", name="Funnel").click()
        await page.get_by_label("Step 1 event").select_option("view")
        await page.get_by_label("Step 2 event").select_option("click")
        await page.get_by_role("button", name="Show funnel").click()
        await page.wait_for_selector("#funnel-results tr[data-step]")
        shown = await page.locator("#funnel-results tr[data-step]").evaluate_all(
            "rows => rows.map(r => [Number(r.dataset.users), Number(r.dataset.conversion)])"
        )
        funnel = await api(base_url, token, FUNNEL, {"p": shop_id, "r": month})
        assert shown == [[s["users"], s["conversion"]] for s in funnel["funnel"][0]["steps"]]
        assert shown[0][0] > shown[1][0] > 0

        # The live tail shows events as they are accepted. Nothing tells when the server's
        # side of the subscription is listening: send until one arrives, then one more.
        await page.get_by_role("link", name="Live", exact=True).click()
        await page.get_by_text("Live: new events appear").wait_for()
        ingest = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }"
        now = dt.datetime.now(dt.UTC).isoformat()
        for n in range(40):
            live = {"eventId": f"live-{n}", "userId": "user-live", "eventType": "view",
                    "occurredAt": now}  # fmt: skip
            await api(base_url, token, ingest, {"e": [live]})
            with contextlib.suppress(PlaywrightTimeout):
                await page.wait_for_selector(f'#live-table [data-event-id="live-{n}"]', timeout=500)
                break
        else:
            raise AssertionError("the live tail never showed an event")
        last = {**live, "eventId": "live-last"}
        await api(base_url, token, ingest, {"e": [last]})
        await page.wait_for_selector('#live-table [data-event-id="live-last"]')

        # At phone width the overview still fits.
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.get_by_role("link", name="Overview").click()
        await page.wait_for_selector("#top-events")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400

        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url("**/signin")
        assert await page.evaluate("localStorage.getItem('eventide.session')") is None
        # Everything came from Eventide itself, and the tokens never travelled in a URL.
        assert all(url.startswith(base_url) for url in requests)
        assert all(token not in url for url in requests)
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
