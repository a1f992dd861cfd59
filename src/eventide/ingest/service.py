"""Ingest one call's batch: validate, deduplicate, store, count the outcome, and hand
what was stored to live subscribers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from eventide.archive.boundary import boundary_at
from eventide.config import Settings
from eventide.errors import InvalidInput, Unavailable
from eventide.ingest.store import store_events
from eventide.ingest.validation import Rejection, ValidatedBatch, validate_batch
from eventide.live.wire import AcceptedEvents
from eventide.storage.outages import POSTGRESQL, unavailable_engine

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    accepted: int
    duplicates: int
    rejected: list[Rejection]


def batch_size_problem(count: int, *, settings: Settings) -> str | None:
    """Why a call of ``count`` events is refused as a whole, or None when it is not."""
    if count < 1:
        return "events must hold at least one event"
    if count > settings.max_batch_events:
        return f"a call takes at most {settings.max_batch_events} events, got {count}"
    return None


async def ingest(
    db: asyncpg.Pool,
    events: Sequence[Mapping[str, Any]],
    *,
    project: int,
    settings: Settings,
    sent_at: dt.datetime | None = None,
    received_at: dt.datetime | None = None,
    publish: Callable[[AcceptedEvents], None] | None = None,
) -> IngestOutcome:
    """Validate and store one call's events in ``project``; accepted + duplicates +
    rejected == sent. ``publish`` is given the events stored, once they are committed;
    it must neither wait nor fail (see :mod:`eventide.live.publisher`)."""
    if problem := batch_size_problem(len(events), settings=settings):
        raise InvalidInput(problem)
    received_at = received_at or dt.datetime.now(dt.UTC)
    batch = validate_batch(
        events,
        received_at=received_at,
        sent_at=sent_at,
        retained_from=boundary_at(received_at, settings),
    )
    try:
        accepted = await store_events(
            db,
            project=project,
            batch=batch,
            received_at=received_at,
            dedup_since=received_at - dt.timedelta(days=settings.dedup_window_days),
        )
    except Exception as error:
        # A statement that timed out rolled back like a lost connection: retrying is safe.
        if not isinstance(error, TimeoutError) and unavailable_engine(error) != POSTGRESQL:
            raise
        # Nothing of the call is stored.
        raise Unavailable("the event store is unavailable; retry the same batch") from error
    if publish is not None and accepted:
        publish(_accepted_events(batch, accepted, project=project, received_at=received_at))
    return IngestOutcome(
        accepted=len(accepted),
        duplicates=batch.repeats + len(batch) - len(accepted),
        rejected=batch.rejected,
    )


def _accepted_events(
    batch: ValidatedBatch, accepted: list[str], *, project: int, received_at: dt.datetime
) -> AcceptedEvents:
    """The events of ``batch`` whose ids are ``accepted``: duplicates are left out."""
    kept: list[int] | None = None
    if len(accepted) < len(batch):
        stored = set(accepted)
        kept = [i for i, event_id in enumerate(batch.event_ids) if event_id in stored]
    return AcceptedEvents(
        project=project,
        event_ids=_pick(batch.event_ids, kept),
        user_ids=_pick(batch.user_ids, kept),
        event_types=_pick(batch.event_types, kept),
        occurred_at=_pick(batch.occurred_at, kept),
        properties=_pick(batch.properties, kept),
        received_at=received_at,
    )


def _pick(column: list[_T], kept: list[int] | None) -> list[_T]:
    return column if kept is None else [column[i] for i in kept]
