"""The threads that run sync commands and sync event handlers, off the core's loop.

Unlike ``run_in_executor``, results come back to the loop in batches: a worker wakes the loop
only when no wake-up is already on its way, so a burst of calls finishing together costs one
wake-up instead of one each. Workers are daemon threads: a command stuck forever cannot keep
the process alive after the app has ended.

A thread cannot be stopped, so a command that runs past its time limit goes on running. The
pool starts a spare thread for each such job (up to ``SPARES`` times its size in all), so that
abandoned jobs do not take the pool's room from new calls; a spare ends once the pool is back
to its size.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["SPARES", "WorkerPool"]

SPARES = 4
"""At most this many times the pool's size in threads, spares for abandoned jobs included."""

_Job = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class WorkerPool:
    def __init__(self, threads: int, name: str = "app-command") -> None:
        self._size = threads
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._done: list[tuple[asyncio.Future[Any], bool, Any]] = []
        self._lock = threading.Lock()
        self._wake_pending = False
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[asyncio.Future[Any]] = set()  # jobs on a thread now
        self._abandoned: set[asyncio.Future[Any]] = set()  # of those, given up by their caller
        self._live = 0  # threads started and not ended
        self._started = 0

    @property
    def threads(self) -> int:
        """Threads alive now (spares included)."""
        return self._live

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for _ in range(self._size):
            self._spawn()

    def _spawn(self) -> None:
        with self._lock:
            self._live += 1
            self._started += 1
            name = f"{self._name}-{self._started - 1}"
        thread = threading.Thread(target=self._work, name=name, daemon=True)
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)

    def submit(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        """Run ``func(*args, **kwargs)`` on a worker; the future resolves on the loop."""
        assert self._loop is not None, "WorkerPool.start() was not called"
        future = self._loop.create_future()
        self._jobs.put((future, func, args, kwargs))
        return future

    def given_up(self, future: asyncio.Future[Any]) -> None:
        """The caller cancelled ``future`` (a time limit, a closed page). If its job is running,
        it keeps a thread: start a spare while the pool's free room is below its size."""
        if not future.cancelled():
            return
        with self._lock:
            if future not in self._running or future in self._abandoned:
                return
            self._abandoned.add(future)
            spare = (
                self._live - len(self._abandoned) < self._size
                and self._live < self._size * SPARES
            )
        if spare:
            self._spawn()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, func, args, kwargs = job
            with self._lock:
                if future.cancelled():  # timed out while it waited
                    continue
                self._running.add(future)
            try:
                outcome = (future, True, func(*args, **kwargs))
            except BaseException as exc:
                outcome = (future, False, exc)
            with self._lock:
                self._running.discard(future)
                if future in self._abandoned:
                    self._abandoned.discard(future)
                    if self._live - len(self._abandoned) > self._size:
                        self._live -= 1  # a spare no longer needed: this thread ends
                        return
                    continue
                if future.cancelled():  # given up, but it had no spare: nothing to give back
                    continue
                self._done.append(outcome)
                if self._wake_pending:
                    continue
                self._wake_pending = True
            assert self._loop is not None
            try:
                self._loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # the loop is closed: the app is gone
                return

    def _deliver(self) -> None:
        with self._lock:
            done, self._done = self._done, []
            self._wake_pending = False
        for future, ok, value in done:
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def shutdown(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        self._threads.clear()
