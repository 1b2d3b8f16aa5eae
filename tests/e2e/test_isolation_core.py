"""Security properties 2 and 3 against the core itself, over real sockets, without a browser.

A test here plays the isolation frame: it fetches a page's frame the way the frame is fetched,
takes the key out of it, and seals messages in the documented format. That lets it forge every
message a hostile page could, and some only a key holder could, and see what the core does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.transport.session import LOGGED_BAD
from tests.conftest import Served, serving, wait_for_log

from .conftest import ALL_DEMO
from .raw import Launched, call, connect, get, hello_of, launch, messages_of, receive, reload

FRAME_HEADERS = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "same-site"}


def isolation_config(
    app_dir: Path, hook: str | None = None, hook_timeout_ms: int | None = None, **ipc: int
) -> Path:
    """The demo with windows "main" and "other" (both may do everything) under isolation;
    ``hook`` replaces the isolation app's index.js."""
    path = app_dir / "app.conf.json"
    config = json.loads(path.read_text())
    config["app"]["windows"] = [
        {"label": "main", "title": "Main", "url": "index.html"},
        {"label": "other", "title": "Other", "url": "index.html"},
    ]
    options: dict[str, Any] = {"dir": "dist-isolation"}
    if hook_timeout_ms is not None:
        options["hookTimeoutMs"] = hook_timeout_ms
    config["app"]["security"] = {
        "pattern": {"use": "isolation", "options": options},
        "capabilities": [
            {"identifier": "all", "windows": ["main", "other"], "permissions": ALL_DEMO}
        ],
    }
    if ipc:
        config["app"]["ipc"] = ipc
    path.write_text(json.dumps(config))
    if hook is not None:
        (app_dir / "dist-isolation" / "index.js").write_text(hook)
    return path


@pytest.fixture
def served(app_dir: Path) -> Iterator[Served]:
    with serving(isolation_config(app_dir), windows=2) as served:
        yield served


def boot_of(html: str) -> dict[str, Any]:
    match = re.search(r'"isolation":(\{[^}]*\})', html)
    assert match, "the page carries no isolation boot data"
    boot: dict[str, Any] = json.loads(match.group(1))
    return boot


@dataclass
class FramePlayer:
    """A window document as seen from its isolation frame: it holds the document's key."""

    page: Launched
    kid: str
    key: bytes
    seq: int = 0
    ids: Iterator[int] = field(default_factory=lambda: iter(range(1, 1 << 30)))

    def seal(self, message: dict[str, Any], **options: Any) -> dict[str, Any]:
        """Seal ``message`` alone, as the frame does."""
        return self.seal_group([message], **options)[0]

    def seal_group(
        self,
        messages: list[dict[str, Any]],
        *,
        seq: int | None = None,
        kid: str | None = None,
        plaintext: bytes | None = None,
        as_bytes: bool = False,
    ) -> list[dict[str, Any]]:
        """Seal ``messages`` together under the next number (or ``seq``); return the envelope of
        each, the first with the ciphertext (base64 text, or bytes as the frame sends large
        ones)."""
        if seq is None:
            seq, self.seq = self.seq, self.seq + 1
        group = [{"id": next(self.ids), **message} for message in messages]
        body = plaintext if plaintext is not None else b"J" + orjson.dumps(group)
        nonce = b"\0\0\0\0" + seq.to_bytes(8, "big")
        aad = f"app-isolation/1 {kid or self.kid} {seq}".encode()
        sealed = AESGCM(self.key).encrypt(nonce, body, aad)
        ct: str | bytes = sealed if as_bytes else base64.b64encode(sealed).decode()
        envelopes: list[dict[str, Any]] = [
            {"id": message["id"], "kind": "sealed", "kid": self.kid, "seq": seq}
            for message in group
        ]
        envelopes[0]["ct"] = ct
        return envelopes


