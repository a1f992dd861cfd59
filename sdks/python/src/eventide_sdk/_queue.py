"""The bounded queue of tracked events waiting to be sent."""

from __future__ import annotations

import threading
from collections import deque

from eventide_sdk._delivery import Counters
from eventide_sdk._wire import Event


class EventQueue:
    """First in, first out, at most ``max_size`` events. When full, the oldest event is
    dropped to make room (counted in ``Stats.dropped``): during a long outage the most
    recent events are the ones worth keeping, and memory stays bounded."""

    def __init__(self, max_size: int, counters: Counters) -> None:
        if max_size < 1:
            raise ValueError("max_queue_size must be at least 1")
        self._events: deque[Event] = deque()
        self._max_size = max_size
        self._counters = counters
        self._lock = threading.Lock()

    def put(self, event: Event) -> int:
        """Queue the event; returns how many are now waiting."""
        with self._lock:
            if len(self._events) >= self._max_size:
                self._events.popleft()
                self._counters.add(dropped=1)
            self._events.append(event)
            return len(self._events)

    def take(self, count: int) -> list[Event]:
        with self._lock:
            return [self._events.popleft() for _ in range(min(count, len(self._events)))]

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)
