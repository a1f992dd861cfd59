"""Static measures of an operation, taken before execution: depth, aliases and cost.

Cost formula (points):

- a leaf field (scalar or enum, ``__typename`` included) costs 0;
- a field of object type costs ``size * (1 + cost of its selection)``, where ``size`` is
  the number of items its arguments ask for: ``first`` or ``limit`` when given;
  otherwise the number of days of a ``range`` (of weeks or months for ``period: WEEK``
  or ``MONTH``); times ``periods + 1``. A field without such arguments has size 1.
  So ``eventTypes`` (a range, no limit: its work grows with the range's events) is
  sized by its days, and ``eventProperties`` by its ``limit``;
- except ``funnel``, whose size is the results it may return (``breakdownLimit + 1``
  with a ``breakdown``, else 1) times its number of ``steps``: each result lists every
  step. Its range does not size it: like a limit, the results bound the answer;
- every root field of a mutation adds 10.

Argument values come from literals, variables or schema defaults. A value outside what
the API accepts (say ``first: 5000``) counts as 1: the resolver refuses it with
``BAD_USER_INPUT`` before doing any work. Fragments and inline fragments count where they
are spread, as often as they are spread; a fragment cycle counts nothing (validation
rejects it anyway).

Depth counts the fields on the longest path (``{ me { id } }`` has depth 2). The
selection below a ``__schema`` or ``__type`` field is measured against a separate
allowance so that GraphiQL's introspection query fits; only the field's name decides,
never an alias, operation or fragment name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)
from graphql.type import (
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)

from eventide.analytics import event_properties, top_events
from eventide.analytics.funnel import MAX_BREAKDOWN_LIMIT, MAX_STEPS, MIN_STEPS
from eventide.analytics.retention import MAX_PERIODS
from eventide.graphql.limits.argument_sizes import bounded, is_int, range_units, trend_size
from eventide.graphql.pagination import MAX_PAGE_SIZE

MUTATION_FIELD_COST = 10
INTROSPECTION_MAX_DEPTH = 20
# The most items each size argument may ask for. These are the bounds the resolvers
# enforce, imported from where they are defined: a bound raised there is raised here,
# so a value the API accepts is never priced as 1 point.
# ``limit`` sizes topEvents and eventProperties: priced up to the larger of their bounds.
SIZE_BOUNDS = {
    "first": MAX_PAGE_SIZE,
    "limit": max(top_events.MAX_LIMIT, event_properties.MAX_LIMIT),
}
# Every argument whose value a measure reads.
MEASURED_ARGUMENTS = frozenset(
    (
        *SIZE_BOUNDS,
        "range",
        "period",
        "periods",
        "steps",
        "interval",
        "series",
        "breakdown",
        "breakdownLimit",
    )
)
_INTROSPECTION_ROOTS = ("__schema", "__type")


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    introspection_depth: int = 0
    aliases: int = 0
    cost: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            depth=max(self.depth, other.depth),
            introspection_depth=max(self.introspection_depth, other.introspection_depth),
            aliases=self.aliases + other.aliases,
            cost=self.cost + other.cost,
        )


class DocumentAnalysis:
    """Measures the operations of one validated-or-not document; each fragment once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self._schema = schema
        self._variables = dict(variables or {})
        self._fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._measured: dict[str, Measure] = {}
        self._in_progress: set[str] = set()

    def operation(self, node: OperationDefinitionNode) -> Measure:
        root = self._schema.get_root_type(node.operation)
        if root is None:
            return Measure()
        return self._selection(node.selection_set, root, introspection=False)

    def _selection(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, *, introspection: bool
    ) -> Measure:
        total = Measure()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total + self._field(selection, parent, introspection=introspection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self._type(condition.name.value) if condition else parent
                if scope is not None:
                    total = total + self._selection(
                        selection.selection_set, scope, introspection=introspection
                    )
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self._spread(selection.name.value, introspection=introspection)
        return total

    def _spread(self, name: str, *, introspection: bool) -> Measure:
        fragment = self._fragments.get(name)
        if fragment is None or name in self._in_progress:
            return Measure()  # unknown or cyclic: validation reports it
        key = f"{name}:{introspection}"
        if key not in self._measured:
            scope = self._type(fragment.type_condition.name.value)
            if scope is None:
                return Measure()
            self._in_progress.add(name)
            try:
                self._measured[key] = self._selection(
                    fragment.selection_set, scope, introspection=introspection
                )
            finally:
                self._in_progress.discard(name)
        return self._measured[key]

    def _field(self, node: FieldNode, parent: GraphQLNamedType, *, introspection: bool) -> Measure:
        aliases = 1 if node.alias else 0
        definition = self._definition(parent, node.name.value)
        if definition is None:
            return Measure(depth=1, aliases=aliases)  # unknown field: validation reports it
        named = get_named_type(definition.type)
        own_cost = MUTATION_FIELD_COST if parent is self._schema.mutation_type else 0
        if node.selection_set is None or is_leaf_type(named):
            if introspection:
                return Measure(introspection_depth=1, aliases=aliases)
            return Measure(depth=1, aliases=aliases, cost=own_cost)
        enters = not introspection and node.name.value in _INTROSPECTION_ROOTS
        inside = introspection or enters
        child = self._selection(node.selection_set, named, introspection=inside)
        if inside:
            return Measure(
                depth=1 if enters else 0,
                introspection_depth=child.introspection_depth + 1,
                aliases=aliases + child.aliases,
                cost=1 + child.cost,
            )
        return Measure(
            depth=child.depth + 1,
            introspection_depth=child.introspection_depth,
            aliases=aliases + child.aliases,
            cost=own_cost + self._size(node, definition) * (1 + child.cost),
        )

    def _definition(self, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is self._schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self._schema.get_type(name)

    def _size(self, node: FieldNode, definition: GraphQLField) -> int:
        values = self._arguments(node, definition)
        if node.name.value == "funnel":
            return _funnel_size(values)
        if "series" in values and "interval" in values:
            return trend_size(values)
        size = 1
        for name, maximum in SIZE_BOUNDS.items():
            size *= bounded(values.get(name), maximum)
        if "range" in values and not any(name in values for name in SIZE_BOUNDS):
            # A limit bounds the list whatever the range; without one, the range does.
            size *= range_units(values["range"], values.get("period"))
        if "periods" in values:
            periods = values["periods"]
            if is_int(periods) and 0 <= periods <= MAX_PERIODS:
                size *= periods + 1
        return size

    def _arguments(self, node: FieldNode, definition: GraphQLField) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, argument in definition.args.items():
            if (default := _default(argument)) is not Undefined:
                values[name] = default
        for argument_node in node.arguments or ():
            value = value_from_ast_untyped(argument_node.value, self._variables)
            if value is not Undefined:
                values[argument_node.name.value] = value
        return values


def widest_selection(document: DocumentNode) -> int:
    """The most selections written in one selection set, fragments not expanded.

    Checked before validation: graphql-core compares the fields of a selection set
    pairwise, so a set of hundreds of repeated fields costs seconds to validate.
    """
    widest = 0
    pending = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while pending:
        selection_set = pending.pop()
        widest = max(widest, len(selection_set.selections))
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return widest


def measured_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables whose values a measure of ``document`` may depend on, sorted.

    Only the arguments that size a field are read, so another variable (a batch of
    events, say) never changes the measure.
    """
    names: set[str] = set()
    pending: list[Node] = list(document.definitions)
    while pending:
        node = pending.pop()
        if isinstance(node, FieldNode):
            for argument in node.arguments or ():
                if argument.name.value in MEASURED_ARGUMENTS:
                    names.update(_variables_in(argument.value))
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            pending.extend(selection_set.selections)
    return tuple(sorted(names))


def _variables_in(value: ValueNode) -> Iterator[str]:
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, VariableNode):
            yield node.name.value
        elif isinstance(node, ListValueNode):
            pending.extend(node.values)
        elif isinstance(node, ObjectValueNode):
            pending.extend(field.value for field in node.fields)


def _default(argument: GraphQLArgument) -> Any:
    # Code-first schemas set the coerced default; SDL-built ones keep a literal.
    if argument.default_value is not Undefined:
        return argument.default_value
    default = argument.default
    if default is None:
        return Undefined
    if default.value is not Undefined:
        return default.value
    return value_from_ast_untyped(default.literal) if default.literal else Undefined


def _funnel_size(values: Mapping[str, Any]) -> int:
    steps = values.get("steps")
    size = len(steps) if isinstance(steps, list) and MIN_STEPS <= len(steps) <= MAX_STEPS else 1
    if values.get("breakdown") is not None:
        size *= bounded(values.get("breakdownLimit"), MAX_BREAKDOWN_LIMIT) + 1
    return size
