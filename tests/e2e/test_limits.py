"""A page cannot make the core hold without bound what it sends or what it does not read."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.core.testing import Client
from app.core.transport.server import CROWDED, MAX_CONNECTIONS, UNCOVERED_MESSAGE_BYTES
from app.core.transport.session import LOGGED_BAD, in_flight_bytes
from tests.conftest import Served, serve, serving, wait_for_log

from . import limits_app, raw
from .conftest import LIMITS_ENV as ENV
from .conftest import greet, limits_config


@asynccontextmanager
async def flood_listener(
    app_dir: Path, patience_ms: int = 2000
) -> AsyncIterator[tuple[Served, raw.Launched, aiohttp.ClientWebSocketResponse]]:
    """The app served with a backlog limit of 8.1 MiB (twice a 64 KiB message limit, and
    8 MiB), ``patience_ms`` of patience (the command time limit), and a connection of its
    main window that listens to "flood"."""
    config = limits_config(app_dir, maxMessageBytes=65536, commandTimeoutMs=patience_ms)
    with serving(config, windows=2, env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            assert (await raw.call(ws, {"id": 1, "kind": "listen", "event": "flood"}))["ok"]
            yield served, launched, ws


async def flood(
    ws: aiohttp.ClientWebSocketResponse, count: int, size: int = 10_000, pace: float = 0
) -> int:
    """Have the app emit ``count`` events of ``size`` characters to every window that listens,
    read them and the call's reply on ``ws`` (after each frame, ``pace`` seconds of other work
    for each MiB it held: a page that reads slowly); return how many events came."""
    await ws.send_str(json.dumps([{"id": 2, "kind": "invoke", "cmd": "flood",
                                   "args": {"count": count, "size": size}}]))
    events, reply = 0, None
    while reply is None:
        frame = await raw.receive(ws, timeout=30)
        for message in raw.messages_of(frame):
            if message["kind"] == "event":
                events += 1
            elif message["kind"] == "reply":
                reply = message
        if pace:
            await asyncio.sleep(pace * len(frame.data) / 2**20)
    assert reply == {"kind": "reply", "id": 2, "ok": True, "value": count}
    return events


async def test_a_frame_of_too_many_messages_is_refused_whole(app_dir: Path) -> None:
    with serving(limits_config(app_dir)) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            notice = await raw.call(ws, [greet(n) for n in range(1, 5001)])
            assert notice["kind"] == "notice" and notice["error"]["code"] == "protocol"
            assert "at most 4096" in notice["error"]["message"]
            # None of them ran (a reply to one would fail this call's id check), and the
            # connection goes on.
            reply = await raw.call(ws, greet(9001))
            assert reply["ok"] and reply["value"] == "Hello, 9001!"
            # 4096 at once, the most a frame may carry: all are answered (in the order they
            # finish, which need not be the order they were sent).
            batch = [greet(n) for n in range(9002, 13098)]
            await ws.send_str(json.dumps(batch))
            answered: dict[int, dict] = {}
            while len(answered) < len(batch):
                for message in raw.messages_of(await raw.receive(ws)):
                    if message["kind"] == "reply":
                        answered[message["id"]] = message
            assert all(reply["ok"] for reply in answered.values())


async def test_past_4096_calls_in_flight_a_window_is_not_read(app_dir: Path) -> None:
    """The bound is the window's, over all of its connections: a page that opens more gets no
    more answered at once. Another window is not held up by it."""
    config = limits_config(app_dir)
    data = json.loads(config.read_text())
    data["app"]["security"]["capabilities"][1]["permissions"] += ["allow-peak", "allow-release"]
    config.write_text(json.dumps(data))
    with serving(config, env=ENV, windows=2) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        second_http, second = await raw.connect(launched, ticket=await raw.new_ticket(launched))
        other_http, other = await raw.connect(await raw.launch(served.urls["settings"]))
        async with http, ws, second_http, second, other_http, other:
            total = 6000
            for start in range(0, total, 1000):
                holds = [{"id": n, "kind": "invoke", "cmd": "hold", "args": {}}
                         for n in range(start + 1, start + 1001)]
                await (ws if start % 2000 == 0 else second).send_str(json.dumps(holds))

            async def peak() -> dict:
                reply = await raw.call(other, {"id": 1, "kind": "invoke", "cmd": "peak"})
                return reply["value"]

            # Wait until the core holds as many as it takes, then check it takes no more.
            for _ in range(200):
                if (await peak())["now"] >= 4096:
                    break
                await asyncio.sleep(0.05)
            assert (await peak())["now"] == 4096
            await raw.call(other, {"id": 2, "kind": "invoke", "cmd": "release"})
            answered = set()
            for sock, ids in ((ws, 3000), (second, 3000)):
                mine = set()
                while len(mine) < ids:
                    frame = await raw.receive(sock, timeout=30)
                    assert frame.type == aiohttp.WSMsgType.TEXT, frame
                    for reply in json.loads(frame.data):
                        if reply["kind"] == "reply":
                            assert reply["ok"], reply
                            mine.add(reply["id"])
                answered |= mine
            assert answered == set(range(1, total + 1))
            assert (await peak())["peak"] == 4096


async def test_calls_in_flight_hold_a_bounded_number_of_bytes(app_dir: Path) -> None:
    """Calls waiting (for a thread, say) hold their arguments: a page that sent 4096 calls of
    20 MB each would have the core hold 80 GB. Past ``maxMessageBytes`` and 8 MiB of frames
    whose calls are being answered, a window is not read until some finish."""
    config = limits_config(app_dir, maxMessageBytes=65536)
    data = json.loads(config.read_text())
    data["app"]["security"]["capabilities"][1]["permissions"] += ["allow-peak", "allow-release"]
    config.write_text(json.dumps(data))
    limit = in_flight_bytes(65536)
    with serving(config, env=ENV, windows=2) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        other_http, other = await raw.connect(await raw.launch(served.urls["settings"]))
        async with http, ws, other_http, other:
            frames = [json.dumps([{"id": n, "kind": "invoke", "cmd": "hold",
                                   "args": {"data": "x" * 60_000}}]) for n in range(1, 301)]
            async def send_all() -> None:  # (it waits while the core does not read)
                for frame in frames:
                    await ws.send_str(frame)

            sending = asyncio.create_task(send_all())
            size = len(frames[0])
            most = -(-limit // size)  # the frame that reaches the limit is still read

            async def peak() -> dict:
                reply = await raw.call(other, {"id": 1, "kind": "invoke", "cmd": "peak"})
                return reply["value"]

            for _ in range(200):  # (another window is served all the while)
                if (await peak())["now"] >= most:
                    break
                await asyncio.sleep(0.05)
            assert (await peak())["now"] == most
            assert not sending.done()
            await raw.call(other, {"id": 2, "kind": "invoke", "cmd": "release"})
            await sending
            answered = set()
            while len(answered) < len(frames):
                for reply in raw.messages_of(await raw.receive(ws, timeout=30)):
                    assert reply["ok"], reply
                    answered.add(reply["id"])
            assert answered == set(range(1, 301))
            assert (await peak())["peak"] == most


async def test_a_page_that_stops_reading_stops_a_channels_sender(app_dir: Path) -> None:
    # Command time limit 3 s: the channel's sender waits that long for the page, then gives up.
    with serving(limits_config(app_dir, commandTimeoutMs=3000), env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            await ws.send_str(json.dumps([{
                "id": 1, "kind": "invoke", "cmd": "stream",
                "args": {"size": 65536, "chunks": {"$__ch": 7}},
            }]))
            # This client reads nothing until the core's log says the sender gave up.
            await asyncio.to_thread(
                wait_for_log, served.log, "has not read this channel's messages for 3 s"
            )
            # Then all of it is there to read, the call's end included, and the page is served.
            reply = None
            chunks = 0
            while reply is None:
                frame = await raw.receive(ws, timeout=30)
                data = frame.data if frame.type == aiohttp.WSMsgType.BINARY else None
                if data is not None:
                    chunks += 1
                    continue
                for message in json.loads(frame.data):
                    if message["kind"] == "reply":
                        reply = message
            assert reply["id"] == 1 and not reply["ok"]
            assert reply["error"]["code"] in ("timeout", "internal"), reply
            # Held back at about 8 MiB of 64 KiB chunks (with what the sockets' buffers took):
            # far from the million it would send.
            assert 1 <= chunks < 2000, chunks
            assert (await raw.call(ws, greet(2)))["value"] == "Hello, 2!"


async def test_a_page_that_reads_nothing_is_cut_off(app_dir: Path) -> None:
    # The page reads nothing for the 2 s it is given (the command time limit) while 20 MB of
    # events go past the limit. They are binary, so each leaves in a small frame of its own
    # through the socket (large frames go over HTTP: test_handover.py).
    async with flood_listener(app_dir) as (served, launched, ws):
        flood = {"id": 2, "kind": "invoke", "cmd": "flood",
                 "args": {"count": 2000, "size": 10_000, "binary": True}}
        await ws.send_str(json.dumps([flood]))
        await asyncio.to_thread(
            wait_for_log, served.log, "does not read them; closing its connection"
        )
        # It would not take the close frame either: the connection is cut.
        await asyncio.to_thread(wait_for_log, served.log, "connection cut")
        kinds = set()
        while not ws.closed:
            frame = await ws.receive(timeout=30)
            kinds.add(frame.type)
            if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                              aiohttp.WSMsgType.ERROR):
                break
        assert kinds & {aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR}, kinds
        # The app goes on: a new connection of the window is served.
        http, other = await raw.connect(launched, ticket=await raw.new_ticket(launched))
        async with http, other:
            assert (await raw.call(other, greet(3)))["value"] == "Hello, 3!"


async def test_a_page_that_reads_gets_messages_over_the_limit(app_dir: Path) -> None:
    """The limit is on what waits for a page that does not read, not on message size: a
    9 MB event (over the 8.1 MiB limit here), a burst past it, and a 40 MB event (past four
    times the limit, which cut off a page for bursts, and for that one event) reach a page
    that reads."""
    async with flood_listener(app_dir) as (served, _, ws):
        cases = [(1, 9_000_000), (12, 1_000_000), (1, 40_000_000)]
        for n, (count, size) in enumerate(cases, start=2):
            call = {"id": n, "kind": "invoke", "cmd": "flood",
                    "args": {"count": count, "size": size}}
            await ws.send_str(json.dumps([call]))
            events, reply = 0, None
            while reply is None:
                for message in raw.messages_of(await raw.receive(ws, timeout=30)):
                    if message["kind"] == "event":
                        assert len(message["payload"]) == size
                        events += 1
                    elif message["kind"] == "reply":
                        reply = message
            assert reply == {"kind": "reply", "id": n, "ok": True, "value": count}
            assert events == count
        assert (await raw.call(ws, greet(20)))["value"] == "Hello, 20!"
    assert not [line for line in served.log if "closing its connection" in line]


async def test_a_page_that_stops_reading_holds_up_no_one_elses_events(app_dir: Path) -> None:
    """Window settings' page stops reading while a thread emits 28 MB to every window: over the
    8.1 MiB limit for that page, far from four times it. Nothing waits for it: main's page gets
    every event and the command's reply at once, and settings' page, reading again, gets
    them all too (it had the command time limit to do so)."""
    async with flood_listener(app_dir, patience_ms=20_000) as (served, _, main):
        launched = await raw.launch(served.urls["settings"])
        http, settings = await raw.connect(launched)
        async with http, settings:
            listen = {"id": 1, "kind": "listen", "event": "flood"}
            assert (await raw.call(settings, listen))["ok"]
            # From here on this page reads nothing (its socket fills, then the core's backlog).
            assert await flood(main, 2800) == 2800
            heard = 0
            while heard < 2800:
                heard += sum(m["kind"] == "event"
                             for m in raw.messages_of(await raw.receive(settings, timeout=30)))
            assert heard == 2800
        assert not [line for line in served.log if "closing its connection" in line]


async def test_a_thread_emitting_faster_than_a_page_reads_goes_at_its_pace(app_dir: Path) -> None:
    """A thread emits 40 MB of events to a page that reads them at 10 MB/s: four times the
    8.1 MiB limit would pile up at once and the page be cut off, though it reads. The emitter
    waits for it instead: the page gets every event, and nothing is cut off."""
    async with flood_listener(app_dir, patience_ms=20_000) as (served, _, ws):
        assert await flood(ws, 800, size=50_000, pace=0.1) == 800
        assert (await raw.call(ws, greet(3)))["value"] == "Hello, 3!"
    assert not [line for line in served.log if "closing its connection" in line]


async def test_a_pages_emits_wait_for_the_page_they_go_to(app_dir: Path) -> None:
    """One page emits 80 MB of events to another that reads them at 10 MB/s: past four times
    its 16 MiB limit at once, that page was cut off though it read (and the core held it all).
    The emitting page's emits wait for it instead; every event arrives, nothing is cut off."""
    config = limits_config(app_dir, maxMessageBytes=4 * 2**20, commandTimeoutMs=20_000)
    with serving(config, env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, reader = await raw.connect(launched)
        other, emitter = await raw.connect(launched, ticket=await raw.new_ticket(launched))
        async with http, reader, other, emitter:
            assert (await raw.call(reader, {"id": 1, "kind": "listen", "event": "big"}))["ok"]
            payload = "x" * 2_000_000

            async def emit_all() -> None:  # (as a page's sends wait in its socket, not it)
                for n in range(40):
                    await emitter.send_str(json.dumps([{"id": 100 + n, "kind": "emit",
                                                         "event": "big", "payload": payload}]))

            emitting = asyncio.create_task(emit_all())
            events = 0
            while events < 40:
                frame = await raw.receive(reader, timeout=30)
                events += sum(m["kind"] == "event" for m in raw.messages_of(frame))
                await asyncio.sleep(0.1 * len(frame.data) / 2**20)
            await emitting
            replies = []
            while len(replies) < 40:
                replies += [m for m in raw.messages_of(await raw.receive(emitter, timeout=30))
                            if m["kind"] == "reply"]
            assert all(r["ok"] for r in replies), replies[:3]
    assert not [line for line in served.log if "closing its connection" in line]


async def test_a_download_that_is_not_read_does_not_hold_the_shutdown(app_dir: Path) -> None:
    (app_dir / "frontend" / "video.bin").write_bytes(b"\0" * 100_000_000)
    served = serve(limits_config(app_dir), env=ENV)
    try:
        launched = await raw.launch(served.urls["main"])
        _, writer = await raw.get_unread(launched, "/video.bin", cookie=launched.cookie)
        # It reads no further. The app is told to stop: it ends cleanly within stop()'s 20 s,
        # having given requests still being answered its grace of 2 s (not aiohttp's minute).
        await asyncio.to_thread(served.stop)
        writer.close()
    finally:
        if served.process.poll() is None:
            served.process.kill()


async def test_a_command_raising_what_is_not_an_exception_fails_alone(app_dir: Path) -> None:
    """sys.exit() in a command, next() of an empty iterator, a library's own BaseException:
    the call gets 'internal' at once, the calls answered with it get their answers, and the
    core goes on (SystemExit used to end the process, StopIteration to lose a whole batch)."""
    with serving(limits_config(app_dir), env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            n = 0
            for command in ("give_up", "give_up_async"):
                for kind in ("SystemExit", "KeyboardInterrupt", "StopIteration",
                             "CancelledError", "GeneratorExit", "Unusual"):
                    n += 100
                    batch = [{"id": n, "kind": "invoke", "cmd": command, "args": {"kind": kind}},
                             *(greet(n + i) for i in range(1, 21))]
                    await ws.send_str(json.dumps(batch))
                    replies = {}
                    while len(replies) < len(batch):
                        for message in json.loads((await raw.receive(ws)).data):
                            if message["kind"] == "reply":  # not the connection's hello
                                replies[message["id"]] = message
                    failed = replies[n]
                    assert not failed["ok"] and failed["error"]["code"] == "internal", failed
                    assert f"'{command}' failed with an unexpected error" in \
                        failed["error"]["message"]
                    assert all(replies[n + i]["ok"] for i in range(1, 21)), (command, kind)
            # An async Python listener that calls sys.exit() ends itself only.
            assert (await raw.call(ws, {"id": 1, "kind": "emit", "event": "give-up",
                                        "payload": None}))["ok"]
            wait_for_log(served.log, "listener .* of event 'give-up' raised")
            assert (await raw.call(ws, greet(2)))["value"] == "Hello, 2!"


async def test_sync_commands_never_wait_for_other_sync_commands(app_dir: Path) -> None:
    """More slow sync commands than the pool has threads: a quick one sent after them is
    answered while they all still run (the pool grows instead of queueing it)."""
    with serving(limits_config(app_dir, threads=2)) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            blocks = [{"id": n, "kind": "invoke", "cmd": "block", "args": {"ms": 8000}}
                      for n in range(1, 11)]
            await ws.send_str(json.dumps(blocks))
            reply = await raw.call(ws, greet(100))
            assert reply["id"] == 100 and reply["value"] == "Hello, 100!"


async def test_a_window_has_at_most_64_connections_at_once(app_dir: Path) -> None:
    """Each connection has buffers of its own: a page that opens connection after connection
    (a frame of its own origin gets a ticket each time it loads) is refused past the bound."""
    with serving(limits_config(app_dir), env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        opened = [
            await raw.connect(launched, ticket=await raw.new_ticket(launched))
            for _ in range(MAX_CONNECTIONS)
        ]

        async def connect() -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
            http, ws = await raw.connect(
                launched, ticket=await raw.new_ticket(launched), hello=False
            )
            first = await ws.receive(timeout=10)
            if first.type == aiohttp.WSMsgType.CLOSE:  # refused, saying why (the page shows it)
                await http.close()
                raise ConnectionRefusedError(ws.close_code, first.extra)
            return http, ws

        try:
            with pytest.raises(ConnectionRefusedError) as refused:
                await connect()
            assert refused.value.args == (CROWDED, "window 'main' has 64 IPC connections open "
                                          "already; close some of its frames or pop-ups")
            # One closes: there is room again, and the open ones still answer.
            http, ws = opened.pop()
            await ws.close()
            await http.close()
            for _ in range(100):  # the core notices the close
                try:
                    opened.append(await connect())
                    break
                except ConnectionRefusedError:
                    await asyncio.sleep(0.05)
            assert len(opened) == MAX_CONNECTIONS
            reply = await raw.call(opened[0][1], greet(7))
            assert reply["value"] == "Hello, 7!"
        finally:
            for http, ws in opened:
                await ws.close()
                await http.close()


async def test_a_page_sending_nothing_but_bad_messages_does_not_flood_the_log(
    app_dir: Path,
) -> None:
    with serving(limits_config(app_dir), env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            await ws.send_str(json.dumps([0] * 500))  # 500 messages that are not requests
            await ws.send_str("not json")  # a bad frame
            await ws.send_str(json.dumps([greet(1)]))
            notices = 0
            while True:  # each got its notice, and the call after them its answer
                frame = await raw.receive(ws, timeout=30)
                messages = json.loads(frame.data)
                notices += sum(m["kind"] == "notice" for m in messages)
                replies = [m for m in messages if m["kind"] == "reply"]
                if replies:
                    assert replies[0]["value"] == "Hello, 1!"
                    break
            assert notices == 501
        wait_for_log(served.log, "no more are logged")
        bad = [line for line in served.log if "sent a bad" in line]
        assert len(bad) == LOGGED_BAD, len(bad)


async def test_a_page_no_capability_covers_may_send_only_small_messages(app_dir: Path) -> None:
    """Each of its calls is denied anyway, and each connection holds a message whole as it comes
    in: a page making 20 such sub-frames that each sent 48 MB had the core hold 1.1 GB. The
    frame's runtime is told the limit; a larger message closes the connection (1009)."""
    with serving(limits_config(app_dir), env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        async with aiohttp.ClientSession() as http:
            async with http.get(launched.origin + "/index.html?sub", headers={
                    "Cookie": launched.cookie, "Sec-Fetch-Dest": "iframe"}) as response:
                html = await response.text()
        def limit_of(page: str) -> dict[str, Any]:
            found = re.search(r'"maxMessageBytes":\d+,"uncovered":(true|false)', page)
            assert found, "the page carries no limit"
            return json.loads("{" + found.group(0) + "}")

        assert limit_of(html) == {"maxMessageBytes": UNCOVERED_MESSAGE_BYTES, "uncovered": True}
        own = limit_of(launched.html)
        assert own["maxMessageBytes"] > 4 * UNCOVERED_MESSAGE_BYTES and not own["uncovered"]
        http, ws = await raw.connect(launched, ticket=raw.ticket_of(html))
        async with http, ws:
            small = await raw.call(ws, greet(1))
            assert small["error"]["code"] == "forbidden", small
            await ws.send_str(json.dumps([{"id": 2, "kind": "invoke", "cmd": "echo",
                                           "args": {"value": "x" * UNCOVERED_MESSAGE_BYTES}}]))
            closed = await raw.receive(ws)
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1009, closed
        # The window's own page sends what its limit allows.
        http, ws = await raw.connect(launched)
        async with http, ws:
            value = "x" * (2 * UNCOVERED_MESSAGE_BYTES)
            echoed = await raw.call(ws, {"id": 3, "kind": "invoke", "cmd": "echo",
                                         "args": {"value": value}})
            assert echoed.get("value") == value, str(echoed)[:300]


async def test_calls_the_core_has_run_on_when_their_page_goes(app_dir: Path) -> None:
    """A page sends calls, then closes (or reloads) before their answers: every call the core
    has read runs to its end, sync ones waiting for a thread and async ones alike (a save
    followed by a reload ran or not as threads happened to be free, and an async one was
    cancelled halfway)."""
    with serving(limits_config(app_dir, threads=2), env=ENV) as served:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        calls = [{"id": n, "kind": "invoke", "cmd": "note", "args": {"tag": f"s{n}", "ms": 300}}
                 for n in range(1, 13)]
        calls += [{"id": n, "kind": "invoke", "cmd": "note_async",
                   "args": {"tag": f"a{n}", "ms": 300}} for n in (13, 14)]
        calls.append({"id": 15, "kind": "invoke", "cmd": "notes", "args": {}})
        await ws.send_str(json.dumps(calls))
        while not any(r.get("id") == 15 for r in raw.messages_of(await raw.receive(ws))):
            pass  # the core has read them all
        await ws.close()
        await http.close()
        again = await raw.reload(launched)
        http, ws = await raw.connect(again)
        async with http, ws:
            expected = {f"s{n}" for n in range(1, 13)} | {"a13", "a14"}
            deadline = time.monotonic() + 20
            while True:
                noted = (await raw.call(ws, {"id": 1, "kind": "invoke", "cmd": "notes",
                                             "args": {}}))["value"]
                if set(noted) == expected or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            assert sorted(noted) == sorted(expected), noted


async def test_calls_running_on_for_no_page_end_with_the_core(app_dir: Path) -> None:
    """What runs on after its page went stops as the core stops, on an app's own loop too
    (which goes on after it)."""

    def running() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks()
                if t.get_name() == "command 'note_async'" and not t.done()]

    app = limits_app.create_app(limits_config(app_dir))
    async with Client(app):
        launched = await raw.launch(app.launch_url("main"))
        http, ws = await raw.connect(launched)
        await ws.send_str(json.dumps([
            {"id": 1, "kind": "invoke", "cmd": "note_async", "args": {"tag": "t", "ms": 60_000}},
            {"id": 2, "kind": "invoke", "cmd": "notes", "args": {}}]))
        while not any(r.get("id") == 2 for r in raw.messages_of(await raw.receive(ws))):
            pass
        await ws.close()
        await http.close()
        assert app.core is not None
        await asyncio.wait_for(_until(lambda: not app.core.server.sessions), 10)  # type: ignore[union-attr]
        assert len(running()) == 1  # its page is gone; it runs on
    await asyncio.wait_for(_until(lambda: not running()), 5)


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_a_command_that_will_not_be_cancelled_neither_hangs_its_call_nor_the_end(
    app_dir: Path,
) -> None:
    """An async command that catches CancelledError: its call is answered with 'timeout' soon
    after the limit (not at the page's own deadline, 5 s later), the core goes on, and SIGTERM
    still ends the app, with the command left behind after a grace of 2 s."""
    served = serve(limits_config(app_dir, commandTimeoutMs=300), env=ENV)
    try:
        launched = await raw.launch(served.urls["main"])
        http, ws = await raw.connect(launched)
        async with http, ws:
            started = time.monotonic()
            reply = await raw.call(ws, {"id": 1, "kind": "invoke", "cmd": "stubborn", "args": {}})
            # (The page's deadline is 5.3 s on; the core answers 1-2 s after the limit.)
            assert time.monotonic() - started < 4.5, "answered only at the page's deadline"
            assert reply["error"]["code"] == "timeout", reply
            assert "did not stop when it was cancelled" in reply["error"]["message"]
            assert (await raw.call(ws, greet(2)))["value"] == "Hello, 2!"
        await asyncio.to_thread(served.stop)  # ends with status 0 within its 20 s
        line = wait_for_log(served.log, "did not end when cancelled as the app ended", timeout=10)
        assert "command 'stubborn' did not end" in line, line
        # Said once, by its name: no traceback of its coroutine being closed, and not again by
        # asyncio as a task destroyed while pending.
        log = "\n".join(served.log)
        assert "Traceback" not in log and "Task was destroyed" not in log, log[-2000:]
    finally:
        if served.process.poll() is None:
            served.process.kill()


async def test_a_large_frame_is_read_while_the_loop_serves_other_windows(
    app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large frame takes long to read (a list of millions of values: seconds); other windows
    are answered meanwhile. Here its reading waits until another window has been answered,
    which it could not be if the reading held the core's loop."""
    from app.core.transport import session
    from app.demo import create_app

    from .conftest import brownfield_config

    decoding, answered = threading.Event(), threading.Event()
    waits: list[bool] = []
    decode = session.decode_frame

    def held_decode(data: str | bytes, *, binary: bool | None = None) -> list[Any]:
        if len(data) >= session.DECODE_ON_THREAD_BYTES:
            decoding.set()
            waits.append(answered.wait(10))
        return decode(data, binary=binary)

    monkeypatch.setattr(session, "decode_frame", held_decode)
    app = create_app(str(brownfield_config(app_dir)))
    await app.start()
    try:
        main = await raw.launch(app.launch_url("main"))
        settings = await raw.launch(app.launch_url("settings"))
        http, ws = await raw.connect(main)
        other_http, other = await raw.connect(settings)
        async with http, ws, other_http, other:
            value = list(range(300_000))  # 2 MB of JSON
            await ws.send_str(json.dumps(
                [{"id": 1, "kind": "invoke", "cmd": "echo", "args": {"value": value}}]))
            assert await asyncio.to_thread(decoding.wait, 10)
            reply = await raw.call(other, greet(2))
            assert reply["ok"] and reply["value"] == "Hello, 2!", reply
            answered.set()
            (echoed,) = raw.messages_of(await raw.receive(ws))
            assert echoed["ok"] and echoed["value"] == value
            assert waits == [True]
    finally:
        answered.set()
        await app.stop()


async def test_large_frames_are_read_one_at_a_time(
    app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read side by side, frames of millions of small values took the core to gigabytes: one
    window's large frame waits while another's is read, even once the connection of the one
    being read has gone (whose reading goes on, on its thread), and both are answered."""
    from app.core.transport import session
    from app.demo import create_app

    from .conftest import brownfield_config

    entered, gate = threading.Semaphore(0), threading.Event()
    active, most = [0], [0]
    decode = session.decode_frame

    def held_decode(data: str | bytes, *, binary: bool | None = None) -> list[Any]:
        if len(data) >= session.DECODE_ON_THREAD_BYTES:
            active[0] += 1
            most[0] = max(most[0], active[0])
            entered.release()
            gate.wait(10)
            active[0] -= 1
        return decode(data, binary=binary)

    monkeypatch.setattr(session, "decode_frame", held_decode)
    app = create_app(str(brownfield_config(app_dir)))
    await app.start()
    try:
        main_http, main = await raw.connect(await raw.launch(app.launch_url("main")))
        http, settings = await raw.connect(await raw.launch(app.launch_url("settings")))
        value = list(range(300_000))  # 2 MB of JSON
        big = [{"id": 1, "kind": "invoke", "cmd": "echo", "args": {"value": value}}]
        await main.send_str(json.dumps(big))
        assert await asyncio.to_thread(entered.acquire, True, 10)
        # Gone while its frame is being read: the connection cut (a page that closed, crashed).
        main.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        await main_http.close()
        # settings may not echo: its frame is refused once read, which it must wait for.
        await settings.send_str(json.dumps(big))
        assert not await asyncio.to_thread(entered.acquire, True, 0.5)
        gate.set()
        (refused,) = raw.messages_of(await raw.receive(settings))
        assert refused["error"]["code"] == "forbidden", refused
        assert most[0] == 1
        await settings.close()
        await http.close()
    finally:
        gate.set()
        await app.stop()


async def test_windows_large_frames_are_read_in_turn(
    app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taken in the order they came, one window's stream of large frames (over connections of
    its own) kept another window's one large call waiting behind all of them: 50 s, past its
    page's deadline. It now waits for one of theirs at most, besides the one being read."""
    from app.core.transport import session
    from app.demo import create_app

    from .conftest import brownfield_config

    entered, gate = threading.Semaphore(0), threading.Semaphore(0)
    order: list[str] = []
    decode = session.decode_frame

    def held_decode(data: str | bytes, *, binary: bool | None = None) -> list[Any]:
        if len(data) >= session.DECODE_ON_THREAD_BYTES:
            order.append(json.loads(data)[0]["args"]["value"][0])
            entered.release()
            assert gate.acquire(timeout=10)
        return decode(data, binary=binary)

    def big(name: str) -> str:
        return json.dumps([{"id": 1, "kind": "invoke", "cmd": "echo",
                            "args": {"value": [name, *range(300_000)]}}])  # 2 MB of JSON

    monkeypatch.setattr(session, "decode_frame", held_decode)
    app = create_app(str(brownfield_config(app_dir)))
    await app.start()
    opened: list[Any] = []
    try:
        for _ in range(4):
            opened.append(await raw.connect(await raw.launch(app.launch_url("main"))))
        opened.append(await raw.connect(await raw.launch(app.launch_url("settings"))))
        assert app.core is not None
        queues = app.core.large_frames._queues

        async def queued(label: str, count: int) -> None:
            deadline = time.monotonic() + 10
            while len(queues.get(label, ())) < count:
                assert time.monotonic() < deadline, dict(queues)
                await asyncio.sleep(0.01)

        for n, (_, ws) in enumerate(opened[:4]):
            await ws.send_str(big(f"main {n}"))
            if n == 0:  # being read, while the others come
                assert await asyncio.to_thread(entered.acquire, True, 10)
            else:  # each queued before the next is sent: over connections of their own, two
                await queued("main", n)  # sent at once may be read in either order
        await opened[4][1].send_str(big("settings"))
        await queued("settings", 1)
        for _ in range(5):
            gate.release()
        for n, (_, ws) in enumerate(opened):  # (settings may not echo: refused once read)
            (reply,) = raw.messages_of(await raw.receive(ws))
            assert reply["ok"] if n < 4 else reply["error"]["code"] == "forbidden", reply
        assert order == ["main 0", "main 1", "settings", "main 2", "main 3"], order
    finally:
        for _ in range(5):
            gate.release()
        for http, ws in opened:
            await ws.close()
            await http.close()
        await app.stop()
