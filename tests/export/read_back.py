"""Exports read back into what the ``events`` listing returns for each event, with
readers other than the writers' own: json, csv, pyarrow's Parquet reader."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pyarrow.parquet as pq

from tests.graphql_client import GraphQLClient

FIELDS = ["eventId", "userId", "eventType", "occurredAt", "receivedAt", "properties"]
LISTING = """query($project: ID, $filter: EventFilter, $after: String) {
  events(projectId: $project, filter: $filter, first: 1000, after: $after) {
    edges { node { eventId userId eventType occurredAt receivedAt properties } }
    pageInfo { hasNextPage endCursor } } }"""


def read_back(format: str, data: bytes) -> list[dict[str, Any]]:
    if format == "ndjson":
        text = data.decode()
        assert text == "" or text.endswith("\n")
        # Escaped: many line splitters break lines there too.
        assert "\u2028" not in text
        # Lines end at "\n" only (str.splitlines would also cut at U+2028 and others).
        return [json.loads(line) for line in text.split("\n")[:-1]]
    if format == "csv":
        rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
        assert rows[0] == FIELDS
        return [
            {**dict(zip(FIELDS, row, strict=True)), "properties": json.loads(row[5] or "null")}
            for row in rows[1:]
        ]
    table = pq.read_table(io.BytesIO(data))
    assert table.column_names == FIELDS
    for name in ("occurredAt", "receivedAt"):
        assert str(table.schema.field(name).type) == "timestamp[us, tz=UTC]"
    return [
        {
            **row,
            "occurredAt": _api_instant(row["occurredAt"]),
            "receivedAt": _api_instant(row["receivedAt"]),
            "properties": json.loads(row["properties"] or "null"),
        }
        for row in table.to_pylist()
    ]


def _api_instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def listed(
    client: GraphQLClient, token: str, *, start: str, end: str, project: int | None = None
) -> list[dict[str, Any]]:
    """Every event the ``events`` listing pages through for ``[start, end)``."""
    events: list[dict[str, Any]] = []
    after = None
    while True:
        variables = {
            "project": None if project is None else str(project),
            "filter": {"from": start, "to": end},
            "after": after,
        }
        page = (await client.data(LISTING, variables, token=token))["events"]
        events += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return events
        after = page["pageInfo"]["endCursor"]
