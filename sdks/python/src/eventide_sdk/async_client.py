"""The asyncio client: track() never blocks, a background task sends."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import time

import httpx

from eventide_sdk import _sync_send
from eventide_sdk._delivery import Backoff, Delivery
from eventide_sdk._tracking import Options, Tracker
from eventide_sdk._wire import Answer, Event, Verdict, judge, request_body


class AsyncClient(Tracker):
    """Sends events to Eventide in batches from a task of the running event loop; the
    same batching, retries and splitting as :class:`eventide_sdk.Client`.

    Create it inside the event loop (it starts its task there) and ``await close()``
    before the loop ends. Events still unsent when the interpreter exits without that
    (``asyncio.run`` has cancelled the task) are sent at exit, without the loop.
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
        self._loop = asyncio.get_running_loop()  # RuntimeError outside a running loop
        self._http = httpx.AsyncClient(timeout=timeout)
        self._wake = asyncio.Event()
        self._give_up = asyncio.Event()
        self._closing = False
        # flush() waits for a round that starts after it: see Client.
        self._requested = 0
        self._finished = 0
        self._round_waiters: list[tuple[int, asyncio.Future[None]]] = []
        # The batch being sent, kept so that delivery at exit can finish it.
        self._in_flight: Delivery | None = None
        self._worker = self._loop.create_task(self._run(), name="eventide-sdk")
        atexit.register(self._deliver_at_exit)

    async def flush(self) -> None:
        """Send every event tracked so far (bound the wait with ``asyncio.timeout``)."""
        self._requested += 1
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._round_waiters.append((self._requested, waiter))
        self._wake.set()
        # The worker only ends when closed; then nothing more will be sent.
        await asyncio.wait({waiter, self._worker}, return_when=asyncio.FIRST_COMPLETED)

    async def close(self) -> None:
        """Flush, then stop. After ``shutdown_timeout`` seconds the events still unsent
        are given up (``Stats.abandoned``)."""
        if self._closed:
            return
        self._closed = True
        self._closing = True
        self._wake.set()
        atexit.unregister(self._deliver_at_exit)
        done, _ = await asyncio.wait({self._worker}, timeout=self._options.shutdown_timeout)
        if not done:
            self._give_up.set()
            done, _ = await asyncio.wait({self._worker}, timeout=self._options.timeout + 1)
            if not done:
                self._worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _batch_full(self) -> None:
        # track() may be called from another thread; Event.set() must run in the loop.
        self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._options.flush_interval)
            self._wake.clear()
            round_, closing = self._requested, self._closing
            await self._send_queued()
            self._finished = max(self._finished, round_)
            for wanted, waiter in list(self._round_waiters):
                if wanted <= self._finished:
                    self._round_waiters.remove((wanted, waiter))
                    if not waiter.done():
                        waiter.set_result(None)
            if closing or self._give_up.is_set():
                self._counters.add(abandoned=len(self._queue.take(len(self._queue))))
                return
            if len(self._queue) >= self._options.batch_size:
                self._wake.set()

    async def _send_queued(self) -> None:
        left = len(self._queue)
        while left > 0 and not self._give_up.is_set():
            batch = self._queue.take(min(left, self._options.batch_size))
            if not batch:
                return
            left -= len(batch)
            self._in_flight = delivery = Delivery(batch, self._options.backoff, self._counters)
            await self._deliver(delivery)
            self._in_flight = None
            self._counters.add(abandoned=delivery.remaining())

    async def _deliver(self, delivery: Delivery) -> None:
        while (chunk := delivery.next_chunk()) is not None:
            wait = delivery.settle(await self._post(chunk))
            if self._give_up.is_set():
                return
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._give_up.wait(), wait)
                    return

    async def _post(self, chunk: list[Event]) -> Answer:
        try:
            response = await self._http.post(
                self._options.endpoint,
                content=request_body(self._options.project, chunk),
                headers=self._options.headers(),
            )
        except httpx.TransportError as error:
            return Answer(Verdict.RETRY, message=repr(error))
        return judge(response.status_code, response.headers.get("retry-after"), response.content)

    def _deliver_at_exit(self) -> None:
        """The loop is gone without close(): send what is left, blocking, for at most
        ``shutdown_timeout`` seconds."""
        self._closed = True
        deliveries = [self._in_flight] if self._in_flight else []
        while batch := self._queue.take(self._options.batch_size):
            deliveries.append(Delivery(batch, self._options.backoff, self._counters))
        deadline = time.monotonic() + self._options.shutdown_timeout
        with httpx.Client(timeout=self._options.timeout) as http:
            for delivery in deliveries:
                _sync_send.deliver(http, self._options, delivery, deadline)
                self._counters.add(abandoned=delivery.remaining())
