"""The Prometheus endpoint: operations by name and outcome, pools, the shared counters."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventide.observability import metrics
from eventide.observability.metrics import operation_label
from tests.graphql_client import GraphQLClient


@pytest.fixture(autouse=True)
def operation_names(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The process-wide set of operation names seen, empty here and restored after:
    a test that fills it must not turn later tests' operation names into 'other'.
    Counters are shared by the process too; tests compare them before and after."""
    names: set[str] = set()
    monkeypatch.setattr(metrics, "_seen_operations", names)
    return names


async def scrape(client: GraphQLClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def operations(name: str, outcome: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("eventide_graphql_operations_total", (("operation", name), ("outcome", outcome)))


async def test_operations_are_counted_by_name_and_outcome(client: GraphQLClient) -> None:
    before = await scrape(client)
    await client.data("query Dashboard { version }")
    await client.data("query Dashboard { version }")
    await client.execute("query Broken { nope }")
    await client.execute("{ me { id } }")
    after = await scrape(client)

    def grew(key: tuple[str, tuple[tuple[str, str], ...]]) -> float:
        return after.get(key, 0) - before.get(key, 0)

    assert grew(operations("Dashboard", "ok")) == 2
    assert grew(operations("Broken", "GRAPHQL_VALIDATION_FAILED")) == 1
    assert grew(operations("anonymous", "UNAUTHENTICATED")) == 1
    latency = (
        "eventide_graphql_operation_duration_seconds_count",
        (("operation", "Dashboard"), ("outcome", "ok")),
    )
    assert grew(latency) == 2


async def test_http_requests_and_pool_usage_are_exposed(client: GraphQLClient) -> None:
    health = ("eventide_http_requests_total", (("route", "/health"), ("status", "200")))
    before = (await scrape(client)).get(health, 0)
    await client.http.get("/health")
    samples = await scrape(client)
    assert samples[health] - before == 1
    size = samples[("eventide_db_pool_connections", ())]
    idle = samples[("eventide_db_pool_idle_connections", ())]
    assert 0 <= idle <= size <= samples[("eventide_db_pool_max_connections", ())]


async def test_ingestion_and_archive_metrics_are_exposed(
    client: GraphQLClient, admin_token: str
) -> None:
    before = await scrape(client)
    ingest = """mutation($events: [EventInput!]!) {
        ingestEvents(events: $events) { accepted duplicates }
    }"""
    now = dt.datetime.now(dt.UTC)
    event = {"eventId": "m1", "userId": "u", "eventType": "t", "occurredAt": now.isoformat()}
    bad = {**event, "eventId": ""}
    await client.data(ingest, {"events": [event, event, bad]}, token=admin_token)
    await client.data("mutation { archiveNow { moved } }", token=admin_token)

    after = await scrape(client)
    for outcome in ("accepted", "duplicate", "rejected"):
        key = ("eventide_events_total", (("outcome", outcome),))
        assert after[key] - before.get(key, 0) == 1, outcome
    assert after[("eventide_archive_lag_seconds", ())] == 0
    assert after[("eventide_archive_last_run_moved_events", ())] == 0
    finished = after[("eventide_archive_last_run_timestamp_seconds", ())]
    assert abs(finished - now.timestamp()) < 600


def test_operation_labels_stay_bounded(operation_names: set[str]) -> None:
    assert operation_label(None) == "anonymous"
    assert operation_label("x" * 65) == "other"
    assert operation_label("bad name!") == "other"
    names = {operation_label(f"Generated{i}") for i in range(500)}
    assert "other" in names
    assert len(names) <= 201
    assert len(operation_names) == metrics._MAX_OPERATION_NAMES


def refusals(code: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("eventide_http_refusals_total", (("code", code),))


async def test_http_refusals_are_counted_by_their_code(client: GraphQLClient) -> None:
    before = await scrape(client)
    post = client.http.post
    await post("/graphql", content=b"{", headers={"Content-Type": "application/json"})
    await post("/graphql", json={"query": "query A { version } query B { v: version }"})
    await post("/graphql", json={"query": "{ version }"}, headers={"Accept": "text/html"})
    await post(
        "/graphql", content=b"{}", headers={"Content-Type": "text/plain", "X-Eventide-CSRF": "1"}
    )
    await client.http.get("/graphql", params={"query": "mutation M { logout }"})
    await client.http.put("/graphql", json={"query": "{ version }"})
    after = await scrape(client)

    def grew(key: tuple[str, tuple[tuple[str, str], ...]]) -> float:
        return after.get(key, 0) - before.get(key, 0)

    assert grew(refusals("BAD_REQUEST")) == 2
    assert grew(refusals("NOT_ACCEPTABLE")) == 1
    assert grew(refusals("UNSUPPORTED_MEDIA_TYPE")) == 1
    assert grew(refusals("METHOD_NOT_ALLOWED")) == 2

    def outcomes(outcome: str) -> float:
        # By outcome whatever the operation's label ("other" once 200 names were seen).
        return sum(
            grew(key)
            for key in after
            if key[0] == "eventide_graphql_operations_total" and ("outcome", outcome) in key[1]
        )

    # Refusals Strawberry raises while preparing an operation count as the operation's
    # outcome too, by the same code: the client's mistake, not the server's.
    assert outcomes("BAD_REQUEST") == 1
    assert outcomes("METHOD_NOT_ALLOWED") == 1
    assert outcomes("INTERNAL_SERVER_ERROR") == 0
