"""Windows opened and closed while the app runs: what is left of a closed one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import threading
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from app.core import App, InvalidArgs, Window, load_config
from app.core.testing import Client


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP response's head and body; return its status."""
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def test_a_closed_windows_connections_end_with_it(write_config) -> None:
    """The browser keeps a window's HTTP connections open for its next requests; a listener
    that stops closes none, and each window opened and closed left a few open for good."""
    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    async with Client(app):
        assert app.core is not None
        await app.open_window("extra")
        port = app.core.server.window_port("extra")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            request = f"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            writer.write(request)
            assert await _read_response(reader) == 403  # (no session) kept alive all the same
            await app.core.remove_window("extra")
            assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the core
            assert app.window_labels() == ["main"]
        finally:
            writer.close()


async def test_a_window_handle_stays_the_window_it_was_once_it_closes(write_config) -> None:
    """A command held its window's handle while the window closed and another opened with its
    label: the handle emitted to, and closed, the new window."""
    config = write_config({"app": {
        "windows": [{"label": "main"}],
        "security": {"capabilities": [{"identifier": "all", "windows": ["*"],
                                       "permissions": ["allow-keep", "core:event:default"]}]},
    }})
    app = App(load_config(config))
    kept: list[Window] = []

    @app.command
    def keep(window: Window) -> bool:
        kept.append(window)
        return window.is_open

    async with Client(app):
        await app.open_window("w2")
        async with Client(app, window="w2") as first:
            assert await first.invoke("keep") is True
        old = kept.pop()
        assert app.core is not None
        await app.core.remove_window("w2")
        assert not old.is_open
        await app.open_window("w2")
        async with Client(app, window="w2") as second:
            await second.listen("news")
            old.emit("news", "for the closed window")
            with pytest.raises(InvalidArgs):  # checked all the same, as for no listener
                old.emit("news", object())
            with pytest.raises(RuntimeError, match="window 'w2' has closed already"):
                old.close()
            assert not Window(app, "never-opened").is_open
            assert await second.invoke("keep") is True
            kept.pop().emit("news", "for the new one")
            assert (await second.next_event())["payload"] == "for the new one"


async def test_closing_a_window_that_is_not_open_says_so(write_config) -> None:
    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    async with Client(app):
        with pytest.raises(RuntimeError, match=r"window 'gone' is not open \(app.window_labels"):
            app.close_window("gone")
        with pytest.raises(RuntimeError, match="window 'main' has no native window to close"):
            app.close_window("main")
        # (it was a bare StopIteration, which a generator calling it would have ended on)
        with pytest.raises(ValueError, match=r"window 'gone' is not open \(app.window_labels"):
            app.launch_url("gone")
        assert app.launch_url("main").split("/__app__/launch/")[1]


async def test_what_the_core_kept_for_a_closed_window_goes_with_it(
    write_config, tmp_path
) -> None:
    """An app opening windows under new labels (one per document, say) gathered each closed
    window's credentials, page keys and places for good."""
    (tmp_path / "iso").mkdir()
    (tmp_path / "iso" / "index.html").write_text("<!doctype html><script>;</script>")
    app = App(load_config(write_config({"app": {
        "windows": [{"label": "main"}],
        "security": {"pattern": {"use": "isolation", "options": {"dir": "iso"}}},
    }})))
    async with Client(app):
        core = app.core
        assert core is not None and core.isolation is not None
        await app.open_window("doc-1")
        # The window's launch, as a browser makes it: a page load with the session's cookie.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(app.launch_url("doc-1"),
                                   headers={"Sec-Fetch-Dest": "document"}) as page:
                assert page.status == 200 and "__APP__" in await page.text()
        core.events._places_of("doc-1")
        core.dispatcher._share("doc-1")

        def kept() -> list[str]:
            credentials, keys = core.credentials, core.isolation.keys  # type: ignore[union-attr]
            return [name for name, held in [
                ("sessions", "doc-1" in credentials._sessions.values()),
                ("tab secrets", len(credentials._tabs) > len(credentials._sessions)),
                ("tickets", any(t.label == "doc-1" for t in credentials._tickets.values())),
                ("launch tokens", "doc-1" in credentials._launch.values()),
                ("keys", any(k.label == "doc-1" for k in keys._keys.values())),
                ("places", "doc-1" in core.events._places),
                ("shares", "doc-1" in core.dispatcher._shares),
            ] if held]

        app.launch_url("doc-1")  # one not used
        assert kept() == ["sessions", "tickets", "launch tokens", "keys", "places", "shares"]
        await core.remove_window("doc-1")
        assert kept() == []


