"""How one batch gets delivered: retries with backoff, waits the server asks for, and
splitting when a request is too large. Transport-free, so the threaded and the asyncio
client follow the same rules; each only performs the sends and the waits."""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
from collections import deque
from dataclasses import dataclass

from eventide_sdk._wire import Answer, Event, Verdict

logger = logging.getLogger("eventide_sdk")


@dataclass
class Stats:
    """Counters of a client's life; ``Client.stats`` returns a copy."""

    accepted: int = 0  # events the server stored
    duplicates: int = 0  # events it had already stored (a retry after a lost answer)
    rejected: int = 0  # events it refused one by one (invalid fields, too old, ...)
    dropped: int = 0  # the oldest queued events, pushed out of a full queue
    too_large: int = 0  # single events above the server's request size limit
    refused: int = 0  # events of batches refused whole (bad token, unknown project)
    abandoned: int = 0  # events still unsent when close() ran out of time
    retries: int = 0  # sends repeated after a failure
    rate_limited: int = 0  # RATE_LIMITED answers waited out


class Counters:
    """The live :class:`Stats`, updated from whichever thread delivers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = Stats()

    def add(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self._stats, name, getattr(self._stats, name) + amount)

    def snapshot(self) -> Stats:
        with self._lock:
            return dataclasses.replace(self._stats)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: the n-th consecutive failure waits between half
    and all of ``base * 2**(n-1)``, capped, so clients that failed together (a server
    restart) do not all come back at the same instant."""

    base: float = 0.5
    cap: float = 30.0

    def delay(self, failures: int) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** min(failures - 1, 30))
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrecy


class Delivery:
    """One batch on its way. ``next_chunk`` is what to send now (None: done), and
    ``settle`` takes the server's answer to it and returns how long to wait before the
    next send. A chunk is only ever re-sent unchanged, same eventIds, so an answer lost
    after the server stored it costs nothing: the repeat counts as duplicates."""

    def __init__(self, events: list[Event], backoff: Backoff, counters: Counters) -> None:
        self._chunks: deque[list[Event]] = deque([events]) if events else deque()
        self._backoff = backoff
        self._counters = counters
        self._failures = 0

    def next_chunk(self) -> list[Event] | None:
        return self._chunks[0] if self._chunks else None

    def remaining(self) -> int:
        return sum(len(chunk) for chunk in self._chunks)

    def settle(self, answer: Answer) -> float:
        chunk = self._chunks[0]
        if answer.verdict is Verdict.DELIVERED:
            self._chunks.popleft()
            self._failures = 0
            self._counters.add(
                accepted=answer.accepted, duplicates=answer.duplicates, rejected=answer.rejected
            )
            return 0.0
        if answer.verdict is Verdict.TOO_LARGE:
            self._chunks.popleft()
            if len(chunk) == 1:
                logger.warning(
                    "event %s exceeds the server's request size limit; dropped", chunk[0].event_id
                )
                self._counters.add(too_large=1)
            else:
                half = len(chunk) // 2
                self._chunks.extendleft([chunk[half:], chunk[:half]])
            return 0.0
        if answer.verdict is Verdict.REFUSED:
            self._chunks.popleft()
            logger.error("the server refused %d events: %s", len(chunk), answer.message)
            self._counters.add(refused=len(chunk))
            return 0.0
        self._counters.add(retries=1)
        if answer.verdict is Verdict.RATE_LIMITED:
            # The server said when; a little jitter keeps many clients from returning
            # in the same instant, and waiting longer is always allowed.
            self._counters.add(rate_limited=1)
            return answer.retry_after * random.uniform(1.0, 1.1)  # noqa: S311
        self._failures += 1
        logger.info("send failed (%s); retrying", answer.message or "no answer")
        return self._backoff.delay(self._failures)
