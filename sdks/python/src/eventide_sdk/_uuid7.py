"""UUIDv7 event ids (RFC 9562, section 5.7), monotonic within the process.

Python 3.14's ``uuid.uuid7`` is used where it exists. Otherwise the 48-bit Unix
timestamp in milliseconds is followed by a 12-bit counter in ``rand_a`` (the RFC's
"fixed bit-length dedicated counter", section 6.2, method 1) and 62 random bits: ids made
in the same millisecond still sort in the order they were made, and a counter that runs
out moves the timestamp on by a millisecond, as the RFC allows.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable

_COUNTER_BITS = 12
# A fresh millisecond starts its counter at a random value below half the range, so
# there is always room to count up and ids stay hard to guess.
_COUNTER_SEED_BITS = _COUNTER_BITS - 1


class _Generator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._millis = -1
        self._counter = 0

    def __call__(self) -> uuid.UUID:
        with self._lock:
            now = time.time_ns() // 1_000_000
            if now > self._millis:
                self._millis = now
                self._counter = secrets.randbits(_COUNTER_SEED_BITS)
            else:  # the same millisecond, or the clock stepped back: keep counting
                self._counter += 1
                if self._counter >> _COUNTER_BITS:
                    self._millis += 1
                    self._counter = secrets.randbits(_COUNTER_SEED_BITS)
            millis, counter = self._millis, self._counter
        value = (
            (millis & (1 << 48) - 1) << 80
            | 0x7 << 76  # version
            | counter << 64
            | 0b10 << 62  # variant
            | secrets.randbits(62)
        )
        return uuid.UUID(int=value)


uuid7: Callable[[], uuid.UUID] = getattr(uuid, "uuid7", None) or _Generator()
