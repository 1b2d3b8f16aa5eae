"""One window document's WebSocket: reads frames of requests, writes frames of replies and events.

Replies finished in the same turn of the loop leave together in one frame; a reply to the
window's only message being answered, with nothing waiting to be written, leaves at once. Both
ways are bounded: a frame carries at most ``MAX_FRAME_MESSAGES`` messages, at most
``MAX_IN_FLIGHT`` of a window's messages are answered at once, over all of its connections, and
frames of ``in_flight_bytes`` bring them (past either, they are not read until some finish, so
the page's sends wait), and what waits to be written is bounded by each connection's
``Backlog``.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from ..acl.origin import Caller, Origin
from ..errors import InternalError, IpcError, ProtocolError
from ..pipeline import Request, encode_answer, request_from, settle
from ..protocol import Encoded, Frame, decode_frame, encode, join_frames
from .backlog import HIGH_WATER, Backlog, size_of
from .handover import HANDOVER_BYTES

if TYPE_CHECKING:
    from ..runtime import Core

__all__ = ["MAX_FRAME_MESSAGES", "MAX_IN_FLIGHT", "InFlight", "Session", "in_flight_bytes"]

log = logging.getLogger("app.core.transport")

MAX_FRAME_MESSAGES = 4096
"""The most messages one frame may carry (the page's runtime sends at most 1024 a frame)."""
LOGGED_BAD = 20
"""Bad frames and messages of one connection that are logged; the rest are counted only."""
DECODE_ON_THREAD_BYTES = 1024 * 1024
"""Frames this long (or longer: bytes of a binary frame, characters of a text one) are read on
the core's thread for large frames (``Core.large_frames``), not on its loop."""

WRITE_CHUNK = 4 * 1024 * 1024
"""What the writer takes from the outbox at a time (bytes as counted into the backlog; at least
one message): the backlog learns of the page's progress chunk by chunk, and a thread emitting
events for a page that reads goes on as it reads (see ``backlog.wait_for_readers``). Over
``HANDOVER_BYTES``, a burst of events still leaves as large frames, which a page of the app's
origin fetches over HTTP (at 1 MiB, frames just under it went on the socket: 2-3x slower)."""

AT_ONCE_BYTES = 64 * 1024
"""A reply this small or smaller that can leave at once (see ``Session._answer``) is written by
its call, not by the writer: a call made at a time is answered a turn of the loop sooner (about
15 us of the core's 95-125 on a small call, in headless Chromium). Within aiohttp's
write buffer limit, and written only to a socket whose buffer is empty: the write does not
wait."""

MAX_IN_FLIGHT = 4096
"""The most messages of one window (all its connections) that are being answered at once."""

SMALL_FRAME_BYTES = 16 * 1024
"""Frames this short are read even while the window's calls hold ``in_flight_bytes``: a call
waiting for a page's next message (a confirmation) is not held up by its own large ones."""


def in_flight_bytes(max_message_bytes: int) -> int:
    """The bytes of a window's frames whose messages are being answered, past which it is not
    read: the largest message and 8 MiB (the frame that goes past it is still read)."""
    return max_message_bytes + HIGH_WATER


class InFlight:
    """How many of a window's messages are being answered, and the bytes of the frames that
    brought them, over all of its connections: a page that opens connection after connection
    gets no more than one would. A call waiting for a thread holds its arguments: without the
    bytes counted, 4096 of them could hold 4096 messages of ``maxMessageBytes``."""

    def __init__(self, byte_limit: int, limit: int = MAX_IN_FLIGHT) -> None:
        self.limit = limit
        self.byte_limit = byte_limit
        self.used = 0
        self.held = 0
        """Bytes of the frames some of whose messages are still being answered."""
        self._room = asyncio.Event()
        self._room.set()

    async def room(self, *, for_bytes: bool = False) -> None:
        """Wait until fewer than ``limit`` are being answered (and, ``for_bytes``, until their
        frames' bytes are under ``byte_limit``)."""
        while self.used >= self.limit or (for_bytes and self.held >= self.byte_limit):
            self._room.clear()
            await self._room.wait()

    def done(self) -> None:
        self.used -= 1
        if self.used < self.limit:
            self._room.set()

    def hold(self, size: int) -> Held:
        """Count ``size`` bytes (a frame's) until it has been read and its messages answered."""
        self.held += size
        return Held(self, size)

    def let_go(self, size: int) -> None:
        self.held -= size
        if self.held < self.byte_limit:
            self._room.set()


class Held:
    """A frame's bytes, counted while it is read and some of its messages are answered."""

    __slots__ = ("_in_flight", "_left", "_size")

    def __init__(self, in_flight: InFlight, size: int) -> None:
        self._in_flight, self._size = in_flight, size
        self._left = 1  # its reading

    def started(self) -> None:
        """One of its messages is being answered."""
        self._left += 1

    def answered(self) -> None:
        """One of its messages has been answered, or its reading is over."""
        self._left -= 1
        if self._left == 0:
            self._in_flight.let_go(self._size)


class Session:
    """A connected window document; it is also the events' subscriber for that document."""

    def __init__(
        self,
        core: Core,
        ws: web.WebSocketResponse,
        label: str,
        origin: Origin,
        transport: asyncio.Transport | None = None,
        handover_port: int | None = None,
        document: str | None = None,
        in_flight: InFlight | None = None,
    ) -> None:
        self.core = core
        self.ws = ws
        self._transport = transport  # to cut a page that reads nothing off without a goodbye
        self.label = label
        self.caller = Caller(label, origin)
        self.document = document
        """The page load this connection is of, which its reconnections carry on (under
        isolation, its key's id)."""
        self._handover_port = handover_port
        """Where large frames are handed over HTTP (see handover.py); None: not to this page."""
        self._outbox: list[tuple[Encoded, int]] = []  # with their sizes, as in the backlog
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        ipc = core.config.model.app.ipc
        self.in_flight = in_flight or InFlight(in_flight_bytes(ipc.max_message_bytes))
        """The window's count of messages being answered, shared by its connections."""
        self.backlog = Backlog(
            HIGH_WATER, limit=2 * ipc.max_message_bytes + HIGH_WATER,
            socket_buffer=self._socket_buffer,
        )
        self.patience = ipc.command_timeout_ms / 1000
        """How long the core waits for a page that does not read: a channel's sender, a
        backlog over its limit, and a large frame handed over HTTP (seconds)."""
        self._cut = False  # cut off (see _cut_off): nothing more is queued for the page
        self._frames = 0  # frames received on this connection
        self._bad = 0  # bad frames and messages it sent
        self._closing: asyncio.Task[None] | None = None
        self._sending_since: float | None = None  # when the frame being written began
        self._stall_check: asyncio.TimerHandle | None = None
        self._buffered: int | None = None  # the socket's own buffer at the last look
        self._writing = False  # the writer holds frames taken from the outbox, not yet written
        self.ending = False
        """Set as the connection ends: the calls still running are given up, not failed."""

    def current(self) -> Session:
        """This page load's connection now: this one, or the one the page reconnected with."""
        if self.document is None:
            return self
        return self.core.server.documents.get(self.document, self)

    # Outgoing -------------------------------------------------------------------------------

    def deliver(self, message: dict[str, Any], what: str = "") -> None:
        """Queue a reply or notice for this document (call on the core's loop). Events and
        channel messages come encoded already (``deliver_encoded``): their senders hear of a
        value that cannot be sent; a reply's value that cannot becomes an ``internal`` error."""
        self.deliver_encoded(encode_answer(message, what, self.label))

    def deliver_encoded(self, encoded: Encoded) -> None:
        """Queue a message encoded already: an event (encoded once for every window).

        Over the backlog's limit, the page has ``patience`` to take in what the core is writing
        (a large reply or a burst is fine, as long as it is being read); a page that reads
        nothing for that long, or lets the backlog grow to four times the limit, is cut off.
        """
        if self._cut or self.ending:  # (what a connection that has ended would hold for nothing)
            return
        size = size_of(encoded)
        if self._admitted(self.backlog.add(size)):
            self._queue(encoded, size)

    def _admitted(self, within: bool) -> bool:
        """Whether a message just counted into the backlog (``within`` its limit or not) is to
        be queued: over the limit, the page is watched for progress; past the hard limit it is
        cut off (the largest message waiting not counted: one larger than that limit alone is
        the app's to send, and the page has its patience to read it)."""
        if not within:
            if self.backlog.bytes - self.backlog.largest > self.backlog.hard:
                self._cut_off(
                    f"over {self.backlog.hard} bytes wait for the page, four times the limit: "
                    "the app sent faster than it reads (what is sent on the core's loop, and "
                    "events for a page that took nothing for a while, wait for no page)",
                    b"the page did not read what the core sent",
                )
                return False
            if self._stall_check is None:
                self._buffered = self._socket_buffer()
                self._stall_check = asyncio.get_running_loop().call_later(
                    self.patience, self._check_stall
                )
        return True

    def _socket_buffer(self) -> int | None:
        """What the connection's transport holds that the page has not taken yet."""
        try:
            return self._transport.get_write_buffer_size() if self._transport else None
        except Exception:  # closed meanwhile
            return None

    def _queue(self, encoded: Encoded, size: int) -> None:
        self._outbox.append((encoded, size))
        self._wake.set()

    def _check_stall(self) -> None:
        self._stall_check = None
        if self._cut or self.backlog.bytes <= self.backlog.limit:
            return
        since = self._sending_since
        now = asyncio.get_running_loop().time()
        # A page that took some of what the socket holds since the last look is reading, if
        # slowly: the frame being written may have waited that long behind what is ahead of it.
        buffered, self._buffered = self._buffered, self._socket_buffer()
        taking = buffered is not None and self._buffered is not None and self._buffered < buffered
        if since is not None and now - since >= self.patience and not taking:
            self._overflow()
            return
        if taking:
            since = now
        # Still over, but the page has read since: look again when the frame being written
        # will have waited ``patience`` (not ``patience`` from now, which let a page that had
        # stopped reading hold on for up to twice as long).
        delay = self.patience if since is None else since + self.patience - now
        self._stall_check = asyncio.get_running_loop().call_later(delay, self._check_stall)

    def deliver_counted(self, encoded: Encoded, size: int) -> None:
        """Queue a message whose ``size`` its sender added to the backlog already (a channel's
        from a thread)."""
        if self._cut or self.backlog.closed:
            return
        if self._admitted(self.backlog.bytes <= self.backlog.limit):
            self._queue(encoded, size)

    def _overflow(self) -> None:
        self._cut_off(
            f"over {self.backlog.limit} bytes wait for a page that does not read them",
            b"the page did not read what the core sent",
        )

    def _cut_off(self, why: str, goodbye: bytes) -> None:
        """Drop what waits for the page and close its connection (code 1008)."""
        if self._cut:
            return
        self._cut = True
        log.warning("window %s: %s; closing its connection", self.label, why)
        self._outbox.clear()
        self.backlog.close()
        self._closing = asyncio.get_running_loop().create_task(
            self._shut(1008, goodbye)
        )

    async def _shut(self, code: int, message: bytes) -> None:
        """Close with ``code``; a page that reads nothing never takes the close frame, so after
        a moment the connection is cut."""
        try:
            async with asyncio.timeout(2):
                await self.ws.close(code=code, message=message)
        except TimeoutError:
            log.warning("window %s: the page did not take the close; connection cut", self.label)
            if self._transport is not None:
                self._transport.abort()

    async def _writer(self) -> None:
        while not self.ws.closed:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                batch, size = self._take_outbox()
                self._writing = True
                try:
                    if not await self._write(batch):
                        return
                finally:
                    self._writing = False
                self.backlog.written(size)

    def _take_outbox(self) -> tuple[list[Encoded], int]:
        """The next messages to write, ``WRITE_CHUNK`` bytes of them or one, and their size
        (handed to ``_write``, not bound in the writer's loop)."""
        count = size = 0
        for _, each in self._outbox:
            if count and size + each > WRITE_CHUNK:
                break
            count += 1
            size += each
        batch = [encoded for encoded, _ in self._outbox[:count]]
        del self._outbox[:count]
        return batch, size

    async def _write(self, batch: list[Encoded]) -> bool:
        """Write ``batch`` to the page; False once the connection is gone. (A call of its own:
        what it wrote is let go as it returns, not kept until the next batch, which may be long
        in coming.)"""
        loop = asyncio.get_running_loop()
        for frame in join_frames(batch):
            if self.ws.closed:
                return False
            self._sending_since = loop.time()
            if self._handover_port is not None and frame.size >= HANDOVER_BYTES:
                if not await self._hand_over(frame):
                    return False
            else:
                await self._send(frame)
            self._sending_since = None
        return True

    async def _send(self, frame: Frame) -> None:
        """Write ``frame`` on the socket."""
        await self.ws.send_frame(frame.data(), WSMsgType.BINARY if frame.binary else WSMsgType.TEXT)

    async def _hand_over(self, frame: Frame) -> bool:
        """Hand a large frame to the page over HTTP; False (and the connection closing) if the
        page did not take it all within ``patience``."""

        async def announce(path: str) -> None:
            notice = encode({"kind": "frame", "path": path, "binary": frame.binary})
            await self.ws.send_frame(b"[" + notice.json + b"]", WSMsgType.TEXT)

        assert self._handover_port is not None
        handovers = self.core.server.handovers
        if await handovers.hand_over(self._handover_port, frame.parts, announce, self.patience,
                                     self.backlog.moved):
            return True
        self._cut_off("the page did not fetch a large frame handed to it",
                      b"the page did not fetch what the core sent")
        return False

    async def close(self) -> None:
        await self._shut(1001, b"the app is shutting down")

    # Incoming -------------------------------------------------------------------------------

    @property
    def over(self) -> bool:
        """Whether this connection has ended: closed, or its handler gone (a page whose
        connection was cut leaves its socket looking open)."""
        return self.ending or self.ws.closed

    async def run(self) -> None:
        writer = asyncio.create_task(self._writer())
        try:
            async for msg in self.ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._receive(msg.data, msg.type == WSMsgType.BINARY)
                elif msg.type == WSMsgType.ERROR:
                    log.warning("window %s: connection error: %s", self.label, self.ws.exception())
        finally:
            self.ending = True
            self.backlog.close()
            if self._stall_check is not None:
                self._stall_check.cancel()
            self.core.events.drop(self)
            if self.core.isolation is not None:
                self.core.isolation.let_go(self)
            writer.cancel()
            # Not written, and never to be: a page's key keeps its connection for a while.
            self._outbox.clear()
            # The calls it brought run on: the core had them, and a page that saves, then
            # reloads or closes, would not know whether its save ran (or ran halfway, an async
            # command cancelled in the middle). Their answers go nowhere; their time limit
            # stands, and the core's end stops them.
            self.core.server.carry_on(self._tasks)

    async def _receive(self, data: str | bytes, binary: bool) -> None:
        in_flight = self.in_flight
        if len(data) >= SMALL_FRAME_BYTES and in_flight.held >= in_flight.byte_limit:
            # The window's calls being answered hold that many bytes of what its pages sent:
            # no more until some finish (the page's sends wait in its socket). A small frame
            # goes on: a call may be waiting for it (a confirmation the page sends).
            await in_flight.room(for_bytes=True)
        held = in_flight.hold(len(data))  # before anything waits: counted by the next look
        try:
            await self._take(data, binary, held)
        finally:  # (read to its end, refused, or given up as the connection is cut)
            held.answered()

    async def _take(self, data: str | bytes, binary: bool, held: Held) -> None:
        """Read a frame and start answering its messages."""
        frame = self._frames  # the page numbers its frames the same way, from 0
        self._frames += 1
        loop = asyncio.get_running_loop()
        try:
            if len(data) < DECODE_ON_THREAD_BYTES:
                messages = decode_frame(data, binary=binary)
            else:
                # A large frame takes long to read (a list of millions of values: a second or
                # more): on a thread, one at a time, the windows' in turn. The parser holds
                # the interpreter's lock, and so the loop, for most of that time; the loop runs
                # between its steps. This connection's frames keep their order: the next is
                # not read until then.
                messages = await self.core.large_frames.run(
                    self.label, self._decode_large, data, binary
                )
            if len(messages) > MAX_FRAME_MESSAGES:
                raise ProtocolError(
                    f"A frame carried {len(messages)} messages; at most {MAX_FRAME_MESSAGES} "
                    "may share one. None of them was answered."
                )
        except ProtocolError as exc:
            self.log_bad("window %s sent a bad frame: %s", exc.message)
            # The page rejects the calls it sent in this frame: none of them will be answered.
            self.deliver({"kind": "notice", "frame": frame, "error": exc.to_wire()})
            return
        in_flight = self.in_flight
        finished = partial(self._finished, held)
        for message in messages:
            if in_flight.used >= in_flight.limit:
                # Stop reading until answers free room: the page's sends wait in its socket.
                await in_flight.room()
                if self.ws.closed:  # the page left meanwhile: start nothing more for it
                    return
            in_flight.used += 1
            held.started()
            task = loop.create_task(self._handle(message))
            self._tasks.add(task)
            task.add_done_callback(finished)

    def _decode_large(self, data: str | bytes, binary: bool) -> list[Any]:
        """(On the large frames' thread) ``decode_frame`` (under isolation, and what its
        sealed groups hold), unless the connection ended while the frame waited its turn: no
        one would be answered."""
        if self.ending:
            return []
        messages = decode_frame(data, binary=binary)
        if self.core.isolation is not None:  # and what its sealed groups hold
            self.core.isolation.read_ahead(self.document, messages)
        return messages

    def _finished(self, held: Held, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.in_flight.done()
        held.answered()

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
        if not request.answered:
            await self._answer(reply, request.name)

    async def _answer(self, reply: dict[str, Any], what: str) -> None:
        """Send a reply: at once when it is the only message of the window being answered
        and nothing waits to be written before it (calls made one at a time), else through the
        outbox, in one frame with the others that finish in this turn of the loop."""
        encoded = encode_answer(reply, what, self.label)
        if (
            self.in_flight.used == 1
            and size_of(encoded) <= AT_ONCE_BYTES
            and not self._outbox
            and not self._writing
            and not (self._cut or self.ending or self.ws.closed)
            and self._socket_buffer() == 0
        ):
            (frame,) = join_frames([encoded])
            try:
                await self._send(frame)
            except ConnectionError:  # the page went meanwhile
                pass
            return
        self.deliver_encoded(encoded)

    def answer_now(self, request: Request, error: IpcError) -> None:
        """Answer ``request`` while its handling goes on (a command that will not stop); what
        that handling ends with is then dropped: the page gets one answer."""
        if self.ending or request.answered:
            return
        request.answered = True
        self.deliver({"kind": "reply", "id": request.id, "ok": False, "error": error.to_wire()})

    def log_bad(self, what: str, why: str) -> None:
        """Log what is wrong with what the page sent, for its first ``LOGGED_BAD`` mistakes: a
        page sending nothing else would flood the log and hold up the core."""
        self._bad += 1
        if self._bad <= LOGGED_BAD:
            log.warning(what, self.label, why)
        if self._bad == LOGGED_BAD:
            log.warning(
                "window %s: %d bad frames or messages on this connection; no more are logged",
                self.label,
                LOGGED_BAD,
            )

    def _refuse(self, message: Any, exc: IpcError) -> None:
        """Answer a message that is not a request: by its id when it has one, or with a notice
        (without a usable id no promise can be found; tell the page anyway)."""
        msg_id = message.get("id") if isinstance(message, dict) else None
        self.log_bad("window %s sent a bad message: %s", exc.message)
        if isinstance(msg_id, int) and not isinstance(msg_id, bool):
            self.deliver({"kind": "reply", "id": msg_id, "ok": False, "error": exc.to_wire()})
        else:
            self.deliver({"kind": "notice", "error": exc.to_wire()})
