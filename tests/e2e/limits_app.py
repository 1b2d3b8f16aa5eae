"""The demo plus commands that let a test see how many calls the core answers at once, and a
stream that outruns its page. Started with ``APP_MODULE=tests.e2e.limits_app``."""

from __future__ import annotations

import asyncio
import enum
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, HttpUrl

from app.core import App, Channel, CommandError, Window
from app.demo import create_app as demo_app

LIMITS_COMMANDS = ["allow-hold", "allow-peak", "allow-release", "allow-stream", "allow-flood",
                   "allow-give-up", "allow-give-up-async", "allow-rich", "allow-odd-failure",
                   "allow-stream-later", "allow-drop-connection", "allow-stubborn",
                   "allow-note", "allow-note-async", "allow-notes", "allow-mixed-chunks"]


class Size(enum.Enum):
    SMALL = "small"


class Offer(BaseModel):
    """A model with fields of the kinds JSON has no type for."""

    url: HttpUrl
    price: Decimal
    where: Path
    took: timedelta
    size: Size
    thumbnail: bytes


class Unusual(BaseException):
    """Neither an Exception nor one of Python's own: a library's own base exception."""


RAISED: dict[str, type[BaseException]] = {
    "SystemExit": SystemExit, "KeyboardInterrupt": KeyboardInterrupt,
    "StopIteration": StopIteration, "CancelledError": asyncio.CancelledError,
    "GeneratorExit": GeneratorExit, "Unusual": Unusual,
}


def create_app(config: str | Path) -> App:
    app = demo_app(config)
    gate = asyncio.Event()
    running = {"now": 0, "peak": 0}

    @app.command
    async def hold(data: str = "") -> int:
        """Wait at the gate (holding ``data``, as a call waiting for a thread holds its
        arguments); count how many wait at once."""
        running["now"] += 1
        running["peak"] = max(running["peak"], running["now"])
        try:
            await gate.wait()
        finally:
            running["now"] -= 1
        return running["peak"]

    @app.command
    async def stubborn() -> None:
        """Catch every cancellation, as a careless command does: never ends on its own."""
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass

    noted: list[str] = []

    @app.command
    def note(tag: str, ms: int) -> None:
        """Take ``ms`` on a command thread, then note ``tag``."""
        time.sleep(ms / 1000)
        noted.append(tag)

    @app.command
    async def note_async(tag: str, ms: int) -> None:
        await asyncio.sleep(ms / 1000)
        noted.append(tag)

    @app.command
    async def notes() -> list[str]:
        return list(noted)

    @app.command
    async def peak() -> dict[str, int]:
        return dict(running)

    @app.command
    async def release() -> None:
        gate.set()

    @app.command
    def stream(size: int, chunks: Channel) -> int:
        """Send ``size``-byte chunks until the page stops reading and the core gives up."""
        sent = 0
        while True:
            chunks.send(b"x" * size)
            sent += 1
            if sent > 1_000_000:  # never reached while the core holds back a slow page
                return sent

    @app.command
    def mixed_chunks(count: int, chunks: Channel) -> int:
        """Send ``count`` values through ``chunks`` in turn: bytes, a long string (its UTF-8
        bytes beside the JSON), a small object with bytes in it."""
        for i in range(count):
            kind = i % 3
            chunks.send(bytes([i % 256]) * 3 if kind == 0 else "é" * 70_000 + str(i) if kind == 1
                        else {"n": i, "b": bytes([i % 256])})
        return count

    @app.command
    def flood(count: int, size: int, binary: bool = False) -> int:
        """Emit ``count`` events of ``size`` characters (or bytes: each then leaves in a frame
        of its own) to every listening window."""
        payload = b"x" * size if binary else "x" * size
        for _ in range(count):
            app.emit("flood", payload)
        return count

    @app.command
    def give_up(kind: str) -> None:
        """Raise what is not an ``Exception``, as sys.exit() or next() on an empty iterator do."""
        raise RAISED[kind]()

    @app.command
    async def give_up_async(kind: str) -> None:
        raise RAISED[kind]()

    @app.command
    def rich() -> Offer:
        return Offer(url="https://example.com/a", price=Decimal("9.99"), where=Path("/tmp/x"),
                     took=timedelta(seconds=90), size=Size.SMALL, thumbnail=b"\x89PNG")

    @app.command
    def odd_failure(kind: str) -> None:
        if kind == "data":
            raise CommandError("Nope.", object())  # data that cannot be sent
        raise CommandError(42)  # type: ignore[arg-type]  # not a sentence

    async def exit_listener(event: object) -> None:
        raise SystemExit(3)

    app.listen("give-up", exit_listener)

    streams: set[asyncio.Task[None]] = set()

    @app.command
    async def stream_later(count: int, chunks: Channel, window: Window) -> None:
        """Send ``count`` values on ``chunks`` after the call returned, once the calling page
        has a connection other than the ones it has now (see drop_connection), or 30 s on."""
        assert app.core is not None
        server = app.core.server
        before = [s for s in server.sessions if s.label == window.label]

        async def later() -> None:
            for _ in range(3000):
                if any(s.label == window.label and s not in before for s in server.sessions):
                    break
                await asyncio.sleep(0.01)

            def send() -> None:  # from a thread, as a sync command's would
                for n in range(count):
                    chunks.send(n)

            await asyncio.to_thread(send)

        streams.add(task := asyncio.create_task(later()))
        task.add_done_callback(streams.discard)

    @app.command
    async def drop_connection(window: Window) -> None:
        """Close the calling page's connection, just after this reply: the page reconnects."""
        assert app.core is not None
        gone = [s for s in app.core.server.sessions if s.label == window.label]
        loop = asyncio.get_running_loop()
        for session in gone:
            loop.call_later(0.05, lambda s=session: loop.create_task(s.close()))

    return app
