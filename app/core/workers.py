"""The threads that run sync commands and sync event handlers, off the core's loop.

Unlike ``run_in_executor``, results come back to the loop through its ``LoopInbox``: a burst of
calls finishing together costs one wake-up of the loop instead of one each. Workers are daemon
threads: a command stuck forever cannot keep the process alive after the app has ended.

The pool keeps its ``size`` threads and grows when jobs wait while no thread is free, so that
slow commands (or commands abandoned at their time limit: a thread cannot be stopped) do not
hold up the others: once jobs have waited ``GROW_AFTER``, the pool doubles (up to a thread for
each waiting job) if no job finished meanwhile (the threads are all held up), and checks again
after as long. If some did, the threads are taking the jobs in turn (a burst, or a steady load,
of quick jobs), and a thread starts only for each one held up by a job that has run
``SLOW_JOB`` or longer (once for each such job). Doubling, not a thread per waiting job at once:
on a busy machine threads that are not held up may just not have run for ``GROW_AFTER``, and
hundreds of threads would start for a burst of quick jobs; and not a thread more at each check
while jobs wait, which under a steady load of quick calls grew the pool to as many threads as
calls in flight. It grows by at most ``GROWTH`` threads; a thread beyond the pool's size ends
after ``IDLE_SECONDS`` without work.

Held up means ``HELD_CHECKS`` checks in a row that found no job finished. A loop busy with a
stream of calls holds the GIL for the switch interval (5 ms) at a time, and threads running
quick jobs all along could not finish one in a single check's time: taken for held up, they
doubled to as many threads as calls in flight (8 to 529 threads for 500 quick calls in flight,
at the same throughput).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from .inbox import LoopInbox

__all__ = ["GROWTH", "GROW_AFTER", "IDLE_SECONDS", "SLOW_JOB", "WorkerPool"]

GROWTH = 1024
"""Threads the pool may start beyond its size while all of its threads are busy."""

GROW_AFTER = 0.005
"""How long jobs wait with no thread free before the pool grows (seconds)."""

IDLE_SECONDS = 10.0
"""How long a thread beyond the pool's size waits for work before it ends."""

SLOW_JOB = 0.1
"""A job that has run this long (seconds) holds its thread up: the pool starts another."""

HELD_CHECKS = 3
"""Checks in a row, ``GROW_AFTER`` apart, that found no job finished, after which the pool takes
its threads for held up."""

