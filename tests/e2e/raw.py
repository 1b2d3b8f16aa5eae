"""A raw HTTP/WebSocket client that speaks to the core without a browser (for attack tests)."""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from dataclasses import dataclass

import aiohttp

from app.core.protocol import decode_frame, encode, join_frames

_origins: weakref.WeakKeyDictionary[aiohttp.ClientWebSocketResponse, str] = (
    weakref.WeakKeyDictionary()
)
_hellos: weakref.WeakKeyDictionary[aiohttp.ClientWebSocketResponse, dict] = (
    weakref.WeakKeyDictionary()
)


@dataclass
class Launched:
    origin: str
    cookie: str
    ticket: str
    html: str
    tab: str | None = None
    """The window's tab secret, which the launch URL's redirect carries."""


async def launch(url: str) -> Launched:
    """Spend a launch URL like a window would; return its cookie and the page's ticket."""
    origin = url.split("/__app__/")[0]
    async with aiohttp.ClientSession() as http:
        async with http.get(url, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
            cookie = response.headers["Set-Cookie"].split(";")[0]
            target = response.headers["Location"]
        tab = re.search(r"[?&]__app_tab=([^&#]+)", target)
        assert tab, f"the launch leads to {target}, with no tab secret"
        async with http.get(
            origin + target, headers={"Cookie": cookie, "Sec-Fetch-Dest": "document"}
        ) as response:
            html = await response.text()
    return Launched(origin, cookie, ticket_of(html), html, tab.group(1))


def ticket_of(html: str) -> str:
    match = re.search(r'"ticket":"([^"]+)"', html)
    assert match, "the page carries no ticket"
    return match.group(1)


async def reload(launched: Launched) -> Launched:
    """The same window's page loaded again: a new ticket (and, under isolation, a new key)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            launched.origin + "/index.html",
            headers={"Cookie": launched.cookie, "Sec-Fetch-Dest": "document"},
        ) as response,
    ):
        html = await response.text()
    return Launched(launched.origin, launched.cookie, ticket_of(html), html, launched.tab)


async def new_ticket(launched: Launched) -> str:
    return (await reload(launched)).ticket


async def connect(
    launched: Launched,
    *,
    ticket: str | None = None,
    origin: str | None = None,
    cookie: str | None = None,
    host: str | None = None,
    tab: str | None = None,
    hello: bool = True,
) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    """Open the IPC socket as the window's page would, with its tab secret (``tab=""`` leaves
    it out); raises ``aiohttp.WSServerHandshakeError`` when refused. The connection's hello is
    read here (``hello_of``), unless ``hello`` is False."""
    headers = {"Origin": origin if origin is not None else launched.origin}
    if cookie is not None or launched.cookie:
        headers["Cookie"] = cookie if cookie is not None else launched.cookie
    if host is not None:
        headers["Host"] = host
    http = aiohttp.ClientSession()
    url = (
        launched.origin.replace("http", "ws")
        + "/__app__/ipc?ticket="
        + (ticket if ticket is not None else launched.ticket)
    )
    shown = tab if tab is not None else launched.tab
    if shown:
        url += "&tab=" + shown
    try:
        ws = await http.ws_connect(url, headers=headers, max_msg_size=0)  # as a browser takes any
        first = json.loads((await ws.receive(timeout=10)).data)[0] if hello else None
    except Exception:
        await http.close()
        raise
    _origins[ws] = launched.origin
    if first is not None:
        assert first["kind"] == "hello", first
        _hellos[ws] = first
    return http, ws


def hello_of(ws: aiohttp.ClientWebSocketResponse) -> dict:
    """The hello the core sent first on ``ws`` (read by ``connect``)."""
    return _hellos[ws]


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10) -> aiohttp.WSMessage:
    """The next frame from the core, as a page's runtime reads it: a large frame that the core
    hands over HTTP is fetched (once, by the path its notice names) and returned in its place."""
    frame = await ws.receive(timeout=timeout)
    if frame.type != aiohttp.WSMsgType.TEXT:
        return frame
    messages = json.loads(frame.data)
    if len(messages) != 1 or messages[0].get("kind") != "frame":
        return frame
    notice = messages[0]
    status, data, _ = await get(_origins[ws] + notice["path"])
    assert status == 200, data
    if notice["binary"]:
        return aiohttp.WSMessage(aiohttp.WSMsgType.BINARY, data, None)
    return aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, data.decode(), None)


async def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    """A plain GET (no cookie): status, body and headers."""
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, await response.read(), dict(response.headers)


async def get_unread(
    launched: Launched, path: str, cookie: str = ""
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A GET of ``path`` from the window's listener whose response is read no further than its
    status line (which must be 200): the client that stops reading a download."""
    host, port = launched.origin.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    headers = f"Host: {host}:{port}\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "")
    writer.write(f"GET {path} HTTP/1.1\r\n{headers}\r\n".encode())
    status = await reader.readline()
    assert status.startswith(b"HTTP/1.1 200"), status
    return reader, writer


async def call(
    ws: aiohttp.ClientWebSocketResponse, message: dict | list | str, reply_to: int | None = None
) -> dict:
    """Send one message (or raw text) and return the reply to it, or the first notice.

    The reply must carry the id of the message (of the first message, when a list is sent; for
    raw text, ``reply_to``): a reply to anything else fails the test rather than passing for
    this one.
    """
    if isinstance(message, str):
        expected = reply_to
        await ws.send_str(message)
    else:
        messages = message if isinstance(message, list) else [message]
        first = messages[0] if messages else None
        expected = first.get("id") if isinstance(first, dict) else None
        if any(_has_bytes(m) for m in messages):
            # As a page sends binary values: a binary frame per message, in the wire format.
            for frame in join_frames([encode(m) for m in messages]):
                data = frame.data()
                await (ws.send_bytes(data) if frame.binary else ws.send_str(data.decode()))
        else:
            await ws.send_str(json.dumps(messages))
    while True:
        for reply in messages_of(await receive(ws)):
            if reply["kind"] == "notice":
                return reply
            if reply["kind"] == "reply":
                assert reply.get("id") == expected, f"expected the reply to {expected}: {reply}"
                return reply


def messages_of(frame: aiohttp.WSMessage) -> list:
    """The messages of a frame from the core, as the page's runtime reads them: those of a binary
    frame (bytes, or long strings sent as text blobs) with their values put back."""
    if frame.type == aiohttp.WSMsgType.BINARY:
        return decode_frame(frame.data, binary=True)
    if frame.type == aiohttp.WSMsgType.TEXT:
        return json.loads(frame.data)
    raise AssertionError(f"unexpected frame {frame.type}")


def _has_bytes(value: object) -> bool:
    if isinstance(value, bytes):
        return True
    if isinstance(value, dict):
        return any(_has_bytes(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_bytes(v) for v in value)
    return False
