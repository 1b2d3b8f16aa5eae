"""The transport's floor: an aiohttp WebSocket that echoes, with no shell logic at all.

``python -m benchmarks.subjects.bare_app serve`` prints ``window main <url>`` for a browser;
``python -m benchmarks.subjects.bare_app window`` opens the same page in a pywebview Qt window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import struct
import threading
import time
from collections.abc import Callable

from aiohttp import WSMsgType, web

from .host_env import WEB, plain_pages, qt_environment
from .payload import blob

__all__ = ["main"]

_ID = struct.Struct("<I")


async def _socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=0, compress=False)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            data: str = msg.data
            if not data.startswith('{"op"'):
                await ws.send_str(data)  # the echo: not even parsed
                continue
            op = json.loads(data)
            if op["op"] == "download":
                await ws.send_bytes(_ID.pack(op["id"]) + blob(op["n"]))
            elif op["op"] == "clock":
                await ws.send_str(json.dumps({"id": op["id"], "v": time.time() * 1000}))
            elif op["op"] == "events":
                for i in range(op["n"]):
                    await ws.send_str(json.dumps({"e": 1, "i": i, "t": time.time() * 1000}))
                    if op.get("interval"):
                        await asyncio.sleep(op["interval"] / 1000)
                await ws.send_str(json.dumps({"id": op["id"], "v": op["n"]}))
        elif msg.type == WSMsgType.BINARY:
            (msg_id,) = _ID.unpack_from(msg.data)
            await ws.send_str(json.dumps({"id": msg_id, "v": len(msg.data) - 4}))
    return ws


# As the shell's benchmark configs set them (app.security.headers): pages that are
# cross-origin isolated get a 5 µs performance.now() instead of a 100 µs one.
ISOLATED = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    if not isinstance(response, web.WebSocketResponse) and not plain_pages():
        response.headers.update(ISOLATED)


def application() -> web.Application:
    app = web.Application(client_max_size=0)
    app.on_response_prepare.append(_on_prepare)
    app.router.add_get("/ws", _socket)
    app.router.add_static("/", WEB)
    return app


async def _serve(on_url: Callable[[str], None], done: asyncio.Event) -> None:
    runner = web.AppRunner(application(), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    on_url(f"http://127.0.0.1:{port}/bare.html")
    await done.wait()
    await runner.cleanup()


def serve() -> None:
    async def main() -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, done.set)
        await _serve(lambda url: print(f"window main {url}", flush=True), done)

    asyncio.run(main())


def window() -> None:
    """The server on a thread of its own, the window on the main thread (as Qt wants)."""
    qt_environment()
    import webview

    ready = threading.Event()
    urls: list[str] = []

    def found(url: str) -> None:
        urls.append(url)
        ready.set()

    def run_server() -> None:
        async def main() -> None:
            await _serve(found, asyncio.Event())

        asyncio.run(main())

    threading.Thread(target=run_server, name="bare-server", daemon=True).start()
    ready.wait()
    print(f"window main {urls[0]}", flush=True)
    win = webview.create_window("IPC benchmark: bare", url=urls[0], width=800, height=600)
    assert win is not None
    signal.signal(signal.SIGTERM, lambda *_: win.destroy())
    webview.start(gui="qt", private_mode=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.subjects.bare_app")
    parser.add_argument("mode", choices=["serve", "window"])
    {"serve": serve, "window": window}[parser.parse_args().mode]()


if __name__ == "__main__":
    main()
