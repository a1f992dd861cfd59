"""``eventTypes`` and ``eventProperties`` over GraphQL: shapes, callers, invalid arguments."""

from __future__ import annotations

import pytest

from tests.analytics.test_graphql import RANGE, stored
from tests.graphql_client import GraphQLClient

__all__ = ["stored"]  # the fixture, shared with the other analytics fields

EVENT_TYPES = """query($range: DateRange!, $tz: String! = "UTC") {
  eventTypes(range: $range, timezone: $tz) { eventType events users lastSeenAt } }"""


@pytest.mark.usefixtures("stored")
async def test_event_types_of_both_tiers(client: GraphQLClient, user_token: str) -> None:
    data = await client.data(EVENT_TYPES, {"range": RANGE}, token=user_token)
    assert data["eventTypes"] == [
        {"eventType": "view", "events": 3, "users": 2, "lastSeenAt": "2026-03-02T12:00:00.000000Z"},
        {"eventType": "buy", "events": 1, "users": 1, "lastSeenAt": "2026-03-02T09:00:00.000000Z"},
    ]


async def test_event_types_refuse_invalid_arguments(client: GraphQLClient, user_token: str) -> None:
    for variables, argument in (
        ({"range": {"from": "2026-03-02", "to": "2026-03-01"}}, "range"),
        ({"range": RANGE, "tz": "Nowhere/City"}, "time zone"),
    ):
        body = await client.execute(EVENT_TYPES, variables, token=user_token)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert argument in error["message"]


PROPERTIES = """query($range: DateRange!, $type: String, $limit: Int! = 100) {
  eventProperties(range: $range, eventType: $type, limit: $limit) {
    property types events topValues } }"""


@pytest.mark.usefixtures("stored")
async def test_event_properties_of_both_tiers(client: GraphQLClient, user_token: str) -> None:
    data = await client.data(PROPERTIES, {"range": RANGE}, token=user_token)
    assert data["eventProperties"] == [
        {"property": "n", "types": ["number"], "events": 1, "topValues": [1]},
        {"property": "page", "types": ["string"], "events": 1, "topValues": ["home"]},
    ]
    data = await client.data(PROPERTIES, {"range": RANGE, "type": "buy"}, token=user_token)
    assert data["eventProperties"] == []
    data = await client.data(PROPERTIES, {"range": RANGE, "limit": 1}, token=user_token)
    assert [p["property"] for p in data["eventProperties"]] == ["n"]


async def test_event_properties_refuse_invalid_arguments(
    client: GraphQLClient, user_token: str
) -> None:
    for variables, argument in (
        ({"range": RANGE, "limit": 0}, "limit"),
        ({"range": RANGE, "limit": 1001}, "limit"),
        ({"range": RANGE, "type": "a\u0000"}, "eventType"),
        ({"range": {"from": "2026-03-02", "to": "2026-03-01"}}, "range"),
    ):
        body = await client.execute(PROPERTIES, variables, token=user_token)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert argument in error["message"]