async def test_a_connection_made_as_its_window_closes_keeps_nothing(
    write_config, monkeypatch
) -> None:
    """A page's socket whose handshake ended after its window closed started a connection of
    the closed window all the same, with places and a resume ticket no window would let go of
    (and a window opened again under that label took them over)."""
    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    async with Client(app):
        core = app.core
        assert core is not None
        await app.open_window("doc-1")
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(app.launch_url("doc-1"),
                                   headers={"Sec-Fetch-Dest": "document"}) as page:
                html, tab = await page.text(), page.url.query["__app_tab"]
            ticket = re.search(r'"ticket":"([^"]+)"', html)[1]  # type: ignore[index]
            port = core.server.window_port("doc-1")
            prepare = web.WebSocketResponse.prepare
            handshaken = asyncio.Event()

            async def closing_meanwhile(self: web.WebSocketResponse, request: Any) -> Any:
                writer = await prepare(self, request)
                closing.append(asyncio.create_task(core.remove_window("doc-1")))
                await asyncio.sleep(0)  # it forgets the window, and stops its listener
                handshaken.set()  # (the handler goes on at once, up to its first wait)
                return writer

            closing: list[asyncio.Task[None]] = []

            monkeypatch.setattr(web.WebSocketResponse, "prepare", closing_meanwhile)
            with contextlib.suppress(aiohttp.ClientError):  # the core closes it, one way or another
                async with browser.ws_connect(
                    f"ws://127.0.0.1:{port}/__app__/ipc?ticket={ticket}&tab={tab}",
                    origin=f"http://127.0.0.1:{port}",
                ) as ws:
                    await asyncio.wait_for(ws.receive(), 10)
            await asyncio.wait_for(handshaken.wait(), 10)
            await asyncio.wait_for(closing[0], 10)
        assert "doc-1" not in core.server._in_flight
        assert not [t for t in core.credentials._tickets.values() if t.label == "doc-1"]
        assert not [s for s in core.server.sessions if s.label == "doc-1"]


async def test_a_window_whose_listener_could_not_start_is_not_left_open(write_config) -> None:
    """A window the core could not serve (its port taken) was kept as open all the same: its
    label listed, and taken for good ('there is already a window labelled ...')."""
    import socket

    from app.core.config import window_config
    from app.core.errors import StartError

    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    async with Client(app):
        assert app.core is not None
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            with pytest.raises(StartError, match="cannot listen on"):
                await app.core.add_window(window_config(label="extra"), taken.getsockname()[1])
        assert app.window_labels() == ["main"]
        await app.core.add_window(window_config(label="extra"))
        assert app.window_labels() == ["main", "extra"]


class _SlowNativeWindow:
    """A native window whose destroy() waits as pywebview's does until the window is shown."""

    def __init__(self) -> None:
        import threading

        self.shown = threading.Event()
        self.destroyed = threading.Event()

    def destroy(self) -> None:
        self.shown.wait(10)
        self.destroyed.set()


async def test_closing_a_window_from_the_core_s_loop_does_not_hold_the_loop(
    write_config,
) -> None:
    """close_window() from an async command waited on the loop for pywebview's destroy(),
    which waits until the window is shown (up to 20 s): every window's calls waited too."""
    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    async with Client(app):
        native = _SlowNativeWindow()
        app.native_windows["main"] = native
        try:
            app.close_window("main")  # returns at once: the loop is free
            await asyncio.sleep(0)
            assert not native.destroyed.is_set()
            native.shown.set()
            assert await asyncio.to_thread(native.destroyed.wait, 10)
        finally:
            native.shown.set()
            app.native_windows.clear()


