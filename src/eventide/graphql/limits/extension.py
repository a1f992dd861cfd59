"""The schema extension that applies every per-operation limit.

Parse: the token limit (graphql-core's ``max_tokens``, as strawberry's MaxTokensLimiter
sets it). Validate: depth, aliases and cost (:mod:`eventide.graphql.limits.rules`), and in
production introspection for administrators only. Depth and aliases are not left to
strawberry's QueryDepthLimiter and MaxAliasesLimiter: those walk a fragment again at
every spread, so a few dozen fragments that each spread the next twice take exponential
time; :mod:`eventide.graphql.limits.analysis` measures each fragment once. Execute: the
rate limits (:mod:`eventide.limits.rate`), then a timeout around execution. Outside
development, "Did you mean ...?" suggestions are removed from error messages so that the
schema cannot be guessed field by field.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Hashable, Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from eventide.auth.principal import Principal, Role
from eventide.config import Settings
from eventide.errors import QueryTimeout
from eventide.graphql.context import Context
from eventide.graphql.limits._documents import (
    MAX_REMEMBERED_CHARS,
    ValidatedDocuments,
    parsed,
    validation_key,
)
from eventide.graphql.limits.analysis import Measure, widest_selection
from eventide.graphql.limits.rules import OperationLimits, operation_limits_rule
from eventide.ingest.service import batch_size_problem
from eventide.limits import rate
from eventide.limits.rate import Charge, Throttle

_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")
_TOKEN_LIMIT = re.compile(r"Document contains more than (\d+) tokens")
INGEST_FIELD = "ingestEvents"
_validated = ValidatedDocuments()


def may_introspect(settings: Settings, principal: Principal | None) -> bool:
    """Everyone in development; in production, administrators in a user session."""
    if not settings.is_production:
        return True
    return principal is not None and principal.holds(Role.ADMIN)


class OperationGuard(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        self._measures: dict[int, Measure] = {}
        self._requested: int | None = None
        self._throttle: Throttle | None = None
        self._executed = False
        self._validation_key: Hashable | None = None
        context = self.execution_context.context
        if not isinstance(context, Context):
            yield
            return
        settings = context.engines.settings
        self.execution_context.parse_options["max_tokens"] = settings.max_query_tokens
        limits = OperationLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_query_aliases,
            max_cost=settings.max_query_cost,
        )
        self._limits = limits
        self._introspection = may_introspect(settings, context.principal)
        try:
            yield
        finally:
            if settings.is_production:
                _hide_suggestions(self._errors())
        if not self._executed:
            # A refused document costs a point too: parsing and validating are work.
            self._throttle = await rate.charge(
                context.engines,
                bucket="query",
                key=_caller(context),
                amount=1,
                capacity=settings.rate_limit_query_points,
            )
            if self._throttle is not None:
                context.response.headers.update(self._throttle.headers())

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if self.execution_context.graphql_document is None and query:
            max_tokens = self.execution_context.parse_options.get("max_tokens")
            self.execution_context.graphql_document = parsed(query, max_tokens=max_tokens)
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if match := _TOKEN_LIMIT.search(error.message):
                error.message = (
                    f"The document exceeds the limit of {match.group(1)} tokens; "
                    "send a smaller query."
                )
                error.extensions = {"code": "GRAPHQL_VALIDATION_FAILED"}

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        remembered = None
        if isinstance(context, Context) and document is not None:
            limit = context.engines.settings.max_query_breadth
            if (widest := widest_selection(document)) > limit:
                # Set before validation runs, so validation is skipped.
                self.execution_context.pre_execution_errors = [
                    GraphQLError(
                        f"A selection set has {widest} selections; the limit is {limit}.",
                        extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                    )
                ]
            else:
                remembered = self._remembered_validation(document)
                if remembered is None:
                    self._add_limit_rules()
        yield
        if remembered is None and self._validation_key is not None:
            self._remember_validation(self._validation_key)
        operation = self._operation()
        if operation is not None and id(operation) in self._measures:
            self._requested = self._measures[id(operation)].cost

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        operation = self._operation()
        if not isinstance(context, Context) or operation is None:
            yield
            return
        settings = context.engines.settings
        self._executed = True
        # Every operation costs at least one point, so cheap ones cannot be flooded.
        context.operation_cost = max(1, self._requested or 0)
        caller = _caller(context)
        charges = [
            Charge("query", caller, context.operation_cost, settings.rate_limit_query_points)
        ]
        events = self._ingested_events(operation)
        # A batch refused whole stores nothing, so it is not charged.
        if batch_size_problem(events, settings=settings) is None:
            charges.append(Charge("events", caller, events, settings.rate_limit_events))
        # The events are charged only if the points were: one round trip for both.
        throttles = await rate.charge_each(context.engines, charges)
        self._throttle = throttles[0]
        for throttle in throttles:
            _enforce(context, throttle)
        try:
            async with asyncio.timeout(settings.query_timeout_seconds):
                yield
        except TimeoutError:
            raise QueryTimeout(
                f"The query ran longer than {settings.query_timeout_seconds:g} s and was "
                "cancelled; narrow it or ask for fewer items."
            ) from None

    def get_results(self) -> dict[str, Any]:
        if self._requested is None:
            return {}
        cost: dict[str, Any] = {"requestedQueryCost": self._requested}
        if self._throttle is not None and self._throttle.bucket == "query":
            cost["throttleStatus"] = self._throttle.status()
        return {"cost": cost}

    def _add_limit_rules(self) -> None:
        rules: list[Any] = [
            operation_limits_rule(self._limits, self.execution_context.variables, self._record)
        ]
        if not self._introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            *rules,
        )

    def _remembered_validation(self, document: DocumentNode) -> tuple[Measure, ...] | None:
        """The measures of an earlier validation of the same document that passed.

        When there are, validation is skipped: it would find no error again.
        """
        query = self.execution_context.query
        if not query or len(query) > MAX_REMEMBERED_CHARS:
            return None
        # What a validation's outcome depends on besides the document and its variables.
        self._validation_key = validation_key(
            self.execution_context.schema,
            self._limits,
            self._introspection,
            query,
            document=document,
            variables=self.execution_context.variables,
        )
        if self._validation_key is None:
            return None
        measures = _validated.get(self._validation_key)
        if measures is not None:
            self.execution_context.pre_execution_errors = []
            for operation, measure in zip(_operations(document), measures, strict=True):
                self._record(operation, measure)
        return measures

    def _remember_validation(self, key: Hashable) -> None:
        document = self.execution_context.graphql_document
        if document is None or self.execution_context.pre_execution_errors:
            return
        operations = _operations(document)
        if all(id(operation) in self._measures for operation in operations):
            measures = tuple(self._measures[id(operation)] for operation in operations)
            _validated.put(key, measures)

    def _record(self, operation: OperationDefinitionNode, measure: Measure) -> None:
        self._measures[id(operation)] = measure

    def _operation(self) -> OperationDefinitionNode | None:
        document = self.execution_context.graphql_document
        if document is None:
            return None
        return get_operation_ast(document, self.execution_context.operation_name)

    def _errors(self) -> list[GraphQLError]:
        errors = list(self.execution_context.pre_execution_errors or ())
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            errors.extend(error for error in result.errors or () if error not in errors)
        return errors

    def _ingested_events(self, operation: OperationDefinitionNode) -> int:
        """Events sent to ``ingestEvents`` root fields; each fragment counted once."""
        document = self.execution_context.graphql_document
        assert document is not None
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        variables = self.execution_context.variables or {}
        visited: set[str] = set()
        pending: list[SelectionSetNode] = [operation.selection_set]
        total = 0
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name not in visited and name in fragments:
                        visited.add(name)
                        pending.append(fragments[name].selection_set)
                elif isinstance(selection, FieldNode) and selection.name.value == INGEST_FIELD:
                    total += _batch_size(selection, variables)
        return total


def _caller(context: Context) -> str:
    if context.principal is not None:
        return context.principal.key
    client = context.request.client
    return f"addr:{client.host if client else 'unknown'}"


def _enforce(context: Context, throttle: Throttle | None) -> None:
    """Send the bucket's headers; raise RATE_LIMITED when the charge was refused."""
    if throttle is not None:
        context.response.headers.update(throttle.headers())
    rate.check(throttle)


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def _batch_size(field: FieldNode, variables: dict[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value == "events":
            value = value_from_ast_untyped(argument.value, variables)
            if isinstance(value, list):
                return len(value)
            return 0 if value is None else 1  # a single value is coerced to a list
    return 0


def _hide_suggestions(errors: list[GraphQLError]) -> None:
    for error in errors:
        error.message = _SUGGESTION.sub("", error.message)
