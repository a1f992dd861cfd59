"""``eraseEndUser`` and ``erasures`` over GraphQL: re-sent erased events stay duplicates,
later ones are new, and the erasure completes in the background."""

from __future__ import annotations

import datetime as dt
from typing import Any

from eventide.lifecycle.completion import complete_erasures
from eventide.storage.engines import Engines
from tests.conftest import TEST_PROJECT
from tests.graphql_client import GraphQLClient
from tests.lifecycle.erasing import erase
from tests.observability.test_metrics import scrape
from tests.waiting import eventually

INGEST = """mutation($events: [EventInput!]!) {
  ingestEvents(events: $events) { accepted duplicates }
}"""
ERASE = """mutation($u: String!) {
  eraseEndUser(userId: $u) { id userId requestedAt completedAt deletedEvents }
}"""
ERASURES = "{ erasures { id userId completedAt deletedEvents } }"
EVENTS = "{ events(first: 50) { edges { node { eventId userId } } } }"


def _event(event_id: str, user_id: str) -> dict[str, Any]:
    occurred = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return {
        "eventId": event_id,
        "userId": user_id,
        "eventType": "view",
        "occurredAt": occurred.isoformat().replace("+00:00", "Z"),
    }


async def _ingest(client: GraphQLClient, token: str, *events: dict[str, Any]) -> dict[str, Any]:
    data = await client.data(INGEST, {"events": list(events)}, token=token)
    result: dict[str, Any] = data["ingestEvents"]
    return result


async def _event_ids(client: GraphQLClient, token: str) -> set[str]:
    data = await client.data(EVENTS, token=token)
    return {edge["node"]["eventId"] for edge in data["events"]["edges"]}


async def test_erasure_over_graphql(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    await _ingest(
        client, user_token, _event("a1", "alice"), _event("a2", "alice"), _event("b1", "bob")
    )
    erased = (await client.data(ERASE, {"u": "alice"}, token=user_token))["eraseEndUser"]
    assert erased["userId"] == "alice"
    assert await _event_ids(client, user_token) == {"b1"}

    # A re-sent copy of an erased event is a duplicate; a new event of the user is data.
    assert await _ingest(client, user_token, _event("a1", "alice")) == {
        "accepted": 0,
        "duplicates": 1,
    }
    assert await _ingest(client, user_token, _event("a3", "alice")) == {
        "accepted": 1,
        "duplicates": 0,
    }
    assert await _event_ids(client, user_token) == {"b1", "a3"}

    async def completed() -> dict[str, Any] | None:
        listed = (await client.data(ERASURES, token=user_token))["erasures"]
        return listed[0] if listed[0]["completedAt"] else None

    done = await eventually(completed, what="the erasure completes")
    assert (await scrape(client))[("eventide_erasures_pending", ())] == 0
    assert done == {
        "id": erased["id"],
        "userId": "alice",
        "completedAt": done["completedAt"],
        "deletedEvents": 2,
    }
    second = (await client.data(ERASE, {"u": "bob"}, token=user_token))["eraseEndUser"]
    listed = (await client.data(ERASURES, token=user_token))["erasures"]
    assert [e["id"] for e in listed] == [second["id"], erased["id"]]
    assert await _event_ids(client, user_token) == {"a3"}


async def test_pending_erasures_are_a_metric(client: GraphQLClient, engines: Engines) -> None:
    await erase(engines, TEST_PROJECT, "carol")  # its completion is not started
    assert (await scrape(client))[("eventide_erasures_pending", ())] == 1
    await complete_erasures(engines)
    assert (await scrape(client))[("eventide_erasures_pending", ())] == 0


async def test_a_user_id_is_checked(client: GraphQLClient, user_token: str) -> None:
    for bad in ("", "x" * 257, "a\x00b"):
        body = await client.execute(ERASE, {"u": bad}, token=user_token)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
