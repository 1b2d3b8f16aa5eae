"""The isolation frame's own connection to the core, for what it sealed.

A frame that passes the page's requests back to the page once sealed costs each call a second
hop between the frame's process and the page's (a sandboxed frame has a renderer process of its
own in Chromium): about 0.1 ms of a call's round trip, measured. So the frame sends the sealed
envelopes itself, on this WebSocket of the isolation origin, and tells the page only that they
left. The core reads them as its page's connection would (``Session.receive``): under the same
checks (``stage.py``), in the order they came, answered to the page.

The frame opens it with a one-time token served with its key (``KeyRing.socket_token``), from
its sandboxed, opaque origin (``Origin: null``). Nothing else gets in: a script of the page
knows no token, and even with one could only send what it cannot seal. A frame that sends what
is not a frame of messages has its connection closed with the reason: the frame then blocks
every call, and the page says to reload it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, WSMsgType, web

from ..errors import ProtocolError
from ..transport.loopback import foreign_host, refuse
from .keys import DocumentKey, KeyRing

if TYPE_CHECKING:
    from ..transport.server import Server

__all__ = ["SOCKET_PATH", "FrameSockets"]

log = logging.getLogger("app.core.isolation")

SOCKET_PATH = "/socket/"

PAGE_WAIT = 15.0
"""How long a frame's envelopes wait for their page to connect (as it starts, or reconnects)
before the frame's connection closes (seconds)."""

PAGE_GONE = 4001
BAD_FRAME = 4002


class FrameSockets:
    """The isolation frames' connections (the isolation origin's ``SOCKET_PATH`` route)."""

    def __init__(self, keys: KeyRing, server: Server, max_message_bytes: int) -> None:
        self._keys = keys
        self._server = server
        self._max_message_bytes = max_message_bytes
        self._open: set[web.WebSocketResponse] = set()

    async def serve(self, request: web.Request) -> web.StreamResponse:
        refusal = foreign_host(request)
        if refusal is not None:
            return refusal
        if request.headers.get("Origin") != "null":
            return refuse(403, "Only the isolation frame itself may open this connection.", log)
        key = self._keys.spend_socket(request.match_info["token"])
        if key is None:
            return refuse(
                403, "The isolation frame's connection token was already used or has expired.",
                log,
            )
        ws = web.WebSocketResponse(
            max_msg_size=self._max_message_bytes + 1,  # as the page's connection (server.py)
            heartbeat=None,
            compress=False,
            decode_text=False,
        )
        await ws.prepare(request)
        self._open.add(ws)
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    if not await self._take(ws, key, msg.data, msg.type == WSMsgType.BINARY):
                        break
        finally:
            self._open.discard(ws)
        return ws

    async def _take(
        self, ws: web.WebSocketResponse, key: DocumentKey, data: bytes, binary: bool
    ) -> bool:
        """Hand one frame of envelopes to the page's connection; False once ``ws`` is closed."""
        session = await self._server.document(key.kid, PAGE_WAIT)
        if session is None:
            await ws.close(code=PAGE_GONE, message=b"the page's connection to the core is gone")
            return False
        try:
            await session.receive(data, binary)
        except ProtocolError as exc:
            log.warning("window '%s': its isolation frame sent a bad frame: %s",
                        key.label, exc.message)
            reason = exc.message.encode()[:120].decode(errors="ignore").encode()
            await ws.close(code=BAD_FRAME, message=reason)
            return False
        return True

    async def close(self) -> None:
        for ws in list(self._open):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"the app is shutting down")
