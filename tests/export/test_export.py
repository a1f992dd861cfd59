"""The export against the ``events`` listing, over both tiers, in every format."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import AsyncIterator
from typing import Any

import pyarrow.parquet as pq
import pytest

from eventide.analytics import export_formats
from eventide.analytics.export import Row, export_events
from eventide.analytics.export_formats import FORMATS, write_all
from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.errors import InvalidInput
from eventide.projects import store
from eventide.storage.engines import Engines
from tests.analytics.stores import put_hot
from tests.conftest import TEST_PROJECT
from tests.export.read_back import listed, read_back
from tests.graphql_client import GraphQLClient

UTC = dt.UTC
START = dt.datetime(2026, 3, 1, tzinfo=UTC)
# A pass at ARCHIVE_NOW (7-day hot window) archives what occurred before 3 March.
ARCHIVE_NOW = dt.datetime(2026, 3, 10, tzinfo=UTC)
RANGE = ("2026-03-01T00:00:00Z", "2026-03-06T00:00:00Z")
EDGE_PROPERTIES: list[dict[str, Any] | None] = [
    None,
    {},
    {"big": 2**64 + 1, "bigger": 10**25, "negative": -(2**70), "safe": 2**53 + 1},
    {"float": 1.5, "whole": 1.0, "zero": 0, "tiny": 5e-324, "huge": 1.7976931348623157e308},
    {"text": 'Pro ü — "quoted", comma, new\nline\r\n\u0001\u2028', "emoji": "🦀", "rtl": "שלום"},
    {"nested": {"a": {"b": [1, "two", None, True, {"c": []}]}}, "list": [[], {}]},
    {"looks like": "1", "bool": False, "null": None, "ключ": "значение"},
]


def event(number: int, occurred: dt.datetime, **overrides: Any) -> Event:
    fields: dict[str, Any] = dict(
        event_id=f"e{number:04d}",
        # Text a CSV field must quote and a JSON string must escape.
        user_id=f'u{number % 3}, "ü"\n\t\\',
        event_type=("view", "buy;\r\nnow")[number % 2],
        occurred_at=occurred,
        received_at=occurred + dt.timedelta(seconds=2),
        properties=EDGE_PROPERTIES[number % len(EDGE_PROPERTIES)],
    )
    return Event(**{**fields, **overrides})


def days_of_events(count: int, *, first: int = 0) -> list[Event]:
    """``count`` events spread over 1 to 5 March in no order, many at the same instant
    (a chunk often ends among events of one instant), a few a microsecond apart."""
    rng = random.Random(count + first)
    return [
        event(
            first + n,
            START + dt.timedelta(hours=3 * rng.randrange(40), microseconds=rng.randrange(2)),
        )
        for n in range(count)
    ]


async def both_tiers(
    engines: Engines, *, project: int = TEST_PROJECT, first: int = 0
) -> list[Event]:
    """Events hot and cold, late hot events among the cold ones, and an event id stored
    twice (accepted again once its dedup window passed); returns them all."""
    early = days_of_events(60, first=first)
    await put_hot(engines, early, project=project)
    await archive_pass(engines, trigger="cli", now=ARCHIVE_NOW)
    late = days_of_events(25, first=first + 100)
    again = event(first, START + dt.timedelta(days=4), received_at=ARCHIVE_NOW)
    await put_hot(engines, [*late, again], project=project)
    return [*early, *late, again]


async def exported(
    engines: Engines, format: str, *, project: int = TEST_PROJECT, chunk: int = 7, **range_: Any
) -> list[dict[str, Any]]:
    start, end = range_.get("start", RANGE[0]), range_.get("end", RANGE[1])
    out = io.BytesIO()
    stream = export_events(
        engines,
        project=project,
        occurred_from=dt.datetime.fromisoformat(start),
        occurred_to=dt.datetime.fromisoformat(end),
        chunk=chunk,
    )
    written = await write_all(bounded(stream, chunk), format, out)
    events = read_back(format, out.getvalue())
    assert written == len(events)
    return events


async def bounded(stream: AsyncIterator[list[Row]], chunk: int) -> AsyncIterator[list[Row]]:
    """``stream``, checked to hand over no more than a chunk of each tier at a time."""
    async for rows in stream:
        assert 0 < len(rows) <= 2 * chunk
        yield rows


async def tier_counts(engines: Engines) -> tuple[int, int]:
    hot = await engines.db.fetchval("SELECT count(*) FROM events")
    ((cold,),) = await engines.cold.fetch("SELECT count() FROM project_events")
    return hot, cold


@pytest.mark.parametrize("format", FORMATS)
async def test_every_format_holds_what_the_listing_returns(
    engines: Engines, client: GraphQLClient, user_token: str, format: str
) -> None:
    await both_tiers(engines)
    hot, cold = await tier_counts(engines)
    assert hot > 25
    assert cold > 10
    oracle = await listed(client, user_token, start=RANGE[0], end=RANGE[1])
    assert len(oracle) == 86
    for chunk in (1, 7, 1000):
        assert await exported(engines, format, chunk=chunk) == oracle


async def test_parquet_is_written_a_row_group_at_a_time(
    engines: Engines, client: GraphQLClient, user_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await both_tiers(engines)
    monkeypatch.setattr(export_formats, "ROW_GROUP_EVENTS", 20)
    out = io.BytesIO()
    stream = export_events(
        engines,
        project=TEST_PROJECT,
        occurred_from=dt.datetime.fromisoformat(RANGE[0]),
        occurred_to=dt.datetime.fromisoformat(RANGE[1]),
        chunk=7,
    )
    assert await write_all(stream, "parquet", out) == 86
    meta = pq.ParquetFile(io.BytesIO(out.getvalue())).metadata
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert len(groups) > 2
    assert sum(groups) == 86
    assert all(rows < 20 + 2 * 7 for rows in groups)
    assert read_back("parquet", out.getvalue()) == await listed(
        client, user_token, start=RANGE[0], end=RANGE[1]
    )


@pytest.mark.parametrize("format", FORMATS)
async def test_the_range_is_the_listing_range(
    engines: Engines, client: GraphQLClient, user_token: str, format: str
) -> None:
    await both_tiers(engines)
    # Bounds at stored instants: the start is inclusive, the end exclusive, in both tiers.
    instants = sorted({e["occurredAt"] for e in await exported(engines, "ndjson")})
    for start, end in [(instants[3], instants[-4]), (instants[10], instants[11])]:
        oracle = await listed(client, user_token, start=start, end=end)
        assert oracle
        got = await exported(engines, format, start=start.replace("Z", "+00:00"), end=end)
        assert got == oracle
        assert got[-1]["occurredAt"] == start
        assert all(e["occurredAt"] < end for e in got)


async def test_the_widest_range_holds_every_event(
    engines: Engines, client: GraphQLClient, user_token: str
) -> None:
    await both_tiers(engines)
    start, end = "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"
    oracle = await listed(client, user_token, start=start, end=end)
    assert len(oracle) == 86
    assert await exported(engines, "ndjson", start=start, end=end, chunk=10) == oracle


@pytest.mark.parametrize("format", FORMATS)
async def test_an_empty_range_is_an_empty_file_of_the_format(engines: Engines, format: str) -> None:
    await both_tiers(engines)
    for start, end in [
        ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"),  # nothing occurred then
        ("2026-03-02T00:00:00Z", "2026-03-02T00:00:00Z"),  # holds no instant
    ]:
        assert await exported(engines, format, start=start, end=end) == []


async def test_another_projects_events_never_appear(
    engines: Engines, client: GraphQLClient, user_token: str, admin_token: str
) -> None:
    other = await store.insert_project(engines.db, name="Other", timezone="UTC")
    # The same event ids and instants in both projects, in both tiers.
    await both_tiers(engines)
    await both_tiers(engines, project=other.id, first=1)
    mine = await listed(client, user_token, start=RANGE[0], end=RANGE[1])
    theirs = await listed(client, admin_token, start=RANGE[0], end=RANGE[1], project=other.id)
    assert mine != theirs
    for format in FORMATS:
        assert await exported(engines, format) == mine
        assert await exported(engines, format, project=other.id) == theirs


@pytest.mark.parametrize("format", FORMATS)
async def test_an_archive_pass_between_chunks_changes_nothing(
    engines: Engines, client: GraphQLClient, user_token: str, format: str
) -> None:
    await put_hot(engines, days_of_events(120))
    oracle = await listed(client, user_token, start=RANGE[0], end=RANGE[1])
    stream = export_events(
        engines,
        project=TEST_PROJECT,
        occurred_from=dt.datetime.fromisoformat(RANGE[0]),
        occurred_to=dt.datetime.fromisoformat(RANGE[1]),
        chunk=5,
    )
    first = await anext(stream)
    assert await tier_counts(engines) == (120, 0)
    # The pass moves every event of 1 and 2 March while the export holds its snapshot.
    report = await archive_pass(engines, trigger="cli", now=ARCHIVE_NOW)
    assert report.moved > 30
    assert (await tier_counts(engines))[1] == report.moved

    async def rest() -> Any:
        yield first
        async for events in stream:
            yield events

    out = io.BytesIO()
    await write_all(rest(), format, out)
    assert read_back(format, out.getvalue()) == oracle
    # And once the snapshot is gone, an export from both tiers reads the same.
    assert await exported(engines, format) == oracle
    assert await listed(client, user_token, start=RANGE[0], end=RANGE[1]) == oracle


async def test_bad_ranges_and_formats_are_refused(engines: Engines) -> None:
    with pytest.raises(InvalidInput, match="after its end"):
        await exported(engines, "ndjson", start=RANGE[1], end=RANGE[0])
    with pytest.raises(InvalidInput, match="UTC offset"):
        await exported(engines, "ndjson", start="2026-03-01T00:00:00")
    with pytest.raises(InvalidInput, match="unknown format 'xml'"):
        await exported(engines, "xml")
