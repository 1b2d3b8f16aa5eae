"""invoke, errors and events from real pages in Debian Chromium, against ``serve``."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import APIResponse, Browser, Page, Route

from app.core.transport.session import LOGGED_BAD
from tests.conftest import Served, serving, wait_for_log

from .conftest import (
    LIMITS_ENV,
    LOOKALIKES,
    LOOKALIKES_BACK,
    RECORD_SENDS,
    UP_TO_THE_LIMIT,
    brownfield_config,
    limits_config,
    main_window_config,
)

INVOKE = "([cmd, args, opts]) => window.__APP__.core.invoke(cmd, args, opts)"
REJECTION = """([cmd, args, opts]) => window.__APP__.core.invoke(cmd, args, opts).then(
    (v) => ({ resolved: v }),
    (e) => ({ name: e.name, isError: e instanceof Error, code: e.code, message: e.message,
              data: e.data === undefined ? null : e.data }))"""


def open_window(browser: Browser, served: Served, label: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(served.urls[label])
    page.wait_for_function("() => window.__APP__ !== undefined")
    return page


def rejection(page: Page, cmd: str, args: dict | None = None, opts: dict | None = None) -> dict:
    return page.evaluate(REJECTION, [cmd, args or {}, opts or {}])


def test_invoke_resolves(browser: Browser, two_windows: Served) -> None:
    page = open_window(browser, two_windows, "main")
    assert page.evaluate(INVOKE, ["greet", {"name": "World"}, {}]) == "Hello, World!"
    assert page.evaluate(INVOKE, ["process_data", {"input": "x"}, {}]) == "Processed: x"
    assert page.evaluate("window.__APP__.window.label") == "main"
    user = page.evaluate(INVOKE, ["create_user", {"args": {"name": "Ada", "email": "a@b.io"}}, {}])
    assert user == {"id": 1, "name": "Ada", "email": "a@b.io"}
    assert page.evaluate(INVOKE, ["read_config", {}, {}]) == {
        "theme": "light",
        "notifications": True,
        "language": "en",
    }
    # Saved as sent, any keys, and read back exactly.
    mine = {"theme": "solarized", "fontSize": 14, "recent": ["a", "b"]}
    assert page.evaluate(INVOKE, ["save_settings", {"settings": mine}, {}]) == mine
    assert page.evaluate(INVOKE, ["read_config", {}, {}]) == mine
    assert page.evaluate(INVOKE, ["process_file", {"path": "data/report.csv"}, {}]) == "Done"
    for bad in ("../outside.txt", "/etc/passwd"):
        refused = rejection(page, "process_file", {"path": bad})
        assert refused["code"] == "command_failed", refused
        assert refused["message"].startswith("'process_file' failed: Invalid path"), refused
        assert refused["data"] == {"path": bad}
    not_an_object = rejection(page, "save_settings", {"settings": [1, 2]})
    assert not_an_object["code"] == "invalid_args" and "settings" in not_an_object["message"]


def test_es_modules_expose_the_same_api(browser: Browser, two_windows: Served) -> None:
    page = open_window(browser, two_windows, "main")
    result = page.evaluate(
        """async () => {
            const core = await import('/__app__/api/core.js');
            const event = await import('/__app__/api/event.js');
            return [core.invoke === window.__APP__.core.invoke,
                    event.listen === window.__APP__.event.listen,
                    await core.invoke('greet', { name: 'module' })];
        }"""
    )
    assert result == [True, True, "Hello, module!"]


def test_every_error_code_reaches_the_page(browser: Browser, two_windows: Served) -> None:
    main = open_window(browser, two_windows, "main")
    cases = {
        "not_found": ("nope", {}, {}),
        "invalid_args": ("greet", {"name": 42}, {}),
        "command_failed": ("divide", {"a": 1, "b": 0}, {}),
        "timeout": ("wait", {"ms": 5000}, {}),
        "internal": ("crash", {}, {}),
    }
    for code, (cmd, args, opts) in cases.items():
        error = rejection(main, cmd, args, opts)
        assert error["code"] == code, error
        assert error["isError"] and error["name"] == "IpcError"
        assert f"'{cmd}'" in error["message"] or code == "command_failed", error
        assert "Traceback" not in error["message"]
    assert rejection(main, "divide", {"a": 1, "b": 0})["data"] == {"a": 1, "b": 0}
    assert rejection(main, "greet", {"name": 42})["data"][0]["field"] == "name"
    # The page gives up on its own too: a call never hangs.
    early = rejection(main, "wait", {"ms": 1000}, {"timeoutMs": 50})
    assert early["code"] == "timeout" and "50 ms" in early["message"]
    forbidden = rejection(open_window(browser, two_windows, "settings"), "echo", {"value": 1})
    assert forbidden["code"] == "forbidden"
    assert "'echo'" in forbidden["message"] and "'settings'" in forbidden["message"]
    assert "allow-echo" in forbidden["message"]
    scoped = rejection(main, "read_file", {"path": "frontend/secret/key.txt"})
    assert scoped["code"] == "forbidden"
    hello = main.evaluate(INVOKE, ["read_file", {"path": "frontend/hello.txt"}, {}])
    assert hello == "hello from a file\n"  # frontend/hello.txt


def test_bad_input_in_the_page_is_rejected_not_hung(browser: Browser, two_windows: Served) -> None:
    page = open_window(browser, two_windows, "main")
    assert page.evaluate("window.__APP__.core.invoke(42).catch(e => e.code)") == "invalid_args"
    assert (
        page.evaluate("window.__APP__.core.invoke('greet', 'World').catch(e => e.code)")
        == "invalid_args"
    )
    circular = page.evaluate(
        "(() => { const a = {}; a.a = a; "
        "return window.__APP__.core.invoke('echo', {value: a})"
        ".catch(e => [e.code, e.message]); })()"
    )
    assert circular[0] == "invalid_args" and "'echo'" in circular[1]
    big = page.evaluate(
        "window.__APP__.core.invoke('echo', {value: 'x'.repeat(100000)}).catch(e => e.message)"
    )
    assert "over the limit of 65536 bytes" in big
    # Text counted by its UTF-8 bytes: 80,000 of them (40,000 "é") are over, said exactly...
    over = page.evaluate(
        "window.__APP__.core.invoke('echo', {value: 'é'.repeat(40000)}).catch(e => e.message)"
    )
    said = re.search(r"is (\d+) bytes, over the limit of 65536", over)
    assert said is not None and 80000 < int(said[1]) < 80100, over
    # ...and 40,000 bytes of text with 20,000 of binary are within it, though the text's
    # bound (3 bytes a character) and the binary together are not.
    within = page.evaluate(
        """window.__APP__.core.invoke('echo', {value: ['é'.repeat(20000), new Uint8Array(20000)]})
            .then((v) => [v[0].length, v[1].length], (e) => e.message)"""
    )
    assert within == [20000, 20000]
    unserializable = rejection(page, "unserializable")
    assert unserializable["code"] == "internal" and "'unserializable'" in unserializable["message"]
    assert page.evaluate(INVOKE, ["greet", {"name": "still here"}, {}]) == "Hello, still here!"


def test_binary_json_and_channels(browser: Browser, two_windows: Served) -> None:
    page = open_window(browser, two_windows, "main")
    echoed = page.evaluate(
        """async () => {
            const bytes = new Uint8Array(30000).map((_, i) => i % 251);
            const back = await window.__APP__.core.invoke('echo', { value: bytes });
            const nested = await window.__APP__.core.invoke(
                'echo', { value: { list: [1, 'two', null], blob: bytes.subarray(0, 3) } });
            return [back instanceof Uint8Array, back.length, back[1000] === 1000 % 251,
                    nested.list, Array.from(nested.blob)];
        }"""
    )
    assert echoed == [True, 30000, True, [1, "two", None], [0, 1, 2]]
    assert page.evaluate(LOOKALIKES) == LOOKALIKES_BACK
    # Bytes in what a toJSON() gives are bytes too.
    via_to_json = page.evaluate(
        """async () => {
            class Photo { constructor() { this.b = new Uint8Array([3, 4]); }
                          toJSON() { return { kind: 'photo', b: this.b }; } }
            const back = await window.__APP__.core.invoke('echo', { value: new Photo() });
            return [back.kind, back.b instanceof Uint8Array, Array.from(back.b)];
        }"""
    )
    assert via_to_json == ["photo", True, [3, 4]]
    streamed = page.evaluate(
        """async () => {
            const got = [];
            const done = new Promise((r) => {
                const ch = new window.__APP__.core.Channel((v) => {
                    got.push(v);
                    if (v === 5) r();
                });
                window.__APP__.core.invoke('count', { to: 5, progress: ch });
            });
            await done;
            return got;
        }"""
    )
    assert streamed == [1, 2, 3, 4, 5]
    # What a sync command (on a worker thread) sent on a channel or emitted before it returned
    # reaches the page before its reply.
    at_reply = page.evaluate(
        """async () => {
            const { core, event } = window.__APP__;
            const got = [];
            const ch = new core.Channel((v) => got.push(v));
            await core.invoke('count', { to: 300, progress: ch });
            const sent = got.length;
            const heard = [];
            await event.listen('settings-changed', (e) => heard.push(e.payload.settings));
            await core.invoke('save_settings', { settings: { theme: 'dark' } });
            return [sent, heard];
        }"""
    )
    assert at_reply == [300, [{"theme": "dark"}]]


def test_values_json_would_change_are_refused_in_the_page(
    browser: Browser, two_windows: Served
) -> None:
    """NaN and Infinity would arrive as null, a Map or a Set as {}: refused at once, naming
    the command and where in its arguments (as the core names fields), with or without bytes
    beside them (two ways of writing a message). So are what JSON cannot write at all."""
    page = open_window(browser, two_windows, "main")
    outcomes = page.evaluate(
        """async () => {
            const { invoke } = window.__APP__.core;
            const { emit } = window.__APP__.event;
            const values = [NaN, { deep: [1, Infinity] }, new Map([["a", 1]]), [new Set([1])]];
            const outcome = (p) => p.then(() => "sent", (e) => [e.code, e.message, e.data]);
            const out = [];
            for (const value of values) {
                for (const withBytes of [false, true]) {
                    const args = { value: withBytes ? [new Uint8Array(1), value] : value };
                    out.push(await outcome(invoke("echo", args)));
                }
            }
            out.push(await outcome(emit("tick", new Map())));
            out.push(await invoke("echo", { value: [1, null, -0, 1e308] }));
            const cycle = { name: "loop" };
            cycle.self = cycle;
            const unsendable = [{ count: 10n }, { text: "ok", bad: "\ud800" }, { note: cycle },
                                { get broken() { throw new Error("no"); } }];
            out.push(await Promise.all(unsendable.map((args) => outcome(invoke("echo", args))
                .then((o) => [o[0], o[2][0].field]))));
            return out;
        }"""
    )
    *refused, emitted, fine, unsendable = outcomes
    assert len(refused) == 8
    fields = ["value", "value.1", "value.deep.1", "value.1.deep.1", "value", "value.1",
              "value.0", "value.1.0"]
    kinds = ["NaN"] * 4 + ["Map"] * 2 + ["Set"] * 2
    for (code, message, data), kind, field in zip(refused, kinds, fields, strict=True):
        assert code == "invalid_args"
        assert message.startswith("The arguments of 'echo' cannot be sent: ")
        assert ("NaN or Infinity" if kind == "NaN" else f"a {kind} in them would arrive") in message
        assert message.endswith(f" (at {field}).") and data[0]["field"] == field, (message, data)
    assert emitted[0] == "invalid_args" and "a Map in them" in emitted[1]
    assert emitted[2][0]["field"] == "payload"
    assert fine == [1, None, 0, 1e308]
    assert unsendable == [["invalid_args", "count"], ["invalid_args", "bad"],
                          ["invalid_args", "note.self"], ["invalid_args", "broken"]]


def test_events_both_ways(browser: Browser, two_windows: Served) -> None:
    page = open_window(browser, two_windows, "main")
    clock = page.evaluate("new Promise((r) => window.__APP__.event.once('clock', (e) => r(e)))")
    assert clock["event"] == "clock" and clock["source"] is None and "now" in clock["payload"]
    pong = page.evaluate(
        """new Promise(async (r) => {
            await window.__APP__.event.listen('pong', (e) => r(e.payload));
            await window.__APP__.event.emit('ping', { n: 7 });
        })"""
    )
    assert pong == {"received": {"n": 7}, "from": "main"}


def test_unlisten_stops_delivery(browser: Browser, two_windows: Served) -> None:
    page = open_window(browser, two_windows, "main")
    counts = page.evaluate(
        """async () => {
            const { listen, emit } = window.__APP__.event;
            let a = 0, b = 0;
            const unA = await listen('tick', () => a++);
            const seen = new Promise(async (r) => { await listen('tick', () => { b++; r(); }); });
            await emit('tick', 1);
            await seen;
            unA();
            let last;
            const second = new Promise(async (r) => { await listen('tick', () => r()); });
            await emit('tick', 2);
            await second;
            return [a, b];
        }"""
    )
    assert counts == [1, 2]


def test_an_event_emitted_right_after_listen_is_heard(
    browser: Browser, two_windows: Served
) -> None:
    """listen() not awaited before emit(): the core subscribes first (the messages go in
    order), so the event is the listener's, and so is a once() listener's."""
    page = open_window(browser, two_windows, "main")
    heard = page.evaluate(
        """async () => {
            const { listen, once, emit } = window.__APP__.event;
            const got = [];
            const all = new Promise((r) => {
                const listening = listen('st', (e) => {
                    got.push(e.payload);
                    if (got.length === 3) r();
                });
                const first = once('st', (e) => got.push('once ' + e.payload));
                emit('st', 1);
                Promise.all([listening, first]).then(() => emit('st', 2));
            });
            // Without the events, the test fails with what arrived, not at its time limit.
            await Promise.race([all, new Promise((r) => setTimeout(r, 10000))]);
            return got;
        }"""
    )
    assert heard == [1, "once 1", 2]


def test_a_refused_listen_leaves_no_handler(browser: Browser, two_windows: Served) -> None:
    """Two listen() of one event at once share its subscription: refused, both reject. Their
    handlers are gone, so a third listen() asks the core again (and is refused again) instead
    of passing for subscribed."""
    page = open_window(browser, two_windows, "main")
    outcome = page.evaluate(
        """async () => {
            const { listen } = window.__APP__.event;
            const attempt = () => listen('a b', () => {}).then(() => 'listening', (e) => e.code);
            const both = await Promise.all([attempt(), attempt()]);
            return [...both, await attempt()];
        }"""
    )
    assert outcome == ["invalid_args"] * 3


def test_events_reach_exactly_their_targets(browser: Browser, two_windows: Served) -> None:
    main = open_window(browser, two_windows, "main")
    settings = open_window(browser, two_windows, "settings")
    collect = """async () => {
        window.got = [];
        await window.__APP__.event.listen('note', (e) => window.got.push([e.payload, e.source]));
        await window.__APP__.event.listen('done', () => window.done = true);
    }"""
    main.evaluate(collect)
    settings.evaluate(collect)
    main.evaluate(
        """async () => {
            const { emit, emitTo } = window.__APP__.event;
            await emitTo('settings', 'note', 'to settings');
            await emit('note', 'to all');
            await emitTo('main', 'note', 'to main');
            await emit('done');
        }"""
    )
    main.wait_for_function("() => window.done === true")
    settings.wait_for_function("() => window.done === true")
    assert settings.evaluate("window.got") == [["to settings", "main"], ["to all", "main"]]
    assert main.evaluate("window.got") == [["to all", "main"], ["to main", "main"]]


def test_a_listen_made_as_the_page_loads_is_sent_once(
    browser: Browser, two_windows: Served
) -> None:
    """A listen() made before the socket opens goes with the first frame; the core's greeting
    on the new connection does not subscribe it a second time (the hook and the capability
    check each saw it twice). After a reconnect, the page's listeners subscribe again."""
    page = browser.new_context().new_page()
    page.add_init_script("""() => {
        window.listens = [];
        const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (data) {
            window.socket = this;
            if (typeof data === 'string') {
                for (const m of JSON.parse(data)) {
                    if (m.kind === 'listen') window.listens.push(m.event);
                }
            }
            return send.call(this, data);
        };
        window.addEventListener('app:ready', () => {
            window.__APP__.event.listen('early', (e) => { window.heard = e.payload; });
        });
    }""".replace("() => {", "(() => {", 1) + ")()")
    page.goto(two_windows.urls["main"])
    page.wait_for_function("() => window.__APP__ !== undefined")
    assert page.evaluate(INVOKE, ["greet", {"name": "x"}, {}]) == "Hello, x!"
    page.evaluate("() => window.__APP__.event.emit('early', 1)")
    page.wait_for_function("() => window.heard === 1")
    listens = page.evaluate("window.listens")
    assert listens.count("early") == 1, listens
    # A dropped connection: the page connects again and subscribes once more, once.
    page.evaluate("() => window.socket.close()")
    page.wait_for_function("() => window.listens.filter((e) => e === 'early').length === 2")
    page.evaluate("() => window.__APP__.event.emit('early', 2)")
    page.wait_for_function("() => window.heard === 2")
    assert page.evaluate("window.listens").count("early") == 2


