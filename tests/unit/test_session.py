"""A window connection's backlog rules, on a session whose page and socket are stand-ins."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from app.core.acl.origin import Origin
from app.core.transport.session import InFlight, Session


def _session(patience_ms: int) -> Session:
    ipc = SimpleNamespace(max_message_bytes=65536, command_timeout_ms=patience_ms)
    core = SimpleNamespace(config=SimpleNamespace(model=SimpleNamespace(app=SimpleNamespace(
        ipc=ipc))), isolation=None)
    ws = SimpleNamespace(closed=False)
    return Session(core, ws, "main", Origin("local", ""))  # type: ignore[arg-type]


async def test_a_page_that_stopped_reading_is_looked_at_again_when_its_time_is_up() -> None:
    """Over the limit, with the frame being written started a while ago: the next look is when
    that frame will have waited the patience, not the patience from now (which let a page that
    had stopped reading hold on for up to twice as long)."""
    loop = asyncio.get_running_loop()
    session = _session(patience_ms=2000)
    session.backlog.add(session.backlog.limit + 1)
    session._sending_since = loop.time() - 1.5
    session._check_stall()
    assert session._stall_check is not None
    due = session._stall_check.when() - loop.time()
    assert 0 < due <= 0.5 + 0.05, due
    session._stall_check.cancel()
    # A frame that has waited the whole time: the page is cut off now.
    session._sending_since = loop.time() - 2.5
    cut: list[str] = []
    session._cut_off = lambda why, goodbye: cut.append(why)  # type: ignore[method-assign]
    session._check_stall()
    assert cut and "does not read them" in cut[0]


async def test_a_page_that_takes_what_the_socket_holds_is_not_cut_off() -> None:
    """The frame being written has waited the whole time, but the page took some of what the
    socket held since the last look: it reads, slowly, behind what was ahead of that frame.
    It is looked at again later; one that has taken nothing since is cut off."""
    loop = asyncio.get_running_loop()
    session = _session(patience_ms=2000)
    held = [5_000_000]
    session._transport = SimpleNamespace(  # type: ignore[assignment]
        get_write_buffer_size=lambda: held[0])
    cut: list[str] = []
    session._cut_off = lambda why, goodbye: cut.append(why)  # type: ignore[method-assign]
    session.backlog.add(session.backlog.limit + 1)
    assert session._admitted(False)  # over the limit: watched from now on
    assert session._stall_check is not None
    session._stall_check.cancel()
    session._sending_since = loop.time() - 2.5
    held[0] = 4_000_000  # the page took a megabyte
    session._check_stall()
    assert not cut and session._stall_check is not None
    session._stall_check.cancel()
    session._check_stall()  # nothing taken since
    assert cut and "does not read them" in cut[0]


class _EndedSocket:
    """A page's socket that has closed: reading it ends at once."""

    closed = False

    def __aiter__(self) -> _EndedSocket:
        return self

    async def __anext__(self) -> None:
        raise StopAsyncIteration


async def test_a_connection_that_ended_keeps_nothing_to_send() -> None:
    """Its page's key keeps a connection for a while after it ended (64 of them per window, for
    up to a day): 20 MB of replies it never wrote were held that long."""
    session = _session(patience_ms=2000)
    session.ws = _EndedSocket()  # type: ignore[assignment]
    session.core.events = SimpleNamespace(drop=lambda _: None)  # type: ignore[attr-defined]
    session.core.server = SimpleNamespace(carry_on=lambda _: None)  # type: ignore[attr-defined]
    reply = {"kind": "reply", "id": 1, "ok": True, "value": "x" * 1000}
    session.deliver(reply)
    assert session._outbox  # not written yet
    await session.run()
    assert session._outbox == []
    session.deliver({**reply, "id": 2})  # a command that finished after its page left
    assert session._outbox == []


class _Socket:
    """A page's open socket that records the frames written to it."""

    closed = False

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    async def send_frame(self, data: bytes, kind: object) -> None:
        self.frames.append(data)


def _open_session(buffered: int = 0) -> tuple[Session, _Socket]:
    session = _session(patience_ms=2000)
    socket = _Socket()
    session.ws = socket  # type: ignore[assignment]
    session._transport = SimpleNamespace(  # type: ignore[assignment]
        get_write_buffer_size=lambda: buffered)
    session.in_flight.used = 1  # the reply's own message
    return session, socket


def _reply(n: int, value: object = "pong") -> dict[str, object]:
    return {"kind": "reply", "id": n, "ok": True, "value": value}


async def test_the_reply_to_a_call_made_at_a_time_is_written_at_once() -> None:
    """The window's only call, nothing waiting before it: its reply leaves as the call ends, a
    turn of the loop before the writer would take it."""
    session, socket = _open_session()
    await session._answer(_reply(1), "echo")
    assert socket.frames == [b'[{"kind":"reply","id":1,"ok":true,"value":"pong"}]']
    assert session._outbox == []


