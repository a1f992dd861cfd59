from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.graphql_client import GraphQLClient
from tests.ingest.test_service import _wait_for_blocked_backend

INGEST = """
mutation Ingest($events: [EventInput!]!, $sentAt: DateTime) {
  ingestEvents(events: $events, sentAt: $sentAt) {
    accepted duplicates rejected { index eventId code message }
  }
}"""


def iso(instant: dt.datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def event(event_id: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": event_id,
        "userId": "u1",
        "eventType": "click",
        "occurredAt": iso(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)),
    }
    return base | changes


async def send(
    client: GraphQLClient, token: str, events: list[dict[str, Any]], **variables: Any
) -> dict[str, Any]:
    data = await client.data(INGEST, {"events": events, **variables}, token=token)
    result: dict[str, Any] = data["ingestEvents"]
    return result


async def stored(engines: Engines) -> list[str]:
    rows = await engines.db.fetch("SELECT event_id FROM events ORDER BY event_id")
    return [r["event_id"] for r in rows]


async def test_a_mixed_batch_stores_the_valid_events_and_lists_the_others(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    deep: dict[str, Any] = {}
    for _ in range(11):
        deep = {"k": deep}
    events = [
        event("ok-1", properties={"plan": "pro"}),
        event("", userId="u2"),
        event("ok-1"),
        event("big", properties={"p": "x" * 33_000}),
        event("deep", properties=deep),
        event("list", properties=[1, 2]),
        event("later", occurredAt=iso(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25))),
        event("nul\u0000", userId="u3"),
        event("ok-2", userId="nul\u0000"),
        event("ok-3", properties=None),
    ]
    result = await send(client, user_token, events)
    assert result["accepted"] == 2
    assert result["duplicates"] == 1
    assert [(r["index"], r["eventId"], r["code"]) for r in result["rejected"]] == [
        (1, None, "INVALID_FIELD"),
        (3, "big", "PROPERTIES_TOO_LARGE"),
        (4, "deep", "PROPERTIES_TOO_DEEP"),
        (5, "list", "PROPERTIES_NOT_OBJECT"),
        (6, "later", "FUTURE_TIMESTAMP"),
        (7, None, "INVALID_FIELD"),
        (8, "ok-2", "INVALID_FIELD"),
    ]
    assert all(r["message"] for r in result["rejected"])
    assert await stored(engines) == ["ok-1", "ok-3"]
    props = await engines.db.fetch("SELECT properties FROM events ORDER BY event_id")
    assert [r["properties"] for r in props] == [{"plan": "pro"}, None]


