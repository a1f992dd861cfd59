"""One subscriber's bounded queue of live events, filled by its process's hub."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

from eventide.live.wire import LiveEvent


class SubscriberDropped(Exception):
    """The subscriber was disconnected; ``reason`` says why, ``slow`` whether it fell
    behind (else its process lost Redis, and events may have been missed)."""

    def __init__(self, reason: str, *, slow: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.slow = slow


class Subscriber:
    """The events of ``project`` (of ``event_type``, when given) not yet taken.

    :meth:`deliver` never waits: the hub fans each message out to every subscriber of
    the project in turn, so one that falls behind must not hold up the others. Once
    more than ``capacity`` events would wait, the subscriber is dropped instead.
    """

    def __init__(self, project: int, event_type: str | None, *, capacity: int) -> None:
        self.project = project
        self.event_type = event_type
        self._capacity = capacity
        self._waiting: deque[LiveEvent] = deque()
        self._ready = asyncio.Event()
        self._dropped: SubscriberDropped | None = None
        self._gone = asyncio.Event()

    def deliver(self, project: int, events: Sequence[LiveEvent]) -> bool:
        """Queue the wanted ones of ``events``; False when that drops the subscriber."""
        # The channel is the project's; this check keeps tenancy even if it were not.
        if project != self.project or self._dropped is not None:
            return True
        wanted = [e for e in events if self.event_type in (None, e.event_type)]
        if len(self._waiting) + len(wanted) > self._capacity:
            self.drop(
                SubscriberDropped(
                    f"More than {self._capacity} live events waited unsent: the "
                    "subscriber reads too slowly.",
                    slow=True,
                )
            )
            return False
        if wanted:
            self._waiting.extend(wanted)
            self._ready.set()
        return True

    @property
    def gone(self) -> bool:
        """Whether the subscriber has been dropped."""
        return self._dropped is not None

    def drop(self, why: SubscriberDropped) -> None:
        if self._dropped is None:
            self._dropped = why
            self._waiting.clear()
            self._ready.set()
            self._gone.set()

    async def dropped(self) -> SubscriberDropped:
        """Wait until the subscriber is dropped; why."""
        await self._gone.wait()
        assert self._dropped is not None
        return self._dropped

    async def take(self, *, wait_seconds: float) -> list[LiveEvent]:
        """The events waiting, in order, as soon as there are any; [] after
        ``wait_seconds`` without. SubscriberDropped once dropped."""
        if not self._waiting and self._dropped is None:
            self._ready.clear()
            try:
                async with asyncio.timeout(wait_seconds):
                    await self._ready.wait()
            except TimeoutError:
                return []
        if self._dropped is not None:
            raise self._dropped
        taken = list(self._waiting)
        self._waiting.clear()
        return taken
