"""Validation rules that refuse documents over the configured limits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, ValidationContext, ValidationRule
from graphql.language.visitor import SKIP, VisitorAction

from eventide.graphql.limits.analysis import INTROSPECTION_MAX_DEPTH, DocumentAnalysis, Measure

OnMeasured = Callable[[OperationDefinitionNode, Measure], None]


@dataclass(frozen=True, kw_only=True)
class OperationLimits:
    max_depth: int
    max_aliases: int
    max_cost: int

    def violations(self, measure: Measure) -> list[str]:
        found = []
        if measure.depth > self.max_depth:
            found.append(f"depth {measure.depth} exceeds the limit of {self.max_depth}")
        introspection_limit = max(self.max_depth, INTROSPECTION_MAX_DEPTH)
        if measure.introspection_depth > introspection_limit:
            found.append(
                f"introspection depth {measure.introspection_depth} exceeds the limit of "
                f"{introspection_limit}"
            )
        if measure.aliases > self.max_aliases:
            found.append(f"{measure.aliases} aliases exceed the limit of {self.max_aliases}")
        if measure.cost > self.max_cost:
            found.append(
                f"cost {measure.cost} exceeds the limit of {self.max_cost} points; "
                "ask for fewer items (first, limit, periods) or a shorter range"
            )
        return found


def operation_limits_rule(
    limits: OperationLimits,
    variables: Mapping[str, Any] | None,
    on_measured: OnMeasured,
) -> type[ValidationRule]:
    """A rule checking every operation of the document against ``limits``.

    The work happens when the visitor enters an operation, after graphql-core has
    checked how deeply fragments nest, so a pathological document never recurses here.
    """

    class OperationLimitsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.analysis = DocumentAnalysis(context.schema, context.document, variables)

        def enter_operation_definition(
            self, node: OperationDefinitionNode, *_args: Any
        ) -> VisitorAction:
            measure = self.analysis.operation(node)
            on_measured(node, measure)
            name = f"Operation '{node.name.value}'" if node.name else "The operation"
            for violation in limits.violations(measure):
                self.report_error(GraphQLError(f"{name}: {violation}.", node))
            return SKIP

    return OperationLimitsRule