async def test_a_reply_goes_behind_what_waits_and_with_others_finishing_together() -> None:
    """Through the outbox, in order and in one frame with the rest, when an event waits to be
    written, when the writer holds frames it has not written, when other calls are being
    answered, when the reply is large, and when the socket holds what the page has not read
    (then a write may have to wait)."""
    session, socket = _open_session()
    session.deliver({"kind": "event", "event": "saved", "payload": 1})
    await session._answer(_reply(1), "echo")
    assert [m.json for m, _ in session._outbox] == [
        b'{"kind":"event","event":"saved","payload":1}',
        b'{"kind":"reply","id":1,"ok":true,"value":"pong"}',
    ]
    cases = {"writing": _open_session(), "others": _open_session(),
             "large": _open_session(), "buffered": _open_session(buffered=1)}
    cases["writing"][0]._writing = True
    cases["others"][0].in_flight.used = 2
    for name, (each, sent) in cases.items():
        value = "x" * (70 * 1024) if name == "large" else "pong"
        await each._answer(_reply(2, value), "echo")
        assert sent.frames == [], name
        assert len(each._outbox) == 1, name
    assert socket.frames == []


def _frame(*ids: int, pad: int = 0, cmd: str = "c") -> bytes:
    return json.dumps([{"id": n, "kind": "invoke", "cmd": cmd, "args": {"d": "x" * pad}}
                       for n in ids]).encode()


class _Calls:
    """What a session's ``_handle`` runs: each call waits at the gate (or, for ``confirm``,
    opens it); ``started`` counts them."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started: list[int] = []
        self.more = asyncio.Event()  # set each time one starts

    async def handle(self, message: dict) -> None:
        self.started.append(message["id"])
        self.more.set()
        if message["cmd"] == "confirm":
            self.gate.set()
        else:
            await self.gate.wait()

    async def until(self, count: int) -> None:
        while len(self.started) < count:
            self.more.clear()
            await asyncio.wait_for(self.more.wait(), 5)


def _reading(in_flight: InFlight, calls: _Calls) -> Session:
    session = _session(patience_ms=2000)
    session.in_flight = in_flight
    session._handle = calls.handle  # type: ignore[method-assign]
    return session


async def test_a_frame_given_up_as_its_connection_is_cut_lets_its_bytes_go() -> None:
    """Cut off while waiting for room in the middle of a frame (aiohttp cancels the handler
    of a connection that drops), the frame's messages not started held its bytes for good:
    the window, whose count outlives its pages, was then never read again."""
    in_flight = InFlight(byte_limit=20_000, limit=2)
    calls = _Calls()
    frame = _frame(1, 2, 3, pad=7000)  # (not a small frame, which is read past the bytes)
    reading = asyncio.create_task(_reading(in_flight, calls)._receive(frame, False))
    await calls.until(2)  # the third waits for room
    assert not reading.done()
    reading.cancel()
    await asyncio.gather(reading, return_exceptions=True)
    calls.gate.set()
    again = _reading(in_flight, calls)  # the page reloaded: a new connection, the same window
    await asyncio.wait_for(again._receive(_frame(9, pad=20_000), False), 5)
    await calls.until(3)
    assert calls.started == [1, 2, 9]
    for _ in range(100):  # until the calls' tasks have ended
        if in_flight.used == 0:
            break
        await asyncio.sleep(0.01)
    assert in_flight.held == 0 and in_flight.used == 0


async def test_the_byte_bound_holds_over_all_of_a_windows_connections() -> None:
    """Each connection read one more frame after the window's bytes were spent (64
    connections of a window: 64 times maxMessageBytes more)."""
    in_flight = InFlight(byte_limit=20_000)
    calls = _Calls()
    reads = [asyncio.create_task(_reading(in_flight, calls)._receive(_frame(n, pad=30_000),
                                                                     False))
             for n in range(1, 6)]
    await calls.until(1)
    for read in reads:  # each has looked, and all but the first wait
        await asyncio.wait({read}, timeout=0)
    assert len(calls.started) == 1 and sum(r.done() for r in reads) == 1
    calls.gate.set()  # the first call ends: one more frame at a time, as room frees
    await asyncio.wait_for(asyncio.gather(*reads), 5)
    assert sorted(calls.started) == [1, 2, 3, 4, 5]


async def test_a_call_waiting_for_its_pages_next_small_message_gets_it() -> None:
    """Uploads past the window's bytes that wait for the page's confirmation: the small frame
    that brings it is read, or the calls would wait for it until their time limit."""
    in_flight = InFlight(byte_limit=30_000)
    calls = _Calls()
    session = _reading(in_flight, calls)
    for frame in (_frame(1, pad=20_000), _frame(2, pad=20_000), _frame(3, cmd="confirm")):
        await asyncio.wait_for(session._receive(frame, False), 5)
    assert calls.started == [1, 2, 3]
