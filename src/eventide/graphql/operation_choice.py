"""Which operation of a document runs: GraphQL's GetOperation, strictly.

Without ``operationName`` a document must hold exactly one operation; with it, one of
that name. Strawberry would run the first operation of a document with several; here
nothing runs and the client is told why, as an HTTP 400 ``BAD_REQUEST``: the document
may be valid, the request does not say what to do with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

_NAMES_SHOWN = 5


class OperationChoiceError(CannotGetOperationTypeError):
    """Raised before validation; Strawberry's view answers it with HTTP 400."""

    def __init__(self, operation_name: str | None, reason: str) -> None:
        super().__init__(operation_name)
        self.reason = reason

    def as_http_error_reason(self) -> str:
        return self.reason


def operation_choice_problem(document: DocumentNode, operation_name: str | None) -> str | None:
    """Why no single operation of ``document`` is the one to run; None when one is."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    names = [op.name.value for op in operations if op.name is not None]
    if operation_name is None:
        if len(operations) == 1:
            return None
        if not operations:
            return "The document has no operation to run, only fragments."
        listed = _listed(names) or "anonymous"
        return (
            f"The document has {len(operations)} operations ({listed}): name the one to "
            "run in operationName."
        )
    if operation_name in names:
        return None
    if names:
        known = f"it has {_listed(names)}"
    elif operations:
        known = "its only operation is anonymous"
    else:
        known = "it has only fragments"
    return f'The document has no operation named "{operation_name}"; {known}.'


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown + ", ..." if len(names) > _NAMES_SHOWN else shown


class OperationChoice(SchemaExtension):
    """Refuse a request whose operation to run is ambiguous or unknown, once parsed."""

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.graphql_document is None or context.pre_execution_errors:
            return
        # The operationName of the request: the public ``operation_name`` falls back to
        # the first operation's name when the request names none.
        provided: str | None = getattr(context, "_provided_operation_name", None)
        if problem := operation_choice_problem(context.graphql_document, provided):
            raise OperationChoiceError(provided, problem)
