"""The archiver as a background task of the server."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from eventide.archive.archiver import archive_pass
from eventide.archive.lock import ArchiveBusy
from eventide.periodic import every
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def scheduled_archiving(engines: Engines) -> AsyncIterator[None]:
    """Run a pass at startup and every ``archive_interval_seconds`` (0: never) while open.

    Replicas share the work: a replica that finds a pass running skips its turn.
    Stopping mid-pass is safe; the next pass recovers the interrupted one.
    """
    interval = engines.settings.archive_interval_seconds
    if not interval:
        yield
        return

    async def turn() -> None:
        try:
            await archive_pass(engines, trigger="schedule", wait=False)
        except ArchiveBusy:
            logger.debug("archive pass skipped: another one is running")

    async with every(interval, turn, name="eventide-archiver"):
        yield
