"""The cost, depth and alias measures on a schema shaped like the API contract."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationDefinitionNode, build_schema, parse

from eventide.graphql.limits.analysis import (
    MUTATION_FIELD_COST,
    DocumentAnalysis,
    Measure,
    widest_selection,
)

SCHEMA = build_schema(
    """
    input DateRange { from: String!, to: String! }
    enum RetentionPeriod { DAY WEEK MONTH }
    type User { id: ID!, username: String! }
    type ApiToken { id: ID!, owner: User! }
    type Event { eventId: String! }
    type EventEdge { cursor: String!, node: Event! }
    type PageInfo { hasNextPage: Boolean! }
    type EventConnection { edges: [EventEdge!]!, pageInfo: PageInfo! }
    type Daily { date: String!, users: Int! }
    type Cohort { size: Int!, retained: [Int!]! }
    type Count { eventType: String! }
    type IngestResult { accepted: Int! }
    enum Interval { HOUR DAY WEEK MONTH }
    input Selector { eventType: String }
    input Series { event: Selector! }
    input Breakdown { byEventType: Boolean }
    type Point { value: Int! }
    type Trend { total: Int!, points: [Point!]! }
    type Query {
      me: User!
      version: String!
      apiTokens: [ApiToken!]!
      events(first: Int! = 50, after: String): EventConnection!
      dau(range: DateRange!): [Daily!]!
      topEvents(range: DateRange!, limit: Int! = 10): [Count!]!
      retention(range: DateRange!, period: RetentionPeriod! = DAY, periods: Int! = 7): [Cohort!]!
      trends(
        range: DateRange!, interval: Interval! = DAY, series: [Series!]!,
        breakdown: Breakdown, breakdownLimit: Int! = 10
      ): [Trend!]!
    }
    type Mutation { ingestEvents(events: [String!]!): IngestResult!, logout: Boolean! }
    """
)
EVENTS_PAGE = "edges { cursor node { eventId } } pageInfo { hasNextPage }"


def measure(query: str, variables: dict[str, Any] | None = None) -> Measure:
    document = parse(query)
    analysis = DocumentAnalysis(SCHEMA, document, variables)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return analysis.operation(operations[0])


def test_depth_counts_the_fields_on_the_longest_path() -> None:
    assert measure("{ version }").depth == 1
    assert measure("{ me { id } version }").depth == 2
    assert measure("{ apiTokens { owner { id } } }").depth == 3


def test_fragments_and_inline_fragments_count_where_they_are_spread() -> None:
    query = """
    { ...Tokens  ... on Query { a: version b: version } }
    fragment Tokens on Query { apiTokens { ... on ApiToken { owner { ...Who } } } }
    fragment Who on User { id c: username }
    """
    assert measure(query) == Measure(depth=3, aliases=3, cost=2)


def test_a_fragment_spread_twice_counts_twice() -> None:
    query = "{ ...A  me { ...B } } fragment A on Query { x: version ...B2 } " + (
        "fragment B on User { y: id } fragment B2 on Query { me { ...B ...B } }"
    )
    assert measure(query).aliases == 1 + 2 + 1


def test_circular_fragments_end() -> None:
    query = "{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }"
    assert measure(query) == Measure(depth=2, aliases=0, cost=1)


def test_a_fragment_bomb_is_measured_without_expanding_it() -> None:
    # 80 fragments, each spreading the next twice: 2^80 aliases once expanded.
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(80)]
    query = "{ ...F0 }\n" + "\n".join(fragments) + "\nfragment F80 on Query { a: version }"
    assert measure(query).aliases == 2**80


def test_connection_cost_is_first_times_its_selection() -> None:
    # events: 100 x (1 + edges (1 + node 1) + pageInfo 1)
    assert measure(f"{{ events(first: 100) {{ {EVENTS_PAGE} }} }}").cost == 100 * 4


def test_sizes_come_from_variables_and_schema_defaults() -> None:
    query = f"query($n: Int!) {{ events(first: $n) {{ {EVENTS_PAGE} }} }}"
    assert measure(query, {"n": 7}).cost == 7 * 4
    assert measure(f"{{ events {{ {EVENTS_PAGE} }} }}").cost == 50 * 4


@pytest.mark.parametrize("first", [0, -3, 1001, 10**12])
def test_sizes_the_api_refuses_count_as_one(first: int) -> None:
    assert measure(f"{{ events(first: {first}) {{ {EVENTS_PAGE} }} }}").cost == 4


def test_range_fields_cost_their_days_and_periods() -> None:
    january = '{from: "2026-01-01", to: "2026-01-31"}'
    assert measure(f"{{ dau(range: {january}) {{ users }} }}").cost == 31
    assert measure(f"{{ topEvents(range: {january}, limit: 5) {{ eventType }} }}").cost == 5
    assert measure(f"{{ retention(range: {january}) {{ size }} }}").cost == 31 * 8
    weekly = f"{{ retention(range: {january}, period: WEEK, periods: 3) {{ size }} }}"
    assert measure(weekly).cost == (31 // 7 + 2) * 4


def test_trends_cost_points_times_series_times_breakdown_values() -> None:
    january = '{from: "2026-01-01", to: "2026-01-31"}'
    two = '[{event: {}}, {event: {eventType: "buy"}}]'
    selection = "{ total points { value } }"  # 1 + points (1 + 0) per series
    assert measure(f"{{ trends(range: {january}, series: {two}) {selection} }}").cost == 31 * 2 * 2
    hourly = f"{{ trends(range: {january}, interval: HOUR, series: {two}) {selection} }}"
    assert measure(hourly).cost == 31 * 25 * 2 * 2
    broken = (
        f"query($i: Interval!) {{ trends(range: {january}, interval: $i, series: {two},"
        f" breakdown: {{byEventType: true}}, breakdownLimit: 3) {selection} }}"
    )
    assert measure(broken, {"i": "MONTH"}).cost == (31 // 28 + 2) * 2 * 4 * 2
    # Refused by the resolver, so priced as one: 32 days of hours, 11 series.
    too_long = '{from: "2026-01-01", to: "2026-02-01"}'
    assert (
        measure(f"{{ trends(range: {too_long}, interval: HOUR, series: {two}) {selection} }}").cost
        == 2 * 2
    )
    eleven = "[" + ", ".join(["{event: {}}"] * 11) + "]"
    assert measure(f"{{ trends(range: {january}, series: {eleven}) {selection} }}").cost == 31 * 2


def test_range_from_variables() -> None:
    query = "query($r: DateRange!) { dau(range: $r) { users } }"
    assert measure(query, {"r": {"from": "2026-03-01", "to": "2026-03-10"}}).cost == 10


def test_mutation_root_fields_cost_more() -> None:
    assert measure("mutation { logout }").cost == MUTATION_FIELD_COST
    cost = measure('mutation { ingestEvents(events: ["a"]) { accepted } }').cost
    assert cost == MUTATION_FIELD_COST + 1


def test_introspection_depth_is_measured_apart() -> None:
    query = "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }"
    assert measure(query) == Measure(depth=1, introspection_depth=7, aliases=0, cost=6)


def test_only_the_field_name_makes_introspection() -> None:
    # An operation, a fragment or an alias called __schema exempts nothing.
    query = """query __schema { __type: apiTokens { ...__schema } }
    fragment __schema on ApiToken { owner { id } }"""
    assert measure(query) == Measure(depth=3, introspection_depth=0, aliases=1, cost=2)


def test_widest_selection_looks_into_fragments_and_nested_sets() -> None:
    document = parse(
        "{ me { id username } ...F } fragment F on Query { apiTokens { id owner { id username } "
        "... on ApiToken { id } } }"
    )
    assert widest_selection(document) == 3
