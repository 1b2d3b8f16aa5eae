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


def test_when_the_core_refuses_a_frame_its_calls_fail_at_once(
    browser: Browser, app_dir: Path
) -> None:
    """A value whose getter answers a string to the page's check and a 2000-deep array to
    JSON.stringify gets a frame the core cannot read. Every call of that frame fails with the
    core's reason, not at its timeout, and the page goes on."""
    with serving(brownfield_config(app_dir)) as served:
        page = browser.new_context().new_page()
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        outcome = page.evaluate(
            """async () => {
                const deep = [];
                let inner = deep;
                for (let i = 0; i < 2000; i++) { const next = []; inner.push(next); inner = next; }
                let reads = 0;
                const tricky = { get value() { return reads++ === 0 ? "plain" : deep; } };
                const { invoke } = window.__APP__.core;
                const long = { timeoutMs: 120000 };
                const failed = (e) => [e.code, e.message.split(":")[0]];
                const tick = await Promise.all([
                    invoke("echo", tricky, long).then(() => "resolved", failed),
                    invoke("greet", { name: "same frame" }, long).then((v) => v, failed),
                ]);
                return [reads, tick, await invoke("greet", { name: "next" })];
            }"""
        )
        assert outcome[0] >= 2, "the getter was read once: the attack did not happen"
        # Each message names its command.
        assert outcome[1:] == [
            [["protocol", "'echo' was refused with the frame it went in"],
             ["protocol", "'greet' was refused with the frame it went in"]],
            "Hello, next!",
        ]


def test_a_message_just_within_the_limit_leaves_and_is_answered(
    browser: Browser, app_dir: Path
) -> None:
    """The page's count of a message's frame left out the list of which values are long
    strings: a string a few bytes under the limit passed the page's check, its frame was over,
    and the core closed the socket, failing every call in flight."""
    with serving(brownfield_config(app_dir, maxMessageBytes=LIMIT)) as served:
        page = browser.new_context().new_page()
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        outcome = page.evaluate(
            """async (limit) => {
                const { invoke } = window.__APP__.core;
                const sent = [];
                const send = WebSocket.prototype.send;
                WebSocket.prototype.send = function (data) {
                    sent.push(typeof data === "string" ? new TextEncoder().encode(data).length
                              : data instanceof Blob ? data.size : data.byteLength);
                    return send.call(this, data);
                };
                const fits = (n) => invoke("echo", { value: "x".repeat(n) }).then(
                    (v) => v.length === n, (e) => e.code === "invalid_args"
                        && e.message.includes("over the limit") ? false : e.code);
                // The longest string the page lets go, found by halving...
                let [lo, hi] = [65536, limit];
                while (hi - lo > 1) {
                    const mid = (lo + hi) >> 1;
                    const fit = await fits(mid);
                    if (fit === true) lo = mid; else if (fit === false) hi = mid;
                    else return { length: mid, failed: fit };
                }
                // ...and each of the longest ones sent, with another call in flight.
                const other = invoke("wait", { ms: 300 }).then(() => "answered", (e) => e.code);
                const near = [];
                for (let n = lo - 40; n <= lo; n++) near.push(await fits(n));
                WebSocket.prototype.send = send;
                return { longest: lo, near, other: await other, largest: Math.max(...sent) };
            }""",
            LIMIT,
        )
    assert "failed" not in outcome, outcome
    assert outcome["near"] == [True] * 41, outcome
    assert outcome["other"] == "answered", outcome
    assert outcome["largest"] <= LIMIT < outcome["longest"] + 200, outcome
