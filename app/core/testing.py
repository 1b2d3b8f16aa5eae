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
import math
from types import TracebackType
from typing import Any

from .acl.origin import Caller, Origin
from .app import App
from .channel import CHANNEL_KEY
from .errors import InternalError, InvalidArgs, IpcError
from .events import check_window_label
from .pipeline import encode_answer, request_from, settle
from .protocol import Encoded, decode_frame, encode, join_frames
from .transport.backlog import HIGH_WATER, Backlog

__all__ = ["Client"]

_ERRORS = {cls.code: cls for cls in IpcError.__subclasses__()}


def _decoded(encoded: Encoded) -> Any:
    """An encoded message as it arrives over the wire (bytes stay bytes)."""
    (frame,) = join_frames([encoded])
    (decoded,) = decode_frame(frame.data(), binary=frame.binary)
    return decoded


def _round_trip(message: Any) -> Any:
    """Encode and decode ``message`` as the wire would."""
    return _decoded(encode(message))


def _not_finite(message: dict[str, Any]) -> str | None:
    """Where in ``message`` a NaN or infinity is, which a page refuses to send (JSON would make
    it null without a word); ``None`` if it has none."""
    todo: list[tuple[str, Any, int]] = [(str(key), value, 1) for key, value in message.items()]
    while todo:
        where, value, depth = todo.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return where
        if depth > _MAX_DEPTH:  # (so a value that holds itself ends; the codec refuses it)
            continue
        if isinstance(value, dict):
            todo.extend((f"{where}.{key}", item, depth + 1) for key, item in value.items())
        elif isinstance(value, (list, tuple)):
            todo.extend((f"{where}.{i}", item, depth + 1) for i, item in enumerate(value))
    return None


_MAX_DEPTH = 300
"""Deeper than any value the codec sends."""


class Client:
    """Acts as window ``window`` at ``origin`` (the local frontend by default)."""

    def __init__(self, app: App, window: str = "main", origin: Origin | None = None) -> None:
        try:
            check_window_label(window)
        except InvalidArgs as exc:
            raise ValueError(f"Client(window={window!r}): {exc.message}") from None
        self.app = app
        self.label = window
        self.caller = Caller(window, origin or Origin("local", "http://127.0.0.1"))
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._channel_ids = itertools.count(1)
        self.channels: dict[int, list[Any]] = {}
        """What commands sent on each of this client's channels (see ``channel``)."""
        self._early: dict[int, asyncio.Future[dict[str, Any]]] = {}
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

    @property
    def ending(self) -> bool:
        """As a window connection's: whether its calls are being given up (the app stops)."""
        return self.app.core is None

    # The subscriber side: events for this "window" land in ``self.events``.
    def current(self) -> Client:
        """The connection a channel of this client's calls delivers to: this one."""
        return self

    def deliver_encoded(self, encoded: Encoded) -> None:
        message = _decoded(encoded)
        if message.get("kind") == "event":
            self.events.put_nowait(message)
        elif message.get("kind") == "channel":
            self.channels.setdefault(message["channel"], []).append(message["value"])

    def answer_now(self, request: Any, error: IpcError) -> None:
        """As a window's connection does: answer ``request`` before its handling ends."""
        early = self._early.get(request.id)
        if early is not None and not early.done():
            request.answered = True
            early.set_result({"kind": "reply", "id": request.id, "ok": False,
                              "error": error.to_wire()})

    def channel(self) -> dict[str, int]:
        """A new channel to pass as a ``Channel`` argument, as a page's ``new Channel()`` is
        sent; what the command sends on it lands in ``client.channels[id]``, in order."""
        channel_id = next(self._channel_ids)
        self.channels[channel_id] = []
        return {CHANNEL_KEY: channel_id}

    def deliver_counted(self, encoded: Encoded, size: int) -> None:
        self.backlog.written(size)
        self.deliver_encoded(encoded)

    async def request(self, message: dict[str, Any]) -> Any:
        """Send one raw message (``kind`` and fields); return the value or raise ``IpcError``."""
        assert self.app.core is not None, "use the client as 'async with Client(app)'"
        field = _not_finite(message)
        if field is not None:  # as a page's runtime refuses it
            raise InvalidArgs(
                "The message cannot be sent: a number in it is NaN or Infinity, which JSON "
                f"cannot carry (it would arrive as null) (at {field})."
            )
        try:
            message = _round_trip({**message, "id": next(self._ids)})
        except TypeError as exc:  # as a page's runtime refuses what it cannot send
            raise InvalidArgs(f"The message cannot be sent: {exc}.") from None
        request = request_from(message, self.caller, self)  # type: ignore[arg-type]
        handling = asyncio.ensure_future(settle(self.app.core.unsealed_pipeline, request))
        self.app.core.server.until_stop(handling)  # as a page's call is, when the app stops
        early = self._early[request.id] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait({handling, early}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the caller stopped waiting: so does the command
            request.abandoned = True
            handling.cancel()
            raise
        finally:
            del self._early[request.id]
        if handling.cancelled() and not early.done():
            raise InternalError(f"The app stopped before '{request.name}' was answered.")
        # Answered early (a command that would not stop at its time limit), or as it ended.
        reply = early.result() if early.done() else handling.result()
        # As the window's session sends it: what cannot be sent becomes an error, still.
        reply = _decoded(encode_answer(reply, request.name, self.label))
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