def test_a_reloaded_page_reconnects_and_the_launch_url_works_once(
    browser: Browser, two_windows: Served
) -> None:
    page = open_window(browser, two_windows, "main")
    page.reload()
    page.wait_for_function("() => window.__APP__ !== undefined")
    assert page.evaluate(INVOKE, ["greet", {"name": "again"}, {}]) == "Hello, again!"
    reused = browser.new_context().new_page()
    response = reused.goto(two_windows.urls["main"])
    assert response is not None and response.status == 403
    assert "already used" in reused.content()
    assert reused.evaluate("typeof window.__APP__") == "undefined"


def test_the_windows_pages_share_its_tab_secret(browser: Browser, two_windows: Served) -> None:
    """The tab secret leaves the address before the page's scripts run, and the window's other
    pages, reloads and the pages it opens (with or without an opener) read it from the
    origin's storage."""
    page = open_window(browser, two_windows, "main")
    assert "__app_tab" not in page.url and "__app_tab" not in page.evaluate("location.href")
    # Nor do the stacks of the runtime's errors have it (an inline script's frames name the
    # address at load): they name the runtime.
    stack = page.evaluate(
        "() => window.__APP__.core.invoke('no_such_command').catch((e) => e.stack)")
    assert "__app_tab" not in stack and "app-runtime.js" in stack, stack
    origin = page.evaluate("location.origin")
    page.goto(origin + "/index.html?second")
    page.wait_for_function("() => window.__APP__ !== undefined")
    assert page.evaluate(INVOKE, ["greet", {"name": "page 2"}, {}]) == "Hello, page 2!"
    for features in ("", "noopener"):
        with page.context.expect_page() as opened:
            page.evaluate(
                "([url, features]) => { window.open(url, '_blank', features); }",
                [origin + "/index.html?opened", features],
            )
        popup = opened.value
        popup.wait_for_function("() => window.__APP__ !== undefined")
        assert popup.evaluate(INVOKE, ["greet", {"name": "popup"}, {}]) == "Hello, popup!"
    assert page.evaluate(INVOKE, ["greet", {"name": "still"}, {}]) == "Hello, still!"


