"""Property conditions over GraphQL: dau, topEvents, retention and the events listing
answer for the matching events of both tiers, invalid conditions are BAD_USER_INPUT
naming the argument, and a cursor pages through the conditions it was made for only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from eventide.archive.archiver import archive_pass
from eventide.storage.engines import Engines
from tests.analytics.stores import put_hot
from tests.analytics.test_graphql import event
from tests.graphql_client import GraphQLClient

UTC = dt.UTC
RANGE = {"from": "2026-03-01", "to": "2026-03-02"}
QUERY = """query($range: DateRange!, $where: [PropertyFilter!], $cohort: [PropertyFilter!],
                 $return: [PropertyFilter!]) {
  dau(range: $range, where: $where) { date users }
  topEvents(range: $range, where: $where) { eventType events users }
  retention(range: $range, periods: 1, cohortWhere: $cohort, returnWhere: $return) {
    cohort size retained }
  events(filter: {where: $where}) { edges { node { eventId } } } }"""
EVENTS = """query($where: [PropertyFilter!], $first: Int! = 50, $after: String) {
  events(filter: {where: $where}, first: $first, after: $after) {
    edges { node { eventId } } pageInfo { endCursor } } }"""
PRO = [{"property": "plan", "op": "EQ", "value": "pro"}]


@pytest.fixture
async def stored(engines: Engines) -> None:
    # Cold: alice on 1 March (pro), carol on 2 March (plan 1, a number). Hot: bob on
    # 2 March (pro, nested), alice on 2 March (no properties).
    await put_hot(
        engines,
        [
            event("c1", "alice", "view", dt.datetime(2026, 3, 1, 10, tzinfo=UTC), plan="pro"),
            event("c2", "carol", "buy", dt.datetime(2026, 3, 2, 9, tzinfo=UTC), plan=1),
        ],
    )
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 10, tzinfo=UTC))
    await put_hot(
        engines,
        [
            event("h1", "alice", "view", dt.datetime(2026, 3, 2, 11, tzinfo=UTC)),
            event(
                "h2", "bob", "buy", dt.datetime(2026, 3, 2, 12, tzinfo=UTC), plan="pro", o={"a": 2}
            ),
        ],
    )


@pytest.mark.usefixtures("stored")
async def test_conditions_select_events_of_both_tiers(
    client: GraphQLClient, user_token: str
) -> None:
    variables = {"range": RANGE, "where": PRO, "cohort": PRO, "return": PRO}
    data = await client.data(QUERY, variables, token=user_token)
    assert data["dau"] == [{"date": "2026-03-01", "users": 1}, {"date": "2026-03-02", "users": 1}]
    assert data["topEvents"] == [
        {"eventType": "buy", "events": 1, "users": 1},
        {"eventType": "view", "events": 1, "users": 1},
    ]
    # alice's first pro event is on 1 March, bob's on 2 March; neither came back as pro.
    assert data["retention"] == [
        {"cohort": "2026-03-01", "size": 1, "retained": [1, 0]},
        {"cohort": "2026-03-02", "size": 1, "retained": [1, 0]},
    ]
    assert [e["node"]["eventId"] for e in data["events"]["edges"]] == ["h2", "c1"]
    # "1" is not 1; nested paths; every condition must hold.
    where = [
        {"property": "plan", "op": "IN", "value": [1, "x"]},
        {"property": "o.a", "op": "IS_NOT_SET"},
    ]
    data = await client.data(QUERY, {"range": RANGE, "where": where}, token=user_token)
    assert [e["node"]["eventId"] for e in data["events"]["edges"]] == ["c2"]
    where = [{"property": "o.a", "op": "GTE", "value": 2.0}]
    data = await client.data(QUERY, {"range": RANGE, "where": where}, token=user_token)
    assert data["topEvents"] == [{"eventType": "buy", "events": 1, "users": 1}]


@pytest.mark.usefixtures("stored")
async def test_cursors_belong_to_their_conditions(client: GraphQLClient, user_token: str) -> None:
    page = await client.data(EVENTS, {"where": PRO, "first": 1}, token=user_token)
    cursor = page["events"]["pageInfo"]["endCursor"]
    rest = await client.data(EVENTS, {"where": PRO, "after": cursor}, token=user_token)
    assert [e["node"]["eventId"] for e in rest["events"]["edges"]] == ["c1"]
    other = [{"property": "plan", "op": "NEQ", "value": "pro"}]
    body = await client.execute(EVENTS, {"where": other, "after": cursor}, token=user_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "another filter" in body["errors"][0]["message"]
    body = await client.execute(EVENTS, {"after": cursor}, token=user_token)
    assert "another filter" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"where": [{"property": "a", "op": "GT", "value": "1"}]}, "where[0].value"),
        ({"where": [{"property": "a..b", "op": "IS_SET"}]}, "where[0].property"),
        ({"where": [{"property": "a", "op": "IS_SET"}] * 21}, "where takes at most 20"),
        ({"cohort": [{"property": "a", "op": "IN", "value": 1}]}, "cohortWhere[0].value"),
        ({"return": [{"property": "a", "op": "EQ"}]}, "returnWhere[0].value"),
    ],
)
async def test_invalid_conditions_name_their_argument(
    client: GraphQLClient, user_token: str, variables: dict[str, Any], message: str
) -> None:
    body = await client.execute(QUERY, {"range": RANGE, **variables}, token=user_token)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


async def test_listing_conditions_are_named_as_filter_where(
    client: GraphQLClient, user_token: str
) -> None:
    where = [{"property": "a", "op": "CONTAINS", "value": 1}]
    body = await client.execute(EVENTS, {"where": where}, token=user_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "filter.where[0].value" in body["errors"][0]["message"]


@pytest.mark.usefixtures("stored")
async def test_the_readme_example_runs(client: GraphQLClient, user_token: str) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("### Property filters") :]
    example = section[section.index("```graphql") + len("```graphql") : section.index("```\n\n")]
    data = await client.data(example, token=user_token)
    assert len(data["dau"]) == 7