async def fetch_frame(url: str, headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    status, body, sent = await get(url, headers)
    return status, body.decode(), sent


async def play(page: Launched) -> FramePlayer:
    boot = boot_of(page.html)
    status, html, _ = await fetch_frame(boot["frame"], FRAME_HEADERS)
    assert status == 200, html
    key = re.search(r'"key":"([^"]+)"', html)
    assert key, "the frame page carries no key"
    return FramePlayer(page, boot["kid"], base64.b64decode(key.group(1)))


def refusal(reply: dict[str, Any]) -> str:
    assert reply.get("ok") is not True and reply["error"]["code"] == "protocol", reply
    return str(reply["error"]["message"])


GREET = {"kind": "invoke", "cmd": "greet", "args": {"name": "sealed"}}


async def test_the_frame_page_is_served_once_and_only_as_a_frame(served: Served) -> None:
    page = await launch(served.urls["main"])
    boot = boot_of(page.html)
    url = boot["frame"]
    assert not url.startswith(page.origin), "the frame must come from another origin"
    # Asked for as anything but the app's own frame, it is refused and the link is not spent.
    for headers in (
        {},
        {"Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Dest": "script", "Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"},
        {**FRAME_HEADERS, "Host": "localhost"},
    ):
        status, text, _ = await fetch_frame(url, headers)
        assert status in (403, 421), (headers, status)
        assert '"key"' not in text
    status, html, headers = await fetch_frame(url, FRAME_HEADERS)
    assert status == 200
    key = re.search(r'"key":"([^"]+)"', html)
    assert key and len(base64.b64decode(key.group(1))) == 32
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert f"frame-ancestors {page.origin}" in csp
    assert "sandbox allow-scripts allow-modals" in csp
    assert re.search(r"script-src 'nonce-[^']+'$|script-src 'nonce-[^']+';", csp)
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in headers
    # The second request fails, and carries no key.
    status, again, _ = await fetch_frame(url, FRAME_HEADERS)
    assert status == 403 and '"key"' not in again and "already used" in again
    # The page itself never holds the key, and the next page gets a new key and frame.
    assert key.group(1) not in page.html
    assert boot["kid"] in page.html
    second = await reload(page)
    assert boot_of(second.html)["kid"] != boot["kid"]
    assert boot_of(second.html)["frame"] != url


async def test_sealed_messages_open_in_sequence_and_once(served: Served) -> None:
    frame = await play(await launch(served.urls["main"]))
    http, ws = await connect(frame.page)
    try:
        first = frame.seal(GREET)
        assert (await call(ws, first))["value"] == "Hello, sealed!"
        # Replayed: the same message again.
        assert "No sealed message for call" in refusal(await call(ws, first))
        # Reordered: number 2 before number 1. Number 1 is not lost by the attempt; number 2,
        # refused, never runs (its caller was told so), and is passed over for the next.
        one, two = frame.seal(GREET), frame.seal(GREET)
        assert "number 2 arrived where number 1 was due" in refusal(await call(ws, two))
        assert (await call(ws, one))["ok"] is True
        assert "No sealed message for call" in refusal(await call(ws, two))
        assert (await call(ws, frame.seal(GREET)))["ok"] is True
        # Tampered: one bit of the ciphertext flipped; then the real one still opens.
        sealed = frame.seal(GREET)
        ct = bytearray(base64.b64decode(sealed["ct"]))
        ct[3] ^= 1
        forged = {**sealed, "ct": base64.b64encode(bytes(ct)).decode()}
        assert "did not decrypt" in refusal(await call(ws, forged))
        assert (await call(ws, sealed))["ok"] is True
        # The sequence number is authenticated: the right ciphertext under another number fails.
        sealed = frame.seal(GREET)
        assert "was due" in refusal(await call(ws, {**sealed, "seq": sealed["seq"] + 1}))
        # Re-targeted: a ciphertext sent with another call's id. The id is inside it, so the
        # message stays due for its own call.
        retargeted = {**sealed, "id": sealed["id"] + 1000}
        assert "No sealed message for call" in refusal(await call(ws, retargeted))
        assert (await call(ws, sealed))["ok"] is True
        # A ciphertext may come as bytes (in a binary frame), with the same checks.
        sealed = frame.seal(GREET, as_bytes=True)
        flipped = bytearray(sealed["ct"])
        flipped[-1] ^= 1
        assert "did not decrypt" in refusal(await call(ws, {**sealed, "ct": bytes(flipped)}))
        assert (await call(ws, sealed))["value"] == "Hello, sealed!"
        assert "No sealed message for call" in refusal(await call(ws, sealed))
        for wrong in (12345, ["AAAA"], "not base64!"):
            sealed = frame.seal(GREET)
            assert "as bytes or base64 text" in refusal(await call(ws, {**sealed, "ct": wrong}))
            assert (await call(ws, sealed))["ok"] is True
        # A key holder could still not slip an empty message through.
        for empty in (b"", b"J", b"J[]", b"J{}", b"J[{}]", b"B", b"B\0\0\0\0"):
            refusal(await call(ws, frame.seal(GREET, plaintext=empty)))
        # And legitimate calls go on.
        assert (await call(ws, frame.seal(GREET)))["value"] == "Hello, sealed!"
    finally:
        await http.close()


async def test_a_group_sealed_together_is_handed_out_in_order_and_once(served: Served) -> None:
    frame = await play(await launch(served.urls["main"]))
    http, ws = await connect(frame.page)
    try:
        a, b, c = frame.seal_group([GREET, GREET, GREET])
        assert "ct" in a and "ct" not in b and "ct" not in c
        assert "was due" in refusal(await call(ws, b))  # before its group was opened
        assert (await call(ws, a))["ok"] is True
        assert "No sealed message for call" in refusal(await call(ws, c))  # skips b
        assert "No sealed message for call" in refusal(await call(ws, {**b, "id": c["id"]}))
        assert (await call(ws, b))["ok"] is True
        assert "No sealed message for call" in refusal(await call(ws, b))  # replayed
        # The next group cannot open while a message of this one is held back: it is refused,
        # never to run, and its number passed over once the held one has come.
        d, e = frame.seal_group([GREET, GREET])
        assert "still due" in refusal(await call(ws, d))
        assert (await call(ws, c))["ok"] is True
        assert "No sealed message for call" in refusal(await call(ws, d))
        assert "No sealed message for call" in refusal(await call(ws, e))
        f, g = frame.seal_group([GREET, GREET])
        assert (await call(ws, f))["ok"] is True
        assert (await call(ws, g))["value"] == "Hello, sealed!"
        # An envelope without a ciphertext, when nothing is due, gets nothing.
        assert refusal(await call(ws, {**g, "id": 4242}))
        assert refusal(await call(ws, {**g, "id": 4243, "seq": g["seq"] + 1}))
    finally:
        await http.close()


async def test_a_sealed_group_too_deep_to_answer_is_refused_as_it_comes_in(
    served: Served,
) -> None:
    """As an unsealed frame is: a value nested deeper than the core's encoder goes (it would
    be kept by a command, then every read of it failed), refused at once, sealed or not."""
    frame = await play(await launch(served.urls["main"]))
    http, ws = await connect(frame.page)
    try:
        def echo(n: int, depth: int) -> dict[str, Any]:
            value = "[" * depth + "1" + "]" * depth
            body = f'J[{{"id":{n},"kind":"invoke","cmd":"echo","args":{{"value":{value}}}}}]'
            return frame.seal_group([{"id": n}], plaintext=body.encode())[0]

        assert "nests values deeper than the core could send them back" in refusal(
            await call(ws, echo(900_001, 300)))
        assert (await call(ws, echo(900_002, 200)))["ok"] is True
    finally:
        await http.close()


async def test_large_sealed_groups_are_opened_off_the_loop_with_the_same_checks(
    served: Served,
) -> None:
    """A group of 1 MiB or more comes in a frame read on the large frames' thread, where it is
    also decrypted and read (``stage.read_ahead``); the stage still decides, as for any other."""
    frame = await play(await launch(served.urls["main"]))
    http, ws = await connect(frame.page)
    value = list(range(200_000))  # 1.3 MB of JSON

    def big() -> dict[str, Any]:
        sealed = frame.seal({"kind": "invoke", "cmd": "echo", "args": {"value": value}},
                            as_bytes=True)
        assert len(sealed["ct"]) > 1024 * 1024
        return sealed

    try:
        sealed = big()
        assert (await call(ws, sealed))["value"] == value
        assert "No sealed message for call" in refusal(await call(ws, sealed))  # replayed
        # Tampered: refused; the real one still opens.
        sealed = big()
        flipped = bytearray(sealed["ct"])
        flipped[len(flipped) // 2] ^= 1
        assert "did not decrypt" in refusal(await call(ws, {**sealed, "ct": bytes(flipped)}))
        assert (await call(ws, sealed))["ok"] is True
        # Reordered: the later one refused, never to run, and passed over once the earlier came.
        one, two = big(), big()
        assert "where number" in refusal(await call(ws, two))
        assert (await call(ws, one))["ok"] is True
        assert "No sealed message for call" in refusal(await call(ws, two))
        # Under another number: refused.
        sealed = big()
        assert "was due" in refusal(await call(ws, {**sealed, "seq": sealed["seq"] + 1}))
        assert (await call(ws, sealed))["ok"] is True
        # Decrypted, but not a group of messages: refused, its number spent.
        junk = frame.seal_group([{}], plaintext=b"J" + b" " * (1024 * 1024) + b"{}",
                                as_bytes=True)[0]
        assert "one or more messages" in refusal(await call(ws, junk))
        assert "No sealed message for call" in refusal(await call(ws, junk))
        assert (await call(ws, big()))["ok"] is True
    finally:
        await http.close()


async def test_a_large_sealed_group_is_read_while_the_loop_serves_other_windows(
    app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its reading (here held until another window has been answered, which could not be if
    it held the core's loop) runs on the large frames' thread, as a plain large frame's does."""
    from app.core.isolation import stage
    from app.demo import create_app

    reading, answered = threading.Event(), threading.Event()
    seen: list[tuple[str, bool]] = []
    plain_messages = stage._plain_messages

    def held(plaintext: bytes) -> list[dict[str, Any]]:
        if len(plaintext) > 1024 * 1024:
            reading.set()
            seen.append((threading.current_thread().name, answered.wait(10)))
        return plain_messages(plaintext)

    monkeypatch.setattr(stage, "_plain_messages", held)
    app = create_app(str(isolation_config(app_dir)))
    await app.start()
    try:
        main = await play(await launch(app.launch_url("main")))
        other = await play(await launch(app.launch_url("other")))
        http, ws = await connect(main.page)
        other_http, other_ws = await connect(other.page)
        async with http, ws, other_http, other_ws:
            value = list(range(200_000))
            sealed = main.seal({"kind": "invoke", "cmd": "echo", "args": {"value": value}},
                               as_bytes=True)
            echoed = asyncio.create_task(call(ws, sealed))
            assert await asyncio.to_thread(reading.wait, 10)
            assert (await call(other_ws, other.seal(GREET)))["value"] == "Hello, sealed!"
            answered.set()
            assert (await echoed)["value"] == value
            assert seen == [("app-large-frames", True)]
            # What the stage refuses without opening is not read ahead either: a replay, and a
            # group of another window's.
            assert "No sealed message for call" in refusal(await call(ws, sealed))
            theirs = other.seal({"kind": "invoke", "cmd": "echo", "args": {"value": value}},
                                as_bytes=True)
            assert "another window" in refusal(await call(ws, theirs))
            assert seen == [("app-large-frames", True)]
    finally:
        answered.set()
        await app.stop()


async def test_what_a_sealed_group_leaves_waiting_is_bounded_and_let_go_with_its_connection(
    app_dir: Path,
) -> None:
    """A group's messages wait in the core for their envelopes. A page whose frame sealed a
    million of them and sent one envelope had the core keep them all, for as long as the key (a
    day) after the connection closed, page load after page load."""
    from app.demo import create_app

    app = create_app(str(isolation_config(app_dir)))
    await app.start()
    try:
        assert app.core is not None and app.core.isolation is not None
        keys = app.core.isolation.keys
        frame = await play(await launch(app.launch_url("main")))
        http, ws = await connect(frame.page)
        async with http, ws:
            # More than a frame may carry: refused as it is opened, none of it kept.
            too_many = frame.seal_group([GREET] * 4097, as_bytes=True)
            assert "at most 4096 may be sealed together" in refusal(await call(ws, too_many[0]))
            assert not keys.get(frame.kid).due  # type: ignore[union-attr]
            assert "No sealed message for call" in refusal(await call(ws, too_many[1]))
            # Up to that many, the group waits for its envelopes...
            first = frame.seal_group([GREET] * 4096, as_bytes=True)[0]
            assert (await call(ws, first))["value"] == "Hello, sealed!"
            key = keys.get(frame.kid)
            assert key is not None and len(key.due) == 4095
        # ... until the connection ends.
        deadline = asyncio.get_running_loop().time() + 10
        while key.due:
            assert asyncio.get_running_loop().time() < deadline, "still kept"
            await asyncio.sleep(0.01)
        assert keys.get(frame.kid) is key  # the key itself stays, for the page to reconnect
        # A group whose first envelope is refused (the wrong id) is opened all the same, and
        # binds the key to no connection: it is let go with the connection too.
        frame = await play(await launch(app.launch_url("main")))
        http, ws = await connect(frame.page)
        async with http, ws:
            first = frame.seal_group([GREET] * 3)[0]
            assert "No sealed message for call" in refusal(
                await call(ws, {**first, "id": first["id"] + 1000}))
            key = keys.get(frame.kid)
            assert key is not None and len(key.due) == 3 and key.session is None
        deadline = asyncio.get_running_loop().time() + 10
        while key.due:
            assert asyncio.get_running_loop().time() < deadline, "still kept"
            await asyncio.sleep(0.01)
    finally:
        await app.stop()


async def test_a_long_ciphertext_as_base64_text_is_refused(served: Served) -> None:
    """The frame sends a ciphertext of 16 KiB or more as bytes; a longer text one would only
    make the core decode it on its loop."""
    frame = await play(await launch(served.urls["main"]))
    http, ws = await connect(frame.page)
    try:
        value = "x" * 30_000
        sealed = frame.seal({"kind": "invoke", "cmd": "echo", "args": {"value": value}})
        assert len(sealed["ct"]) > 32 * 1024
        assert "comes as bytes" in refusal(await call(ws, sealed))
        as_bytes = {**sealed, "ct": base64.b64decode(sealed["ct"])}
        assert (await call(ws, as_bytes))["value"] == value
    finally:
        await http.close()


async def test_a_flood_of_sealed_messages_that_do_not_open_is_logged_within_bounds(
    served: Served,
) -> None:
    """Each is refused, and the log says so for the connection's first few: a page sending
    nothing else wrote 5.7 MB of log for 40,960 of them."""
    frame = await play(await launch(served.urls["main"]))
    http, ws = await connect(frame.page)
    try:
        before = len(served.log)
        bogus = [{"id": n, "kind": "sealed", "kid": "unknown", "seq": 0, "ct": "AAAA"}
                 for n in range(1, 2001)]
        await ws.send_str(json.dumps(bogus))
        refused: set[int] = set()
        while len(refused) < len(bogus):
            for reply in messages_of(await receive(ws)):
                assert reply["kind"] == "reply" and reply["error"]["code"] == "protocol", reply
                refused.add(reply["id"])
        assert (await call(ws, frame.seal(GREET)))["value"] == "Hello, sealed!"
        wait_for_log(served.log, "bad frames or messages on this connection; no more are logged")
        logged = [line for line in served.log[before:] if "sealed message it may not" in line]
        assert len(logged) == LOGGED_BAD, len(logged)
    finally:
        await http.close()


async def test_plain_and_empty_messages_are_refused_whatever_the_arity(served: Served) -> None:
    frame = await play(await launch(served.urls["main"]))
    http, ws = await connect(frame.page)
    try:
        plain = [
            {"id": 1, "kind": "invoke", "cmd": "read_config", "args": {}},
            {"id": 2, "kind": "invoke", "cmd": "read_config"},
            {"id": 3, "kind": "invoke", "cmd": "delete_item", "args": {"id": 1}},
            {"id": 4, "kind": "emit", "event": "ping", "payload": 1},
            {"id": 5, "kind": "listen", "event": "clock"},
            {"id": 6},
            {"id": 7, "kind": "sealed"},
            {"id": 8, "kind": "sealed", "kid": frame.kid, "seq": 0},
            {"id": 9, "kind": "sealed", "kid": frame.kid, "seq": 0, "ct": ""},
            {"id": 10, "kind": "sealed", "kid": frame.kid, "seq": 0, "ct": "not base64!"},
            {"id": 11, "kind": "sealed", "kid": frame.kid, "seq": 0, "ct": None},
            {"id": 12, "kind": "sealed", "kid": "unknown", "seq": 0, "ct": "AAAA"},
            {"id": 13, "kind": "sealed", "seq": 0, "ct": "AAAA"},
            {"id": 14, "kind": "sealed", "kid": frame.kid, "seq": "0", "ct": "AAAA"},
            {
                "id": 15,
                "kind": "sealed",
                "kid": frame.kid,
                "seq": 0,
                "ct": base64.b64encode(b"\0" * 16).decode(),
            },
        ]
        for message in plain:
            refusal(await call(ws, message))
        said = refusal(await call(ws, plain[0]))
        assert "accepts only messages sealed" in said
        assert "'invoke' message of 'read_config' is refused" in said
        assert "'listen' message of 'clock' is refused" in refusal(await call(ws, plain[4]))
        assert "and a message of no kind is refused" in refusal(await call(ws, plain[5]))
        # Nothing ran, and the sequence is where it was: the first sealed message is number 0.
        items = await call(ws, frame.seal({"kind": "invoke", "cmd": "list_items", "args": {}}))
        assert {"id": 1, "name": "Apples"} in items["value"]
        # A message sealed around another sealed one is refused too.
        nested = frame.seal({"kind": "sealed", "kid": frame.kid, "seq": 5, "ct": "AAAA"})
        assert refusal(await call(ws, nested))
    finally:
        await http.close()


async def test_a_key_serves_only_its_own_window_page_and_connection(served: Served) -> None:
    main = await play(await launch(served.urls["main"]))
    other = await play(await launch(served.urls["other"]))
    main_http, main_ws = await connect(main.page)
    hello = hello_of(main_ws)
    other_http, other_ws = await connect(other.page)
    try:
        # Another window's ciphertext, on this window's connection.
        stolen = main.seal(GREET)
        assert "another window" in refusal(await call(other_ws, stolen))
        # ... and passed off as this window's own (its kid): it does not decrypt.
        assert "did not decrypt" in refusal(await call(other_ws, {**stolen, "kid": other.kid}))
        assert (await call(main_ws, stolen))["ok"] is True
        assert (await call(other_ws, other.seal(GREET)))["ok"] is True
        # A second page of the same window has its own key; neither connection takes the other's.
        again = await play(await reload(main.page))
        again_http, again_ws = await connect(again.page)
        try:
            lent = main.seal(GREET)
            assert "another page load" in refusal(await call(again_ws, lent))
            assert (await call(again_ws, again.seal(GREET)))["ok"] is True
            assert "another page load" in refusal(await call(main_ws, again.seal(GREET)))
        finally:
            await again_http.close()
        # After a drop, the page's reconnection (with its resume ticket) carries on the sequence.
        await main_ws.close()
        await main_http.close()
        main_http, main_ws = await connect(main.page, ticket=hello["resume"])
        assert (await call(main_ws, lent))["ok"] is True
        assert (await call(main_ws, main.seal(GREET)))["ok"] is True
        # ... and after a connection cut with no close frame (its handler is given up, and its
        # socket still looks open to the core): the key was kept for the dead connection.
        resume = hello_of(main_ws)["resume"]
        main_ws.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        await main_http.close()
        main_http, main_ws = await connect(main.page, ticket=resume)
        assert (await call(main_ws, main.seal(GREET)))["ok"] is True
        # A message sealed before a reload, held back, and sent once the old page is gone does
        # not run in the new one.
        held = main.seal(GREET)
        await main_ws.close()
        await main_http.close()
        later = await play(await reload(main.page))
        main_http, main_ws = await connect(later.page)
        assert "another page load" in refusal(await call(main_ws, held))
        assert (await call(main_ws, later.seal(GREET)))["ok"] is True
    finally:
        await main_http.close()
        await other_http.close()
