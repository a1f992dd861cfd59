"""The ``ingestEvents`` mutation and its types."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Annotated, Any

import strawberry

from eventide.auth.principal import TokenScope
from eventide.graphql.context import Info
from eventide.graphql.permissions import scoped
from eventide.graphql.project_argument import ProjectIdArgument, project_of
from eventide.graphql.scalars import JSON
from eventide.ingest.service import batch_size_problem, ingest
from eventide.observability.metrics import EVENTS
from eventide.projects.roles import INGESTS


@strawberry.input(description="One event to ingest.")
class EventInput:
    event_id: str = strawberry.field(
        description="Client-generated idempotency key, 1 to 128 characters."
    )
    user_id: str = strawberry.field(description="The end user who did it, 1 to 256 characters.")
    event_type: str = strawberry.field(description="1 to 128 characters.")
    occurred_at: datetime.datetime
    properties: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="A JSON object, at most 32 KiB when serialized."
    )


def take_events_as_coerced(schema: strawberry.Schema) -> None:
    """Have ``schema`` hand ``ingestEvents`` its events as GraphQL coerced them.

    GraphQL has already checked and coerced every field; the mapping it built per event,
    keyed by field name, is what ingestion reads. Strawberry would otherwise convert the
    list item by item into EventInput instances, through a chain of type checks that
    costs more per event than validating and storing it. Strawberry takes list items of
    a scalar type as they are; registering EventInput in this schema's converter (the
    schema's types are already built, so its SDL keeps ``[EventInput!]!``) does that.
    """
    registry = schema.schema_converter.scalar_registry
    registry[EventInput] = registry[JSON]


@strawberry.type(description="An event of the call that was not stored, and why.")
class RejectedEvent:
    index: int = strawberry.field(
        description="Position of the event in the submitted list, from 0."
    )
    event_id: str | None = strawberry.field(
        description="The event's eventId; null when the eventId itself is unusable."
    )
    code: str = strawberry.field(
        description="Machine-readable reason: INVALID_FIELD, FUTURE_TIMESTAMP, "
        "PROPERTIES_NOT_OBJECT, PROPERTIES_TOO_DEEP, PROPERTIES_TOO_LARGE."
    )
    message: str


@strawberry.type(description="What one ingestEvents call did with each event sent.")
class IngestResult:
    accepted: int = strawberry.field(description="Events stored by this call.")
    duplicates: int = strawberry.field(
        description="Events whose eventId was already stored (now or earlier); not stored again."
    )
    rejected: list[RejectedEvent]


@strawberry.type
class IngestMutation:
    @strawberry.mutation(
        description="Store a batch of events; each eventId is stored once within the "
        "dedup window. Valid events are stored even when others of the call are rejected.",
        extensions=scoped(TokenScope.INGEST),
    )
    async def ingest_events(
        self,
        info: Info,
        events: Annotated[
            list[Mapping[str, Any]], strawberry.argument(graphql_type=list[EventInput])
        ],
        sent_at: datetime.datetime | None = None,
        project_id: ProjectIdArgument = None,
    ) -> IngestResult:
        engines = info.context.engines
        live = info.context.live
        # A batch refused whole stores nothing, so it is not charged.
        charged = 0 if batch_size_problem(len(events), settings=engines.settings) else len(events)
        outcome = await ingest(
            engines.db,
            events,
            project=await project_of(info, project_id, need=INGESTS, events=charged),
            settings=engines.settings,
            sent_at=sent_at,
            publish=None if live is None else live.publisher.offer,
        )
        EVENTS.labels(outcome="accepted").inc(outcome.accepted)
        EVENTS.labels(outcome="duplicate").inc(outcome.duplicates)
        EVENTS.labels(outcome="rejected").inc(len(outcome.rejected))
        return IngestResult(
            accepted=outcome.accepted,
            duplicates=outcome.duplicates,
            rejected=[
                RejectedEvent(index=r.index, event_id=r.event_id, code=r.code, message=r.message)
                for r in outcome.rejected
            ],
        )