def test_a_page_that_lost_its_tab_secret_is_told_what_helps(
    browser: Browser, two_windows: Served
) -> None:
    """Its storage cleared, a page cannot connect again, and a reload does not help: its calls
    say to start the app again, not to reload."""
    page = open_window(browser, two_windows, "main")
    assert page.evaluate(INVOKE, ["greet", {"name": "x"}, {}]) == "Hello, x!"
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_function("() => window.__APP__ !== undefined")
    refused = rejection(page, "greet", {"name": "y"})
    assert refused["code"] == "internal"
    assert refused["message"] == (
        "'greet' cannot be answered: this page does not have its window's tab secret (the "
        "app's launch URL gives it, and the window's pages keep it in localStorage, which has "
        "been cleared or is off), so the app core refuses it; start the app again."
    )


def test_a_window_opened_from_another_window_gets_its_pages(
    browser: Browser, two_windows: Served
) -> None:
    """In a browser, one window of the app may open another's launch URL (another port, so
    another origin of the same site): the page it leads to is served, and has IPC."""
    main = open_window(browser, two_windows, "main")
    with main.context.expect_page() as opened:
        main.evaluate("(url) => { window.open(url); }", two_windows.urls["settings"])
    settings = opened.value
    settings.wait_for_function("() => window.__APP__ !== undefined")
    assert settings.evaluate("window.__APP__.window.label") == "settings"
    assert settings.evaluate(INVOKE, ["greet", {"name": "opened"}, {}]) == "Hello, opened!"
    settings.reload()
    settings.wait_for_function("() => window.__APP__ !== undefined")
    assert settings.evaluate(INVOKE, ["greet", {"name": "again"}, {}]) == "Hello, again!"


