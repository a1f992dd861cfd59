"""GraphiQL in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from eventide.app import create_app
from eventide.auth import passwords, users
from eventide.auth.principal import Role
from eventide.projects import store
from eventide.projects.roles import ProjectRole
from eventide.storage.engines import Engines
from tests.conftest import TEST_PROJECT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "graphiql admin password"

pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
        reason="chromium is not installed (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.slow,
]


@contextlib.asynccontextmanager
async def live_server(
    engines: Engines, *, live: Any = None, **overrides: Any
) -> AsyncIterator[str]:
    """The app on a real port, in this event loop, on the session's engines (and with
    ``live``, the live-event hub the app would open in its lifespan)."""
    settings = dataclasses.replace(engines.settings, **overrides)
    app = create_app(settings)
    app.state.engines = dataclasses.replace(engines, settings=settings)
    if live is not None:
        app.state.live = live
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no event to wait on
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "the server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def browser_page() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            await browser.close()


async def ingest(base_url: str, token: str, count: int) -> None:
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    events = [
        {"eventId": f"e{i}", "userId": "u", "eventType": "view", "occurredAt": occurred}
        for i in range(count)
    ]
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }",
                "variables": {"e": events},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.json()["data"]["ingestEvents"]["accepted"] == count


async def test_an_admin_signs_in_and_reads_storage(engines: Engines) -> None:
    name = f"root-{uuid.uuid4().hex[:8]}"
    admin = await users.create_user(
        engines.db,
        username=name,
        email=f"{name}@example.test",
        password_hash=await passwords.hash_password(PASSWORD),
        role=Role.ADMIN,
    )
    # Its only project (the fixture accounts' one) is where its session ingests.
    await store.insert_member(
        engines.db, project_id=TEST_PROJECT, user_id=admin.id, role=ProjectRole.OWNER
    )
    async with live_server(engines, env="production") as base_url, browser_page() as page:
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        console_errors: list[str] = []

        def keep_error(message: Any) -> None:
            if message.type == "error":
                console_errors.append(message.text)

        page.on("console", keep_error)
        await page.goto(f"{base_url}/graphiql")
        await page.fill("#username", name)
        await page.fill("#password", PASSWORD)
        await page.click("#sign-in")
        await page.wait_for_selector("#session:not([hidden])")
        assert await page.text_content("#who") == name
        token = await page.evaluate("sessionStorage.getItem('eventide.accessToken')")
        assert token
        await ingest(base_url, token, 3)

        await page.click(".graphiql-execute-button")
        result = page.locator(".result-window")
        await result.get_by_text('"coldEvents"').wait_for()
        text = (await result.inner_text()).replace("\xa0", " ")
        answer = json.loads(text[text.index("{") :])
        assert answer["data"]["storage"] == {"hotEvents": 3, "coldEvents": 0}
        # The token travelled in headers only: never in a URL.
        assert all(token not in url for url in [*requests, page.url])
        # Every asset came from Eventide itself, within the page's content security policy.
        assert all(url.startswith(base_url) for url in requests)
        assert console_errors == []


async def test_an_anonymous_visitor_gets_no_schema_in_production(engines: Engines) -> None:
    async with live_server(engines, env="production") as base_url, browser_page() as page:
        answers: list[dict[str, Any]] = []

        async def keep(response: Any) -> None:
            if response.url.endswith("/graphql"):
                answers.append(await response.json())

        page.on("response", keep)
        await page.goto(f"{base_url}/graphiql")
        await page.wait_for_selector(".graphiql-container")
        for _ in range(200):
            if answers:
                break
            await asyncio.sleep(0.05)
        assert answers, "GraphiQL did not ask for the schema"
        introspection = answers[0]
        assert introspection["data"] is None
        assert introspection["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "__schema" not in json.dumps(introspection.get("data"))
