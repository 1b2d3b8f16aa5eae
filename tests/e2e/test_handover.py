"""Large frames reach a page of the app's own origin over HTTP: once, and only to that page."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from app.core.protocol import decode_frame
from tests.conftest import serving, wait_for_log

from . import raw
from .conftest import LIMITS_ENV as ENV
from .conftest import greet, limits_config

BIG = 2_000_000  # an event this large leaves in a frame over the 1 MiB handover size
HUGE = 60_000_000  # far more than the sockets' buffers hold


async def _notice(ws: aiohttp.ClientWebSocketResponse, size: int = BIG) -> dict:
    """Ask for one large "flood" event; return the frame notice that comes in its place."""
    await ws.send_str(json.dumps([
        {"id": 2, "kind": "invoke", "cmd": "flood", "args": {"count": 1, "size": size}}
    ]))
    while True:
        frame = await ws.receive(timeout=10)
        assert frame.type == aiohttp.WSMsgType.TEXT, frame
        messages = json.loads(frame.data)
        if messages[0]["kind"] == "frame":
            assert len(messages) == 1, messages  # a notice travels alone
            return messages[0]


async def test_a_large_frame_is_fetched_once_and_only_from_its_window(app_dir: Path) -> None:
    with serving(limits_config(app_dir), windows=2, env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        other = await raw.launch(served.urls["settings"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            assert (await raw.call(ws, {"id": 1, "kind": "listen", "event": "flood"}))["ok"]
            notice = await _notice(ws)
            path = notice["path"]
            assert path.startswith("/__app__/frame/") and len(path) > len("/__app__/frame/") + 40
            # Not on another window's listener, not to another site: the frame stays parked.
            assert (await raw.get(other.origin + path))[0] == 404
            cross = {"Sec-Fetch-Site": "cross-site"}
            assert (await raw.get(launched.origin + path, cross))[0] == 403
            status, _, headers = await raw.get(launched.origin + "/__app__/frame/guess")
            assert status == 404 and headers["X-Content-Type-Options"] == "nosniff", headers
            # (and every other answer of the window's origin: a page's path echoed in a 404)
            async with http.get(launched.origin + "/*/alert(1)//",
                                headers={"Cookie": launched.cookie}) as missing:
                assert missing.status == 404, await missing.text()
                assert missing.headers["X-Content-Type-Options"] == "nosniff", missing.headers
            async with aiohttp.ClientSession() as head, head.head(launched.origin + path) as r:
                assert r.status != 200  # not served to a HEAD, and not spent by one
            # Its page gets it, once; it is the event, and the reply comes after it.
            status, body, headers = await raw.get(launched.origin + path)
            assert status == 200
            # Bytes a page chose (an echo): never run as a script of the app's origin.
            assert headers["X-Content-Type-Options"] == "nosniff", headers
            (event,) = decode_frame(body, binary=notice["binary"])
            assert event["kind"] == "event" and len(event["payload"]) == BIG
            assert (await raw.get(launched.origin + path))[0] == 404
            frame = await raw.receive(ws)
            (reply,) = json.loads(frame.data)
            assert reply == {"kind": "reply", "id": 2, "ok": True, "value": 1}


async def test_a_page_that_does_not_fetch_its_frame_is_cut_off(app_dir: Path) -> None:
    config = limits_config(app_dir, commandTimeoutMs=2000)
    with serving(config, env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            assert (await raw.call(ws, {"id": 1, "kind": "listen", "event": "flood"}))["ok"]
            path = (await _notice(ws))["path"]
            await asyncio.to_thread(
                wait_for_log, served.log, "did not fetch a large frame handed to it"
            )
            frame = await ws.receive(timeout=10)
            assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), frame
            assert (await raw.get(launched.origin + path))[0] == 404  # gone with its connection
        # The window goes on with a new connection.
        http, ws = await raw.connect(launched, ticket=await raw.new_ticket(launched))
        async with http, ws:
            assert (await raw.call(ws, greet(3)))["value"] == "Hello, 3!"


async def test_a_fetch_that_stops_reading_is_cut_off_with_its_page(app_dir: Path) -> None:
    # A time limit far beyond this test's: what cuts the fetch off is its page going away.
    with serving(limits_config(app_dir, commandTimeoutMs=120_000), env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http:
            assert (await raw.call(ws, {"id": 1, "kind": "listen", "event": "flood"}))["ok"]
            path = (await _notice(ws, HUGE))["path"]
            reader, writer = await raw.get_unread(launched, path)
            # It reads no further; its page goes away. The frame's connection is cut too: what
            # the sockets held arrives, then the end, long before the whole frame.
            await ws.close()
            got = 0
            async with asyncio.timeout(10):
                while chunk := await reader.read(1 << 20):
                    got += len(chunk)
            assert got < HUGE // 2, got
            writer.close()
