"""Refused requests: each answered, and logged within bounds whoever sends them."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from app.core import App, load_config
from app.core.transport import loopback


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(loopback, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(loopback, "_refusals", loopback._RefusalLog())
    caplog.set_level(logging.WARNING, logger="app.core.transport")
    return now


def refuse_host(host: str) -> None:
    """A refusal of one place in the code, whatever the host."""
    response = loopback.refuse(421, f"Host {host!r} is not this app's address.")
    assert response.status == 421 and "is not this app's address" in response.text


def test_refusals_are_logged_within_bounds_and_counted_beyond(
    clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(loopback.LOGGED_REFUSALS + 30):
        refuse_host(f"h{n}'x\"" + "h" * 8000)  # each Host its own, with quotes: one kind still
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == loopback.LOGGED_REFUSALS
    assert all(len(line) < loopback.LOGGED_REASON + 150 for line in lines), max(map(len, lines))
    assert lines[0].endswith(" characters)")
    assert lines[-1].endswith("(more like it in the next 10 s are counted, not logged one by one)")
    caplog.clear()
    clock[0] += loopback.REFUSALS_WITHIN
    refuse_host("x")
    assert [r.getMessage() for r in caplog.records] == [
        "refused 30 more requests like the next, not logged one by one",
        "refused: Host 'x' is not this app's address.",
    ]


def test_a_flood_of_one_kind_does_not_hide_another(
    clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(500):
        refuse_host(f"flood-{n}")
    caplog.clear()
    loopback.refuse(403, "IPC from origin 'http://evil.example' is refused.")
    assert [r.getMessage() for r in caplog.records] == [
        "refused: IPC from origin 'http://evil.example' is refused."]


async def test_what_is_not_http_and_spent_frame_links_are_logged_within_bounds(
    write_config: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aiohttp logged each request it could not read as an error with a traceback quoting it
    (500 of 8 KB: 4 MB of log in 1.7 s, and a flood slowed the other windows' calls), and the
    isolation frame logged each spent link it was asked for: both are refusals, logged as the
    others are (found by an attacker). The window serves on."""
    monkeypatch.setattr(loopback, "_refusals", loopback._RefusalLog())
    (tmp_path / "iso").mkdir()
    (tmp_path / "iso" / "index.html").write_text(
        "<!doctype html><script>window.__ISOLATION_HOOK__ = (p) => p;</script>")
    app = App(load_config(write_config({"app": {
        "windows": [{"label": "main"}],
        "security": {"pattern": {"use": "isolation", "options": {"dir": "iso"}}},
    }})))
    caplog.set_level(logging.WARNING)
    await app.start()
    try:
        assert app.core is not None and app.core.isolation is not None
        launch = app.launch_url("main")
        port = int(launch.split("/__app__/")[0].rsplit(":", 1)[1])
        bad = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 9".encode()
               + b"9" * 8000 + b"\x01\r\n\r\n")
        for _ in range(loopback.LOGGED_REFUSALS + 30):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(bad)
            assert (await reader.readline()).split()[1] == b"400"
            writer.close()
        frame = app.core.isolation.frame_origin + "/frame/spent-or-never-made"
        framed = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "same-site"}
        async with aiohttp.ClientSession() as http:
            for _ in range(loopback.LOGGED_REFUSALS + 30):
                async with http.get(frame, headers=framed) as response:
                    assert response.status == 403
            async with http.get(launch, allow_redirects=False) as response:
                assert response.status == 303  # served on
    finally:
        await app.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "Error handling request" in m]
    not_http = [m for m in messages if "a request that is not valid HTTP" in m]
    assert len(not_http) == loopback.LOGGED_REFUSALS, not_http[:3]
    assert all(len(m) < loopback.LOGGED_REASON + 150 for m in not_http), not_http[0]
    spent = [m for m in messages if "isolation frame's link was already used" in m]
    assert len(spent) == loopback.LOGGED_REFUSALS
