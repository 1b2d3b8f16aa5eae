"""The time limit of every running command, watched by one timer.

``asyncio.timeout`` makes a timer for each call, and a third of the core's own work on a small
call went into it (about 3 of 9 us per call in a tight loop). Every call has the same limit,
so calls fall due in the order they started: ``Deadlines`` keeps them in that order, with one
timer, for the first one still running. A call over is dropped from the front as it ends (calls
made one at a time never wait there), or once those before it end; while one long call holds
the front, the queue is swept of the calls over behind it whenever they are more than those
still running (a call of five minutes, with 40,000 quick ones a second behind it, would
otherwise keep twelve million).

A ``Limit`` behaves as ``asyncio.timeout``'s does: at its time it cancels its task, and as its
``with`` block ends, that cancellation becomes ``TimeoutError``, unless the task was cancelled
from elsewhere too (then it stays a cancellation).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

__all__ = ["Deadlines", "Limit"]

_SWEEP_FROM = 64
"""Calls over that may wait behind a running one before the queue is swept (with as many
again as are running: a sweep takes time in proportion, and comes after as many calls)."""


class Limit:
    """One call's time limit; ``with`` it around the call (inside its task)."""

    __slots__ = ("_cancelling", "_deadlines", "_loop", "_task", "due", "expired", "over")

    def __init__(
        self,
        deadlines: Deadlines,
        task: asyncio.Task[object],
        due: float,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._deadlines = deadlines
        self._loop = loop
        self._task: asyncio.Task[object] | None = task
        self._cancelling = task.cancelling()
        self.due = due
        self.over = False
        """Its block has ended: it cancels nothing any more."""
        self.expired = False
        """It cancelled its task, its time being up."""

    def __enter__(self) -> Limit:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.over = True
        # Let go of the task: a limit may wait in the queue behind a long call for as long as
        # that call's time limit, and a task that was cancelled (its page went away) holds its
        # traceback, and through it the call's frames and arguments.
        task, self._task = self._task, None
        self._deadlines.ended(self._loop)
        if (
            self.expired
            and task is not None
            and task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise TimeoutError from exc

    def expire(self) -> None:
        if self._task is None:  # its block has ended
            return
        self.expired = True
        self._task.cancel()


class Deadlines:
    """The limits of the calls running on one loop, each ``seconds`` long."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._limits: deque[Limit] = deque()  # in the order they fall due
        self._running = 0  # of them, those whose block has not ended
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def limit(self) -> Limit:
        """A limit from now for the current task."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a time limit is for a call running in a task")
        if loop is not self._loop:  # a new loop (the app started again): start afresh
            self._loop, self._limits, self._timer, self._running = loop, deque(), None, 0
        limit = Limit(self, task, loop.time() + self.seconds, loop)
        self._limits.append(limit)
        self._running += 1
        if self._timer is None:
            self._timer = loop.call_at(limit.due, self._expire)
        return limit

    def ended(self, loop: asyncio.AbstractEventLoop) -> None:
        """A limit of ``loop``'s ended: drop the ones over from the front, or from anywhere
        once they are more than those running."""
        if loop is not self._loop:  # of a loop that has ended since
            return
        self._running -= 1
        limits = self._limits
        while limits and limits[0].over:
            limits.popleft()
        if len(limits) > 2 * self._running + _SWEEP_FROM:
            self._limits = deque(limit for limit in limits if not limit.over)

    def close(self) -> None:
        """Watch no more (the core stops)."""
        if self._timer is not None:
            self._timer.cancel()
        self._loop, self._limits, self._timer, self._running = None, deque(), None, 0

    def _expire(self) -> None:
        """The first limit's time may be up: cancel the calls due, and watch the next one."""
        assert self._loop is not None
        self._timer = None
        limits = self._limits
        now = self._loop.time()
        while limits and (limits[0].over or limits[0].due <= now):
            limit = limits.popleft()
            if not limit.over:
                limit.expire()
        if limits:
            self._timer = self._loop.call_at(limits[0].due, self._expire)
