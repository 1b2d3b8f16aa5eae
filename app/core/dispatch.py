"""Running commands: sync ones on a bounded thread pool, async ones on the loop, with a timeout."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .channel import Channel
from .commands import Command, Injector
from .errors import CallTimeout, InternalError, IpcError

__all__ = ["Dispatcher"]

log = logging.getLogger("app.core.dispatch")


class Dispatcher:
    def __init__(self, executor: ThreadPoolExecutor, timeout: float) -> None:
        self.executor = executor
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
        loop = asyncio.get_running_loop()
        for value in bound.values():
            if isinstance(value, Channel):
                value.attach(getattr(context, "session", None), loop)
        try:
            if command.is_async:
                return await asyncio.wait_for(command.func(**bound), self.timeout)
            future = loop.run_in_executor(self.executor, functools.partial(command.func, **bound))
            return await asyncio.wait_for(future, self.timeout)
        except IpcError:
            raise
        except asyncio.TimeoutError:
            raise CallTimeout(
                f"'{command.name}' did not finish within {self.timeout:g} s and was abandoned."
            ) from None
        except Exception as exc:
            log.exception("command %r raised", command.name)
            raise InternalError(
                f"'{command.name}' failed with an unexpected error; the app's log has the details."
            ) from exc
