"""The threads that run sync commands and sync event handlers, off the core's loop.

Unlike ``run_in_executor``, results come back to the loop in batches: a worker wakes the loop
only when no wake-up is already on its way, so a burst of calls finishing together costs one
wake-up instead of one each. Workers are daemon threads: a command stuck forever cannot keep
the process alive after the app has ended.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["WorkerPool"]

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

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for i in range(self._size):
            thread = threading.Thread(target=self._work, name=f"{self._name}-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        """Run ``func(*args, **kwargs)`` on a worker; the future resolves on the loop."""
        assert self._loop is not None, "WorkerPool.start() was not called"
        future = self._loop.create_future()
        self._jobs.put((future, func, args, kwargs))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, func, args, kwargs = job
            if future.cancelled():  # timed out while it waited
                continue
            try:
                outcome = (future, True, func(*args, **kwargs))
            except BaseException as exc:
                outcome = (future, False, exc)
            with self._lock:
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
