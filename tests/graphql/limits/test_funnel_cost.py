"""The funnel's price: the results it may return times its steps, whatever the range."""

from __future__ import annotations

from typing import Any

from graphql import OperationDefinitionNode, parse

from eventide.graphql.limits.analysis import DocumentAnalysis
from eventide.graphql.schema import schema

QUERY = """query($steps: [EventSelector!]!, $breakdown: BreakdownInput, $limit: Int! = 10) {
  funnel(range: {from: "2016-01-01", to: "2025-12-31"}, steps: $steps,
         breakdown: $breakdown, breakdownLimit: $limit) {
    breakdownValue steps { users } } }"""


def cost(variables: dict[str, Any]) -> int:
    document = parse(QUERY)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return DocumentAnalysis(schema._schema, document, variables).operation(operation).cost


def test_a_funnel_costs_its_results_times_its_steps() -> None:
    # Each result costs itself and its list of steps: 2 points.
    two, five = [{"eventType": "a"}] * 2, [{"eventType": "a"}] * 5
    assert cost({"steps": two}) == 2 * 2
    assert cost({"steps": five}) == 5 * 2
    assert cost({"steps": five, "breakdown": {"property": "plan"}}) == 11 * 5 * 2
    assert cost({"steps": two, "breakdown": {"property": "plan"}, "limit": 50}) == 51 * 2 * 2
    # What the resolver refuses is priced as 1.
    assert cost({"steps": two * 6}) == 2
    assert cost({"steps": two, "breakdown": {"property": "plan"}, "limit": 51}) == 2 * 2 * 2