def main_window_at(app_dir: Path, url: str) -> Path:
    """brownfield_config, with window "main" opening at ``url``."""
    config = brownfield_config(app_dir)
    data = json.loads(config.read_text())
    data["app"]["windows"][0]["url"] = url
    config.write_text(json.dumps(data))
    return config


def test_a_first_page_that_moves_on_at_once_leaves_the_window_its_ipc(
    browser: Browser, app_dir: Path
) -> None:
    """The window's tab secret comes with its first page and is kept before the page's own
    scripts run: a page that sends the window elsewhere at once (a redirecting index) does not
    take it away."""
    (app_dir / "frontend" / "bounce.html").write_text(
        '<!doctype html><script src="bounce.js"></script>'
    )
    (app_dir / "frontend" / "bounce.js").write_text("location.replace('index.html?bounced');")
    with serving(main_window_at(app_dir, "bounce.html")) as served:
        page = browser.new_context().new_page()
        page.goto(served.urls["main"])
        page.wait_for_url("**/index.html?bounced")
        page.wait_for_function("() => window.__APP__ !== undefined")
        assert page.evaluate(INVOKE, ["greet", {"name": "bounced"}, {}]) == "Hello, bounced!"


def test_the_windows_address_stays_as_configured(browser: Browser, app_dir: Path) -> None:
    """The tab secret rides in the address of the launch URL's page and leaves it before the
    page's scripts run: they see the query and fragment the config gives, byte for byte."""
    with serving(main_window_at(app_dir, "index.html?flag&v=1.0~b&s=a%20b&t=x/y#/r?z=1")) as served:
        page = browser.new_context().new_page()
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        assert page.evaluate("[location.search, location.hash]") == [
            "?flag&v=1.0~b&s=a%20b&t=x/y",
            "#/r?z=1",
        ]
        assert page.evaluate(INVOKE, ["greet", {"name": "as is"}, {}]) == "Hello, as is!"


def test_a_window_opened_later_gets_the_capabilities_of_its_label(
    browser: Browser, app_dir: Path
) -> None:
    with serving(main_window_config(app_dir)) as served:
        main = open_window(browser, served, "main")
        opened = main.evaluate(INVOKE, ["open_settings", {}, {}])
        assert opened["label"] == "settings" and opened["native"] is False
        again = rejection(main, "open_settings")
        assert again["code"] == "command_failed" and "already open" in again["message"]
        settings = browser.new_context().new_page()
        settings.goto(opened["url"])
        settings.wait_for_function("() => window.__APP__ !== undefined")
        assert settings.evaluate("window.__APP__.window.label") == "settings"
        assert settings.evaluate(INVOKE, ["greet", {"name": "late"}, {}]) == "Hello, late!"
        assert rejection(settings, "echo", {"value": 1})["code"] == "forbidden"


def test_large_messages_travel_whole_in_order_with_the_rest(
    browser: Browser, app_dir: Path
) -> None:
    with serving(brownfield_config(app_dir), windows=2) as served:
        page = open_window(browser, served, "main")
        page.evaluate(RECORD_SENDS)
        fetched = []
        page.on("request", lambda r: fetched.append(r.url) if "/__app__/frame/" in r.url else 0)
        result = page.evaluate(
            """async () => {
                const { core, event } = window.__APP__;
                const got = [];
                let done;
                const all = new Promise((r) => { done = r; });
                await event.listen('order', (e) => {
                    got.push(e.payload.length > 100 ? e.payload.length : e.payload);
                    if (got.length === 3) done();
                });
                window.sent = [];
                const text = 'é'.repeat(1_500_000);            // 3 MB of UTF-8
                const bytes = new Uint8Array(2_000_000).map((_, i) => i % 253);
                // All in one tick: small and large messages share one flush.
                const calls = [
                    event.emit('order', 'first'),
                    core.invoke('echo', { value: text }),
                    core.invoke('echo', { value: bytes }),
                    event.emit('order', 'x'.repeat(1_200_000)),
                    event.emit('order', 'last'),
                ];
                const [, echoedText, echoedBytes] = await Promise.all(calls);
                await all;
                return { got, sent: window.sent, text: echoedText === text,
                         bytes: echoedBytes.length === bytes.length
                                && echoedBytes[1_999_999] === 1_999_999 % 253 };
            }"""
        )
        # The core received them in the order they were sent: events arrive in that order.
        assert result["got"] == ["first", 1_200_000, "last"]
        assert result["text"] and result["bytes"]
        assert [kind for kind, _ in result["sent"]] == ["text", "blob", "blob", "blob", "text"]
        # The large replies and event came back over HTTP (the text and event may share a
        # frame), and were read in their place among the rest.
        assert len(fetched) >= 2, fetched


def wait_until(page: Page, done: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Let Playwright deliver its events until ``done()`` (a check of what they recorded)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(20)


def test_frames_after_a_handed_over_one_wait_for_it(browser: Browser, app_dir: Path) -> None:
    with serving(brownfield_config(app_dir)) as served:
        page = browser.new_context().new_page()
        received: list[str] = []
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived", lambda data: received.append(data if isinstance(data, str) else "")
            ),
        )
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        # The core writes the large frame; its body reaches the page only when the test says.
        held: list[tuple[Route, APIResponse]] = []
        page.route("**/__app__/frame/**", lambda route: held.append((route, route.fetch())))
        page.evaluate("""async () => {
            window.got = [];
            await window.__APP__.event.listen('order', (e) => window.got.push(
                e.payload.length > 100 ? e.payload.length : e.payload));
            await window.__APP__.event.emit('order', 'first');
        }""")
        page.wait_for_function("() => window.got.length === 1")
        page.evaluate("() => { window.__APP__.event.emit('order', 'x'.repeat(1_200_000)); }")
        wait_until(page, lambda: bool(held), "the page to fetch the large frame")
        page.evaluate("() => { window.__APP__.event.emit('order', 'last'); }")
        wait_until(page, lambda: any('"last"' in f for f in received), "the socket frame")
        # That frame is in; the page has not read it, as the one before it is not read yet.
        assert page.evaluate("window.got") == ["first"]
        route, response = held[0]
        route.fulfill(response=response)
        page.wait_for_function("() => window.got.length === 3")
        assert page.evaluate("window.got") == ["first", 1_200_000, "last"]


