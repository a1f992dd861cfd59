"""Background jobs that run now and then every N seconds while the server lives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def every(
    seconds: float, job: Callable[[], Awaitable[object]], *, name: str
) -> AsyncIterator[None]:
    """Run ``job`` at once and then every ``seconds`` while the block runs.

    A failing run is logged and retried at the next turn: each job here is safe to
    repeat, and one bad turn must not stop the schedule.
    """

    async def loop() -> None:
        while True:
            try:
                await job()
            except Exception:
                logger.exception("%s failed; next attempt in %ss", name, seconds)
            await asyncio.sleep(seconds)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
