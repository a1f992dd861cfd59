"""Background work that runs under the archive lock while the server lives: turns every
N seconds that give way to an archive pass, and runs started at once by a request that
outlive it (the removal of a deleted project, the completion of erasures)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from eventide.archive.archiver import ArchiveBusy
from eventide.periodic import every

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def turns_beside_passes(
    interval: float, job: Callable[[], Awaitable[object]], *, name: str, what: str
) -> AsyncIterator[None]:
    """Run ``job`` (which takes the archive lock without waiting) at once and every
    ``interval`` seconds while open; a turn that finds the lock held is skipped: the
    next one comes soon enough, and waiting would hold up nothing but this."""

    async def turn() -> None:
        try:
            await job()
        except ArchiveBusy:
            logger.debug("%s skipped: an archive pass is running", what)

    async with every(interval, turn, name=name):
        yield


class StartedRuns:
    """Runs started now, each in a task that outlives its caller; referenced until they
    end, so that none is collected half-way. A failure is logged: the periodic turns
    retry what it left (every such run is safe to repeat)."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, run: Coroutine[Any, Any, object], *, name: str) -> None:
        task = asyncio.create_task(run, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("%s failed; it is retried", self._what, exc_info=error)

    async def stop(self) -> None:
        """Cancel the runs under way and wait for them to end (at shutdown: the next
        start's periodic turn finishes what they left)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
