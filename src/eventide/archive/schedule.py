"""The archiver as a background task of the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from eventide.archive.archiver import ArchiveBusy, archive_pass
from eventide.services import Services

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def scheduled_archiving(services: Services) -> AsyncIterator[None]:
    """Run a pass at startup and every ``archive_interval_seconds`` (0: never) while open.

    Replicas share the work: a replica that finds a pass running skips its turn.
    Stopping mid-pass is safe; the next pass recovers the interrupted one.
    """
    interval = services.settings.archive_interval_seconds
    if not interval:
        yield
        return
    task = asyncio.create_task(_every(services, interval), name="eventide-archiver")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _every(services: Services, interval: int) -> None:
    while True:
        try:
            await archive_pass(services, trigger="schedule", wait=False)
        except ArchiveBusy:
            logger.debug("archive pass skipped: another one is running")
        except Exception:
            # The next turn retries, and recovers whatever this one left.
            logger.exception("archive pass failed; next attempt in %ss", interval)
        await asyncio.sleep(interval)
