"""The dev-server relay against a real local server: what it does when the dev server does not
answer, and with pages too large to read whole."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from app.core.transport import devproxy


async def _dev_server() -> tuple[web.AppRunner, str]:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<p>" + "x" * 5000, content_type="text/html")

    app = web.Application()
    app.router.add_get("/hang", hang)
    app.router.add_get("/page", page)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_a_dev_server_that_takes_a_request_and_never_answers_gets_a_clear_502(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(devproxy, "ANSWER_WAIT", 0.3)
    runner, url = await _dev_server()
    relay = devproxy.DevProxy(url)
    try:
        fetched = await relay.fetch("/hang")
        assert fetched.unanswered and fetched.status == 502
        assert b"did not answer (no answer in 0.3 s). Is it running?" in fetched.body
        monkeypatch.setattr(devproxy, "PAGE_BYTES", 1000)
        fetched = await relay.fetch("/page")
        assert fetched.status == 502 and b"is larger than 1,000 bytes" in fetched.body
        monkeypatch.setattr(devproxy, "PAGE_BYTES", 10_000)
        fetched = await relay.fetch("/page")
        assert fetched.status == 200 and fetched.body.startswith(b"<p>xxx")
    finally:
        await relay.close()
        await runner.cleanup()
