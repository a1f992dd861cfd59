"""Every argument that sizes an answer is priced by the cost model at the bound the API
enforces: a value the API accepts can never cost a single point."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from eventide.analytics.calendar import MAX_RANGE_DAYS
from eventide.analytics.retention import MAX_PERIODS
from eventide.analytics.trends import MAX_BREAKDOWN_LIMIT
from eventide.graphql.limits.analysis import MEASURED_ARGUMENTS, SIZE_BOUNDS
from eventide.graphql.schema import schema
from tests.graphql_client import GraphQLClient

GRAPHQL_SCHEMA = schema._schema
DAY = dt.date(2026, 1, 1)


def _range(days: int) -> dict[str, str]:
    return {"from": DAY.isoformat(), "to": (DAY + dt.timedelta(days=days - 1)).isoformat()}


# One query per sized field, with the sizing argument as the variable $n.
QUERIES: dict[tuple[str, str], str] = {
    ("events", "first"): "query($n: Int!) { events(first: $n) { pageInfo { hasNextPage } } }",
    ("users", "first"): "query($n: Int!) { users(first: $n) { pageInfo { hasNextPage } } }",
    ("topEvents", "limit"): (
        'query($n: Int!) { topEvents(range: {from: "2026-01-01", to: "2026-01-01"}, '
        "limit: $n) { eventType } }"
    ),
    ("eventProperties", "limit"): (
        'query($n: Int!) { eventProperties(range: {from: "2026-01-01", to: "2026-01-01"}, '
        "limit: $n) { property } }"
    ),
    ("retention", "periods"): (
        'query($n: Int!) { retention(range: {from: "2026-01-01", to: "2026-01-01"}, '
        "periods: $n) { size } }"
    ),
    ("trends", "breakdownLimit"): (
        'query($n: Int!) { trends(range: {from: "2026-01-01", to: "2026-01-01"}, '
        "series: [{event: {}}], breakdown: {byEventType: true}, breakdownLimit: $n) { total } }"
    ),
    ("funnel", "breakdownLimit"): (
        'query($n: Int!) { funnel(range: {from: "2026-01-01", to: "2026-01-01"}, '
        'steps: [{eventType: "a"}, {eventType: "b"}], breakdown: {property: "plan"}, '
        "breakdownLimit: $n) { other } }"
    ),
}
# Int arguments of list fields that do not size the list.
NOT_SIZING = {("funnel", "windowSeconds")}
BOUNDS = {**SIZE_BOUNDS, "periods": MAX_PERIODS, "breakdownLimit": MAX_BREAKDOWN_LIMIT}
# With the least cost each must be priced at over the longest range: a day counts a
# point, except where a limit sizes the answer instead.
RANGE_QUERIES = {
    "dau": ("query($r: DateRange!) { dau(range: $r) { users } }", MAX_RANGE_DAYS),
    "topEvents": ("query($r: DateRange!) { topEvents(range: $r, limit: 1) { users } }", 1),
    "retention": (
        "query($r: DateRange!) { retention(range: $r, periods: 0) { size } }",
        MAX_RANGE_DAYS,
    ),
    "eventTypes": ("query($r: DateRange!) { eventTypes(range: $r) { users } }", MAX_RANGE_DAYS),
    "eventProperties": (
        "query($r: DateRange!) { eventProperties(range: $r, limit: 1) { events } }",
        1,
    ),
    "trends": (
        "query($r: DateRange!) { trends(range: $r, series: [{event: {}}]) { total } }",
        MAX_RANGE_DAYS,
    ),
    "funnel": (
        'query($r: DateRange!) { funnel(range: $r, steps: [{eventType: "a"}, {}]) { other } }',
        1,
    ),
}


def _sizes_its_answer(field: GraphQLField) -> bool:
    """A list, or a connection (a type with a list of edges)."""
    returned = get_nullable_type(field.type)
    if is_list_type(returned):
        return True
    named = get_named_type(returned)
    return isinstance(named, GraphQLObjectType) and "edges" in named.fields


def _schema_arguments() -> tuple[set[tuple[str, str]], set[str]]:
    """Int arguments of fields that size their answer, and fields taking a date range."""
    sized: set[tuple[str, str]] = set()
    ranged: set[str] = set()
    for root in (GRAPHQL_SCHEMA.query_type, GRAPHQL_SCHEMA.mutation_type):
        assert root is not None
        for name, field in root.fields.items():
            for argument_name, argument in field.args.items():
                kind = get_named_type(argument.type)
                if isinstance(kind, GraphQLInputObjectType) and kind.name == "DateRange":
                    ranged.add(name)
                elif (
                    kind.name == "Int"
                    and _sizes_its_answer(field)
                    and (name, argument_name) not in NOT_SIZING
                ):
                    sized.add((name, argument_name))
    return sized, ranged


def test_every_sizing_argument_is_measured() -> None:
    sized, ranged = _schema_arguments()
    assert sized == set(QUERIES), "a sizing argument without a priced query here"
    assert {argument for _, argument in sized} <= MEASURED_ARGUMENTS
    assert ranged == set(RANGE_QUERIES)


def _code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


@pytest.mark.parametrize(("field", "argument"), sorted(QUERIES))
async def test_the_bound_is_accepted_priced_and_one_more_is_refused(
    client: GraphQLClient, admin_token: str, field: str, argument: str
) -> None:
    query, bound = QUERIES[field, argument], BOUNDS[argument]
    accepted = await client.execute(query, {"n": bound}, token=admin_token)
    assert _code(accepted) is None, accepted
    assert accepted["extensions"]["cost"]["requestedQueryCost"] >= bound

    refused = await client.execute(query, {"n": bound + 1}, token=admin_token)
    assert _code(refused) == "BAD_USER_INPUT", refused


@pytest.mark.parametrize("field", sorted(RANGE_QUERIES))
async def test_the_longest_range_is_accepted_priced_and_one_more_day_is_refused(
    client: GraphQLClient, admin_token: str, field: str
) -> None:
    query, least_cost = RANGE_QUERIES[field]
    accepted = await client.execute(query, {"r": _range(MAX_RANGE_DAYS)}, token=admin_token)
    assert _code(accepted) is None, accepted
    assert accepted["extensions"]["cost"]["requestedQueryCost"] >= least_cost

    refused = await client.execute(query, {"r": _range(MAX_RANGE_DAYS + 1)}, token=admin_token)
    assert _code(refused) == "BAD_USER_INPUT", refused