def test_a_large_frame_the_page_cannot_fetch_fails_its_calls_and_the_page_reconnects(
    browser: Browser, app_dir: Path
) -> None:
    with serving(brownfield_config(app_dir)) as served:
        page = open_window(browser, served, "main")
        fetched = []

        def refuse(route: Route) -> None:
            fetched.append(route.request.url)
            route.abort()

        page.route("**/__app__/frame/**", refuse)
        big = rejection(page, "echo", {"value": "x" * 2_000_000})
        assert big["code"] == "internal" and "'echo' got no answer" in big["message"], big
        assert "may have run it or be running it still" in big["message"], big
        # The socket started over (with its resume ticket): the page goes on, and its large
        # replies now come over the socket.
        assert page.evaluate(INVOKE, ["greet", {"name": "after"}, {}]) == "Hello, after!"
        assert len(page.evaluate(INVOKE, ["echo", {"value": "y" * 2_000_000}, {}])) == 2_000_000
        assert len(fetched) == 1, fetched


def test_a_message_the_page_lets_through_fits_the_cores_limit(
    browser: Browser, two_windows: Served
) -> None:
    page = open_window(browser, two_windows, "main")
    for start, binary in ((65536 - 450, False), (65536 - 400, True)):
        result = page.evaluate(UP_TO_THE_LIMIT, [start, binary])
        assert result.get("refused"), result  # the limit was reached within the range
        assert result["code"] == "invalid_args" and "65536" in result["message"], result
        assert len(result["passed"]) > 100, result  # and many just under it went through
    assert page.evaluate(INVOKE, ["greet", {"name": "after"}, {}]) == "Hello, after!"


def test_a_value_the_core_cannot_take_fails_alone_and_clearly(
    browser: Browser, two_windows: Served
) -> None:
    page = open_window(browser, two_windows, "main")
    result = page.evaluate(
        """async () => {
            const { invoke } = window.__APP__.core;
            const nest = (n) => { let v = 'leaf'; for (let i = 0; i < n; i++) v = [v]; return v; };
            const settle = (p) => p.then(
                (v) => ({ v }), (e) => ({ code: e.code, message: e.message }));
            const calls = {
                // Sent in one tick, so in one frame: a bad value must not take the others down.
                lone: invoke('echo', { value: 'cut ' + '\\u{1F600}'.slice(0, 1) }),
                greet: invoke('greet', { name: 'neighbour' }),
                deep: invoke('echo', { value: nest(300) }),
                fine: invoke('echo', { value: nest(200) }),
                // The limit, exactly: a message of 250 levels (the message and its args are
                // two of them) goes; one more does not.
                edge: invoke('echo', { value: nest(248) }),
                over: invoke('echo', { value: nest(249) }),
                // Deep behind binary data, or inside what a toJSON() returns.
                afterBytes: invoke('echo', { value: { b: new Uint8Array(1), v: nest(300) } }),
                viaToJSON: invoke('echo', { value: { toJSON: () => nest(300) } }),
                // A lone surrogate right after a backslash.
                slashLone: invoke('echo', { value: '\\\\' + '\\u{1F600}'.slice(0, 1) }),
                // No false alarms: a whole emoji, and the text of an escape.
                emoji: invoke('echo', { value: '\\u{1F600} and \\\\ud800 as text' }),
            };
            const out = {};
            for (const [k, p] of Object.entries(calls)) out[k] = await settle(p);
            const depth = (v) => (Array.isArray(v) ? 1 + depth(v[0]) : 0);
            out.fine = depth(out.fine.v);  // (a value that deep would not come back to Python)
            out.edge = out.edge.code || depth(out.edge.v);
            return out;
        }"""
    )
    assert result["lone"]["code"] == "invalid_args"
    assert "'echo'" in result["lone"]["message"] and "surrogate" in result["lone"]["message"]
    assert result["greet"] == {"v": "Hello, neighbour!"}
    assert result["deep"]["code"] == "invalid_args" and "250 levels" in result["deep"]["message"]
    assert result["fine"] == 200 and result["edge"] == 248
    for key in ("over", "afterBytes", "viaToJSON"):
        assert result[key]["code"] == "invalid_args", (key, result[key])
        assert "250 levels" in result[key]["message"], (key, result[key])
    assert (
        result["slashLone"]["code"] == "invalid_args"
        and "surrogate" in result["slashLone"]["message"]
    )
    assert result["emoji"] == {"v": "\U0001f600 and \\ud800 as text"}


def test_a_bad_event_name_is_refused_naming_the_call_in_one_line(
    browser: Browser, two_windows: Served
) -> None:
    """Each message names the call it answers: "Event name '' is not valid" did not say
    which, and a name with a control character put it raw in front of the message."""
    page = open_window(browser, two_windows, "main")
    result = page.evaluate(
        """async () => {
            const { event } = window.__APP__;
            const refused = (p) => p.then(() => 'resolved', (e) => e.code + ': ' + e.message);
            return [
                await refused(event.emit('', 1)),
                await refused(event.listen('a b', () => {})),
                await refused(event.listen('a\u0000b', () => {})),
                await refused(event.emit('a\tb', 1)),
                await refused(event.emitTo('main', 'a\u2028b', 1)),
            ];
        }"""
    )
    assert result == [
        "invalid_args: emit: Event name '' is not valid: " + RULE,
        "invalid_args: listen: Event name 'a b' is not valid: " + RULE,
        "invalid_args: listen: Event name 'a\\x00b' is not valid: " + RULE,
        "invalid_args: emit: Event name 'a\\tb' is not valid: " + RULE,
        "invalid_args: emit: Event name 'a\\u2028b' is not valid: " + RULE,
    ], result


RULE = "use 1 to 256 letters, digits, '-', '/', ':', '_' or '.'."


