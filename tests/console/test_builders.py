"""The console's trends builder and time zone switch in a real browser: the chart's
numbers must be what the API answers for the same question."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import zoneinfo
from typing import Any

from eventide.storage.engines import Engines
from tests.console.steps import (
    api,
    assert_controls_named,
    backfill,
    create_token,
    new_project,
    sign_up,
)
from tests.console.test_console import DAU, dau_rows, month
from tests.graphiql.test_browser import browser_page, pytestmark  # noqa: F401
from tests.live.servers import in_loop_server

TRENDS = """query($p: ID!, $range: DateRange!, $tz: String!, $interval: Interval!,
    $series: [TrendSeriesInput!]!, $breakdown: BreakdownInput, $breakdownLimit: Int!) {
  trends(projectId: $p, range: $range, timezone: $tz, interval: $interval, series: $series,
      breakdown: $breakdown, breakdownLimit: $breakdownLimit) {
    label breakdownValue other total points { start value }
  }
}"""
# A select's accessible name is its label's text and the chosen option: "Event any event".
EVENT = re.compile("^Event")


async def datalist(page: Any, control: Any) -> list[str]:
    """The values a control's picker offers."""
    options: list[str] = await control.evaluate(
        "input => [...input.list.options].map((option) => option.value)"
    )
    return options


def shown_name(series: dict[str, Any]) -> str:
    if series["other"]:
        return f"{series['label']}: other"
    value = series["breakdownValue"]
    return f"{series['label']}: {'(none)' if value is None else value}"


async def test_a_trend_built_in_the_console_shows_the_api_answer(engines: Engines) -> None:
    async with in_loop_server(engines) as server, browser_page() as page:
        base_url = server.http_url
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.set_viewport_size({"width": 1280, "height": 900})
        await sign_up(page, base_url)
        project = await new_project(page, "Trends")
        token = await create_token(page, "reports", read=True)
        await backfill(base_url, token)
        zone = await page.locator("#time-zone").input_value()

        await page.get_by_role("link", name="Trends").click()
        await page.get_by_label("Interval").select_option("WEEK")
        first = page.get_by_role("group", name="Series 1")
        await first.get_by_label(EVENT).select_option("view")
        await first.get_by_label("Measure").select_option("USERS")
        await page.get_by_role("button", name="Add series").click()
        second = page.get_by_role("group", name="Series 2")
        await second.get_by_label(EVENT).select_option("click")
        await second.get_by_label("Label").fill("pro clicks")
        # The filter's property and value come from what the pickers offer.
        await second.get_by_role("button", name="Add filter").click()
        key = second.get_by_label("Property of filter 1")
        assert "plan" in await datalist(page, key)
        await key.fill("plan")
        await second.get_by_label("Comparison of filter 1").select_option("EQ")
        value = second.get_by_label("Value of filter 1")
        assert sorted(await datalist(page, value)) == ["free", "pro"]
        await value.fill("pro")
        await page.get_by_label(re.compile("^Breakdown")).select_option("property")
        breakdown = page.get_by_label("Breakdown property")
        assert "plan" in await datalist(page, breakdown)
        await breakdown.fill("plan")
        await assert_controls_named(page)
        # Enter in a field submits the form, as "Show trend" would.
        await breakdown.press("Enter")
        await page.wait_for_selector("#trend-table tbody tr", state="attached")

        answer = await api(
            base_url,
            token,
            TRENDS,
            {
                "p": project,
                "range": month(zoneinfo.ZoneInfo(zone)),
                "tz": zone,
                "interval": "WEEK",
                "series": [
                    {"event": {"eventType": "view"}, "measure": "USERS"},
                    {
                        "event": {
                            "eventType": "click",
                            "where": [{"property": "plan", "op": "EQ", "value": "pro"}],
                        },
                        "measure": "EVENTS",
                        "label": "pro clicks",
                    },
                ],
                "breakdown": {"property": "plan"},
                "breakdownLimit": 10,
            },
        )
        trends = answer["trends"]
        # view by plan (free, pro) and pro clicks (pro only): one series per value.
        assert [(one["label"], one["breakdownValue"]) for one in trends] == [
            ("view", "free"),
            ("view", "pro"),
            ("pro clicks", "pro"),
        ]
        names = [shown_name(one) for one in trends]
        # The table is in a closed <details>: its text, not what is rendered.
        head = await page.locator("#trend-table thead th").all_text_contents()
        assert head == ["Interval start", *names]
        table = await page.locator("#trend-table tbody tr").evaluate_all(
            "rows => rows.map(r => [r.querySelector('time').dateTime,"
            " ...[...r.querySelectorAll('td')].map((cell) => Number(cell.textContent))])"
        )
        starts = [point["start"] for point in trends[0]["points"]]
        assert table == [
            [start, *(float(one["points"][i]["value"]) for one in trends)]
            for i, start in enumerate(starts)
        ]
        assert any(any(row[1:]) for row in table)
        # The chart draws those series (its legend names them), and the totals are the API's.
        legend = await page.locator(".chart .u-legend .u-series .u-label").all_inner_texts()
        assert legend[1:] == names
        totals = await page.locator("#trend-totals tbody tr").evaluate_all(
            "rows => rows.map(r => [r.cells[0].textContent,"
            " Number(r.cells[1].textContent.replace(/\\D/g, ''))])"
        )
        assert totals == [
            [name, int(float(one["total"]))] for name, one in zip(names, trends, strict=True)
        ]
        assert errors == []


async def test_the_time_zone_switch_recounts_days_in_that_zone(engines: Engines) -> None:
    async with in_loop_server(engines) as server, browser_page() as page:
        base_url = server.http_url
        await sign_up(page, base_url)
        project = await new_project(page, "Zones")
        token = await create_token(page, "reports", read=True)
        await backfill(base_url, token)
        await page.get_by_role("link", name="Overview").click()
        await page.wait_for_selector("#top-events")
        project_zone = await page.locator("#time-zone").input_value()
        # The sample's events lie a few minutes before this time of day: 14 hours east of
        # UTC moves them to the next day from 11:00 UTC on, 11 hours west to the day
        # before until then.
        east = dt.datetime.now(dt.UTC).hour >= 11
        other = "Pacific/Kiritimati" if east else "Pacific/Pago_Pago"
        assert other != project_zone
        await page.locator("#time-zone").select_option(other)
        expected = await api(
            base_url,
            token,
            DAU,
            {"p": project, "r": month(zoneinfo.ZoneInfo(other)), "tz": other},
        )
        wanted = [[row["date"], row["users"]] for row in expected["dau"]]
        # The page is drawn again with the other zone's answer.
        for _ in range(100):
            if await dau_rows(page) == wanted:
                break
            await asyncio.sleep(0.1)
        assert await dau_rows(page) == wanted
        in_utc = await api(base_url, token, DAU, {"p": project, "r": month(), "tz": project_zone})
        assert wanted != [[row["date"], row["users"]] for row in in_utc["dau"]]
        # Remembered in this browser, for this project.
        await page.reload()
        await page.wait_for_selector("#top-events")
        assert await page.locator("#time-zone").input_value() == other
        assert await dau_rows(page) == wanted
