"""A window connection's backlog rules, on a session whose page and socket are stand-ins."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from app.core.acl.origin import Origin
from app.core.transport.session import Session


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
