"""Running the core's loop to its end, as ``asyncio.run`` does, except that the end is bounded.

``asyncio.run`` cancels what is still running when its coroutine returns, then waits for all of
it to end. An async command that catches ``CancelledError`` and goes on would hold the app open
for ever (SIGTERM and Ctrl-C included). Here such tasks get ``END_GRACE`` to end; then the loop
closes without them, and the log names them.

The loop's exception handler says that the process is out of file descriptors (a local program
can open that many connections) once every ``OUT_OF_FILES_EVERY`` seconds, with a count: asyncio
reports each failed accept, more of them every second while it lasts (600 MB of log in two
minutes, measured).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

__all__ = ["END_GRACE", "run", "running_loop", "unless_stopped"]

log = logging.getLogger("app.core")

END_GRACE = 2.0
"""How long tasks still running at the end have to finish once cancelled (seconds)."""

OUT_OF_FILES_EVERY = 10.0

_OUT_OF_FILES = "socket.accept() out of system resource"


async def unless_stopped(work: Coroutine[Any, Any, Any], stop: asyncio.Event) -> bool:
    """Run ``work`` to its end (raising what it raises), unless ``stop`` is set first: then it
    is cancelled, and awaited, and the answer is False. (An app's start waits for a plain
    on_start function on a thread, which a stop signal must not wait for.)"""
    working = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not working.done():
        working.cancel()
        await asyncio.gather(working, return_exceptions=True)
        return False
    working.result()
    return True


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running on this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on a new loop of this thread (which must have none running)."""
    if running_loop() is not None:
        main.close()
        raise RuntimeError(
            "the app cannot run inside a running event loop: await app.start() and "
            "app.stop() in it instead"
        )
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_OutOfFiles())
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main)
    finally:
        try:
            _end_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


class _OutOfFiles:
    """The loop's exception handler: asyncio's own, but a failed accept for want of file
    descriptors is said at most every ``OUT_OF_FILES_EVERY`` seconds."""

    def __init__(self) -> None:
        self._said = -OUT_OF_FILES_EVERY
        self._unsaid = 0
        self._last: object = None
        self._due = False

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != _OUT_OF_FILES:
            loop.default_exception_handler(context)
            return
        self._unsaid += 1
        self._last = context.get("exception")
        wait = self._said + OUT_OF_FILES_EVERY - time.monotonic()
        if wait <= 0:
            self._say()
        elif not self._due:  # said when its time comes, even if no more come
            self._due = True
            loop.call_later(wait, self._say)

    def _say(self) -> None:
        self._due = False
        if not self._unsaid:
            return
        log.error(
            "the app cannot take new connections: the process has no file descriptors left "
            "(%s; failed accepts since the last report: %d). Too many connections are open, "
            "or the limit is low (ulimit -n).", self._last, self._unsaid,
        )
        self._said, self._unsaid = time.monotonic(), 0


def _end_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    done, stuck = loop.run_until_complete(asyncio.wait(tasks, timeout=END_GRACE))
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler({
                "message": "a task failed as the app ended",
                "exception": task.exception(),
                "task": task,
            })
    for task in stuck:
        log.error("%s did not end when cancelled as the app ended; it is left behind",
                  task.get_name())
        # Left behind on purpose, and said so: asyncio need not say it again, with a
        # traceback, when the closed loop's task is let go.
        task._log_destroy_pending = False  # type: ignore[attr-defined]