def test_invoke_always_returns_a_promise_that_settles_with_a_code(
    browser: Browser, two_windows: Served
) -> None:
    page = open_window(browser, two_windows, "main")
    result = page.evaluate(
        """async () => {
            const { core, event } = window.__APP__;
            const attempt = async (f) => {
                let p;
                try { p = f(); } catch (e) { return 'threw: ' + e.message; }
                if (!(p instanceof Promise)) return 'not a promise';
                return p.then(() => 'resolved', (e) => e.code + ': ' + e.message);
            };
            const { proxy, revoke } = Proxy.revocable({}, {});
            revoke();
            const out = {};
            for (const t of [NaN, '100', -1, Infinity, null]) {
                out[String(t)] = await attempt(
                    () => core.invoke('greet', { name: 'a' }, { timeoutMs: t }));
            }
            out.throwingOptions = await attempt(() => core.invoke('greet', { name: 'a' },
                { get timeoutMs() { throw new Error('no options here'); } }));
            out.revokedArgs = await attempt(() => core.invoke('greet', proxy));
            out.symbolEvent = await attempt(() => event.emit(Symbol('s'), 1));
            out.numberEvent = await attempt(() => event.emitTo('main', 5, 1));
            out.listenArray = await attempt(() => event.listen(['x'], () => {}));
            out.zeroOptions = await attempt(() => core.invoke('greet', { name: 'a' }, 0));
            out.numberOptions = await attempt(() => core.invoke('greet', { name: 'a' }, 5000));
            out.misspeltOption = await attempt(
                () => core.invoke('greet', { name: 'a' }, { timeout: 100 }));
            out.nullOptions = await attempt(() => core.invoke('greet', { name: 'a' }, null));
            out.nullArgs = await attempt(() => core.invoke('read_config', null));
            out.nullArgsUnknown = await attempt(() => core.invoke('no_such_command', null));
            out.nullArgsNeeded = await attempt(() => core.invoke('greet', null));
            out.textArgs = await attempt(() => core.invoke('greet', 'World'));
            out.dateArgs = await attempt(() => core.invoke('greet', new Date(0)));
            out.bytesArgs = await attempt(() => core.invoke('greet', new Uint8Array(1)));
            out.surrogateName = await attempt(() => core.invoke('gr\ud800'));
            out.surrogateEvent = await attempt(() => event.emit('ev\udc00', 1));
            out.jsonArgs = await core.invoke('echo', { toJSON: () => ({ value: 5 }) });
            out.surrogateKey = await attempt(
                () => core.invoke('echo', { value: { ['a\ud800']: 1 } }));
            out.farDeadline = await attempt(
                () => core.invoke('greet', { name: 'a' }, { timeoutMs: 2 ** 40 }));
            return out;
        }"""
    )
    for key in ("NaN", "100", "-1", "Infinity", "null"):
        assert result[key].startswith("invalid_args: The timeoutMs of 'greet'"), result
    assert result["null"].endswith("0 or more, not null."), result  # (typeof says "object")
    assert (
        result["throwingOptions"].startswith("invalid_args:")
        and "no options" in result["throwingOptions"]
    )
    assert result["revokedArgs"].startswith("invalid_args:"), result
    for key in ("symbolEvent", "numberEvent", "listenArray"):
        assert result[key].startswith("invalid_args:") and "event name" in result[key], result
    assert result["farDeadline"] == result["nullOptions"] == result["nullArgs"] == "resolved"
    # null is no arguments, as undefined is: the core says what is missing, or that there is
    # no such command.
    assert result["nullArgsUnknown"].startswith("not_found:"), result
    assert result["nullArgsNeeded"].startswith("invalid_args:") and "name" in result[
        "nullArgsNeeded"], result
    # Said in the page's terms: a Date or bytes once went, and the core named Python's types.
    for key, kind in [("textArgs", "text"), ("dateArgs", "a Date"),
                      ("bytesArgs", "binary data")]:
        assert result[key] == ("invalid_args: The arguments of 'greet' must be an object of "
                               f"named values, not {kind}."), result
    assert result["surrogateName"] == (
        "invalid_args: The command name 'gr\\ud800' holds a lone UTF-16 surrogate, which is not "
        "valid Unicode: no command has such a name."), result
    assert result["surrogateEvent"] == (
        "invalid_args: emit() needs an event name of valid Unicode: 'ev\\udc00' holds a lone "
        "UTF-16 surrogate."), result
    assert result["jsonArgs"] == 5, result  # arguments that write themselves as an object
    assert result["surrogateKey"].startswith("invalid_args: The arguments of 'echo' cannot be "
                                             "sent: ") and "(at value)." in result[
        "surrogateKey"], result
    for key in ("zeroOptions", "numberOptions"):
        assert result[key] == ("invalid_args: The options of 'greet' must be an object such as "
                               "{ timeoutMs: 5000 }, not number."), result
    assert result["misspeltOption"] == ('invalid_args: invoke() has no option "timeout" (in the '
                                        "call of 'greet'); its one option is timeoutMs."), result
    assert page.evaluate(INVOKE, ["greet", {"name": "after"}, {}]) == "Hello, after!"


def test_the_default_csp_refuses_injected_inline_scripts_and_lets_test_tools_poll(
    browser: Browser, two_windows: Served
) -> None:
    page = open_window(browser, two_windows, "main")
    # A script tag injected into the page does not run (an inserted script runs at once if it
    # may, so this is settled when appendChild returns).
    ran = page.evaluate(
        """() => {
            const s = document.createElement('script');
            s.textContent = 'window.injected = true';
            document.head.appendChild(s);
            return window.injected === true;
        }"""
    )
    assert ran is False
    # A string predicate that is not true at once is polled with eval, which the policy allows.
    page.evaluate("setTimeout(() => { window.later = true; }, 100)")
    page.wait_for_function("window.later === true")


def test_the_pages_own_inline_scripts_run_and_nothing_written_in_later_does(
    browser: Browser, app_dir: Path
) -> None:
    """The default policy lets a page's inline scripts run by their hashes, as the page's files
    have them (line breaks as CRLF, a module script, text that is not ASCII); an onclick
    attribute and a script injected later do not run."""
    page_html = (
        "<!doctype html><html><head><meta charset=utf-8>\r\n"
        "<script>\r\n  window.classic = typeof window.__APP__ + ' \u00e9';\r\n</script>\r\n"
        "<script type=module>\n  window.greeting = await window.__APP__.core.invoke("
        "'greet', { name: 'inline' });\n</script>\n"
        "<script src=missing.js>window.srcBody = true;</script>\n"
        "</head><body><button id=b onclick=\"window.clicked = true\">b</button></body></html>"
    )
    (app_dir / "frontend" / "inline.html").write_bytes(page_html.encode())
    with serving(brownfield_config(app_dir)) as served:
        page = open_window(browser, served, "main")
        page.goto(page.evaluate("location.origin") + "/inline.html")
        page.wait_for_function("window.greeting !== undefined")
        assert page.evaluate("[window.classic, window.greeting]") == [
            "object \u00e9", "Hello, inline!"]
        page.click("#b")
        ran = page.evaluate(
            """() => {
                const s = document.createElement('script');
                s.textContent = 'window.injected = true';
                document.head.appendChild(s);
                return [window.injected === true, window.clicked === true,
                        window.srcBody === true];
            }"""
        )
        assert ran == [False, False, False]


