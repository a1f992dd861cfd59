"""Background work that runs under the archive lock while the server lives: turns every
N seconds that give way to an archive pass, and runs started at once by a request that
outlive it (the removal of a deleted project, the completion of erasures)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from eventide.archive.lock import ArchiveBusy
from eventide.periodic import every

logger = logging.getLogger(__name__)


class BackgroundWork:
    """One kind of such work: ``name`` names its tasks, ``what`` says what it does in the
    log. Every run of it must be safe to repeat: a failure is logged, and the next turn
    retries what it left."""

    def __init__(self, *, name: str, what: str) -> None:
        self.name = name
        self._what = what
        # Runs started now, referenced until they end, so that none is collected half-way.
        self._started: set[asyncio.Task[Any]] = set()

    def start(self, run: Coroutine[Any, Any, object]) -> None:
        """Run ``run`` now, in a task that outlives the caller."""
        task = asyncio.create_task(run, name=self.name)
        self._started.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[Any]) -> None:
        self._started.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("%s failed; it is retried", self._what, exc_info=error)

    async def stop(self) -> None:
        """Cancel the started runs under way and wait for them to end (at shutdown: the
        next start's periodic turn finishes what they left)."""
        tasks = list(self._started)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @contextlib.asynccontextmanager
    async def turns(
        self, interval: float, job: Callable[[], Awaitable[object]]
    ) -> AsyncIterator[None]:
        """Run ``job`` (which takes the archive lock without waiting) at once and every
        ``interval`` seconds while open, then stop the started runs; a turn that finds
        the lock held is skipped: the next one comes soon enough."""

        async def turn() -> None:
            try:
                await job()
            except ArchiveBusy:
                logger.debug("%s skipped: an archive pass is running", self._what)

        try:
            async with every(interval, turn, name=self.name):
                yield
        finally:
            await self.stop()
