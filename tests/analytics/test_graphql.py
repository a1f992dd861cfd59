"""The analytics fields over GraphQL: shapes, callers, and every invalid argument."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.storage.engines import Engines
from tests.analytics.stores import put_hot
from tests.graphql_client import GraphQLClient

UTC = dt.UTC
DAU = """query($range: DateRange!, $tz: String! = "UTC", $type: String) {
  dau(range: $range, timezone: $tz, eventType: $type) { date users } }"""
TOP = """query($range: DateRange!, $tz: String! = "UTC", $limit: Int! = 10) {
  topEvents(range: $range, timezone: $tz, limit: $limit) { eventType events users } }"""
RETENTION = """query($range: DateRange!, $tz: String! = "UTC", $periods: Int! = 2,
                     $period: RetentionPeriod! = DAY, $kind: CohortKind! = FIRST_SEEN) {
  retention(range: $range, timezone: $tz, periods: $periods, period: $period, cohort: $kind) {
    cohort size retained } }"""
EVENTS = """query($filter: EventFilter, $first: Int! = 50, $after: String) {
  events(filter: $filter, first: $first, after: $after) {
    edges { cursor node { eventId userId eventType occurredAt receivedAt properties } }
    pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }"""
RANGE = {"from": "2026-03-01", "to": "2026-03-03"}


def event(event_id: str, user: str, kind: str, occurred: dt.datetime, **props: Any) -> Event:
    return Event(
        event_id=event_id,
        user_id=user,
        event_type=kind,
        occurred_at=occurred,
        received_at=occurred + dt.timedelta(seconds=5),
        properties=props or None,
    )


@pytest.fixture
async def stored(engines: Engines) -> None:
    # alice is active on 1 and 2 March in both tiers; bob on 2 March, hot only.
    await put_hot(
        engines,
        [
            event("c1", "alice", "view", dt.datetime(2026, 3, 1, 10, tzinfo=UTC), page="home"),
            event("c2", "alice", "buy", dt.datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ],
    )
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 10, tzinfo=UTC))
    await put_hot(
        engines,
        [
            event("h1", "alice", "view", dt.datetime(2026, 3, 2, 11, 0, 0, 250000, tzinfo=UTC)),
            event("h2", "bob", "view", dt.datetime(2026, 3, 2, 12, tzinfo=UTC), n=1),
        ],
    )
    assert await engines.cold.fetch("SELECT count() FROM project_events") == [(2,)]


@pytest.mark.usefixtures("stored")
async def test_answers_for_a_user_session(client: GraphQLClient, user_token: str) -> None:
    data = await client.data(DAU, {"range": RANGE}, token=user_token)
    assert data["dau"] == [
        {"date": "2026-03-01", "users": 1},
        {"date": "2026-03-02", "users": 2},
        {"date": "2026-03-03", "users": 0},
    ]
    data = await client.data(TOP, {"range": RANGE}, token=user_token)
    assert data["topEvents"] == [
        {"eventType": "view", "events": 3, "users": 2},
        {"eventType": "buy", "events": 1, "users": 1},
    ]
    data = await client.data(RETENTION, {"range": RANGE}, token=user_token)
    assert data["retention"] == [
        {"cohort": "2026-03-01", "size": 1, "retained": [1, 1, 0]},
        {"cohort": "2026-03-02", "size": 1, "retained": [1, 0, 0]},
        {"cohort": "2026-03-03", "size": 0, "retained": [0, 0, 0]},
    ]
    data = await client.data(
        RETENTION, {"range": RANGE, "period": "WEEK", "kind": "ACTIVE"}, token=user_token
    )
    # Sunday 1 March ends the week of 23 February; Monday 2 March starts the next.
    assert data["retention"] == [
        {"cohort": "2026-02-23", "size": 1, "retained": [1, 1, 0]},
        {"cohort": "2026-03-02", "size": 2, "retained": [2, 0, 0]},
    ]


@pytest.mark.usefixtures("stored")
async def test_events_pages_across_tiers(client: GraphQLClient, user_token: str) -> None:
    first = await client.data(EVENTS, {"first": 2}, token=user_token)
    edges = first["events"]["edges"]
    assert [e["node"]["eventId"] for e in edges] == ["h2", "h1"]
    assert edges[0]["node"] == {
        "eventId": "h2",
        "userId": "bob",
        "eventType": "view",
        "occurredAt": "2026-03-02T12:00:00.000000Z",
        "receivedAt": "2026-03-02T12:00:05.000000Z",
        "properties": {"n": 1},
    }
    assert first["events"]["pageInfo"] == {
        "hasNextPage": True,
        "endCursor": edges[1]["cursor"],
        "hasPreviousPage": False,
        "startCursor": edges[0]["cursor"],
    }
    rest = await client.data(EVENTS, {"first": 2, "after": edges[1]["cursor"]}, token=user_token)
    rest_edges = rest["events"]["edges"]
    nodes = [e["node"] for e in rest_edges]
    assert [n["eventId"] for n in nodes] == ["c2", "c1"]
    assert nodes[1]["properties"] == {"page": "home"}
    assert nodes[0]["properties"] is None
    assert rest["events"]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": rest_edges[1]["cursor"],
        "hasPreviousPage": False,  # paging forward: Relay's answer even after a cursor
        "startCursor": rest_edges[0]["cursor"],
    }
    none = await client.data(EVENTS, {"filter": {"userId": "nobody"}}, token=user_token)
    assert none["events"] == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "endCursor": None,
            "hasPreviousPage": False,
            "startCursor": None,
        },
    }
    filtered = await client.data(
        EVENTS,
        {
            "filter": {
                "userId": "alice",
                "eventType": "view",
                "from": "2026-03-01T10:00:00Z",
                "to": "2026-03-02T11:00:00.25Z",
            }
        },
        token=user_token,
    )
    assert [e["node"]["eventId"] for e in filtered["events"]["edges"]] == ["c1"]


async def test_an_event_id_accepted_again_is_listed_with_each_copy(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    # After its dedup window an id is accepted again, even with the same occurredAt.
    copy = event("same", "alice", "view", dt.datetime(2026, 3, 1, 10, tzinfo=UTC))
    await put_hot(engines, [copy])
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 10, tzinfo=UTC))
    again = dataclasses.replace(copy, received_at=copy.received_at + dt.timedelta(days=40))
    await put_hot(engines, [again])
    received, after = [], None
    while True:
        page = (await client.data(EVENTS, {"first": 1, "after": after}, token=user_token))["events"]
        received += [edge["node"]["receivedAt"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert received == ["2026-04-10T10:00:05.000000Z", "2026-03-01T10:00:05.000000Z"]


async def test_read_tokens_may_query_other_tokens_may_not(
    client: GraphQLClient, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    variables = {"range": RANGE}
    assert await client.data(DAU, variables, token=await api_token(["READ"]))
    assert await client.error_code(DAU, variables, token=await api_token(["INGEST"])) == "FORBIDDEN"
    assert await client.error_code(EVENTS, token=await api_token(["INGEST"])) == "FORBIDDEN"
    assert await client.error_code(DAU, variables) == "UNAUTHENTICATED"


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (DAU, {"range": RANGE, "tz": "Mars/Olympus_Mons"}),
        (DAU, {"range": RANGE, "tz": ""}),
        (DAU, {"range": RANGE, "tz": "../../etc/passwd"}),
        (TOP, {"range": RANGE, "tz": "Not/AZone"}),
        (RETENTION, {"range": RANGE, "tz": "utc+1"}),
        (DAU, {"range": {"from": "2026-03-02", "to": "2026-03-01"}}),
        (TOP, {"range": {"from": "2026-03-02", "to": "2026-03-01"}}),
        (RETENTION, {"range": {"from": "2026-03-02", "to": "2026-03-01"}}),
        (DAU, {"range": {"from": "2016-01-01", "to": "2026-01-08"}}),  # 3,661 days
        (TOP, {"range": {"from": "2016-01-01", "to": "2026-01-08"}}),
        (RETENTION, {"range": {"from": "2016-01-01", "to": "2026-01-08"}}),
        (TOP, {"range": RANGE, "limit": 0}),
        (TOP, {"range": RANGE, "limit": 1001}),
        (RETENTION, {"range": RANGE, "periods": -1}),
        (RETENTION, {"range": RANGE, "periods": 401}),
        (DAU, {"range": RANGE, "type": "view\u0000"}),
        (EVENTS, {"filter": {"userId": "\u0000"}}),
        (EVENTS, {"after": _cursor('["events", 1, "\\ud800", 1]')}),
        (EVENTS, {"first": 0}),
        (EVENTS, {"first": 1001}),
        (EVENTS, {"after": "not a cursor"}),
        (EVENTS, {"after": _cursor('["users", 1, "x"]')}),
        (EVENTS, {"after": _cursor('["events", "1", "x", 1]')}),
        (EVENTS, {"after": _cursor('["events", 1, "x"]')}),
        (EVENTS, {"after": _cursor('["events", true, "x", 1]')}),
        (EVENTS, {"after": _cursor('["events", 1, "x", 1.5]')}),
    ],
)
async def test_invalid_arguments_are_bad_user_input(
    client: GraphQLClient, user_token: str, query: str, variables: dict[str, Any]
) -> None:
    assert await client.error_code(query, variables, token=user_token) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (DAU, {"range": {"from": "2026-02-30", "to": "2026-03-01"}}),
        (EVENTS, {"filter": {"from": "2026-03-01T10:00:00"}}),  # no offset
    ],
)
async def test_malformed_scalars_are_bad_user_input(
    client: GraphQLClient, user_token: str, query: str, variables: dict[str, Any]
) -> None:
    assert await client.error_code(query, variables, token=user_token) == "BAD_USER_INPUT"


async def test_unpaired_surrogates_are_bad_user_input(
    client: GraphQLClient, user_token: str
) -> None:
    # A JSON client may send "\ud800"; Python decodes it to a lone surrogate.
    body = json.dumps({"query": EVENTS, "variables": {"filter": {"eventType": "\ud800"}}})
    response = await client.http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {user_token}", "Content-Type": "application/json"},
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "eventType" in error["message"]


async def test_longest_range_and_extreme_arguments_are_accepted(
    client: GraphQLClient, user_token: str
) -> None:
    longest = {"from": "2016-01-01", "to": "2026-01-07"}  # 3,660 days
    data = await client.data(DAU, {"range": longest, "tz": "Asia/Kathmandu"}, token=user_token)
    assert len(data["dau"]) == 3660
    data = await client.data(RETENTION, {"range": longest, "period": "MONTH"}, token=user_token)
    assert len(data["retention"]) == 121
    one_day = {"from": "2026-01-07", "to": "2026-01-07"}
    data = await client.data(
        RETENTION, {"range": one_day, "periods": 400, "period": "MONTH"}, token=user_token
    )
    assert data["retention"] == [{"cohort": "2026-01-01", "size": 0, "retained": [0] * 401}]
    assert await client.data(TOP, {"range": RANGE, "limit": 1000}, token=user_token)
    assert await client.data(EVENTS, {"first": 1000}, token=user_token)


async def test_stored_text_that_reads_like_sql_is_only_data(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    # Hot rows travel inside the cold statement; the tenant guard checks the statement
    # before they are put in, so no event type or user id can trip it.
    day = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    await put_hot(
        engines,
        [
            event("s1", "x JOIN project_events", "a FROM events", day),
            event("s2", "y", "UPDATE events", day + dt.timedelta(minutes=1)),
        ],
    )
    top = await client.data(TOP, {"range": RANGE}, token=user_token)
    assert top["topEvents"] == [
        {"eventType": "UPDATE events", "events": 1, "users": 1},
        {"eventType": "a FROM events", "events": 1, "users": 1},
    ]
    cohorts = await client.data(RETENTION, {"range": RANGE}, token=user_token)
    assert [c["size"] for c in cohorts["retention"]] == [0, 2, 0]
