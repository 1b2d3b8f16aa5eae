"""An in-process client for testing commands and events without a browser.

::

    async with Client(app, window="main") as client:
        assert await client.invoke("greet", {"name": "World"}) == "Hello, World!"

Requests take the same path as a window's (shape check, capabilities, argument binding,
dispatch, error mapping) and values go through the wire codec both ways, so what a test sees is
what a page would see. Under the isolation pattern they enter after the hook: the hook runs in
the page's frame, which an in-process client does not have. Rejections raise the ``IpcError``
subclass of their code.
"""

from __future__ import annotations

import asyncio
import itertools
from types import TracebackType
from typing import Any

from .acl.origin import Caller, Origin
from .app import App
from .errors import InternalError, InvalidArgs, IpcError
from .pipeline import request_from, settle
from .protocol import Encoded, decode_frame, encode, join_frames
from .transport.backlog import HIGH_WATER, Backlog

__all__ = ["Client"]

_ERRORS = {cls.code: cls for cls in IpcError.__subclasses__()}


def _round_trip(message: Any) -> Any:
    """Encode and decode ``message`` as the wire would (bytes stay bytes)."""
    ((binary, frame),) = join_frames([encode(message)])
    (decoded,) = decode_frame(frame, binary=binary)
    return decoded


class Client:
    """Acts as window ``window`` at ``origin`` (the local frontend by default)."""

    def __init__(self, app: App, window: str = "main", origin: Origin | None = None) -> None:
        self.app = app
        self.label = window
        self.caller = Caller(window, origin or Origin("local", "http://127.0.0.1"))
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._started = False
        # As a window's connection has (channels wait on it); this one delivers at once.
        self.backlog = Backlog(HIGH_WATER, limit=2**62)
        self.patience = 30.0

    async def __aenter__(self) -> Client:
        if self.app.core is None:
            await self.app.start()
            self._started = True
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.app.core is not None:
            self.app.core.events.drop(self)
        if self._started:
            await self.app.stop()

    # The subscriber side: events for this "window" land in ``self.events``.
    def current(self) -> Client:
        """The connection a channel of this client's calls delivers to: this one."""
        return self

    def deliver_encoded(self, encoded: Encoded) -> None:
        ((binary, frame),) = join_frames([encoded])
        (message,) = decode_frame(frame, binary=binary)
        if message.get("kind") == "event":  # a channel's: the client has no page to stream to
            self.events.put_nowait(message)

    def deliver_counted(self, encoded: Encoded, size: int) -> None:
        self.backlog.written(size)
        self.deliver_encoded(encoded)

    async def request(self, message: dict[str, Any]) -> Any:
        """Send one raw message (``kind`` and fields); return the value or raise ``IpcError``."""
        assert self.app.core is not None, "use the client as 'async with Client(app)'"
        try:
            message = _round_trip({**message, "id": next(self._ids)})
        except TypeError as exc:  # as a page's runtime refuses what it cannot send
            raise InvalidArgs(f"The message cannot be sent: {exc}.") from None
        request = request_from(message, self.caller, self)  # type: ignore[arg-type]
        reply = await settle(self.app.core.unsealed_pipeline, request)
        try:
            reply = _round_trip(reply)
        except TypeError as exc:  # as the window's session does: the call still settles
            raise InternalError(
                f"The return value of '{request.name}' cannot be sent to the page: {exc}."
            ) from None
        if reply["ok"]:
            return reply.get("value")
        error = reply["error"]
        raise _ERRORS.get(error["code"], IpcError)(error["message"], error.get("data"))

    async def invoke(self, cmd: str, args: dict[str, Any] | None = None) -> Any:
        return await self.request({"kind": "invoke", "cmd": cmd, "args": args or {}})

    async def emit(self, event: str, payload: Any = None, target: str | None = None) -> None:
        message = {"kind": "emit", "event": event, "payload": payload}
        if target is not None:
            message["target"] = target
        await self.request(message)

    async def listen(self, event: str) -> None:
        await self.request({"kind": "listen", "event": event})

    async def next_event(self, timeout: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)
