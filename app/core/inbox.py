"""Calls handed to the core's loop from other threads: in order, one wake-up for a burst.

``loop.call_soon_threadsafe`` wakes the loop for every call (a write to its self-pipe, then a
turn for the GIL on each side). A command thread's result, the events a thread emits and the
messages it sends on a channel come in bursts: here a call wakes the loop only when no wake-up
is already on its way, and the loop then runs all that came meanwhile, in the order it came.
The core has one inbox for all of them, so what a command emitted or sent on a channel before
it returned reaches the page before its reply.

A thread that hands calls faster than the loop runs them (emitting events in a loop, say) would
keep the GIL to itself, since it never waits for anything, and what it handed would wait for the
loop's turns: once ``BATCH`` calls wait, ``put`` waits until the loop has taken them (at most
``PATIENCE`` seconds: a loop that is stuck or ending does not stop the thread). Worker threads
hand their results without waiting: they wait for their next job anyway, and pacing them was
measured to cost throughput.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["BATCH", "BATCH_BYTES", "PATIENCE", "LoopInbox"]

log = logging.getLogger("app.core")

BATCH = 64
"""Calls that may wait for the loop before the threads handing more wait for it too."""

BATCH_BYTES = 4 * 1024 * 1024
"""Or calls carrying this many bytes (events a thread emits): the pages' backlogs only count
what the loop has taken, so what waits here must stay small for a thread's emits to wait for
the pages in time (a thread emitting 1 MB events queued 64 MB the pages' limits never saw)."""

PATIENCE = 1.0
"""How long such a thread waits for the loop at most (seconds)."""


class LoopInbox:
    """Made on the loop's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._loop_thread = threading.get_ident()
        self._calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._bytes = 0  # what the calls waiting carry (as their putters said)
        self._lock = threading.Lock()
        self._waking = False
        self._taken = threading.Event()  # cleared while BATCH calls or more wait

    def put(self, func: Callable[..., Any], *args: Any, pace: bool = True, size: int = 0) -> None:
        """Run ``func(*args)`` on the loop soon (call from any thread but the loop's); with
        ``pace``, wait while ``BATCH`` calls or more, or ``BATCH_BYTES`` of them (each carries
        ``size``), wait for the loop. ``RuntimeError`` if the loop is closed: the app is gone."""
        with self._lock:
            self._calls.append((func, args))
            self._bytes += size
            full = pace and (len(self._calls) >= BATCH or self._bytes >= BATCH_BYTES)
            if full:
                self._taken.clear()
            waking, self._waking = self._waking, True
        if not waking:
            self._wake()
        if full and threading.get_ident() != self._loop_thread:
            self._taken.wait(PATIENCE)

    def _wake(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self._run)
        except RuntimeError:
            with self._lock:
                self._waking = False
            raise

    def _run(self) -> None:
        with self._lock:
            calls, self._calls = self._calls, []
            self._bytes = 0
            self._waking = False
        if not self._taken.is_set():  # a thread may wait for this batch to be taken
            self._taken.set()
        for i, (func, args) in enumerate(calls):
            try:
                func(*args)
            except Exception:
                log.exception("%r, handed to the core's loop, failed", func)
            except BaseException:
                # Ending the loop (as a callback of its own would): what was to run after it
                # runs first when the loop goes on.
                with self._lock:
                    self._calls[:0] = calls[i + 1 :]
                    if self._calls and not self._waking:
                        self._waking = True
                        self.loop.call_soon(self._run)
                raise
