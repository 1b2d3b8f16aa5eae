"""Security property 1: only the app's own windows can use IPC (raw HTTP/WebSocket attacks)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import Served, serving

from .conftest import brownfield_config
from .raw import call, connect, launch, new_ticket, reload

GREET = {"id": 1, "kind": "invoke", "cmd": "greet", "args": {"name": "raw"}}


async def refused(launched, **kwargs) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        http, _ = await connect(launched, **kwargs)
        await http.close()
    return info.value.status


async def test_a_window_with_its_credentials_gets_ipc(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    http, ws = await connect(launched)
    try:
        reply = await call(ws, GREET)
        assert reply == {"kind": "reply", "id": 1, "ok": True, "value": "Hello, raw!"}
    finally:
        await http.close()


async def test_the_launch_url_works_once(two_windows: Served) -> None:
    await launch(two_windows.urls["main"])
    async with aiohttp.ClientSession() as http:
        async with http.get(two_windows.urls["main"], allow_redirects=False) as response:
            assert response.status == 403
            assert "already used" in await response.text()
            assert "Set-Cookie" not in response.headers
        # Another window's launch token is no good on this window's address either.
        other = two_windows.urls["settings"].split("/__app__/")[1]
        async with http.get(
            two_windows.origin("main") + "/__app__/" + other, allow_redirects=False
        ) as response:
            assert response.status == 403


async def test_requests_without_the_session_cookie_are_refused(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    async with aiohttp.ClientSession() as http:
        for path in ("/index.html", "/hello.txt", "/__app__/api/core.js"):
            async with http.get(launched.origin + path) as response:
                assert response.status == 403, path
        async with http.get(
            launched.origin + "/index.html", headers={"Cookie": "app_s1=forged"}
        ) as response:
            assert response.status == 403
    assert await refused(launched, cookie="") == 403
    assert await refused(launched, cookie=launched.cookie.split("=")[0] + "=forged") == 403


async def test_a_foreign_origin_is_refused(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    for origin in (
        "http://evil.example",
        "null",
        "http://localhost:1",
        two_windows.origin("settings"),
    ):
        assert await refused(launched, origin=origin, ticket=await new_ticket(launched)) == 403


async def test_a_foreign_host_is_refused(two_windows: Served) -> None:
    """DNS rebinding: a page of another site resolving to 127.0.0.1 sends its own Host."""
    launched = await launch(two_windows.urls["main"])
    port = launched.origin.rsplit(":", 1)[1]
    async with aiohttp.ClientSession() as http:
        for host in ("evil.example:" + port, "localhost:" + port, "127.0.0.1"):
            async with http.get(
                launched.origin + "/index.html", headers={"Host": host, "Cookie": launched.cookie}
            ) as response:
                assert response.status == 421, host
    assert await refused(launched, host="evil.example:" + port) == 421


async def test_a_ticket_works_once_and_only_for_its_window(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    http, _ = await connect(launched)
    await http.close()
    assert await refused(launched) == 403  # the same ticket again
    assert await refused(launched, ticket="made-up") == 403
    settings = await launch(two_windows.urls["settings"])
    # A ticket of the settings window does not open the main window's socket.
    assert await refused(launched, ticket=settings.ticket) == 403


async def test_fetching_a_page_as_data_gives_no_ticket(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    async with aiohttp.ClientSession() as http:
        async with http.get(
            launched.origin + "/index.html",
            headers={"Cookie": launched.cookie, "Sec-Fetch-Dest": "empty"},
        ) as r:
            assert r.status == 200
            assert "ticket" not in await r.text()


async def test_bad_frames_get_clear_errors_and_the_core_keeps_serving(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    http, ws = await connect(launched)
    try:
        notice = await call(ws, "{not json")
        assert notice["kind"] == "notice" and notice["error"]["code"] == "protocol"
        reply = await call(ws, [{"kind": "invoke", "cmd": "greet"}])
        assert reply["error"]["code"] == "protocol" and "'id'" in reply["error"]["message"]
        reply = await call(ws, {"id": 2, "kind": "teleport"})
        assert reply["error"]["code"] == "protocol" and "teleport" in reply["error"]["message"]
        reply = await call(ws, {"id": 3, "kind": "invoke", "cmd": 5})
        assert reply["error"]["code"] == "protocol"
        reply = await call(ws, {"id": 4, "kind": "emit", "event": "bad name!"})
        assert reply["error"]["code"] == "invalid_args"
        await ws.send_bytes(b"\x00\x00\x00\xffgarbage")
        notice = await call(ws, "[]")
        assert notice["kind"] == "notice" and "binary frame" in notice["error"]["message"]
        reply = await call(ws, GREET)
        assert reply["ok"] and reply["value"] == "Hello, raw!"
    finally:
        await http.close()


async def test_an_oversize_frame_closes_only_that_socket(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    http, ws = await connect(launched)
    try:
        await ws.send_str(json.dumps([{**GREET, "args": {"name": "x" * 70000}}]))
        frame = await ws.receive(timeout=10)
        while frame.type == aiohttp.WSMsgType.TEXT:  # the hello may come first
            frame = await ws.receive(timeout=10)
        assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 1009
    finally:
        await http.close()
    # The core goes on serving the window through a new socket.
    http, ws = await connect(launched, ticket=await new_ticket(launched))
    try:
        assert (await call(ws, GREET))["ok"]
    finally:
        await http.close()


async def test_many_calls_in_one_frame_all_settle(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    http, ws = await connect(launched)
    try:
        batch = [
            {"id": i, "kind": "invoke", "cmd": "greet", "args": {"name": str(i)}}
            for i in range(1, 501)
        ]
        await ws.send_str(json.dumps(batch))
        replies: dict[int, dict] = {}
        while len(replies) < 500:
            frame = await asyncio.wait_for(ws.receive(), 10)
            for m in json.loads(frame.data):
                if m["kind"] == "reply":
                    assert m["id"] not in replies, "a call settled twice"
                    replies[m["id"]] = m
        assert all(replies[i]["value"] == f"Hello, {i}!" for i in range(1, 501))
    finally:
        await http.close()


async def test_names_and_kinds_of_any_shape_get_a_prompt_clear_reply(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    http, ws = await connect(launched)
    deep = "[" * 1000 + '"x"' + "]" * 1000  # within the parser's depth, too deep to send back
    wide = "[" * 200 + '"x"' + "]" * 200  # not as deep, and not a name either
    try:
        for msg_id, fields, code in (
            (11, f'"kind":{wide}', "protocol"),
            (12, f'"kind":"invoke","cmd":{wide}', "protocol"),
            (13, f'"kind":"listen","event":{wide}', "invalid_args"),
            (14, f'"kind":"emit","event":{wide}', "invalid_args"),
            (15, '"kind":"listen","event":"trailing\\n"', "invalid_args"),
        ):
            raw = f'[{{"id":{msg_id},{fields}}}]'
            reply = await asyncio.wait_for(call(ws, raw, reply_to=msg_id), 5)
            assert reply["kind"] == "reply", reply
            assert reply["id"] == msg_id and reply["error"]["code"] == code, reply
        # Values nested deeper than the core could send back are refused with their frame,
        # names and payloads alike: nothing the core took in would be lost on the way out.
        assert (await call(ws, {"id": 20, "kind": "listen", "event": "e"}))["ok"] is True
        for fields in (f'"kind":{deep}', f'"kind":"emit","event":"e","payload":{deep}'):
            notice = await asyncio.wait_for(call(ws, f'[{{"id":19,{fields}}}]', reply_to=19), 5)
            assert notice["kind"] == "notice" and notice["error"]["code"] == "protocol", notice
            assert "deeper than the core could send them back" in notice["error"]["message"]
        # A kind of 60,000 characters is not echoed back whole.
        reply = await call(ws, {"id": 16, "kind": "k" * 60_000})
        assert reply["error"]["code"] == "protocol" and len(reply["error"]["message"]) < 300
        # true is not an id, and not a blob's index either.
        notice = await call(ws, '[{"id":true,"kind":"invoke","cmd":"greet","args":{"name":"a"}}]')
        assert notice["kind"] == "notice" and "'id'" in notice["error"]["message"]
        header = b'{"m":[{"id":17,"kind":"invoke","cmd":"echo","args":{"value":{"$__b":true}}}],'
        header += b'"a":[1,1]}'
        await ws.send_bytes(len(header).to_bytes(4, "little") + header + b"AB")
        notice = await call(ws, "[]")
        assert notice["kind"] == "notice" and "blob" in notice["error"]["message"]
        # Thousands of wrong argument names: the message names a few.
        args = {f"extra{i}": i for i in range(2000)}
        reply = await call(ws, {**GREET, "id": 18, "args": {"name": "a", **args}})
        message = reply["error"]["message"]
        assert reply["error"]["code"] == "invalid_args"
        assert "2000 keys it takes no parameter of ('extra0', 'extra1'" in message, message
        assert len(message) < 2000
        assert (await call(ws, GREET))["value"] == "Hello, raw!"
    finally:
        await http.close()


async def test_a_head_request_does_not_spend_the_launch_url(two_windows: Served) -> None:
    # A link preview or a prefetch sends HEAD: it gets no session, and the link still works.
    url = two_windows.urls["main"]
    async with aiohttp.ClientSession() as http:
        async with http.head(url, allow_redirects=False) as response:
            assert response.status == 403  # no session: the launch route answers GET only
            assert "Set-Cookie" not in response.headers
    launched = await launch(url)
    assert launched.ticket


async def test_what_a_page_of_another_local_site_asks_for_is_refused(two_windows: Served) -> None:
    """Browsers send the cookie of 127.0.0.1 to every port of it: a page another local server
    serves would carry the window's session when it frames or opens the window's pages. The
    browser marks such requests same-site (or cross-site), and they get nothing."""
    launched = await launch(two_windows.urls["main"])
    async with aiohttp.ClientSession() as http:
        for path, dest in (
            ("/index.html", "document"), ("/index.html", "iframe"), ("/hello.txt", "image"),
            ("/__app__/api/core.js", "script"),
        ):
            for site, status in (("same-site", 403), ("cross-site", 403), ("same-origin", 200)):
                headers = {"Cookie": launched.cookie, "Sec-Fetch-Dest": dest,
                           "Sec-Fetch-Site": site}
                async with http.get(launched.origin + path, headers=headers) as response:
                    assert response.status == status, (path, dest, site)
                    if status == 403:
                        assert '"ticket"' not in await response.text()


async def test_a_path_with_a_nul_byte_is_not_found(two_windows: Served) -> None:
    launched = await launch(two_windows.urls["main"])
    async with aiohttp.ClientSession() as http:
        for path in ("/hello.txt%00", "/%00/index.html", "/" + "a" * 5000):
            async with http.get(
                launched.origin + path, headers={"Cookie": launched.cookie}
            ) as response:
                assert response.status == 404, path
        async with http.get(
            launched.origin + "/hello.txt", headers={"Cookie": launched.cookie}
        ) as response:
            assert response.status == 200


async def test_a_folders_index_html_linked_out_of_the_frontend_is_not_served(
    app_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A folder's address serves its index.html, which was not checked in turn: a link there
    to a file outside the frontend was served (with the runtime before it), though the same
    link asked for by its own name was not."""
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("OUTSIDE-SECRET")
    (app_dir / "frontend" / "docs").mkdir()
    (app_dir / "frontend" / "docs" / "index.html").symlink_to(outside)
    (app_dir / "frontend" / "inside").mkdir()
    (app_dir / "frontend" / "inside" / "index.html").symlink_to(
        app_dir / "frontend" / "index.html")

    with serving(brownfield_config(app_dir)) as served:
        launched = await launch(served.urls["main"])
        async with aiohttp.ClientSession() as http:
            for path, status in (("/docs/", 404), ("/docs", 404), ("/docs/index.html", 404),
                                 ("/inside/", 200)):
                async with http.get(
                    launched.origin + path, headers={"Cookie": launched.cookie}
                ) as response:
                    assert response.status == status, path
                    assert "OUTSIDE-SECRET" not in await response.text()


async def test_the_session_cookie_alone_opens_no_ipc(two_windows: Served) -> None:
    """Browsers send 127.0.0.1's cookies to every port of it, so another local server that the
    window's browser visits learns the session cookie. With it, a program gets the window's
    pages and their tickets, but the socket also wants the window's tab secret, which only the
    launch URL's redirect carried."""
    launched = await launch(two_windows.urls["main"])
    tab = launched.tab
    assert tab
    # The program: the cookie, fresh pages of the window (so tickets), the right Origin. No
    # page it gets carries the tab secret, and the socket refuses it without one.
    stolen = await reload(launched)
    assert tab not in stolen.html
    for shown in ("", "guess", tab[:-1]):
        assert await refused(stolen, ticket=await new_ticket(stolen), tab=shown) == 403
    # The window's own pages show it.
    http, ws = await connect(stolen, ticket=await new_ticket(stolen), tab=tab)
    try:
        assert (await call(ws, GREET))["ok"]
    finally:
        await http.close()