def test_a_page_in_another_encoding_reads_as_it_declares(browser: Browser, app_dir: Path) -> None:
    """A page that declares its encoding (a meta charset, in its first 1024 bytes) is served
    in it, not as UTF-8: its text reads right, and so do its inline scripts, whose hashes are
    taken of what they say in that encoding. One that declares none is UTF-8."""
    latin = (
        "<!doctype html><html><head><meta charset=iso-8859-1><title>caf\u00e9</title>"
        "<script>window.word = 'caf\u00e9 \u20ac';</script></head>"
        "<body><p id=p>caf\u00e9</p></body></html>"
    )
    (app_dir / "frontend" / "latin.html").write_bytes(latin.encode("cp1252"))
    (app_dir / "frontend" / "plain.html").write_bytes(
        "<!doctype html><p id=p>caf\u00e9</p><script>window.word = '\u00e9';</script>".encode())
    with serving(brownfield_config(app_dir)) as served:
        page = open_window(browser, served, "main")
        origin = page.evaluate("location.origin")
        response = page.goto(f"{origin}/latin.html")
        assert response is not None
        assert response.headers["content-type"] == "text/html; charset=iso-8859-1"
        page.wait_for_function("window.word !== undefined")
        assert page.evaluate(
            "[document.characterSet, document.getElementById('p').textContent, window.word]"
        ) == ["windows-1252", "caf\u00e9", "caf\u00e9 \u20ac"]
        assert page.evaluate(INVOKE, ["greet", {"name": "\u00e9"}, {}]) == "Hello, \u00e9!"
        page.goto(f"{origin}/plain.html")
        page.wait_for_function("window.word !== undefined")
        assert page.evaluate(
            "[document.characterSet, document.getElementById('p').textContent, window.word]"
        ) == ["UTF-8", "caf\u00e9", "\u00e9"]


def test_pages_of_any_shape_have_the_runtime_before_their_scripts(
    browser: Browser, app_dir: Path
) -> None:
    """HTML needs neither <html> nor <head>: a <header> is not the head, a comment that names
    the tags is a comment, and a page with no tags at all stays in standards mode."""
    frontend = app_dir / "frontend"
    (frontend / "early.js").write_text(
        "window.early = [typeof window.__APP__, document.compatMode];"
    )
    shapes = {
        "no-head.html": "<!doctype html><html lang=en><title>t</title>"
        "<script src=early.js></script><body><header>h</header>",
        "comment.html": "<!doctype html><!-- <html> and <head> first --><html><head>"
        "<script src=early.js></script></head><body>",
        "no-tags.html": "<!doctype html><title>t</title><script src=early.js></script>",
    }
    for name, html in shapes.items():
        (frontend / name).write_text(html)
    with serving(brownfield_config(app_dir)) as served:
        page = open_window(browser, served, "main")
        origin = page.evaluate("location.origin")
        for name in shapes:
            page.goto(f"{origin}/{name}")
            assert page.evaluate("window.early") == ["object", "CSS1Compat"], name
            assert page.evaluate(INVOKE, ["greet", {"name": name}, {}]) == f"Hello, {name}!"
        # A page that is not there: the window shows a 404, and the log says which.
        assert page.goto(f"{origin}/missing.html").status == 404  # type: ignore[union-attr]
        wait_for_log(served.log, "window main: no page /missing.html in the frontend")
        # Escaped (a line break in the path forged a line of the log), and within bounds (a page
        # script may ask for missing pages in a loop).
        assert page.goto(f"{origin}/a%0Dforged.html").status == 404  # type: ignore[union-attr]
        wait_for_log(served.log, re.escape(r"no page /a\rforged.html in the frontend"))
        for n in range(LOGGED_BAD):
            page.goto(f"{origin}/missing-{n}.html")
        wait_for_log(served.log, "no page /missing-17.html in the frontend; more are not logged")
        assert len([line for line in served.log if "no page /" in line]) == LOGGED_BAD
        # The browser asks every page's site for an icon: a frontend with none has no error
        # in the page's console for it.
        assert page.evaluate("fetch('/favicon.ico').then((r) => r.status)") == 204
        (frontend / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
        assert page.evaluate("fetch('/favicon.ico').then((r) => r.status)") == 200


def test_calls_made_while_the_socket_closes_go_on_the_next_one(
    browser: Browser, two_windows: Served
) -> None:
    page = open_window(browser, two_windows, "main")
    result = page.evaluate(
        """async () => {
            const { invoke } = window.__APP__.core;
            const send = WebSocket.prototype.send;
            let socket = null;
            WebSocket.prototype.send = function (data) {
                socket = this;
                return send.call(this, data);
            };
            await invoke('greet', { name: 'first' });
            WebSocket.prototype.send = send;
            socket.close();  // closing, not closed: a send now would be dropped
            return invoke('greet', { name: 'while closing' }).then((v) => v, (e) => e.message);
        }"""
    )
    assert result == "Hello, while closing!"


def test_values_with_bytes_that_share_frames_each_get_their_own(
    browser: Browser, app_dir: Path
) -> None:
    """Messages with bytes in a row go in one binary frame, each with its markers counted from
    its own first blob (long strings' bytes among them); the page puts each value back."""
    with serving(limits_config(app_dir), env=LIMITS_ENV) as served:
        page = open_window(browser, served, "main")
        got = page.evaluate(
            """async () => {
                const { invoke, Channel } = window.__APP__.core;
                const got = [];
                const chunks = new Channel((value) => got.push(value));
                const count = await invoke('mixed_chunks', { count: 60, chunks });
                const described = got.map((v) => v instanceof Uint8Array ? ['bytes', ...v]
                    : typeof v === 'string' ? ['text', v.length, v.slice(-2)]
                    : ['object', v.n, ...v.b]);
                return [count, described];
            }"""
        )
        assert got[0] == 60
        expected = [
            ["bytes", i, i, i] if i % 3 == 0
            else ["text", 70_000 + len(str(i)), ("é" + str(i))[-2:]] if i % 3 == 1
            else ["object", i, i]
            for i in range(60)
        ]
        assert got[1] == expected


def test_events_with_bytes_in_a_burst_share_frames(browser: Browser, app_dir: Path) -> None:
    # Each in a frame of its own, 10,000 small binary chunks took the page 1-2 s to read, against
    # 0.2 s for as many strings. The frames are counted, not timed.
    with serving(limits_config(app_dir), env=LIMITS_ENV) as served:
        page = browser.new_context().new_page()
        received: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda data: received.append(1)))
        page.goto(served.urls["main"])
        page.wait_for_function("() => window.__APP__ !== undefined")
        sizes = page.evaluate(
            """async () => {
                const sizes = [];
                let done;
                const all = new Promise((resolve) => { done = resolve; });
                await window.__APP__.event.listen('flood', (e) => {
                    sizes.push(e.payload instanceof Uint8Array ? e.payload.length : -1);
                    if (sizes.length === 500) done();
                });
                await window.__APP__.core.invoke('flood', { count: 500, size: 16, binary: true });
                await all;
                return sizes;
            }"""
        )
        assert sizes == [16] * 500
        assert len(received) < 250, len(received)


