"""What both clients share: their settings, the current user and the queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventide_sdk._delivery import Backoff, Counters, Stats
from eventide_sdk._queue import EventQueue
from eventide_sdk._uuid7 import uuid7
from eventide_sdk._wire import encode_event

# The server's default limit on events per ingestEvents call.
SERVER_MAX_BATCH = 1000


@dataclass(frozen=True)
class Options:
    endpoint: str
    token: str
    project: str | None
    batch_size: int
    flush_interval: float
    max_queue_size: int
    timeout: float
    shutdown_timeout: float
    backoff: Backoff

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= SERVER_MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {SERVER_MAX_BATCH}")
        if self.flush_interval <= 0:
            raise ValueError("flush_interval must be positive")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}


class Tracker:
    """identify() and track(): events are encoded and queued at once, in the caller's
    thread; sending is left to the client's background worker."""

    def __init__(self, options: Options) -> None:
        self._options = options
        self._counters = Counters()
        self._queue = EventQueue(options.max_queue_size, self._counters)
        # Until identify(), events carry an id of this client's own, so they still count
        # as one (anonymous) user.
        self._user_id = f"anonymous-{uuid7()}"
        self._closed = False

    @property
    def stats(self) -> Stats:
        return self._counters.snapshot()

    @property
    def user_id(self) -> str:
        return self._user_id

    def identify(self, user_id: str) -> None:
        """Attribute the following events to this user."""
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("user_id must be a non-empty string")
        self._user_id = user_id

    def track(
        self,
        event_type: str,
        properties: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> str:
        """Queue one event and return its eventId. Properties are copied (as JSON) now."""
        if self._closed:
            raise RuntimeError("the client is closed")
        if not isinstance(event_type, str) or not event_type:
            raise ValueError("event_type must be a non-empty string")
        event = encode_event(event_type, user_id or self._user_id, properties)
        if self._queue.put(event) >= self._options.batch_size:
            self._batch_full()
        return event.event_id

    def _batch_full(self) -> None:
        """A full batch is waiting: wake the worker."""
        raise NotImplementedError
