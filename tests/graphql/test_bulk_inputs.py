"""The fast coercion of bulk list variables must equal graphql-core's, value for value."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, parse
from graphql.execution.values import get_variable_values
from graphql.utilities.coerce_input_value import coerce_input_value
from hypothesis import given, settings
from hypothesis import strategies as st

from eventide.graphql.bulk_inputs import BulkInputExecutionContext, _coerce_items, _list_plan
from eventide.graphql.scalars import parse_datetime, parse_datetimes
from eventide.graphql.schema import schema

GRAPHQL_SCHEMA = schema._schema
DOCUMENT = parse(
    "mutation($events: [EventInput!]!, $sentAt: DateTime) "
    "{ ingestEvents(events: $events, sentAt: $sentAt) { accepted } }"
)
VARIABLES = DOCUMENT.definitions[0].variable_definitions  # type: ignore[attr-defined]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
texts = st.text(max_size=5) | st.integers() | st.none() | st.booleans()
timestamps = st.sampled_from(
    ["2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123456+02:00", "2026-11-20T10:00:00", "soon"]
)
fields = {
    "eventId": texts,
    "userId": texts,
    "eventType": texts,
    "occurredAt": timestamps | st.integers() | st.none(),
    "properties": json_values,
    "unknown": st.integers(),
}
items: st.SearchStrategy[Any] = st.fixed_dictionaries(
    {}, optional={name: strategy for name, strategy in fields.items()}
) | st.sampled_from([None, 3, "x", []])


def standard(variables: dict[str, Any]) -> tuple[str, Any]:
    result = get_variable_values(GRAPHQL_SCHEMA, VARIABLES, variables)
    if isinstance(result, list):
        return "errors", [e.message for e in result]
    return "values", (result.coerced, {k: s.value for k, s in result.sources.items()})


def fast(variables: dict[str, Any]) -> tuple[str, Any]:
    built = BulkInputExecutionContext.build(GRAPHQL_SCHEMA, DOCUMENT, raw_variable_values=variables)
    if isinstance(built, list):
        assert all(isinstance(e, GraphQLError) for e in built)
        return "errors", [e.message for e in built]
    values = built.variable_values
    return "values", (values.coerced, {k: s.value for k, s in values.sources.items()})


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(items, max_size=4), st.sampled_from([None, "2026-11-20T10:00:00Z", "bad"]))
def test_fast_coercion_equals_graphql_core(events: list[Any], sent_at: str | None) -> None:
    variables: dict[str, Any] = {"events": events}
    if sent_at is not None:
        variables["sentAt"] = sent_at
    assert fast(variables) == standard(variables)


def test_valid_events_take_the_fast_path() -> None:
    events = [
        {
            "eventId": "e1",
            "userId": "u1",
            "eventType": "click",
            "occurredAt": "2026-11-20T10:00:00.5Z",
            "properties": {"a": [1]},
        },
        {"eventId": "e2", "userId": "u1", "eventType": "click", "occurredAt": "2026-11-20T10:00Z"},
        {
            "eventId": "e3",
            "userId": "u1",
            "eventType": "click",
            "occurredAt": "2026-11-20T10:00:00+01:00",
            "properties": None,
        },
    ]
    kind, (coerced, sources) = fast({"events": events})
    assert kind == "values"
    assert (coerced, sources) == standard({"events": events})[1]
    assert "properties" not in coerced["events"][1]
    assert sources["events"] is events


valid_items = st.fixed_dictionaries(
    {
        "eventId": st.text(),
        "userId": st.text(),
        "eventType": st.text(),
        "occurredAt": st.sampled_from(["2026-11-20T10:00:00Z", "2026-11-20T10:00:00.5-03:30"]),
    },
    optional={"properties": json_values},
)


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_items, min_size=1, max_size=5))
def test_valid_batches_are_coerced_fast_and_alike(events: list[Any]) -> None:
    events_type = GRAPHQL_SCHEMA.mutation_type.fields["ingestEvents"].args["events"].type  # type: ignore[union-attr]
    plan = _list_plan(GRAPHQL_SCHEMA, VARIABLES[0])
    assert plan is not None
    assert _coerce_items(events, plan) == coerce_input_value(events, events_type)


def test_a_finished_execution_lets_go_of_the_variables_and_context() -> None:
    # graphql-core's execution context is in a reference cycle; holding the batch there
    # would leave a thousand events per call to the cycle collector.
    events = [
        {"eventId": "e1", "userId": "u1", "eventType": "t", "occurredAt": "2026-11-20T10:00Z"}
    ]
    document = parse("query($events: [EventInput!]!) { __typename }")
    built = BulkInputExecutionContext.build(
        GRAPHQL_SCHEMA, document, context_value=object(), raw_variable_values={"events": events}
    )
    assert isinstance(built, BulkInputExecutionContext)
    assert built.variable_values.coerced["events"][0]["eventId"] == "e1"
    result = built.execute_operation()
    assert result == ({"__typename": "Query"}, None)
    assert built.variable_values.coerced == {}
    assert built.variable_values.sources == {}
    assert built.context_value is None


instants = (
    st.sampled_from(
        [
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00.5-03:30",
            "0001-01-01T00:10:00+00:15",  # before year 1 in UTC
            "9999-12-31T23:59:00-01:00",  # after year 9999 in UTC
            "2026-11-20T10:00:00",
            "2026-13-01T00:00:00Z",
            "",
        ]
    )
    | st.integers()
    | st.none()
)


@settings(max_examples=200, deadline=None)
@given(st.lists(instants, min_size=1, max_size=4))
def test_instants_coerced_together_are_coerced_as_each_alone(values: list[Any]) -> None:
    def alone(value: Any) -> Any:
        try:
            return parse_datetime(value)
        except ValueError:
            return "refused"

    each = [alone(value) for value in values]
    try:
        together = parse_datetimes(values)
    except ValueError:
        assert "refused" in each
    else:
        assert together == each
