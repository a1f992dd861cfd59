"""Archive passes an administrator asks for, which outlive the request that asked."""

from __future__ import annotations

import asyncio
import logging

from eventide.archive.archiver import archive_pass
from eventide.archive.runs import ArchiveRun
from eventide.errors import Unavailable
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)

# Passes started here, referenced until they end.
_passes: set[asyncio.Task[ArchiveRun]] = set()


async def archive_now(engines: Engines) -> ArchiveRun:
    """Run one pass now and return its report.

    A pass already running (scheduled, or another replica's) is waited for; this pass
    then moves whatever is left. The pass outlives the caller if the caller is cancelled
    (a timeout, a disconnect): the last run's report shows how it ended.
    """
    task = asyncio.create_task(archive_pass(engines, trigger="admin"))
    _passes.add(task)
    task.add_done_callback(_settled)
    try:
        return await asyncio.shield(task)
    except Exception:
        raise Unavailable(
            "The archive pass failed; nothing was lost and the next pass retries it"
        ) from None


def _settled(task: asyncio.Task[ArchiveRun]) -> None:
    _passes.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("archive pass started on demand failed", exc_info=error)