async def test_closing_a_window_from_a_thread_waits_for_it(write_config) -> None:
    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    async with Client(app):
        native = _SlowNativeWindow()
        native.shown.set()
        app.native_windows["main"] = native
        try:
            await asyncio.to_thread(app.close_window, "main")
            assert native.destroyed.is_set()
        finally:
            app.native_windows.clear()


def test_a_closed_window_the_core_fails_to_let_go_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The core's removal of a closed window ran on its loop with no one to see it fail."""
    import logging
    import threading
    from types import SimpleNamespace

    from app.core import native

    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()

    async def remove_window(label: str) -> None:
        raise OSError("the listener would not stop")

    window = object()
    app: Any = SimpleNamespace(native_windows={"main": window},
                               core=SimpleNamespace(loop=loop, remove_window=remove_window))
    try:
        with caplog.at_level(logging.ERROR, logger="app.core.native"):
            native._closed(app, "main", window)
            deadline = loop.time() + 10
            while "failed to let it go" not in caplog.text and loop.time() < deadline:
                threading.Event().wait(0.01)
        assert "window main closed, and the core failed to let it go" in caplog.text
        assert "the listener would not stop" in caplog.text
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


async def test_a_page_that_leaves_just_after_listening_is_not_kept_listening(
    write_config,
) -> None:
    """Its listen ran after the connection's end had dropped its subscriptions: every such
    page (a reload just after listen()) stayed subscribed for good, with its memory, a share
    of every emit's work, and a window listening that was not there."""
    from tests.e2e import raw

    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}], "security": {
        "capabilities": [{"identifier": "t", "windows": ["main"],
                          "permissions": ["core:event:default"]}]}}})))
    async with Client(app):
        core = app.core
        assert core is not None
        launched = await raw.launch(app.launch_url("main"))
        for _ in range(20):
            page = await raw.reload(launched)
            http, ws = await raw.connect(page)
            await ws.send_str('[{"id": 1, "kind": "listen", "event": "tick"}]')
            await ws.close()
            await http.close()
        for _ in range(500):  # until the core has seen every one of them end
            if not core.server.sessions:
                break
            await asyncio.sleep(0.01)
        assert not core.server.sessions
        assert not core.events._listening and "tick" not in core.events.listened()
        app.emit("tick", object())  # no window listens: Python's listeners may get anything


async def test_an_async_command_that_stops_the_app_stops_it_all(write_config) -> None:
    """The stop closes the command's own connection, and the command's task was cancelled with
    it, in the middle of the stop: the windows' listeners stayed open, and under ``serve`` a
    Quit command left the process running."""
    from tests.e2e import raw

    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}], "security": {
        "capabilities": [{"identifier": "t", "windows": ["main"],
                          "permissions": ["allow-stop-app"]}]}}})))

    @app.command
    async def stop_app(the_app: App) -> None:
        await the_app.stop()

    core = await app.start()
    launched = await raw.launch(app.launch_url("main"))
    port = core.server.window_port("main")
    http, ws = await raw.connect(launched)
    async with http, ws:
        await ws.send_str('[{"id": 1, "kind": "invoke", "cmd": "stop_app", "args": {}}]')
        while not ws.closed and (await ws.receive(timeout=10)).type != aiohttp.WSMsgType.CLOSE:
            pass
    assert core.stopping is not None
    await asyncio.wait_for(asyncio.shield(core.stopping), 10)
    assert app.core is None
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_two_starts_at_once_start_one_core(write_config) -> None:
    """The check that the app runs looked at a core made only once the start had finished:
    two starts at once both started one, and the stop ended one of them."""
    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    results = await asyncio.gather(app.start(), app.start(), return_exceptions=True)
    try:
        refused = [r for r in results if isinstance(r, RuntimeError)]
        assert len(refused) == 1 and "already running" in str(refused[0])
        assert app.core is not None and app.core in results
    finally:
        await app.stop()
    assert app.core is None


