"""The periodic task that keeps the idempotency ledger to the dedup window."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from eventide.ingest.store import prune_event_ids
from eventide.services import Services

logger = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 3600.0


async def prune_ledger(services: Services) -> int:
    """Forget event ids received before the dedup window; return how many."""
    window = dt.timedelta(days=services.settings.dedup_window_days)
    return await prune_event_ids(services.db, received_before=dt.datetime.now(dt.UTC) - window)


@contextlib.asynccontextmanager
async def ledger_pruning(
    services: Services, *, interval_seconds: float = PRUNE_INTERVAL_SECONDS
) -> AsyncIterator[None]:
    """Prune the ledger now and then every ``interval_seconds`` while the block runs.

    Expired rows left in place never cause a wrong answer (ingestion compares receipt
    times itself); pruning only bounds the ledger's size.
    """
    task = asyncio.create_task(_prune_forever(services, interval_seconds))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _prune_forever(services: Services, interval_seconds: float) -> None:
    while True:
        try:
            removed = await prune_ledger(services)
        except Exception:
            logger.warning("pruning the event id ledger failed; retrying later", exc_info=True)
        else:
            if removed:
                logger.info("pruned %d event ids past the dedup window", removed)
        await asyncio.sleep(interval_seconds)