async def test_repeats_within_and_across_calls_are_duplicates(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    first = await send(client, user_token, [event("a", userId="first"), event("a"), event("a")])
    assert (first["accepted"], first["duplicates"]) == (1, 2)
    second = await send(client, user_token, [event("a", userId="second"), event("b")])
    assert (second["accepted"], second["duplicates"]) == (1, 1)
    row = await engines.db.fetchrow("SELECT user_id FROM events WHERE event_id = 'a'")
    assert row["user_id"] == "first"
    assert await stored(engines) == ["a", "b"]


async def test_a_repeat_of_an_archived_event_is_a_duplicate(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    await send(client, user_token, [event("archived")])
    # An archive pass leaves the ledger row and moves the event out of the hot store.
    await engines.db.execute("DELETE FROM events")
    result = await send(client, user_token, [event("archived")])
    assert (result["accepted"], result["duplicates"]) == (0, 1)
    assert await stored(engines) == []


async def test_literal_arguments_work_like_variables(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    occurred = iso(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    query = """mutation($p: JSON) { ingestEvents(events: [
        {eventId: "lit-1", userId: "u", eventType: "view", occurredAt: "%s",
         properties: {plan: "pro", n: [1, 2.5, null], ok: true}},
        {eventId: "lit-2", userId: "u", eventType: "view", occurredAt: "%s", properties: $p},
        {eventId: "lit-3", userId: "u", eventType: "view", occurredAt: "%s", properties: 7}
    ]) { accepted duplicates rejected { index code } } }""" % ((occurred,) * 3)
    data = await client.data(query, {"p": {"from": "variable"}}, token=user_token)
    assert data["ingestEvents"] == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": [{"index": 2, "code": "PROPERTIES_NOT_OBJECT"}],
    }
    rows = await engines.db.fetch("SELECT properties FROM events ORDER BY event_id")
    assert [r["properties"] for r in rows] == [
        {"plan": "pro", "n": [1, 2.5, None], "ok": True},
        {"from": "variable"},
    ]


async def test_more_than_the_batch_limit_fails_whole(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    events = [event(f"e{i}") for i in range(1001)]
    body = await client.execute(INGEST, {"events": events}, token=user_token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "1000" in body["errors"][0]["message"]
    assert await engines.db.fetchval("SELECT count(*) FROM event_ids") == 0
    code = await client.error_code(INGEST, {"events": []}, token=user_token)
    assert code == "BAD_USER_INPUT"
    result = await send(client, user_token, events[:1000])
    assert result["accepted"] == 1000


async def test_malformed_input_is_bad_user_input(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    missing_id = {k: v for k, v in event("x").items() if k != "eventId"}
    for bad in (
        [missing_id],
        [event("x", occurredAt="yesterday")],
        [event("x", occurredAt="2026-11-20T10:00:00")],
        [event("x", userId=5)],
        [event("x", extra=1)],
        [None],
    ):
        assert await client.error_code(INGEST, {"events": bad}, token=user_token) == (
            "BAD_USER_INPUT"
        ), bad
    assert await stored(engines) == []


async def test_sent_at_corrects_clock_skew_keeping_sub_second_precision(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    device_now = dt.datetime.now(dt.UTC) + dt.timedelta(days=2, microseconds=250_125)
    occurred = device_now - dt.timedelta(seconds=3, microseconds=400_001)
    result = await send(
        client,
        user_token,
        [event("skewed", occurredAt=iso(occurred)), event("plain", occurredAt=iso(occurred))],
        sentAt=iso(device_now),
    )
    assert result["accepted"] == 2
    row = await engines.db.fetchrow(
        "SELECT occurred_at, received_at FROM events WHERE event_id = 'skewed'"
    )
    assert row["occurred_at"] == occurred + (row["received_at"] - device_now)
    assert row["received_at"] - row["occurred_at"] == dt.timedelta(seconds=3, microseconds=400_001)


async def test_eight_clients_with_overlapping_batches_store_each_id_once(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    batches = [[event(f"e{(k * 53 + i) % 400}") for i in range(250)] for k in range(8)]
    results = await asyncio.gather(*(send(client, user_token, b) for b in batches))
    distinct = {e["eventId"] for b in batches for e in b}
    assert sum(r["accepted"] for r in results) == len(distinct)
    assert sum(r["accepted"] + r["duplicates"] for r in results) == 8 * 250
    assert await stored(engines) == sorted(distinct)


async def test_a_postgresql_failure_fails_the_call_and_a_retry_stores_each_event_once(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    await send(client, user_token, [event("before")])
    batch = [event("before"), *(event(f"e{i}") for i in range(50))]
    async with engines.db.acquire() as blocker, blocker.transaction():
        await blocker.execute("LOCK TABLE event_ids IN EXCLUSIVE MODE")
        call = asyncio.create_task(client.execute(INGEST, {"events": batch}, token=user_token))
        pid = await _wait_for_blocked_backend(blocker)
        await blocker.execute("SELECT pg_terminate_backend($1)", pid)
        body = await call
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "retry" in body["errors"][0]["message"]
    assert await stored(engines) == ["before"]

    result = await send(client, user_token, batch)
    assert (result["accepted"], result["duplicates"]) == (50, 1)
    again = await send(client, user_token, batch)
    assert (again["accepted"], again["duplicates"]) == (0, 51)
    rows = await engines.db.fetchval("SELECT count(*) FROM events")
    assert rows == 51


async def test_api_tokens_need_the_ingest_scope(
    client: GraphQLClient,
    engines: Engines,
    api_token: Callable[[list[str]], Awaitable[str]],
) -> None:
    ingest_token = await api_token(["INGEST"])
    assert (await send(client, ingest_token, [event("t1")]))["accepted"] == 1
    read_token = await api_token(["READ"])
    body = await client.execute(INGEST, {"events": [event("t2")]}, token=read_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await client.execute(INGEST, {"events": [event("t3")]})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await stored(engines) == ["t1"]


async def test_properties_keep_huge_integers_and_refuse_nan(
    client: GraphQLClient, engines: Engines, user_token: str
) -> None:
    big = event("big", properties={"n": 2**70, "nested": {"m": -(2**65)}})
    nan = event("nan", properties={"x": "not a number"})
    # NaN is not JSON, but Python's parser (and so the server's) lets it through. A string
    # marks the place: a number could also occur in a timestamp of the body.
    body = json.dumps({"query": INGEST, "variables": {"events": [big, nan]}})
    body = body.replace('"not a number"', "NaN")
    response = await client.http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {user_token}", "Content-Type": "application/json"},
    )
    result = response.json()["data"]["ingestEvents"]
    assert result["accepted"] == 1
    assert [(r["index"], r["code"]) for r in result["rejected"]] == [(1, "INVALID_FIELD")]
    stored_properties = await engines.db.fetchval(
        "SELECT properties::text FROM events WHERE event_id = 'big'"
    )
    assert (
        stored_properties == '{"n": 1180591620717411303424, "nested": {"m": -36893488147419103232}}'
    )


async def test_events_past_retention_are_rejected_one_by_one(
    engines: Engines, user_token: str
) -> None:
    async with configured_client(engines, retention_days=30) as client:
        now = dt.datetime.now(dt.UTC)
        result = await send(
            client,
            user_token,
            [
                event("recent"),
                event("expired", occurredAt=iso(now - dt.timedelta(days=30, minutes=16))),
            ],
        )
    assert (result["accepted"], result["duplicates"]) == (1, 0)
    [rejection] = result["rejected"]
    assert (rejection["index"], rejection["eventId"], rejection["code"]) == (
        1,
        "expired",
        "TIMESTAMP_TOO_OLD",
    )
    assert "retention" in rejection["message"]
    assert await stored(engines) == ["recent"]
