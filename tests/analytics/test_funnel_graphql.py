"""The funnel over GraphQL: its shape across tiers, and every invalid argument."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from eventide.archive.archiver import archive_pass
from eventide.storage.engines import Engines
from tests.analytics.stores import put_hot
from tests.analytics.test_graphql import event
from tests.graphql_client import GraphQLClient

UTC = dt.UTC
FUNNEL = """query($range: DateRange!, $steps: [EventSelector!]!, $order: FunnelOrder! = ORDERED,
                  $window: Int! = 86400, $breakdown: BreakdownInput, $limit: Int! = 10,
                  $tz: String! = "UTC") {
  funnel(range: $range, steps: $steps, order: $order, windowSeconds: $window,
         breakdown: $breakdown, breakdownLimit: $limit, timezone: $tz) {
    breakdownValue other steps { index users conversion medianSecondsFromPrevious } } }"""
RANGE = {"from": "2026-03-01", "to": "2026-03-02"}
STEPS = [{"eventType": "view"}, {"eventType": "buy"}]


@pytest.fixture
async def stored(engines: Engines) -> None:
    # alice views (cold) and buys 90 s later (hot); bob views, clicks, then buys.
    at = dt.datetime(2026, 3, 1, 10, tzinfo=UTC)
    await put_hot(
        engines,
        [
            event("a1", "alice", "view", at, plan="pro"),
            event("b1", "bob", "view", at, plan="free"),
            event("b2", "bob", "click", at + dt.timedelta(seconds=1)),
        ],
    )
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 10, tzinfo=UTC))
    await put_hot(
        engines,
        [
            event("a2", "alice", "buy", at + dt.timedelta(seconds=90)),
            event("b3", "bob", "buy", at + dt.timedelta(seconds=30)),
        ],
    )


@pytest.mark.usefixtures("stored")
async def test_funnel_across_tiers(client: GraphQLClient, user_token: str) -> None:
    data = await client.data(FUNNEL, {"range": RANGE, "steps": STEPS}, token=user_token)
    assert data["funnel"] == [
        {
            "breakdownValue": None,
            "other": False,
            "steps": [
                {"index": 0, "users": 2, "conversion": 1.0, "medianSecondsFromPrevious": None},
                {"index": 1, "users": 2, "conversion": 1.0, "medianSecondsFromPrevious": 60.0},
            ],
        }
    ]
    strict = await client.data(
        FUNNEL, {"range": RANGE, "steps": STEPS, "order": "STRICT"}, token=user_token
    )
    assert [s["users"] for s in strict["funnel"][0]["steps"]] == [2, 1]


@pytest.mark.usefixtures("stored")
async def test_medians_asked_through_a_fragment_or_not_at_all(
    client: GraphQLClient, user_token: str
) -> None:
    # Without medians only the depths are computed: the counts stay the same.
    query = """query($range: DateRange!, $steps: [EventSelector!]!) {
      counts: funnel(range: $range, steps: $steps) { steps { users } }
      medians: funnel(range: $range, steps: $steps) { steps { ...gap } } }
    fragment gap on FunnelStep { users medianSecondsFromPrevious }"""
    data = await client.data(query, {"range": RANGE, "steps": STEPS}, token=user_token)
    assert data["counts"] == [{"steps": [{"users": 2}, {"users": 2}]}]
    assert data["medians"] == [
        {
            "steps": [
                {"users": 2, "medianSecondsFromPrevious": None},
                {"users": 2, "medianSecondsFromPrevious": 60.0},
            ]
        }
    ]


@pytest.mark.usefixtures("stored")
async def test_where_in_steps_and_a_breakdown(client: GraphQLClient, user_token: str) -> None:
    pro = [{"eventType": "view", "where": [{"property": "plan", "op": "EQ", "value": "pro"}]}]
    data = await client.data(FUNNEL, {"range": RANGE, "steps": [*pro, STEPS[1]]}, token=user_token)
    assert [s["users"] for s in data["funnel"][0]["steps"]] == [1, 1]
    data = await client.data(
        FUNNEL,
        {"range": RANGE, "steps": STEPS, "breakdown": {"property": "plan"}, "limit": 1},
        token=user_token,
    )
    assert [(r["breakdownValue"], r["other"]) for r in data["funnel"]] == [
        ("free", False),  # one user each: by JSON text, "free" before "pro"
        (None, True),
    ]
    assert data["funnel"][1]["steps"][1]["medianSecondsFromPrevious"] == 90.0


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"steps": STEPS[:1]}, "steps"),
        ({"steps": STEPS * 6}, "steps"),
        ({"steps": [STEPS[0], {"eventType": "bu\x00y"}]}, "steps[1].eventType"),
        (
            {"steps": [STEPS[0], {"where": [{"property": "a..b", "op": "IS_SET"}]}]},
            "steps[1].where[0].property",
        ),
        ({"breakdown": {"property": ""}}, "breakdown.property"),
        ({"window": 0}, "windowSeconds"),
        ({"window": 90 * 86_400 + 1}, "windowSeconds"),
        ({"breakdown": {"byEventType": True}}, "byEventType"),
        ({"breakdown": {}}, "breakdown"),
        ({"breakdown": {"property": "p", "byEventType": True}}, "breakdown"),
        ({"limit": 0}, "breakdownLimit"),
        ({"limit": 51}, "breakdownLimit"),
        ({"tz": "Mars/Olympus"}, "time zone"),
        ({"range": {"from": "2026-03-02", "to": "2026-03-01"}}, "range"),
    ],
)
async def test_invalid_arguments_are_bad_user_input(
    client: GraphQLClient, user_token: str, variables: dict[str, Any], named: str
) -> None:
    body = await client.execute(
        FUNNEL, {"range": RANGE, "steps": STEPS, **variables}, token=user_token
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert named in error["message"]


async def test_an_entry_value_past_the_doubles_is_answered_as_a_number(
    engines: Engines, client: GraphQLClient, user_token: str
) -> None:
    at = dt.datetime(2026, 3, 1, 10, tzinfo=UTC)
    await put_hot(engines, [event("v", "carol", "view", at, plan=-(10**400))])
    variables = {"range": RANGE, "steps": STEPS, "breakdown": {"property": "plan"}}
    data = await client.data(FUNNEL, variables, token=user_token)
    assert [group["breakdownValue"] for group in data["funnel"]] == [-(10**999)]