_Job = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class WorkerPool:
    def __init__(
        self,
        threads: int,
        name: str = "app-command",
        *,
        growth: int = GROWTH,
        idle_seconds: float = IDLE_SECONDS,
        grow_after: float = GROW_AFTER,
    ) -> None:
        self._size = threads
        self._limit = threads + growth
        self._name = name
        self._idle_seconds = idle_seconds
        self._grow_after = grow_after
        self._grow_check: asyncio.TimerHandle | None = None
        self._held = 0  # checks in a row that found no job finished
        self._finished = 0  # jobs that threads have finished, ever
        self._finished_then = 0  # ... when the growth check was set
        self._running: dict[int, float] = {}  # thread -> when its job began
        self._unstarted: set[asyncio.Future[Any]] = set()  # jobs no thread has taken yet
        self._replaced: set[int] = set()  # threads held up whose job a new thread took over
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._then: dict[asyncio.Future[Any], Callable[[], object]] = {}  # see submit_then
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.inbox: LoopInbox | None = None
        """How the threads hand results to the loop (the core's, shared with its events)."""
        self._live = 0  # threads started and not ended
        self._free = 0  # of those, waiting for a job
        self._queued = 0  # jobs submitted and not yet taken by a thread
        self._started = 0
        self._stopping = False

    @property
    def limit(self) -> int:
        """The most threads it may have."""
        return self._limit

    @property
    def size(self) -> int:
        """The threads it keeps."""
        return self._size

    @property
    def threads(self) -> int:
        """Threads alive now."""
        return self._live

    def start(self, loop: asyncio.AbstractEventLoop, inbox: LoopInbox | None = None) -> None:
        self._loop = loop
        self.inbox = inbox or LoopInbox(loop)
        for _ in range(self._size):
            with self._lock:
                self._live += 1
            self._spawn()

    def _spawn(self) -> None:
        """Start a thread; the caller counted it in ``_live`` already."""
        with self._lock:
            self._started += 1
            name = f"{self._name}-{self._started - 1}"
        thread = threading.Thread(target=self._work, name=name, daemon=True)
        thread.start()

    def submit(
        self, func: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> asyncio.Future[Any]:
        """Run ``func(*args, **kwargs)`` on a worker; the future resolves on the loop."""
        return self._submit(func, args, kwargs, None)

    def submit_then(
        self, then: Callable[[], object], func: Callable[..., Any], /, **kwargs: Any
    ) -> asyncio.Future[Any]:
        """As ``submit``; ``then()`` runs on the loop once the job is over: run to its end,
        whether its caller still waited or not, or skipped, given up before a thread took it
        (a thread cannot be stopped: a job given up while it runs is over only as it returns).
        """
        return self._submit(func, (), kwargs, then)

    def _submit(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        then: Callable[[], object] | None,
    ) -> asyncio.Future[Any]:
        assert self._loop is not None, "WorkerPool.start() was not called"
        future = self._loop.create_future()
        if then is not None:  # before a thread can take the job
            self._then[future] = then
        with self._lock:
            self._queued += 1
            self._unstarted.add(future)
            waits = self._queued > self._free and self._live < self._limit and not self._stopping
            finished = self._finished
        self._jobs.put((future, func, args, kwargs))
        if waits and self._grow_check is None:
            self._finished_then = finished
            self._arm_grow_check()
        return future

    def _arm_grow_check(self) -> None:
        assert self._loop is not None
        self._grow_check = self._loop.call_later(self._grow_after, self._grow)

    def _grow(self) -> None:
        """Jobs have waited ``grow_after`` with no thread free (see the module's docstring)."""
        self._grow_check = None
        with self._lock:
            waiting = self._queued - self._free
            if waiting <= 0 or self._stopping:
                self._held = 0
                return
            held_up = self._finished == self._finished_then
            self._held = self._held + 1 if held_up else 0
            if 0 < self._held < HELD_CHECKS:
                # None finished in this check's time: the threads may just have had no turn
                # (a busy loop holds the GIL 5 ms at a time). Look again.
                self._arm_grow_check()
                return
            self._held = 0
            if held_up:  # all of them
                count = min(waiting, max(self._live, 1))
                replaced = set(self._running)
            else:
                now = time.monotonic()
                replaced = {t for t, since in self._running.items()
                            if now - since >= SLOW_JOB and t not in self._replaced}
                count = min(waiting, len(replaced))
            count = min(count, self._limit - self._live)
            self._replaced |= replaced
            self._live += count
            self._finished_then = self._finished
        for _ in range(count):
            self._spawn()
        if waiting > count and self._live < self._limit:
            self._arm_grow_check()

    def let_go(self, future: asyncio.Future[Any]) -> bool:
        """The caller waits for ``future`` no more (it settled, or was cancelled: a time limit,
        a closed page); whether a thread had taken its job. A job not started yet is skipped;
        one running keeps its thread, and the pool grows around it if it must."""
        with self._lock:
            if future in self._unstarted:
                self._unstarted.discard(future)
                return False
            return True

    def _take(self) -> _Job | None:
        """The next job; ``None`` when this thread is to end."""
        while True:
            with self._lock:
                self._free += 1
            try:
                job = self._jobs.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    self._free -= 1
                    if self._live > self._size and self._queued == 0:
                        self._live -= 1  # a thread the pool grew by, idle: it ends
                        return None
                continue
            with self._lock:
                self._free -= 1
                if job is not None:
                    self._queued -= 1
                    self._unstarted.discard(job[0])
                else:
                    self._live -= 1
            return job

    def _work(self) -> None:
        while (job := self._take()) is not None:
            if not self._run(job):
                return
            job = None  # not kept while the thread waits for the next: it may be large

    def _run(self, job: _Job) -> bool:
        """Run ``job`` and hand its outcome to the loop; False if the loop is gone. (A call of
        its own: the arguments, result or exception are let go as it returns.)"""
        future, func, args, kwargs = job
        assert self.inbox is not None
        if future.cancelled():  # given up while it waited
            then = self._then.pop(future, None)
            try:
                if then is not None:
                    self.inbox.put(then, pace=False)
            except RuntimeError:  # the loop is closed: the app is gone
                return False
            return True
        me = threading.get_ident()
        with self._lock:
            self._running[me] = time.monotonic()
        try:
            outcome = (future, True, func(*args, **kwargs))
        except BaseException as exc:  # SystemExit too: it ends the call, not the app
            outcome = (future, False, _settleable(exc))
        with self._lock:
            self._finished += 1
            del self._running[me]
            self._replaced.discard(me)
        try:
            self.inbox.put(_settle, *outcome, self._then.pop(future, None), pace=False)
        except RuntimeError:  # the loop is closed: the app is gone
            return False
        return True

    def shutdown(self) -> None:
        if self._grow_check is not None:
            self._grow_check.cancel()
            self._grow_check = None
        with self._lock:
            self._stopping = True
            live = self._live
        for _ in range(live):
            self._jobs.put(None)


def _settle(
    future: asyncio.Future[Any], ok: bool, value: Any, then: Callable[[], object] | None
) -> None:
    if not future.done():  # not given up meanwhile
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
    if then is not None:
        then()


def _settleable(exc: BaseException) -> BaseException:
    """What a job raised, as the loop can take it: what is not an ``Exception`` (SystemExit,
    GeneratorExit, StopIteration's trouble with futures...) comes wrapped in a RuntimeError.
    Set on a future as it is, it would end the loop, close the awaiting coroutines, or (raised
    inside the loop) lose the rest of the batch."""
    if isinstance(exc, Exception) and not isinstance(exc, StopIteration):
        return exc
    wrapped = RuntimeError(f"the function raised {type(exc).__name__}")
    wrapped.__cause__ = exc
    return wrapped
