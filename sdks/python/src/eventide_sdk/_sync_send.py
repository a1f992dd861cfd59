"""Sending over a blocking httpx client: the threaded client's worker, and the asyncio
client's last-chance delivery at interpreter exit, when no event loop is left."""

from __future__ import annotations

import threading
import time

import httpx

from eventide_sdk._delivery import Delivery
from eventide_sdk._tracking import Options
from eventide_sdk._wire import Answer, Event, Verdict, judge, request_body


def post(http: httpx.Client, options: Options, chunk: list[Event]) -> Answer:
    try:
        response = http.post(
            options.endpoint,
            content=request_body(options.project, chunk),
            headers=options.headers(),
        )
    except httpx.TransportError as error:  # refused, reset, timed out: maybe never arrived
        return Answer(Verdict.RETRY, message=repr(error))
    return judge(response.status_code, response.headers.get("retry-after"), response.content)


def deliver(
    http: httpx.Client,
    options: Options,
    delivery: Delivery,
    stop: threading.Event | float,
) -> None:
    """Send until the delivery is done or ``stop`` says to: an event that is set (it
    also ends a wait at once), or a deadline on the ``time.monotonic`` clock."""
    while (chunk := delivery.next_chunk()) is not None:
        wait = delivery.settle(post(http, options, chunk))
        if isinstance(stop, threading.Event):
            if stop.is_set() or (wait > 0 and stop.wait(wait)):
                return
        elif time.monotonic() + wait >= stop:
            return
        else:
            time.sleep(wait)
