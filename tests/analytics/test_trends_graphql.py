"""trends over GraphQL: the answer's shape, who may ask, and every invalid argument."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from eventide.archive.archiver import archive_pass
from eventide.storage.engines import Engines
from tests.analytics.stores import put_hot
from tests.analytics.test_graphql import event
from tests.graphql_client import GraphQLClient

UTC = dt.UTC
TRENDS = """query($range: DateRange!, $tz: String! = "UTC", $interval: Interval! = DAY,
                  $series: [TrendSeriesInput!]!, $breakdown: BreakdownInput, $limit: Int! = 10) {
  trends(range: $range, timezone: $tz, interval: $interval, series: $series,
         breakdown: $breakdown, breakdownLimit: $limit) {
    label breakdownValue other total points { start value } } }"""
RANGE = {"from": "2026-03-01", "to": "2026-03-02"}
ALL: list[dict[str, Any]] = [{"event": {}}]


@pytest.fixture
async def stored(engines: Engines) -> None:
    # alice views on 1 March (cold) and 2 March (hot); bob buys on 2 March.
    await put_hot(
        engines,
        [event("c1", "alice", "view", dt.datetime(2026, 3, 1, 10, tzinfo=UTC), plan="pro")],
    )
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 10, tzinfo=UTC))
    await put_hot(
        engines,
        [
            event("h1", "alice", "view", dt.datetime(2026, 3, 2, 11, tzinfo=UTC), plan="pro"),
            event("h2", "bob", "buy", dt.datetime(2026, 3, 2, 12, tzinfo=UTC), plan={"x": 1}),
        ],
    )


@pytest.mark.usefixtures("stored")
async def test_series_with_and_without_a_breakdown(client: GraphQLClient, user_token: str) -> None:
    series = [{"event": {}, "measure": "USERS"}, {"event": {"eventType": "view"}, "label": "V"}]
    data = await client.data(TRENDS, {"range": RANGE, "series": series}, token=user_token)
    days = ["2026-03-01T00:00:00.000000Z", "2026-03-02T00:00:00.000000Z"]
    assert data["trends"] == [
        {
            "label": "all events",
            "breakdownValue": None,
            "other": False,
            "total": 2,
            "points": [{"start": days[0], "value": 1}, {"start": days[1], "value": 2}],
        },
        {
            "label": "V",
            "breakdownValue": None,
            "other": False,
            "total": 2,
            "points": [{"start": days[0], "value": 1}, {"start": days[1], "value": 1}],
        },
    ]
    broken = await client.data(
        TRENDS,
        {"range": RANGE, "series": ALL, "breakdown": {"byEventType": True}, "limit": 1},
        token=user_token,
    )
    assert [(s["breakdownValue"], s["other"], s["total"]) for s in broken["trends"]] == [
        ("view", False, 2),
        (None, True, 1),
    ]
    by_plan = await client.data(
        TRENDS,
        {"range": RANGE, "series": ALL, "breakdown": {"property": "plan"}},
        token=user_token,
    )
    assert [(s["breakdownValue"], s["total"]) for s in by_plan["trends"]] == [
        ("pro", 2),
        ({"x": 1}, 1),
    ]
    pro = [{"event": {"where": [{"property": "plan", "op": "EQ", "value": "pro"}]}}]
    selected = await client.data(TRENDS, {"range": RANGE, "series": pro}, token=user_token)
    assert [(s["label"], s["total"]) for s in selected["trends"]] == [("all events", 2)]


async def test_read_tokens_may_ask_other_tokens_may_not(
    client: GraphQLClient, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    variables = {"range": RANGE, "series": ALL}
    assert await client.data(TRENDS, variables, token=await api_token(["READ"]))
    refused = await client.error_code(TRENDS, variables, token=await api_token(["INGEST"]))
    assert refused == "FORBIDDEN"
    assert await client.error_code(TRENDS, variables) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"series": []}, "series"),
        ({"series": ALL * 11}, "series"),
        ({"series": [{"event": {"eventType": "a\u0000"}}]}, "series[0].event.eventType"),
        ({"limit": 0, "breakdown": {"byEventType": True}}, "breakdownLimit"),
        ({"limit": 51}, "breakdownLimit"),
        ({"breakdown": {}}, "breakdown"),
        ({"breakdown": {"byEventType": False}}, "breakdown"),
        ({"breakdown": {"property": "plan", "byEventType": True}}, "breakdown"),
        ({"breakdown": {"property": "a..b"}}, "breakdown.property"),
        (
            {"series": [*ALL, {"event": {"where": [{"property": "n", "op": "GT", "value": "1"}]}}]},
            "series[1].event.where[0].value",
        ),
        ({"interval": "HOUR", "range": {"from": "2026-03-01", "to": "2026-04-01"}}, "range"),
        ({"range": {"from": "2026-03-02", "to": "2026-03-01"}}, "range"),
        ({"tz": "Mars/Olympus_Mons"}, "time zone"),
    ],
)
async def test_invalid_arguments_are_bad_user_input_naming_the_argument(
    client: GraphQLClient, user_token: str, variables: dict[str, Any], named: str
) -> None:
    body = await client.execute(
        TRENDS, {"range": RANGE, "series": ALL, **variables}, token=user_token
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert named in error["message"]


async def test_the_longest_hourly_range_is_accepted(client: GraphQLClient, user_token: str) -> None:
    longest = {"from": "2026-03-01", "to": "2026-03-31"}
    variables = {"range": longest, "series": ALL, "interval": "HOUR", "tz": "Europe/Berlin"}
    data = await client.data(TRENDS, variables, token=user_token)
    assert len(data["trends"][0]["points"]) == 31 * 24 - 1


async def test_a_breakdown_value_past_the_doubles_is_answered_as_a_number(
    engines: Engines, client: GraphQLClient, user_token: str
) -> None:
    # Both stores compare such numbers as infinities; JSON has none to answer with.
    at = dt.datetime(2026, 3, 1, 10, tzinfo=UTC)
    await put_hot(engines, [event("big", "alice", "view", at, plan=10**400)])
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 10, tzinfo=UTC))
    await put_hot(engines, [event("small", "bob", "view", at, plan=-(10**500))])
    breakdown = {"property": "plan"}
    variables = {"range": RANGE, "series": ALL, "breakdown": breakdown}
    data = await client.data(TRENDS, variables, token=user_token)
    values = sorted(series["breakdownValue"] for series in data["trends"])
    assert values == [-(10**999), 10**999]
