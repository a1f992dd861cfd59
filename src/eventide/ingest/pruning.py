"""The periodic task that keeps the idempotency ledger to the dedup window."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from eventide.ingest.store import prune_event_ids
from eventide.periodic import every
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 3600.0


async def prune_ledger(engines: Engines) -> int:
    """Forget event ids received before the dedup window; return how many."""
    window = dt.timedelta(days=engines.settings.dedup_window_days)
    return await prune_event_ids(engines.db, received_before=dt.datetime.now(dt.UTC) - window)


@contextlib.asynccontextmanager
async def ledger_pruning(
    engines: Engines, *, interval_seconds: float = PRUNE_INTERVAL_SECONDS
) -> AsyncIterator[None]:
    """Prune the ledger now and then every ``interval_seconds`` while the block runs.

    Expired rows left in place never cause a wrong answer (ingestion compares receipt
    times itself); pruning only bounds the ledger's size.
    """

    async def turn() -> None:
        if removed := await prune_ledger(engines):
            logger.info("pruned %d event ids past the dedup window", removed)

    async with every(interval_seconds, turn, name="eventide-ledger-pruning"):
        yield
