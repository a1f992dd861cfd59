"""Per-operation metrics, log context and the slow query log."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator

from graphql import GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension

from eventide.graphql.context import Context
from eventide.graphql.http_conventions import refusal_code
from eventide.observability.logs import current_request
from eventide.observability.metrics import OPERATION_SECONDS, OPERATIONS, operation_label

logger = logging.getLogger("eventide.operations")


class OperationObserver(SchemaExtension):
    """Count and time each operation by name and outcome; log the slow ones."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        context = self.execution_context.context
        request_log = current_request.get()
        if request_log is not None and isinstance(context, Context):
            request_log.principal = context.principal.key if context.principal else None
        outcome = "ok"
        try:
            yield
        except GraphQLError as error:
            outcome = str((error.extensions or {}).get("code", "INTERNAL_SERVER_ERROR"))
            raise
        except Exception as error:
            # Strawberry raises its refusals of the request (no query, no operation to
            # choose, a mutation over GET); the view answers them with an HTTP error.
            outcome = refusal_code(error) or "INTERNAL_SERVER_ERROR"
            raise
        else:
            outcome = self._outcome()
        finally:
            elapsed = time.perf_counter() - started
            name = self._operation_name()
            label = operation_label(name)
            OPERATIONS.labels(operation=label, outcome=outcome).inc()
            OPERATION_SECONDS.labels(operation=label, outcome=outcome).observe(elapsed)
            if isinstance(context, Context):
                self._log_if_slow(context, name, outcome, elapsed)

    def on_parse(self) -> Iterator[None]:
        yield
        request_log = current_request.get()
        if request_log is not None:
            request_log.operation = self._operation_name()

    def _operation_name(self) -> str | None:
        if self.execution_context.operation_name:
            return self.execution_context.operation_name
        document = self.execution_context.graphql_document
        operation = get_operation_ast(document) if document is not None else None
        return operation.name.value if operation is not None and operation.name else None

    def _outcome(self) -> str:
        errors = self.execution_context.pre_execution_errors or []
        result = self.execution_context.result
        if not errors and result is not None:
            errors = getattr(result, "errors", None) or []
        if not errors:
            return "ok"
        return str((errors[0].extensions or {}).get("code", "INTERNAL_SERVER_ERROR"))

    def _log_if_slow(
        self, context: Context, name: str | None, outcome: str, elapsed: float
    ) -> None:
        threshold = context.engines.settings.slow_query_seconds
        if elapsed < threshold:
            return
        query = self.execution_context.query or ""
        logger.warning(
            "slow query: %s took %.3f s",
            name or "anonymous operation",
            elapsed,
            extra={
                "duration_ms": round(elapsed * 1000, 1),
                "outcome": outcome,
                # The text may hold secrets in literals: a digest identifies it instead.
                "query_sha256": hashlib.sha256(query.encode()).hexdigest(),
                "slow_query_threshold_s": threshold,
            },
        )