def test_a_channel_follows_its_page_to_a_new_connection(browser: Browser, app_dir: Path) -> None:
    """The core closes the page's socket (as it does to a page over the size limit); the page
    reconnects, and a stream of a call made before goes on arriving there."""
    with serving(limits_config(app_dir), env=LIMITS_ENV) as served:
        page = open_window(browser, served, "main")
        got = page.evaluate(
            """async () => {
                const { invoke, Channel } = window.__APP__.core;
                const got = [];
                const all = new Promise((resolve) => {
                    const chunks = new Channel((n) => { got.push(n); if (n === 19) resolve(); });
                    invoke('stream_later', { count: 20, chunks });
                });
                await invoke('drop_connection');
                const late = new Promise((r) => setTimeout(() => r('no more came'), 30000));
                return [await Promise.race([all, late]), got];
            }"""
        )
        assert got == [None, list(range(20))], got
        assert page.evaluate(INVOKE, ["greet", {"name": "after"}, {}]) == "Hello, after!"


def test_the_frontends_files_go_with_their_web_types(
    browser: Browser, app_dir: Path, two_windows: Served
) -> None:
    """Whatever the system's own list of types holds: aiohttp reads none of it, and served
    images, fonts, source maps and XHTML as application/octet-stream (a browser then downloads
    an .xhtml page instead of showing it)."""
    names = ["a.webp", "a.woff2", "a.map", "a.xhtml", "a.mjs", "a.wasm", "a.unknownkind"]
    for name in names:
        (app_dir / "frontend" / name).write_bytes(b"x")
    page = open_window(browser, two_windows, "main")
    types = page.evaluate(
        "(names) => Promise.all(names.map((n) => fetch(n).then((r) => r.headers.get("
        "'content-type'))))",
        names,
    )
    assert types == ["image/webp", "font/woff2", "application/json", "application/xhtml+xml",
                     "text/javascript", "application/wasm", "application/octet-stream"]


def test_a_page_past_the_windows_connections_says_why_it_has_none(
    browser: Browser, app_dir: Path, two_windows: Served
) -> None:
    """The 65th connection of a window is refused with its reason, which the page's calls give
    (a refused handshake shows a page nothing: they said the connection was lost)."""
    (app_dir / "frontend" / "blank.html").write_text("<!doctype html><title>blank</title>")
    page = open_window(browser, two_windows, "main")
    messages = page.evaluate(
        """async () => {
            const frames = [];
            for (let i = 0; i < 64; i++) {  // with the page's own, 65 connections
                const frame = document.createElement('iframe');
                frame.src = 'blank.html';
                document.body.appendChild(frame);
                frames.push(new Promise((r) => frame.addEventListener('load', () => r(frame))));
            }
            const loaded = await Promise.all(frames);
            const said = (e) => e.code + ': ' + e.message;
            return Promise.all(loaded.map((f) => f.contentWindow.__APP__.core
                .invoke('greet', { name: 'x' }).then(() => 'ok', said)));
        }"""
    )
    crowded = [m for m in messages if "connections open already" in m]
    assert crowded == [
        "internal: 'greet' cannot be answered: the app core refused this page's connection: "
        "window 'main' has 64 IPC connections open already; close some of its frames or "
        "pop-ups."
    ], messages
    assert all(m.startswith("forbidden: ") for m in messages if m not in crowded), messages


def test_an_answer_that_came_while_the_page_was_held_up_is_not_a_timeout(
    browser: Browser, two_windows: Served
) -> None:
    """The page's thread is held up (a long task) past a call's time, in the task that made the
    call (which therefore leaves only then): the call's timer ran first, and it timed out with
    no time for an answer. It gets a moment more, and resolves; a call whose answer does not
    come still times out."""
    page = open_window(browser, two_windows, "main")
    outcomes = page.evaluate(
        """async () => {
            const { invoke } = window.__APP__.core;
            const quick = invoke('echo', { value: 'came' }, { timeoutMs: 300 });
            const slow = invoke('wait', { ms: 1500 }, { timeoutMs: 300 });
            const until = performance.now() + 1000;
            while (performance.now() < until) { /* held up */ }
            const said = (e) => e.code;
            return Promise.all([quick.catch(said), slow.catch(said)]);
        }"""
    )
    assert outcomes == ["came", "timeout"]


def test_an_event_the_core_does_not_answer_times_out_with_a_message_that_fits_it(
    browser: Browser, app_dir: Path
) -> None:
    """emit() takes no timeoutMs: its time-out message once pointed at invoke's."""
    with serving(brownfield_config(app_dir, commandTimeoutMs=200), windows=2) as served:
        page = open_window(browser, served, "main")
        served.process.send_signal(signal.SIGSTOP)  # the core answers nothing
        try:
            said = page.evaluate(
                """() => Promise.all([
                    window.__APP__.event.emit('x', 1).catch((e) => [e.code, e.message]),
                    window.__APP__.core.invoke('greet', { name: 'a' }, { timeoutMs: 100 })
                        .catch((e) => [e.code, e.message]),
                ])"""
            )
        finally:
            served.process.send_signal(signal.SIGCONT)
        assert said == [
            ["timeout", "'emit x' got no answer within 5200 ms (the page's wait: the core's "
                        "limit plus 5 s)."],
            ["timeout", "'greet' got no answer within 100 ms (the page's wait: invoke's "
                        "timeoutMs, by default the core's limit plus 5 s)."],
        ]
        assert page.evaluate(INVOKE, ["greet", {"name": "on"}, {}]) == "Hello, on!"


def test_a_long_command_name_is_quoted_once_and_cut_short(
    browser: Browser, two_windows: Served
) -> None:
    """The core quotes a long name cut short; the page, not finding it whole in the message,
    put the whole name in front: 100,000 characters of name made a 100,190-character message."""
    page = open_window(browser, two_windows, "main")
    for length in (300, 30_000, 100_000):  # (the last is over this app's maxMessageBytes)
        error = rejection(page, "x" * length)
        assert error["code"] == ("not_found" if length < 100_000 else "invalid_args"), error
        assert len(error["message"]) < 400, error["message"][:300]
        assert error["message"].count("'" + "x" * 99) == 1  # quoted once
        if error["code"] == "not_found":
            quoted = "There is no command named '" + "x" * 99 + "\u2026'"
            assert error["message"].startswith(quoted)
