"""What the console tests do in the browser more than once: sign up, make a project with
its tokens, backfill a month of events, ask the API, and check the page's controls."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx

INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }"


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


async def anonymous_answer(base_url: str, query: str, variables: dict[str, Any]) -> Any:
    """The whole answer to an operation sent without credentials."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
    return response.json()


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


async def backfill(base_url: str, token: str) -> None:
    """The month of :func:`sample_events`, through the API: an SDK sends only events of
    now."""
    events = sample_events()
    for start in range(0, len(events), 1000):
        batch = events[start : start + 1000]
        answer = await api(base_url, token, INGEST, {"e": batch})
        assert answer["ingestEvents"]["accepted"] == len(batch)


async def sign_up(page: Any, base_url: str) -> str:
    """A new account, signed in; the id of the project it starts with."""
    await page.goto(f"{base_url}/")
    await page.wait_for_url("**/signin")
    await page.get_by_role("link", name="Sign up").click()
    await page.get_by_label("Email").wait_for()
    await assert_controls_named(page)
    name = f"console-{uuid.uuid4().hex[:8]}"
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Email").fill(f"{name}@example.test")
    await page.get_by_label("Password").fill("a long passphrase")
    await page.get_by_role("button", name="Sign up").click()
    await page.wait_for_selector("#dau-table", state="attached")
    return str(page.url.rstrip("/").split("/")[-1])


async def new_project(page: Any, name: str) -> str:
    """A project created in the console; its settings page is open."""
    await page.locator("#project-switcher").select_option("new")
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_role("button", name="Create project").click()
    await page.wait_for_url("**/settings")
    return str(page.url.split("/")[-2])


async def create_token(page: Any, name: str, *, read: bool) -> str:
    """An API token made on the open settings page: INGEST, and READ when asked."""
    shown = page.locator("#secret-value")
    before = await shown.input_value() if await shown.count() else None
    await page.get_by_label("Token name").fill(name)
    if read:
        await page.get_by_role("checkbox", name="READ").check()
    await page.get_by_role("button", name="Create token").click()
    await page.get_by_role("rowheader", name=name).wait_for()
    token = str(await shown.input_value())
    assert token.startswith("evt_")
    assert token != before
    if read:
        await page.get_by_role("checkbox", name="READ").uncheck()
    return token


# Every visible form control and button must have an accessible name: a <label>, an
# aria-label or aria-labelledby, or (buttons and links) their own text.
UNNAMED_CONTROLS = """() => {
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    if (ids.some((id) => (document.getElementById(id)?.textContent || "").trim())) return true;
    if ([...(el.labels || [])].some((label) => label.textContent.trim())) return true;
    if (el.matches("button, a")) return el.textContent.trim() !== "";
    return false;
  };
  const visible = (el) =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  return [...document.querySelectorAll("input, select, textarea, button, a[href]")]
    .filter((el) => el.type !== "hidden" && visible(el) && !named(el))
    .map((el) => el.outerHTML.slice(0, 160));
}"""


async def assert_controls_named(page: Any) -> None:
    unnamed = await page.evaluate(UNNAMED_CONTROLS)
    assert unnamed == [], f"controls without an accessible name on {page.url}: {unnamed}"
