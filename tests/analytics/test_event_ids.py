"""Event.id: one id per stored event, the same on every page and in either store."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json

import pytest

from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.errors import InvalidInput
from eventide.graphql.node_ids import event_node_id, parse_event_node_id
from eventide.storage.engines import Engines
from tests.analytics.stores import put_hot
from tests.graphql_client import GraphQLClient

UTC = dt.UTC
EVENTS = """query($first: Int!, $after: String, $filter: EventFilter) {
  events(first: $first, after: $after, filter: $filter) {
    edges { node { id eventId receivedAt } }
    pageInfo { hasNextPage endCursor } } }"""
# Occurred on 1 and 2 March: a pass on 10 March (hot window: 7 days) archives them all.
ARCHIVED_BY = dt.datetime(2026, 3, 10, tzinfo=UTC)


def _event(event_id: str, occurred: dt.datetime, *, user: str = "alice") -> Event:
    return Event(
        event_id=event_id,
        user_id=user,
        event_type="view",
        occurred_at=occurred,
        received_at=occurred + dt.timedelta(seconds=3, microseconds=17),
        properties=None,
    )


STORED = [
    _event(f"e{i}", dt.datetime(2026, 3, 1 + i % 2, 8, i, tzinfo=UTC), user=f"u{i % 3}")
    for i in range(7)
]


async def _ids(
    client: GraphQLClient, token: str, *, first: int, **filter: str
) -> list[tuple[str, str]]:
    """(eventId, id) of every listed event, page by page."""
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        variables = {"first": first, "after": after, "filter": filter or None}
        page = (await client.data(EVENTS, variables, token=token))["events"]
        seen += [(e["node"]["eventId"], e["node"]["id"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_ids_are_stable_across_pages_filters_and_an_archive_pass(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    await put_hot(engines, STORED)
    hot = await _ids(client, user_token, first=1)
    assert len(hot) == len(STORED)
    assert len({node_id for _, node_id in hot}) == len(STORED)
    assert await _ids(client, user_token, first=3) == hot
    assert await _ids(client, user_token, first=50) == hot
    by_event = dict(hot)
    filtered = await _ids(client, user_token, first=2, userId="u1")
    assert [event_id for event_id, _ in filtered] == ["e1", "e4"]
    assert all(by_event[event_id] == node_id for event_id, node_id in filtered)

    await archive_pass(engines, trigger="cli", now=ARCHIVED_BY)
    assert await engines.cold.fetch("SELECT count() FROM project_events") == [(len(STORED),)]
    async with engines.db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
    assert await _ids(client, user_token, first=2) == hot


async def test_ids_are_the_same_while_only_some_events_are_archived(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    early, late = STORED[:3], STORED[3:]
    await put_hot(engines, early)
    await archive_pass(engines, trigger="cli", now=ARCHIVED_BY)
    await put_hot(engines, late)
    mixed = dict(await _ids(client, user_token, first=2))
    await archive_pass(engines, trigger="cli", now=ARCHIVED_BY)
    assert dict(await _ids(client, user_token, first=2)) == mixed
    assert mixed == {e.event_id: event_node_id(e, project=1) for e in STORED}


async def test_each_copy_of_an_event_id_accepted_again_has_its_own_id(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    # After its dedup window an eventId is stored again: two events, two cache entries.
    first = _event("same", dt.datetime(2026, 3, 1, 10, tzinfo=UTC))
    await put_hot(engines, [first])
    await archive_pass(engines, trigger="cli", now=ARCHIVED_BY)
    again = dataclasses.replace(first, received_at=first.received_at + dt.timedelta(days=40))
    await put_hot(engines, [again])
    listed = await _ids(client, user_token, first=1)
    assert [event_id for event_id, _ in listed] == ["same", "same"]
    assert listed[0][1] != listed[1][1]


def test_an_id_names_its_project_event_and_receipt() -> None:
    event = STORED[0]
    node_id = event_node_id(event, project=1)
    # Project 1 holds what was stored before projects: its ids are those given out then.
    assert parse_event_node_id(node_id) == (None, "e0", 1772352003000017)
    assert event.received_at == dt.datetime(2026, 3, 1, 8, 0, 3, 17, tzinfo=UTC)
    # Opaque to clients: URL-safe, unpadded, and no event id shows through.
    assert "=" not in node_id
    assert "e0" not in node_id
    other = event_node_id(event, project=42)
    assert other != node_id
    assert parse_event_node_id(other) == ("42", "e0", 1772352003000017)


def _forged(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    "node_id",
    [
        _forged("Event", None, "e0"),
        _forged("User", None, "e0", 1),
        _forged("Event", 7, "e0", 1),
        _forged("Event", None, 5, 1),
        _forged("Event", None, "e0", 1.5),
        _forged("Event", None, "e0", True),
        "not base64 at all!",
        "",
    ],
)
def test_anything_else_is_not_an_event_id(node_id: str) -> None:
    with pytest.raises(InvalidInput, match="Invalid event id"):
        parse_event_node_id(node_id)