async def test_a_page_leaving_during_its_handshake_is_no_error(
    write_config, caplog: pytest.LogCaptureFixture
) -> None:
    """Each page that navigates away as its socket opens logged an ERROR with a traceback
    ('Cannot write to closing transport'), as if the core had failed."""
    from tests.e2e import raw

    caplog.set_level(logging.DEBUG, logger="app.core.transport")
    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    async with Client(app):
        core = app.core
        assert core is not None
        launched = await raw.launch(app.launch_url("main"))
        port = core.server.window_port("main")
        for _ in range(5):
            page = await raw.reload(launched)
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                f"GET /__app__/ipc?ticket={page.ticket}&tab={page.tab} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nOrigin: {page.origin}\r\nCookie: {page.cookie}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
            )
            writer.transport.abort()  # gone before the answer
        left = "a page left during its connection's handshake"
        for _ in range(1000):
            if sum(left in r.getMessage() for r in caplog.records) == 5:
                break
            await asyncio.sleep(0.01)
    assert sum(left in r.getMessage() for r in caplog.records) == 5
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_starting_the_app_again_does_not_freeze_more_garbage(write_config) -> None:
    """Each start froze all the process held (what cores before it left among it) out of
    the collector's reach for good: about 360 objects and 70 KB a start and stop."""
    import gc

    app = App(load_config(write_config({"app": {"windows": [{"label": "main"}]}})))
    await app.start()
    await app.stop()
    frozen = gc.get_freeze_count()
    for _ in range(3):
        await app.start()
        await app.stop()
    assert gc.get_freeze_count() <= frozen  # (frozen objects still go when freed)


STOPPABLE = {"app": {"windows": [{"label": "main"}], "security": {"capabilities": [
    {"identifier": "t", "windows": ["main"], "permissions": ["allow-stop-app"]}]}}}


def _serving(app: App, on_ready: Any = None) -> tuple[threading.Thread, list[BaseException]]:
    """``app.serve()`` on a thread (with a stop event no one sets); what it raised."""
    raised: list[BaseException] = []

    def serve() -> None:
        try:
            app.serve(on_ready=on_ready, stop=threading.Event())
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, raised


async def test_a_quit_command_ends_serve(write_config) -> None:
    """A command that stops the app stopped the core, but serve() went on waiting for a stop
    signal: under `python -m app serve` the process ran on."""
    from tests.e2e import raw

    app = App(load_config(write_config(STOPPABLE)))

    @app.command
    async def stop_app(the_app: App) -> None:
        await the_app.stop()

    ready: queue.Queue[dict[str, str]] = queue.Queue()
    thread, raised = _serving(app, on_ready=ready.put)
    urls = await asyncio.to_thread(ready.get, True, 20)
    http, ws = await raw.connect(await raw.launch(urls["main"]))
    async with http, ws:
        await ws.send_str('[{"id": 1, "kind": "invoke", "cmd": "stop_app", "args": {}}]')
        while (await ws.receive(timeout=10)).type not in (
            aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED
        ):
            pass
    await asyncio.to_thread(thread.join, 20)
    assert not thread.is_alive() and not raised and app.core is None


def test_an_on_start_coroutine_that_stops_the_app_ends_serve(write_config) -> None:
    """serve() then asked the stopped app for its launch URLs, and raised 'the app is not
    running'."""
    app = App(load_config(write_config(STOPPABLE)))

    @app.on_start
    async def quit_at_once(the_app: App) -> None:
        await the_app.stop()

    thread, raised = _serving(app)
    thread.join(20)
    assert not thread.is_alive() and not raised and app.core is None


async def test_a_client_call_that_stops_the_app_gets_its_answer(write_config) -> None:
    """The call that stops the app is not cancelled with the rest: it returns once the app
    has stopped (a page's would be answered nowhere, its connection closed)."""
    app = App(load_config(write_config(STOPPABLE)))

    @app.command
    async def stop_app(the_app: App) -> str:
        await the_app.stop()
        return "bye"

    async with Client(app) as client:
        assert await asyncio.wait_for(client.invoke("stop_app"), 10) == "bye"
    assert app.core is None
