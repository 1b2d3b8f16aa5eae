"""Large frames to the page over HTTP instead of the WebSocket.

Chromium (and Qt WebEngine) take a large WebSocket message in through small pieces; the same
bytes as the body of a ``fetch()`` arrive about twice as fast (10 MB: 80-110 ms against
200-300 ms, measured in both). So a frame of ``HANDOVER_BYTES`` or more for a page of the
app's own origin is parked here under a random one-time token, and the WebSocket carries only
a ``frame`` message naming its path; the page fetches it and reads it before any later frame.

The token (256 bits from the OS) is the credential: it is only ever sent over the session's
WebSocket, it is good once, it is gone when the connection closes, and the frame is only
served on the listener of the window it was made for, and never to a request that the browser
marks as coming from another origin (``Sec-Fetch-Site``). A page that does not take its frame
within the session's patience is cut off, as one that stops reading the WebSocket is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web

from .loopback import BASE_HEADERS, local_port, refuse

__all__ = ["HANDOVER_BYTES", "PATH", "Handovers"]

HANDOVER_BYTES = 1024 * 1024
"""Frames this large or larger go to pages of the app's own origin over HTTP."""

PATH = "/__app__/frame/"

_PIECE = 256 * 1024
"""What a fetch is written in: each piece waits for the one before to be taken, and says the page
is reading (a page that reads 100 KB/s shows progress every few seconds)."""

Announce = Callable[[str], Awaitable[None]]
"""Tells the page the path of its parked frame."""


def pieces(parts: tuple[bytes, ...], size: int = _PIECE) -> Iterator[bytes | memoryview]:
    """The bytes of ``parts`` in pieces of ``size`` (the last may be shorter): a large part is cut
    without a copy, and small parts in a row are joined into one piece (a reply of 100,000 small
    binary values is a frame of 100,000 parts: written one by one, that was 100,000 writes, and
    seconds, for 10 MB)."""
    run: list[memoryview] = []
    held = 0
    for part in parts:
        view = memoryview(part)
        at = 0
        while at < len(view):
            if not run and len(view) - at >= size:  # a whole piece of this part alone: no copy
                yield view[at : at + size]
                at += size
                continue
            taken = view[at : at + size - held]
            run.append(taken)
            held += len(taken)
            at += len(taken)
            if held == size:
                yield b"".join(run)
                run, held = [], 0
    if run:
        yield run[0] if len(run) == 1 else b"".join(run)


@dataclasses.dataclass
class _Parked:
    port: int
    parts: tuple[bytes, ...]
    """The frame's bytes (see ``protocol.Frame``)."""
    taken: asyncio.Future[None]
    """Done once the page's connection has taken the frame (or the fetch broke off)."""
    serving: asyncio.Transport | None = None
    """The connection the frame is being written to, once a fetch took it."""
    delivered: bool = False
    """Whether that connection took all of it."""
    progress: Callable[[], None] | None = None
    """Called as the page takes each piece."""


class Handovers:
    """The frames parked for pages to fetch, by token, for all of a server's windows."""

    def __init__(self) -> None:
        self._parked: dict[str, _Parked] = {}

    async def hand_over(
        self,
        port: int,
        parts: tuple[bytes, ...],
        announce: Announce,
        patience: float,
        progress: Callable[[], None] | None = None,
    ) -> bool:
        """Park a frame (its bytes in ``parts``) for the page on ``port``, ``announce`` its path
        to it, and wait until the page has taken it all; False if it did not within
        ``patience`` seconds, or its fetch broke off.

        However it ends (in time, late, or with the page's connection), nothing of the frame is
        left behind: a fetch still being written to is cut off.
        """
        token = secrets.token_urlsafe(32)
        parked = _Parked(port, parts, asyncio.get_running_loop().create_future(),
                         progress=progress)
        self._parked[token] = parked
        try:
            async with asyncio.timeout(patience):
                await announce(PATH + token)
                await parked.taken
            return parked.delivered
        except TimeoutError:
            return False
        finally:
            self._parked.pop(token, None)
            serving = parked.serving
            if serving is not None and not parked.delivered and not serving.is_closing():
                serving.abort()  # a fetch that reads too slowly, or too late

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """``GET /__app__/frame/{token}``: a parked frame, once."""
        if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
            return refuse(403, "A frame is only handed to a page of the window's own origin.")
        token = request.match_info["token"]
        parked = self._parked.get(token)
        if parked is None or parked.port != local_port(request) or parked.serving is not None:
            return refuse(404, "No such frame: it was fetched already, or its connection closed.")
        del self._parked[token]
        parked.serving = request.transport
        response = web.StreamResponse(headers={
            **BASE_HEADERS,  # (the bytes are the page's to choose: never a script)
            "Content-Type": "application/octet-stream",
            "Cache-Control": "no-store",
            "Content-Length": str(sum(len(part) for part in parked.parts)),
        })
        try:
            await response.prepare(request)
            # In pieces: each waits until the connection has taken the one before (one large
            # write would be buffered whole at once, and count as taken while the page had
            # read nothing).
            for piece in pieces(parked.parts):
                await response.write(piece)
                if parked.progress is not None:
                    parked.progress()
            await response.write_eof()
            parked.delivered = True
        except ConnectionError:  # the page went away while it read; its socket goes too
            pass
        finally:
            if not parked.taken.done():
                parked.taken.set_result(None)
        return response
