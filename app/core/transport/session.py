"""One window document's WebSocket: reads frames of requests, writes frames of replies and events.

Replies finished in the same turn of the loop leave together in one frame.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from ..acl.origin import Caller, Origin
from ..errors import InternalError, IpcError, ProtocolError
from ..pipeline import request_from, settle
from ..protocol import Encoded, decode_frame, encode, join_frames

if TYPE_CHECKING:
    from ..runtime import Core

__all__ = ["Session"]

log = logging.getLogger("app.core.transport")


class Session:
    """A connected window document; it is also the events' subscriber for that document."""

    def __init__(self, core: Core, ws: web.WebSocketResponse, label: str, origin: Origin) -> None:
        self.core = core
        self.ws = ws
        self.label = label
        self.caller = Caller(label, origin)
        self._outbox: list[Encoded] = []
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.state: dict[str, Any] = {}
        """Per-connection state owned by other parts of the core (isolation keeps its own)."""

    # Outgoing -------------------------------------------------------------------------------

    def deliver(self, message: dict[str, Any], what: str = "") -> None:
        """Queue a reply or notice for this document (call on the core's loop). Events and
        channel messages come encoded already (``deliver_encoded``): their senders hear of a
        value that cannot be sent; a reply's value that cannot becomes an ``internal`` error."""
        try:
            encoded = encode(message)
        except TypeError as exc:
            log.error("reply %s to %s cannot be serialized: %s", message["id"], self.label, exc)
            error = InternalError(
                f"The return value of '{what}' cannot be sent to the page: {exc}."
            )
            encoded = encode({**message, "ok": False, "value": None, "error": error.to_wire()})
        self._outbox.append(encoded)
        self._wake.set()

    def deliver_encoded(self, encoded: Encoded) -> None:
        """Queue a message encoded already: an event (encoded once for every window), or a
        channel's message (encoded on the sender's thread)."""
        self._outbox.append(encoded)
        self._wake.set()

    async def _writer(self) -> None:
        while not self.ws.closed:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outbox = self._outbox, []
            for is_binary, data in join_frames(batch):
                if self.ws.closed:
                    return
                await self.ws.send_frame(data, WSMsgType.BINARY if is_binary else WSMsgType.TEXT)

    async def close(self) -> None:
        await self.ws.close(code=1001, message=b"the app is shutting down")

    # Incoming -------------------------------------------------------------------------------

    async def run(self) -> None:
        writer = asyncio.create_task(self._writer())
        try:
            async for msg in self.ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    self._receive(msg.data, msg.type == WSMsgType.BINARY)
                elif msg.type == WSMsgType.ERROR:
                    log.warning("window %s: connection error: %s", self.label, self.ws.exception())
        finally:
            self.core.events.drop(self)
            writer.cancel()
            for task in list(self._tasks):
                task.cancel()

    def _receive(self, data: str | bytes, binary: bool) -> None:
        try:
            messages = decode_frame(data, binary=binary)
        except ProtocolError as exc:
            log.warning("window %s sent a bad frame: %s", self.label, exc.message)
            self.deliver({"kind": "notice", "error": exc.to_wire()})
            return
        for message in messages:
            task = asyncio.get_running_loop().create_task(self._handle(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(self, message: Any) -> None:
        try:
            request = request_from(message, self.caller, self)
        except IpcError as exc:
            self._refuse(message, exc)
            return
        try:
            reply = await settle(self.core.pipeline, request)
        except Exception:  # settle answers every failure; this is its own failing
            log.exception("window %s: no reply could be made to message %s", self.label, request.id)
            error = InternalError("The core failed while answering this message; see its log.")
            reply = {"kind": "reply", "id": request.id, "ok": False, "error": error.to_wire()}
        self.deliver(reply, request.name)

    def _refuse(self, message: Any, exc: IpcError) -> None:
        """Answer a message that is not a request: by its id when it has one, or with a notice
        (without a usable id no promise can be found; tell the page anyway)."""
        msg_id = message.get("id") if isinstance(message, dict) else None
        log.warning("window %s sent a bad message: %s", self.label, exc.message)
        if isinstance(msg_id, int) and not isinstance(msg_id, bool):
            self.deliver({"kind": "reply", "id": msg_id, "ok": False, "error": exc.to_wire()})
        else:
            self.deliver({"kind": "notice", "error": exc.to_wire()})
