"""Running commands: sync ones on the worker threads, async ones on the loop, with a time limit."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .channel import MADE, Channel
from .commands import Command, Injector
from .deadlines import Deadlines
from .errors import (
    Blocked,
    CallTimeout,
    CommandError,
    InternalError,
    IpcError,
    ProtocolError,
    Unsendable,
)
from .looprun import running_loop
from .protocol import prepare
from .workers import WorkerPool

__all__ = ["LATE_SECONDS", "PAGE_SLACK_MS", "Dispatcher"]

log = logging.getLogger("app.core.dispatch")

PAGE_SLACK_MS = 5000
"""How much longer than the commands' time limit a page waits for an answer by default (its
runtime's deadline; the API's declarations and the runtime's timeout message say 5 s)."""

LATE_SECONDS = 1.0
"""How long after its time limit an async command that will not stop (it catches the
cancellation) is answered for all the same, at most twice that: before the page's own deadline
(``PAGE_SLACK_MS`` later). One sweep a second looks for them, while async calls run: no timer
per call."""


FULL_LOG_SECONDS = 10.0
"""How often, at most, the log says that calls time out waiting for a thread."""


class Dispatcher:
    def __init__(self, workers: WorkerPool, timeout: float) -> None:
        self.workers = workers
        self.deadlines = Deadlines(timeout)
        """Every call's time limit (``timeout``), one timer for all of them."""
        self._running: dict[int, tuple[Any, Any, Command, float]] = {}
        """Async calls of window connections now running: (session, request, command, when
        they are due an answer), by the request's id()."""
        self._sweep: asyncio.TimerHandle | None = None
        self._full_logged = -FULL_LOG_SECONDS  # when it last logged that no thread was free
        self.window_share = max(1, workers.limit - workers.size)
        """The most sync calls of one window that hold command threads at once: all of the
        threads the pool may have but as many as it keeps. Its others wait, so that a window
        whose commands block (a page stuck in a loop, or hostile) leaves threads for the other
        windows' calls: 4000 blocked calls of one window held another's quick call up for 27 s.
        (Half of them, tried first, made 1000 quick calls in flight wait for each other, at
        13-22% of their throughput.)"""
        self._shares: dict[str, asyncio.Semaphore] = {}

    @property
    def timeout(self) -> float:
        """The commands' time limit (seconds): app.ipc.commandTimeoutMs."""
        return self.deadlines.seconds

    async def call(
        self,
        command: Command,
        args: Any,
        context: Any,
        injectors: Mapping[type, Injector],
    ) -> Any:
        """Bind, run and return the command's result; every failure becomes an ``IpcError``."""
        channels: list[Channel] = []
        token = MADE.set(channels)
        try:
            bound = command.bind(args, context, injectors)
        except (IpcError, asyncio.CancelledError):
            raise
        except BaseException as exc:  # (a validator of the app's own: sys.exit() in it, say)
            log.exception("command %r: checking its arguments raised", command.name)
            raise InternalError(
                f"'{command.name}' failed as its arguments were checked, with an unexpected "
                "error; the app's log has the details."
            ) from exc
        finally:
            MADE.reset(token)
        session = getattr(context, "session", None)
        for channel in channels:
            assert self.workers.inbox is not None
            channel.attach(session, self.workers.inbox)
        watched = command.is_async and session is not None
        if watched:
            self._watch(session, context, command)
        job: asyncio.Future[Any] | None = None
        window = context.caller.window if session is not None else None
        share = self._share(window) if window is not None and not command.is_async else None
        limit = self.deadlines.limit()
        try:
            with limit:
                if command.is_async:
                    task = asyncio.current_task()
                    if task is not None:  # what the log calls it, should it be left behind
                        task.set_name(f"command '{command.name}'")
                    return await command.func(**bound)
                run = functools.partial(command.func, **bound)
                if share is None:
                    job = self.workers.submit(_encoded_result, run)
                else:  # its place is the window's until the job is over, given up or not
                    await share.acquire()
                    job = self.workers.submit_then(share.release, _encoded_result, run=run)
                try:
                    return await job
                finally:
                    # When cancelled, the job may still be running, or (no thread was free)
                    # not have started.
                    started = self.workers.let_go(job)
        except CommandError as exc:
            # The page's message names the command, whatever the command wrote (in a new
            # error: the command's own may be raised again, by it or another command).
            if f"'{command.name}'" in exc.message:
                raise
            said = f": {exc.message}" if exc.message.strip() else "."
            raise CommandError(f"'{command.name}' failed{said}", exc.data) from exc
        except (Unsendable, Blocked, ProtocolError) as exc:
            # What the command tried to send a page cannot go: its own mistake, not its
            # caller's arguments (which invalid_args would say). And the isolation hook's and the
            # wire's codes are theirs: a command that raised them is not either.
            log.warning("command %r: %s: %s", command.name, type(exc).__name__, exc.message)
            raise InternalError(f"'{command.name}' failed: {exc.message}", exc.data) from exc
        except IpcError as exc:
            # The core's own error, raised in the command's body (a scope's refusal, or one the
            # app raised): the page's message names the command too. As the
            # core's own class: an app's subclass may take other arguments.
            if f"'{command.name}'" in exc.message:
                raise
            own = next(c for c in type(exc).__mro__ if c.__module__ == IpcError.__module__)
            raise own(f"'{command.name}' failed: {exc.message}", exc.data) from exc
        except TimeoutError:
            if not limit.expired:
                log.exception("command %r raised", command.name)
                raise InternalError(_failed(command)) from None
            if job is not None and not started:
                raise CallTimeout(self._never_started(command)) from None
            if job is None and share is not None:
                raise CallTimeout(
                    f"'{command.name}' did not start within {self.timeout:g} s: window "
                    f"'{window}' has {self.window_share} sync commands running, the most one "
                    "window may, and they have not returned. It did not run."
                ) from None
            for channel in channels:  # (a thread cannot be stopped, but this ends most)
                channel.end(f"'{command.name}' was abandoned at its time limit: its page no "
                            "longer waits for what it sends on this channel")
            raise CallTimeout(
                f"'{command.name}' did not finish within {self.timeout:g} s and was abandoned "
                "(the core's limit, app.ipc.commandTimeoutMs in the config)."
            ) from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            # Given up (its page went away, the app is ending): not a failure. A command that
            # cancelled its own task is one, and its page still gets an answer.
            if session is not None:
                given_up = session.ending or getattr(context, "abandoned", False)
            else:
                given_up = bool(task and task.cancelling())
            if given_up:
                raise
            if task is not None:
                while task.uncancel():
                    pass
            log.exception("command %r was cancelled from within", command.name)
            raise InternalError(_failed(command)) from None
        except BaseException as exc:
            if isinstance(exc, GeneratorExit) and running_loop() is None:
                raise  # its coroutine is being closed, left behind as the app ended: no failure
            # SystemExit, KeyboardInterrupt and the like, raised by a command (sys.exit() in
            # it, say), end that call, not the app.
            log.exception("command %r raised", command.name)
            raise InternalError(_failed(command)) from exc
        finally:
            if watched:
                self._running.pop(id(context), None)

    def forget(self, window: str) -> None:
        """Window ``window`` closed: its share goes (calls still running keep theirs)."""
        self._shares.pop(window, None)

    def close(self) -> None:
        """The core stops: its timers go (on a loop that runs on, an app's own, they fired
        later, answering pages that were gone)."""
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        self._running.clear()
        self.deadlines.close()

    def _share(self, window: str) -> asyncio.Semaphore:
        """The places on the command threads of window ``window``'s sync commands."""
        share = self._shares.get(window)
        if share is None:
            share = self._shares[window] = asyncio.Semaphore(self.window_share)
        return share

    def _never_started(self, command: Command) -> str:
        """The answer to a sync call that waited out its time limit for a thread; logged too,
        at most once in ``FULL_LOG_SECONDS``."""
        threads = self.workers.threads
        loop = asyncio.get_running_loop()
        if loop.time() - self._full_logged >= FULL_LOG_SECONDS:
            self._full_logged = loop.time()
            log.warning(
                "all %d command threads are held up by sync commands that have not returned, "
                "so calls wait for a thread and time out without running (command %r, for "
                "one); see which commands block, and make them return or async", threads,
                command.name,
            )
        return (
            f"'{command.name}' did not start within {self.timeout:g} s: all {threads} of the "
            "core's command threads are held up by commands that have not returned (the app's "
            "log says more). It did not run."
        )

    def _watch(self, session: Any, request: Any, command: Command) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + self.timeout + LATE_SECONDS
        self._running[id(request)] = (session, request, command, due)
        if self._sweep is None:
            self._sweep = loop.call_later(LATE_SECONDS, self._answer_late)

    def _answer_late(self) -> None:
        """Answer the calls whose command went on after its time limit cancelled it."""
        loop = asyncio.get_running_loop()
        self._sweep = None
        now = loop.time()
        for key, (session, request, command, due) in list(self._running.items()):
            if due > now:
                continue
            del self._running[key]  # answered once; its handling ends when it ends
            log.error(
                "command %r did not stop when cancelled at its time limit (it catches "
                "asyncio.CancelledError?); the page was answered, the command is left running",
                command.name,
            )
            session.answer_now(request, CallTimeout(
                f"'{command.name}' did not finish within {self.timeout:g} s, and did not stop "
                "when it was cancelled then (the core's limit, app.ipc.commandTimeoutMs in the "
                "config)."
            ))
        if self._running:
            self._sweep = loop.call_later(LATE_SECONDS, self._answer_late)


def _encoded_result(run: Callable[[], Any]) -> Any:
    """(On a command thread) Run a sync command, and encode what it returns there too (its
    time is the command's: it counts toward the command's time limit)."""
    return prepare(run())


def _failed(command: Command) -> str:
    return f"'{command.name}' failed with an unexpected error; the app's log has the details."
