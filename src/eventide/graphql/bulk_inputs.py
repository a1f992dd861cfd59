"""Fast coercion of list variables of flat input objects (e.g. ``[EventInput!]!``).

graphql-core coerces variables with a generic recursive walk that, for a batch of a
thousand input objects, costs more than storing them. For a variable whose type is a
list of input objects made only of scalar fields (without defaults or renames), this
module does the same coercion a field at a time across every item, each step a
builtin's loop rather than Python code per item and field. It only ever takes values
that graphql-core would accept and produces what graphql-core would produce; anything
else (a missing field, a wrong type, an unparsable scalar) is left to graphql-core,
whose errors stay exact.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    Undefined,
    VariableDefinitionNode,
)
from graphql.execution.values import VariableValues
from graphql.utilities import type_from_ast
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # also where graphql-core puts the value: flat inputs rename no field
    required: bool
    coerce: Callable[[Any], Any] | None  # None: a String, taken as is when it is a str
    coerce_column: Callable[[list[Any]], list[Any]] | None  # see coerce_columns_with


@dataclass(frozen=True, slots=True)
class _FlatInput:
    names: frozenset[str]
    fields: tuple[_Field, ...]
    out_type: Callable[[dict[str, Any]], Any] | None  # None: graphql-core's, the identity


class _NotFast(Exception):
    """The value needs graphql-core's own coercion (which may report an error)."""


_plans: dict[str, _FlatInput | None] = {}
# A scalar's coercion of a whole column, by the coercion of one value that it equals.
_column_coercions: dict[Callable[[Any], Any], Callable[[list[Any]], list[Any]]] = {}
_STRINGS = frozenset({str})
_OPTIONAL_STRINGS = frozenset({str, type(None)})
_KEEP = object()  # in a coerced column: leave the item's own value (null or absent)
_IDENTITY = GraphQLInputObjectType.out_type  # what an input type turns its dicts into


def coerce_columns_with(
    coerce: Callable[[Any], Any], coerce_column: Callable[[list[Any]], list[Any]]
) -> None:
    """Coerce the values of a scalar whose coercion is ``coerce`` a column at a time with
    ``coerce_column``: given values that are not null, it returns what ``coerce`` returns
    for each, or raises when ``coerce`` might refuse any (which graphql-core then
    coerces one by one). The identity is a column coercion for a scalar that takes any
    value as it is."""
    _column_coercions[coerce] = coerce_column
    _plans.clear()


def _plan(item_type: GraphQLInputObjectType) -> _FlatInput | None:
    """How to coerce ``item_type`` quickly, or None when it is not a flat input."""
    if item_type.name in _plans:
        return _plans[item_type.name]
    fields = []
    flat = not item_type.is_one_of
    for name, field in item_type.fields.items():
        required = isinstance(field.type, GraphQLNonNull)
        leaf = field.type.of_type if required else field.type
        if (
            not isinstance(leaf, GraphQLScalarType)
            or field.default_value is not Undefined
            or (field.out_name or name) != name
        ):
            flat = False
            break
        coerce = None if leaf is GraphQLString else leaf.coerce_input_value
        column = None if coerce is None else _column_coercions.get(coerce)
        fields.append(_Field(name, required, coerce, column))
    out_type = None if item_type.out_type is _IDENTITY else item_type.out_type
    plan = _FlatInput(frozenset(item_type.fields), tuple(fields), out_type) if flat else None
    _plans[item_type.name] = plan
    return plan


def _coerce_items(value: Any, plan: _FlatInput) -> list[Any]:
    """The items of ``value`` coerced, a column (one field of every item) at a time.

    Each item becomes a copy of itself (it holds only fields of the type, and a field
    left out stays left out), with the values a scalar's coercion changed put in.
    """
    if not isinstance(value, list) or set(map(type, value)) != {dict}:
        raise _NotFast
    if not plan.names.issuperset(set().union(*value)):
        raise _NotFast
    changed: list[tuple[str, list[Any]]] = []
    for field in plan.fields:
        name = field.name
        column = [item.get(name) for item in value]
        if field.coerce is None:
            kinds = set(map(type, column))
            if not kinds <= (_STRINGS if field.required else _OPTIONAL_STRINGS):
                raise _NotFast
            continue
        nulls = None in column
        if nulls and field.required:
            raise _NotFast
        coerce = field.coerce
        try:
            if nulls:
                coerced = [_KEEP if raw is None else coerce(raw) for raw in column]
            elif field.coerce_column is not None:
                coerced = field.coerce_column(column)
            else:
                coerced = list(map(coerce, column))
        except Exception:
            raise _NotFast from None
        if not all(map(operator.is_, coerced, column)):
            changed.append((name, coerced))
    items = [item.copy() for item in value]
    for name, coerced in changed:
        for item, coerced_value in zip(items, coerced, strict=True):
            if coerced_value is not _KEEP:
                item[name] = coerced_value
    return items if plan.out_type is None else list(map(plan.out_type, items))


def _list_plan(schema: GraphQLSchema, definition: VariableDefinitionNode) -> _FlatInput | None:
    var_type = type_from_ast(schema, definition.type)
    if isinstance(var_type, GraphQLNonNull):
        var_type = var_type.of_type
    if not isinstance(var_type, GraphQLList):
        return None
    item_type = var_type.of_type
    if not isinstance(item_type, GraphQLNonNull):
        return None  # null items are rare in bulk inputs; graphql-core handles them
    item_type = item_type.of_type
    return _plan(item_type) if isinstance(item_type, GraphQLInputObjectType) else None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class BulkInputExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with the fast path for bulk list variables."""

    @classmethod
    def build(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        fast: dict[str, tuple[Any, list[Any]]] = {}
        operation = _operation(document, operation_name) if raw_variable_values else None
        if operation is not None and raw_variable_values is not None:
            for definition in operation.variable_definitions or ():
                name = definition.variable.name.value
                raw = raw_variable_values.get(name)
                plan = _list_plan(schema, definition) if isinstance(raw, list) and raw else None
                if plan is None:
                    continue
                try:
                    fast[name] = (raw, _coerce_items(raw, plan))
                except _NotFast:
                    continue
        if fast:
            # graphql-core coerces an empty list instead, at no cost; the real values
            # are put back below, where it keeps coerced values and their sources.
            raw_variable_values = {**(raw_variable_values or {}), **{name: [] for name in fast}}
        built = super().build(
            schema,
            document,
            root_value,
            context_value,
            raw_variable_values,
            operation_name,
            *args,
            **kwargs,
        )
        if fast and isinstance(built, BulkInputExecutionContext):
            values = built.variable_values
            for name, (raw, coerced) in fast.items():
                values.coerced[name] = coerced
                values.sources[name] = values.sources[name]._replace(value=raw)
        return built

    def execute_operation(self, serially: bool | None = None) -> Any:
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return self._release_when_done(result)
        self._release_if_done(result)
        return result

    async def _release_when_done(self, result: Awaitable[Any]) -> Any:
        done = await result
        self._release_if_done(done)
        return done

    def _release_if_done(self, result: Any) -> None:
        # graphql-core's execution context refers to itself (through its async helpers'
        # bound methods), so only the cycle collector frees it, with what it holds: the
        # request's variables (a thousand events per batch, promoted to older
        # generations that are then collected again and again) and its context (the
        # request, with its body). Once the result is final (no deferred parts to
        # come), nothing reads either any more.
        if isinstance(result, ExecutionResult):
            self.variable_values = VariableValues(sources={}, coerced={})
            self.context_value = None
