"""Assembly of the GraphQL schema from one module per concept."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.scalar import ScalarDefinition

from eventide.graphql.accounts import AccountMutation, AccountQuery
from eventide.graphql.admin import AdminMutation, AdminQuery
from eventide.graphql.analytics import AnalyticsQuery
from eventide.graphql.api_tokens import ApiTokenMutation, ApiTokenQuery
from eventide.graphql.archive import ArchiveMutation, StorageQuery
from eventide.graphql.bulk_inputs import BulkInputExecutionContext, coerce_columns_with
from eventide.graphql.erasures import ErasureMutation, ErasureQuery
from eventide.graphql.errors import classify
from eventide.graphql.event_catalog import EventCatalogQuery
from eventide.graphql.funnel import FunnelQuery
from eventide.graphql.ingest import IngestMutation, take_events_as_coerced
from eventide.graphql.limits.extension import OperationGuard
from eventide.graphql.live import LiveSubscription
from eventide.graphql.observation import OperationObserver
from eventide.graphql.operation_choice import OperationChoice
from eventide.graphql.persisted_queries import PersistedQueryRegistration
from eventide.graphql.projects import ProjectMutation, ProjectQuery
from eventide.graphql.scalars import JSON, SCALAR_MAP, parse_datetime, parse_datetimes
from eventide.graphql.system import SystemQuery
from eventide.graphql.trends import TrendsQuery

Query = merge_types(
    "Query",
    (
        SystemQuery,
        AccountQuery,
        ProjectQuery,
        ApiTokenQuery,
        AdminQuery,
        StorageQuery,
        AnalyticsQuery,
        EventCatalogQuery,
        TrendsQuery,
        FunnelQuery,
        ErasureQuery,
    ),
)
Subscription = merge_types("Subscription", (LiveSubscription,))
Mutation = merge_types(
    "Mutation",
    (
        AccountMutation,
        ProjectMutation,
        ApiTokenMutation,
        AdminMutation,
        IngestMutation,
        ArchiveMutation,
        ErasureMutation,
    ),
)


class EventideSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry records the result of execution before it processes execution's
        # errors; errors of parsing and validation come while there is none.
        executing = execution_context is not None and execution_context.result is not None
        for error in errors:
            classify(error, executing=executing)


def build_schema(**options: Any) -> EventideSchema:
    built = EventideSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        # Coerces batch variables such as ingestEvents' events in one tight loop.
        execution_context_class=BulkInputExecutionContext,
        **options,
    )
    take_events_as_coerced(built)
    # What a batch of events holds is coerced a column at a time: its instants, and its
    # properties, which the JSON scalar takes as they are.
    coerce_columns_with(parse_datetime, parse_datetimes)
    json = built.schema_converter.scalar_registry[JSON]
    if isinstance(json, ScalarDefinition) and json.parse_value is not None:
        coerce_columns_with(json.parse_value, _unchanged)
    return built


def _unchanged(values: list[Any]) -> list[Any]:
    return values


# The observer comes first so that its timing and outcome cover the others' refusals;
# a persisted query is stored only past the guard's limits.
schema = build_schema(
    extensions=[OperationObserver, OperationGuard, OperationChoice, PersistedQueryRegistration]
)
