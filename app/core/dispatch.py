"""Running commands: sync ones on the worker threads, async ones on the loop, with a time limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from .channel import Channel
from .commands import Command, Injector
from .errors import CallTimeout, CommandError, InternalError, IpcError
from .workers import WorkerPool

__all__ = ["Dispatcher"]

log = logging.getLogger("app.core.dispatch")


class Dispatcher:
    def __init__(self, workers: WorkerPool, timeout: float) -> None:
        self.workers = workers
        self.timeout = timeout

    async def call(
        self,
        command: Command,
        args: Any,
        context: Any,
        injectors: Mapping[type, Injector],
    ) -> Any:
        """Bind, run and return the command's result; every failure becomes an ``IpcError``."""
        bound = command.bind(args, context, injectors)
        for value in bound.values():
            if isinstance(value, Channel):
                assert self.workers.inbox is not None
                value.attach(getattr(context, "session", None), self.workers.inbox)
        limit = asyncio.timeout(self.timeout)
        try:
            async with limit:
                if command.is_async:
                    return await command.func(**bound)
                job = self.workers.submit(command.func, **bound)
                try:
                    return await job
                finally:
                    self.workers.given_up(job)  # when cancelled: it may still be running
        except CommandError as exc:
            # The page's message names the command, whatever the command wrote (in a new
            # error: the command's own may be raised again, by it or another command).
            if f"'{command.name}'" in exc.message:
                raise
            raise CommandError(f"'{command.name}' failed: {exc.message}", exc.data) from exc
        except IpcError as exc:
            # The core's own error, raised in the command's body (a channel's value or an
            # event name it could not send): the page's message names the command too.
            if f"'{command.name}'" in exc.message:
                raise
            raise type(exc)(f"'{command.name}' failed: {exc.message}", exc.data) from exc
        except TimeoutError:
            if not limit.expired():
                log.exception("command %r raised", command.name)
                raise InternalError(_failed(command)) from None
            raise CallTimeout(
                f"'{command.name}' did not finish within {self.timeout:g} s and was abandoned "
                "(the core's limit, app.ipc.commandTimeoutMs in the config)."
            ) from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # the call was given up: not a failure
                raise
            log.exception("command %r raised", command.name)
            raise InternalError(_failed(command)) from None
        except BaseException as exc:
            # SystemExit, KeyboardInterrupt and the like, raised by a command (sys.exit() in
            # it, say), end that call, not the app.
            log.exception("command %r raised", command.name)
            raise InternalError(_failed(command)) from exc


def _failed(command: Command) -> str:
    return f"'{command.name}' failed with an unexpected error; the app's log has the details."
