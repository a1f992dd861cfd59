"""Ingest one call's batch: validate, deduplicate, store, and count the outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from eventide.config import Settings
from eventide.errors import InvalidInput, Unavailable
from eventide.ingest.store import store_events
from eventide.ingest.validation import Rejection, validate_batch
from eventide.storage.outages import POSTGRESQL, unavailable_engine


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
) -> IngestOutcome:
    """Validate and store one call's events in ``project``; accepted + duplicates +
    rejected == sent."""
    if problem := batch_size_problem(len(events), settings=settings):
        raise InvalidInput(problem)
    received_at = received_at or dt.datetime.now(dt.UTC)
    batch = validate_batch(events, received_at=received_at, sent_at=sent_at)
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
    return IngestOutcome(
        accepted=accepted,
        duplicates=batch.repeats + len(batch) - accepted,
        rejected=batch.rejected,
    )
