"""One thread for heavy work that several windows hand it, taking their jobs in turn.

The core reads large frames on a thread of their own, one at a time (what a frame of millions
of small values becomes is twenty times its size: read side by side, a page's connections took
the core to gigabytes). Taken in the order they came, one window's stream of large frames kept
another window's one large call waiting behind all of them (50 s, past the page's own
deadline); taken in turn, it waits for at most one job of each other window, besides the one
running.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["InTurn"]

T = TypeVar("T")

_Job = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...]]


class InTurn:
    """Runs jobs one at a time on a thread of its own, the next from the owner after the one
    whose job ran last (round robin); each owner's jobs in the order they came."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._queues: OrderedDict[str, deque[_Job]] = OrderedDict()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, owner: str, func: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run ``func(*args)`` in ``owner``'s turn; raise ``RuntimeError`` once shut down."""
        future: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError(f"{self._name} has been shut down")
            self._queues.setdefault(owner, deque()).append((future, func, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()
            self._ready.notify()
        return future

    async def run(self, owner: str, func: Callable[..., T], /, *args: Any) -> T:
        """``submit``, awaited on the loop. Cancelled, a job that has not begun is skipped."""
        return await asyncio.wrap_future(self.submit(owner, func, *args))

    def shutdown(self) -> None:
        """Take no more jobs, and cancel those that have not begun (the one running ends as it
        does: a thread cannot be stopped)."""
        with self._ready:
            self._closed = True
            for queue in self._queues.values():
                for future, _, _ in queue:
                    future.cancel()
            self._queues.clear()
            self._ready.notify()

    def _next(self) -> _Job | None:
        with self._ready:
            while not self._queues:
                if self._closed:
                    return None
                self._ready.wait()
            owner, queue = self._queues.popitem(last=False)
            job = queue.popleft()
            if queue:  # its next job comes after every other owner's
                self._queues[owner] = queue
            return job

    def _work(self) -> None:
        while (job := self._next()) is not None:
            self._run(job)
            job = None  # not kept while the thread waits for the next: it may be large

    @staticmethod
    def _run(job: _Job) -> None:
        """(A call of its own: its arguments are let go as it returns.)"""
        future, func, args = job
        if not future.set_running_or_notify_cancel():  # given up before it began
            return
        try:
            result = func(*args)
        except BaseException as exc:  # the caller's to see, whatever it is
            future.set_exception(exc)
            # Its traceback holds this frame: without this, the future, its exception and the
            # job's arguments (a large frame) would wait for the cycle collector.
            del future, func, args, job
        else:
            future.set_result(result)
