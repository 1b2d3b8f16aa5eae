"""How the page packs the messages of one tick into frames, against ``serve``, in Chromium."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.conftest import serving

from .conftest import brownfield_config

LIMIT = 100_000


def test_calls_of_one_tick_never_make_a_frame_over_the_limit(
    browser: Browser, app_dir: Path
) -> None:
    # Each call alone fits: 30,000 "€" are 90,000 bytes of UTF-8. Two of them in one frame
    # would not, and a frame over the limit closes the socket and fails every call in flight.
    with serving(brownfield_config(app_dir, maxMessageBytes=LIMIT)) as served:
        page = browser.new_context().new_page()
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        sizes = page.evaluate(
            """async () => {
                const sent = [];
                const send = WebSocket.prototype.send;
                WebSocket.prototype.send = function (data) {
                    sent.push(new TextEncoder().encode(data).byteLength);
                    return send.call(this, data);
                };
                const value = "€".repeat(30000);
                const { invoke } = window.__APP__.core;
                const echoed = await Promise.all([
                    invoke("echo", { value }), invoke("echo", { value }),
                ]);
                WebSocket.prototype.send = send;
                if (!echoed.every((v) => v === value)) throw new Error("echo changed the value");
                return sent;
            }"""
        )
    assert len(sizes) == 2, sizes
    assert all(size <= LIMIT for size in sizes), sizes
