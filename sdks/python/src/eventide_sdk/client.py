"""The threaded client: track() from any thread, a background thread sends."""

from __future__ import annotations

import atexit
import threading
import time

import httpx

from eventide_sdk import _sync_send
from eventide_sdk._delivery import Backoff, Delivery
from eventide_sdk._tracking import Options, Tracker


class Client(Tracker):
    """Sends events to Eventide in batches from a background thread.

    A batch goes when ``batch_size`` events are queued or ``flush_interval`` seconds
    have passed, whichever comes first. Failed sends are retried with the same eventIds
    (exponential backoff with jitter; RATE_LIMITED waits ``retryAfter``); a batch the
    server finds too large (HTTP 413) is split in halves. Queued events are flushed by
    ``close()``, which also runs at interpreter exit.
    """

    def __init__(
        self,
        endpoint: str,
        token: str,
        project: str | int | None,
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue_size: int = 10_000,
        timeout: float = 10.0,
        shutdown_timeout: float = 5.0,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(
            Options(
                endpoint=endpoint,
                token=token,
                project=None if project is None else str(project),
                batch_size=batch_size,
                flush_interval=flush_interval,
                max_queue_size=max_queue_size,
                timeout=timeout,
                shutdown_timeout=shutdown_timeout,
                backoff=backoff or Backoff(),
            )
        )
        self._http = httpx.Client(timeout=timeout)
        self._wake = threading.Condition()
        # flush() asks for round `_requested` and waits until `_finished` reaches it:
        # a round sends everything queued when it starts.
        self._requested = 0
        self._finished = 0
        self._closing = False
        self._give_up = threading.Event()
        self._worker = threading.Thread(target=self._run, name="eventide-sdk", daemon=True)
        self._worker.start()
        atexit.register(self.close)

    def flush(self, timeout: float | None = None) -> bool:
        """Send every event tracked so far; False if ``timeout`` seconds ran out first."""
        with self._wake:
            self._requested += 1
            round_ = self._requested
            self._wake.notify_all()
            return (
                self._wake.wait_for(
                    lambda: self._finished >= round_ or not self._worker.is_alive(), timeout
                )
                and self._finished >= round_
            )

    def close(self, timeout: float | None = None) -> None:
        """Flush, then stop. After ``timeout`` (default ``shutdown_timeout``) seconds the
        events still unsent are given up (``Stats.abandoned``)."""
        with self._wake:
            if self._closed:
                return
            self._closed = True
            self._closing = True
            self._wake.notify_all()
        atexit.unregister(self.close)
        self._worker.join(self._options.shutdown_timeout if timeout is None else timeout)
        if self._worker.is_alive():
            self._give_up.set()
            # The request in flight, if any, ends within the HTTP timeout.
            self._worker.join(self._options.timeout + 1)
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _batch_full(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _run(self) -> None:
        while True:
            with self._wake:
                deadline = time.monotonic() + self._options.flush_interval
                while not self._should_send() and (left := deadline - time.monotonic()) > 0:
                    self._wake.wait(left)
                round_, closing = self._requested, self._closing
            self._send_queued()
            with self._wake:
                self._finished = max(self._finished, round_)
                self._wake.notify_all()
            if closing or self._give_up.is_set():
                self._counters.add(abandoned=len(self._queue.take(len(self._queue))))
                return

    def _should_send(self) -> bool:
        return (
            self._closing
            or self._requested > self._finished
            or len(self._queue) >= self._options.batch_size
        )

    def _send_queued(self) -> None:
        # Only what is queued now: under a steady stream of track() calls a round still
        # ends, and flush() returns once the events tracked before it are sent.
        left = len(self._queue)
        while left > 0 and not self._give_up.is_set():
            batch = self._queue.take(min(left, self._options.batch_size))
            if not batch:
                return
            left -= len(batch)
            delivery = Delivery(batch, self._options.backoff, self._counters)
            _sync_send.deliver(self._http, self._options, delivery, self._give_up)
            self._counters.add(abandoned=delivery.remaining())
