"""The isolation pattern in Debian Chromium: the flow through the frame, and what hooks return."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page

from tests.conftest import ROOT, Served, serving, wait_for_log

from .conftest import LOOKALIKES, LOOKALIKES_BACK, RECORD_SENDS, TAKE_PORTS, UP_TO_THE_LIMIT
from .test_isolation_core import isolation_config

HELLO = "hello from a file\n"  # frontend/hello.txt

# Each value of echo's argument asks the hook for one kind of answer.
HOOK = """
window.__ISOLATION_HOOK__ = (payload, context) => {
  const seen = () => ({ payload: JSON.parse(JSON.stringify(payload)), context: { ...context } });
  if (payload.cmd === "emit" && payload.event === "ping") {
    payload.payload = seen();
    return payload;
  }
  if (payload.event === "blocked-event") return payload.cmd === "emit" ? null : false;
  // A naive check written for text: a path sent as bytes must not get past it to the file.
  if (payload.cmd === "invoke" && payload.message.cmd === "read_file"
      && String(payload.message.args.path).includes("hello")) return null;
  if (payload.cmd !== "invoke" || payload.message.cmd !== "echo") return payload;
  const value = payload.message.args.value;
  if (typeof value === "string" && value.startsWith("long ")) {  // a text blob on the wire
    payload.message.args.value = value.toUpperCase();
    return payload;
  }
  switch (value) {
    case "null": return null;
    case "undefined": return undefined;
    case "false": return false;
    case "true": return true;
    case "throw": throw new Error("the hook says no");
    case "never": return new Promise(() => {});
    case "busy": { const until = Date.now() + 800; while (Date.now() < until); return payload; }
    case "later": return new Promise((resolve) => setTimeout(() => resolve(payload), 20));
    case "later-null": return Promise.resolve(null);
    case "rejects": return Promise.reject(new Error("the async hook says no"));
    case "seen": payload.message.args.value = seen(); return payload;
    // What cannot be read: a getter that throws, a rejection that cannot be shown.
    case "unreadable": return { get cmd() { throw new Error("a getter's bug"); } };
    case "unreadable-later": return Promise.resolve({ get cmd() { throw new Error("bug"); } });
    // Whose every property read throws, its `then` first.
    case "unreadable-proxy": return new Proxy(payload, { get() { throw new Error("trap"); } });
    case "rejects-oddly":
      return Promise.reject({ get message() { throw 1; }, toString() { throw 1; } });
    case "rewrite":
      return { cmd: "invoke", message: { cmd: "greet", args: { name: "rewritten" } } };
    case "no-command": return { cmd: "invoke", message: { args: {} } };
  }
  return payload;
};
"""

INVOKE = "([cmd, args]) => window.__APP__.core.invoke(cmd, args)"
OUTCOME = """([cmd, args, timeoutMs]) => window.__APP__.core.invoke(cmd, args, { timeoutMs }).then(
    (value) => ({ value }), (e) => ({ code: e.code, message: e.message }))"""


def open_page(browser: Browser, url: str, init_script: str | None = None) -> Page:
    context = browser.new_context()
    if init_script is not None:
        context.add_init_script(init_script)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.__APP__ !== undefined")
    return page


def outcome(page: Page, cmd: str, args: dict[str, Any], timeout_ms: int = 60_000) -> Any:
    return page.evaluate(OUTCOME, [cmd, args, timeout_ms])


@pytest.fixture
def hooked(app_dir: Path) -> Iterator[Served]:
    (app_dir / "frontend" / "early.html").write_text(
        '<!doctype html><html><head><script src="early.js"></script></head><body></body></html>'
    )
    # Runs while the page is parsed, before its isolation frame can be ready.
    (app_dir / "frontend" / "early.js").write_text(
        "window.early = window.__APP__.core.invoke('greet', { name: 'early' })"
        ".then((v) => v, (e) => e.code);"
    )
    with serving(isolation_config(app_dir, HOOK, hook_timeout_ms=300), windows=2) as served:
        yield served


def test_calls_events_bytes_and_channels_pass_through_the_frame(
    browser: Browser, hooked: Served
) -> None:
    page = open_page(browser, hooked.urls["main"])
    frame = page.evaluate(
        """() => { const f = document.querySelector('iframe'), s = getComputedStyle(f);
                   return [f.getAttribute('sandbox'), new URL(f.src).origin,
                           f.parentNode === document.documentElement,
                           [s.opacity, s.width, s.height, s.pointerEvents, s.position]]; }"""
    )
    assert frame[0] == "allow-scripts allow-modals"
    assert frame[1] != hooked.origin("main")
    # Out of sight, not out of layout (whose frame Chromium slows); outside <body>.
    assert frame[2:] == [True, ["0", "1px", "1px", "none", "fixed"]]
    assert page.evaluate(INVOKE, ["greet", {"name": "World"}]) == "Hello, World!"
    assert page.evaluate(INVOKE, ["read_config", {}])["theme"] == "light"
    echoed = page.evaluate(
        """async () => {
            const bytes = new Uint8Array(200000).map((_, i) => i % 251);
            const back = await window.__APP__.core.invoke('echo', { value: bytes });
            return [back instanceof Uint8Array, back.length, back[1000] === 1000 % 251];
        }"""
    )
    assert echoed == [True, 200000, True]
    assert page.evaluate(LOOKALIKES) == LOOKALIKES_BACK  # through the hook's frame, sealed
    streamed = page.evaluate(
        """() => new Promise((resolve) => {
            const got = [];
            const ch = new window.__APP__.core.Channel((v) => {
                got.push(v); if (v === 3) resolve(got); });
            window.__APP__.core.invoke('count', { to: 3, progress: ch });
        })"""
    )
    assert streamed == [1, 2, 3]
    many = page.evaluate(
        """() => Promise.all(Array.from({ length: 300 }, (_, i) =>
            window.__APP__.core.invoke('greet', { name: String(i) })))"""
    )
    assert many == [f"Hello, {i}!" for i in range(300)]


def test_the_hook_sees_the_payload_and_context_and_the_core_runs_what_it_returns(
    browser: Browser, hooked: Served
) -> None:
    page = open_page(browser, hooked.urls["main"])
    origin = hooked.origin("main")
    seen = page.evaluate(INVOKE, ["echo", {"value": "seen"}])
    assert seen == {
        "payload": {"cmd": "invoke", "message": {"cmd": "echo", "args": {"value": "seen"}}},
        "context": {"window": "main", "origin": origin},
    }
    pings = page.evaluate(
        """async () => {
            const { listen, emit, emitTo } = window.__APP__.event;
            const got = [];
            let done;
            const two = new Promise((resolve) => { done = resolve; });
            await listen('ping', (e) => { got.push(e.payload); if (got.length === 2) done(); });
            await emit('ping', { n: 1 });
            await emitTo('main', 'ping', { n: 2 });
            await two;
            return got;
        }"""
    )
    context = {"window": "main", "origin": origin}
    assert pings == [
        {"payload": {"cmd": "emit", "event": "ping", "payload": {"n": 1}}, "context": context},
        {
            "payload": {"cmd": "emit", "event": "ping", "payload": {"n": 2}, "target": "main"},
            "context": context,
        },
    ]
    # The core runs what the hook returned, even another command.
    assert page.evaluate(INVOKE, ["echo", {"value": "rewrite"}]) == "Hello, rewritten!"
    assert page.evaluate(INVOKE, ["echo", {"value": "later"}]) == "later"


def test_the_hook_sees_a_long_string_as_a_string_and_the_core_runs_what_it_made_of_it(
    browser: Browser, hooked: Served
) -> None:
    page = open_page(browser, hooked.urls["main"])
    value = "long " + "é😀x" * 30000  # sent as UTF-8 bytes beside the JSON, both ways
    assert page.evaluate(INVOKE, ["echo", {"value": value}]) == value.upper()


def test_what_the_hook_checked_is_what_the_command_gets(browser: Browser, hooked: Served) -> None:
    """The core does not turn one type into another behind the hook's back: bytes are not
    text, "7" is not a number."""
    page = open_page(browser, hooked.urls["main"])
    assert outcome(page, "read_file", {"path": "frontend/hello.txt"})["code"] == "blocked"
    as_bytes = page.evaluate(
        """() => window.__APP__.core.invoke('read_file',
                { path: new TextEncoder().encode('frontend/hello.txt') })
            .then((v) => ({ value: v }), (e) => ({ code: e.code, message: e.message }))"""
    )
    assert as_bytes["code"] == "invalid_args" and "path" in as_bytes["message"], as_bytes
    assert outcome(page, "delete_item", {"id": "1"})["code"] == "invalid_args"
    assert outcome(page, "delete_item", {"id": 1}) == {"value": {"deleted": 1, "name": "Apples"}}


def test_every_refusal_rejects_with_blocked_and_nothing_hangs(
    browser: Browser, hooked: Served
) -> None:
    page = open_page(browser, hooked.urls["main"])
    reasons = {
        "null": "it returned null",
        "undefined": "it returned undefined",
        "false": "it returned false",
        "throw": "the hook says no",
        "true": "not a message",
        "later-null": "it returned null",
        "rejects": "the async hook says no",
        "never": "did not answer within 300 ms",
        "unreadable": "could not be read (Error: a getter's bug)",
        "unreadable-later": "could not be read (Error: bug)",
        "unreadable-proxy": "could not be read (Error: trap)",
        "rejects-oddly": "the hook threw a value that cannot be shown",
        "no-command": "it returned an invoke with no command name in message.cmd",
    }
    for value, reason in reasons.items():
        # The call's own timeout is far away: a rejection is the hook's, not a timer's.
        result = outcome(page, "echo", {"value": value})
        assert result["code"] == "blocked", (value, result)
        assert "'echo' was blocked by the isolation hook" in result["message"]
        assert reason in result["message"], (value, result)
    emitted = page.evaluate(
        "window.__APP__.event.emit('blocked-event', 1).then(() => 'sent', (e) => e.code)"
    )
    listened = page.evaluate(
        "window.__APP__.event.listen('blocked-event', () => {}).then(() => 'ok', (e) => e.code)"
    )
    assert [emitted, listened] == ["blocked", "blocked"]
    # Refused messages take no sequence number: the next call goes through.
    assert page.evaluate(INVOKE, ["greet", {"name": "after"}]) == "Hello, after!"


def test_a_calls_time_limit_starts_once_the_hook_has_let_it_through(
    browser: Browser, hooked: Served
) -> None:
    """A synchronous hook has no time limit (a confirm() waits for its user): a call the page
    gave up on while its hook decided would have run all the same once let through."""
    page = open_page(browser, hooked.urls["main"])
    assert outcome(page, "echo", {"value": "busy"}, 300) == {"value": "busy"}
    # Once through, the limit holds.
    late = outcome(page, "wait", {"ms": 3000}, 300)
    assert late["code"] == "timeout" and "'wait' got no answer within 300 ms" in late["message"]


def test_the_page_s_reminder_ends_only_a_hook_that_has_run_its_time(
    browser: Browser, app_dir: Path
) -> None:
    """A hidden frame's timers may be throttled (to a second in Qt WebEngine): the page, whose
    timers are not, reminds the frame while an async hook's call waits. The frame ends the wait
    only of a hook that has run hookTimeoutMs by its own clock: a reminder that comes early
    (here at once, as a script of the page may send one) ends nothing."""
    with serving(isolation_config(app_dir, HOOK, hook_timeout_ms=60_000), windows=2) as served:
        page = open_page(browser, served.urls["main"], TAKE_PORTS)
        result = page.evaluate(
            """async () => {
                const call = window.__APP__.core.invoke('echo', { value: 'later' })
                    .then((v) => ({ v }), (e) => ({ code: e.code, message: e.message }));
                const taken = window.__taken;
                while (!taken.requests) await new Promise((r) => setTimeout(r, 1));
                taken.ports[0].postMessage({ expire: taken.requests.map((r) => r.n) });
                return call;
            }"""
        )
        assert result == {"v": "later"}, result


def test_an_async_hook_held_up_behind_a_slow_one_gets_its_whole_time(
    browser: Browser, hooked: Served
) -> None:
    # The hooks run one at a time: an async hook's call made while a synchronous hook runs for
    # 800 ms (a confirm() its user reads, say) starts its 300 ms only when its hook does.
    page = open_page(browser, hooked.urls["main"])
    results = page.evaluate(
        """async () => {
            const { invoke } = window.__APP__.core;
            const outcome = (p) => p.then((v) => ({ v }), (e) => ({ code: e.code,
                                                                  message: e.message }));
            return Promise.all([outcome(invoke('echo', { value: 'busy' })),
                                outcome(invoke('echo', { value: 'later' }))]);
        }"""
    )
    assert results == [{"v": "busy"}, {"v": "later"}], results


def test_calls_made_before_the_frame_is_ready_are_queued(browser: Browser, hooked: Served) -> None:
    page = browser.new_context().new_page()
    page.goto(hooked.urls["main"])  # sets the window's session
    page.goto(hooked.origin("main") + "/early.html")
    assert page.evaluate("window.early") == "Hello, early!"


def test_a_removed_or_reloaded_frame_fails_closed_until_the_page_reloads(
    browser: Browser, hooked: Served
) -> None:
    page = open_page(browser, hooked.urls["main"])
    record = """() => {
        window.sentFrames = [];
        const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (data) {
            window.sentFrames.push(data);
            return send.call(this, data);
        };
    }"""
    page.evaluate(record)
    # A call waiting on the hook when the frame goes is rejected at once, not left to time out.
    result = page.evaluate(
        """() => {
            const { invoke } = window.__APP__.core;
            const waiting = invoke('echo', { value: 'never' }, { timeoutMs: 60000 })
                .then(() => 'resolved', (e) => [e.code, e.message]);
            document.querySelector('iframe').remove();
            return waiting;
        }"""
    )
    assert result[0] == "blocked" and "removed" in result[1] and "Reload the page" in result[1]
    after = outcome(page, "greet", {"name": "x"})
    assert after["code"] == "blocked" and "'greet'" in after["message"]
    assert page.evaluate("window.sentFrames") == [], "nothing may go out in plaintext"
    # Reloading the page brings a new frame and key.
    page.reload()
    page.wait_for_function("() => window.__APP__ !== undefined")
    assert page.evaluate(INVOKE, ["greet", {"name": "back"}]) == "Hello, back!"
    # Reloading (or navigating) the frame itself fails closed too.
    page.evaluate(record)
    reloaded = page.evaluate(
        """() => new Promise((resolve) => {
            const frame = document.querySelector('iframe');
            frame.addEventListener('load', () => resolve(
                window.__APP__.core.invoke('greet', { name: 'x' }).then(() => 'resolved',
                    (e) => [e.code, e.message])));
            frame.src = frame.src;
        })"""
    )
    assert reloaded[0] == "blocked" and "Reload the page" in reloaded[1]
    assert "reloaded" in reloaded[1] or "already used" in reloaded[1]
    assert page.evaluate("window.sentFrames") == []


# ---- the hooks that ship as examples -----------------------------------------------------------


def examples_app(app_dir: Path, example: str | None) -> Path:
    """The demo under isolation with one of dist-isolation/examples/ as its hook (or the demo's
    own hook when ``example`` is None), as they stand."""
    config = isolation_config(app_dir)
    if example is not None:
        (app_dir / "dist-isolation" / "index.html").write_text(
            f'<!doctype html><html><head><script src="examples/{example}.js"></script>'
            "</head><body></body></html>"
        )
    return config


@pytest.fixture
def example(request: pytest.FixtureRequest, app_dir: Path) -> Iterator[tuple[str, Served]]:
    name = request.param
    with serving(examples_app(app_dir, name), windows=2) as served:
        yield name, served


def deleting(page: Page, item: int, answer: str) -> tuple[Any, list[str]]:
    """Invoke delete_item, answering the hook's confirm() dialog with ``answer``."""
    messages: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.accept() if answer == "accept" else dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        return outcome(page, "delete_item", {"id": item}), messages
    finally:
        page.remove_listener("dialog", on_dialog)


@pytest.mark.parametrize("example", ["passthrough", "comprehensive", "validation"], indirect=True)
def test_the_seed_examples_run_as_they_stand(browser: Browser, example: tuple[str, Served]) -> None:
    name, served = example
    page = open_page(browser, served.urls["main"])
    assert page.evaluate(INVOKE, ["greet", {"name": name}]) == f"Hello, {name}!"
    if name == "passthrough":
        assert outcome(page, "process_data", {"input": "x"}) == {"value": "Processed: x"}
        secret = outcome(page, "read_file", {"path": "frontend/secret/key.txt"})
        assert secret["code"] == "forbidden"  # the capability's deny, not the hook
    elif name == "comprehensive":
        assert page.evaluate(INVOKE, ["read_config", {}])["theme"] == "light"
        saved = page.evaluate(INVOKE, ["save_settings", {"settings": {"theme": "dark"}}])
        assert saved["theme"] == "dark"
        for cmd, args in (
            ("process_data", {"input": "x"}),
            ("echo", {"value": 1}),
            ("greet", {"name": "x", "path": "/etc/passwd"}),
        ):
            assert outcome(page, cmd, args)["code"] == "blocked", cmd
    else:
        outside = outcome(page, "read_file", {"path": "frontend/hello.txt"})
        assert outside["code"] == "blocked" and "'read_file'" in outside["message"]
        # Allowed by the hook; the capability's scope has the last word.
        allowed = outcome(page, "read_file", {"path": "/allowed/directory/notes.txt"})
        assert allowed["code"] == "forbidden"
        dismissed, asked = deleting(page, 1, "dismiss")
        assert dismissed["code"] == "blocked"
        assert asked == ["Are you sure you want to delete this item?"]
        accepted, _ = deleting(page, 1, "accept")
        assert accepted == {"value": {"deleted": 1, "name": "Apples"}}


def test_the_demo_hook(browser: Browser, app_dir: Path) -> None:
    """It refuses reset_demo, which the capability allows, and leaves the rest to the
    capabilities: the demo's results hold under the shipped config."""
    with serving(examples_app(app_dir, None), windows=2) as served:
        page = open_page(browser, served.urls["main"])
        assert page.evaluate(INVOKE, ["greet", {"name": "demo"}]) == "Hello, demo!"
        assert page.evaluate(INVOKE, ["read_file", {"path": "frontend/hello.txt"}]) == HELLO
        secret = outcome(page, "read_file", {"path": "frontend/secret/key.txt"})
        assert secret["code"] == "forbidden"  # the capability's deny entry, not the hook
        assert outcome(page, "delete_item", {"id": 2}) == {"value": {"deleted": 2, "name": "Pears"}}
        reset = outcome(page, "reset_demo", {})
        assert reset["code"] == "blocked" and "'reset_demo'" in reset["message"]
        assert 2 not in [item["id"] for item in page.evaluate(INVOKE, ["list_items", {}])]


def test_the_shipped_examples_are_the_seed_examples() -> None:
    seed = ROOT.parent / "shared" / "seed" / "isolation-examples"
    if not seed.is_dir():
        pytest.skip("the seed document is not beside this checkout")
    examples = ROOT / "dist-isolation" / "examples"
    for name in ("passthrough.js", "comprehensive.js"):
        assert (examples / name).read_text() == (seed / name).read_text(), name


def test_a_broken_isolation_app_blocks_every_call_and_says_why(
    browser: Browser, app_dir: Path
) -> None:
    config = isolation_config(app_dir)
    (app_dir / "dist-isolation" / "index.html").write_text(
        '<!doctype html><script src="hook.js"></script>'
    )
    with serving(config, windows=2) as served:
        page = open_page(browser, served.urls["main"])
        result = outcome(page, "greet", {"name": "x"})
        assert result["code"] == "blocked"
        assert "'hook.js', which is not a file" in result["message"]
        assert not result["message"].endswith(".."), result["message"]
        wait_for_log(served.log, r"hook\.js.*blocked")
    (app_dir / "dist-isolation" / "index.html").write_text("<!doctype html><p>no hook</p>")
    with serving(config, windows=2) as served:
        page = open_page(browser, served.urls["main"])
        result = outcome(page, "greet", {"name": "x"})
        assert result["code"] == "blocked" and "defines no hook" in result["message"]
    # A hook that does not parse: the message says why there is none.
    (app_dir / "dist-isolation" / "index.html").write_text(
        '<!doctype html><script src="index.js"></script>'
    )
    (app_dir / "dist-isolation" / "index.js").write_text(
        "window.__ISOLATION_HOOK__ = (payload) => {\n  return payload;\n"
    )
    with serving(config, windows=2) as served:
        page = open_page(browser, served.urls["main"])
        result = outcome(page, "greet", {"name": "x"})
        assert result["code"] == "blocked" and "defines no hook" in result["message"]
        assert "its scripts failed as they ran: Uncaught SyntaxError" in result["message"], result
        # Where, in the file the author wrote (it said the line in the frame's whole page).
        assert "(index.js:" in result["message"], result
    # A syntax error within the file: Chromium gives the frame's page's line for it, and the
    # page's address, not the file's (it said "line 1389").
    (app_dir / "dist-isolation" / "index.js").write_text(
        "window.__ISOLATION_HOOK__ = (payload) => {\n  if (payload.cmd === 'x' {\n"
        "    return null;\n  }\n  return payload;\n};\n"
    )
    with serving(config, windows=2) as served:
        page = open_page(browser, served.urls["main"])
        result = outcome(page, "greet", {"name": "x"})
        assert ("Uncaught SyntaxError: Unexpected token '{' (index.js:2)" in result["message"]
                ), result
    # One thrown as the file runs has the file's own line, also where that line is one of the
    # file's lines in the page.
    (app_dir / "dist-isolation" / "index.js").write_text(
        "// a long file\n" * 1449 + "throw new SyntaxError('mine');\n"
    )
    with serving(config, windows=2) as served:
        page = open_page(browser, served.urls["main"])
        result = outcome(page, "greet", {"name": "x"})
        assert "Uncaught SyntaxError: mine (index.js:1450)" in result["message"], result
    (app_dir / "dist-isolation" / "index.html").write_text(
        '<!doctype html>\n<p>an app</p>\n<script>\n  window.x = 1;\n  null.hook;\n</script>\n'
    )
    with serving(config, windows=2) as served:
        page = open_page(browser, served.urls["main"])
        result = outcome(page, "greet", {"name": "x"})
        assert "Cannot read properties of null (reading 'hook') (index.html:5)" in (
            result["message"]), result


def test_a_hook_reads_as_its_file_does_whatever_html_its_text_holds(
    browser: Browser, app_dir: Path
) -> None:
    """The shell inlines the isolation app's scripts: text that an HTML parser reads as markup
    inside a script ("<!--" then "<script" made it take the script's end for a nested one's,
    and the hook swallowed the rest of the page) is the script's text all the same."""
    (app_dir / "dist-isolation" / "index.html").write_text(
        '<!doctype html><script src="index.js"></script><script src="after.js"></script>'
    )
    (app_dir / "dist-isolation" / "index.js").write_text(
        'const NOTE = "<!--<script>";  // <!-- <SCRIPT>\n'
        "const TAG = /<script>/u;\n"
        "const END = `</script >`;\n"
        "window.__ISOLATION_HOOK__ = (payload) => {\n"
        "  if (payload.cmd === 'invoke' && payload.message.cmd === 'greet') {\n"
        "    payload.message.args.name = NOTE + (TAG.test(NOTE) ? END : '?') + window.after;\n"
        "  }\n"
        "  return payload;\n"
        "};\n"
    )
    (app_dir / "dist-isolation" / "after.js").write_text("window.after = '<script/>';\n")
    with serving(isolation_config(app_dir), windows=2) as served:
        page = open_page(browser, served.urls["main"])
        assert page.evaluate(INVOKE, ["greet", {"name": "x"}]) == (
            "Hello, <!--<script></script ><script/>!")


@contextmanager
def page_recording_sends(browser: Browser, app_dir: Path, max_message_bytes: int) -> Iterator[Page]:
    """The main window's page under isolation and this message limit, with ``window.sent``
    recording the frames it sends (see RECORD_SENDS)."""
    with serving(isolation_config(app_dir, maxMessageBytes=max_message_bytes), windows=2) as served:
        page = open_page(browser, served.urls["main"])
        page.evaluate(RECORD_SENDS)
        yield page


def test_a_large_ciphertext_travels_as_bytes_and_small_ones_share_text_frames(
    browser: Browser, app_dir: Path
) -> None:
    with page_recording_sends(browser, app_dir, 65536) as page:
        # 60,000 bytes of UTF-8: as base64 (80,000) it would not fit in a 64 KiB message.
        text = "é" * 10_000 + "x" * 40_000
        assert page.evaluate(INVOKE, ["echo", {"value": text}]) == text
        # (The demo page's own start-up calls may still be leaving: small text frames.)
        sent = page.evaluate("window.sent")
        ((kind, size),) = [(k, n) for k, n in sent if k != "text"]
        assert kind == "binary" and 60_000 < size < 61_000, sent
        assert all(n < 2000 for k, n in sent if k == "text"), sent
        page.evaluate("window.sent = []")
        many = page.evaluate(
            """() => Promise.all(Array.from({ length: 50 }, (_, i) =>
                window.__APP__.core.invoke('greet', { name: String(i) })))"""
        )
        assert many == [f"Hello, {i}!" for i in range(50)]
        kinds = {kind for kind, _ in page.evaluate("window.sent")}
        assert kinds == {"text"} and len(page.evaluate("window.sent")) < 50
        # Sealed in one turn, small and large: they must reach the core in sequence, so the
        # text gathered before a large one's binary frame leaves first.
        mixed = page.evaluate(
            """() => Promise.all(['a', 'y'.repeat(30000), 'b', 'z'.repeat(20000), 'c'].map(
                (value) => window.__APP__.core.invoke('echo', { value })
                    .then((v) => v.length, (e) => e.code)))"""
        )
        assert mixed == [1, 30000, 1, 20000, 1]
        # Up to the frame's limit for a sealed message (about 1 KiB short of the core's): what
        # the frame lets through fits the core's limit, and the frame says when it does not.
        near = page.evaluate(UP_TO_THE_LIMIT, [65536 - 1040 - 200, False])
        assert near["refused"] and len(near["passed"]) > 50, near
        assert near["code"] == "invalid_args" and "for a sealed message" in near["message"]
        # Over the limit, sealed or not: a clear error, and the page keeps working.
        over = outcome(page, "echo", {"value": "x" * 70_000})
        assert over["code"] == "invalid_args" and "65536" in over["message"], over
        assert page.evaluate(INVOKE, ["greet", {"name": "after"}]) == "Hello, after!"


def test_under_a_small_limit_a_ciphertext_goes_as_bytes_when_its_base64_would_not_fit(
    browser: Browser, app_dir: Path
) -> None:
    with page_recording_sends(browser, app_dir, 4096) as page:
        result = page.evaluate(UP_TO_THE_LIMIT, [2800, False])
        assert result["refused"] and len(result["passed"]) > 50, result
        assert result["code"] == "invalid_args" and "for a sealed message" in result["message"]
        # 2,800 bytes and more: as base64 with the envelope's fields they would not fit in
        # 4 KiB, so they went as bytes, though far under the 16 KiB from which all do.
        binary = [size for kind, size in page.evaluate("window.sent") if kind == "binary"]
        assert binary and max(binary) < 4096, page.evaluate("window.sent")
        assert page.evaluate(INVOKE, ["greet", {"name": "after"}]) == "Hello, after!"


def test_a_sealed_message_lost_with_the_connection_fails_the_page_closed_and_clear(
    browser: Browser, hooked: Served
) -> None:
    page = open_page(browser, hooked.urls["main"])
    assert page.evaluate(INVOKE, ["greet", {"name": "before"}]) == "Hello, before!"
    result = page.evaluate(
        """async () => {
            const { invoke } = window.__APP__.core;
            // The next frame is lost on its way and the connection drops, as when the core
            // goes away mid-call: its sealed number never reaches the core.
            const send = WebSocket.prototype.send;
            WebSocket.prototype.send = function (data) {
                WebSocket.prototype.send = send;
                this.close();
            };
            const lost = await invoke('greet', { name: 'lost' }).then(
                (v) => v, (e) => e.message);
            const after = await invoke('greet', { name: 'after' }).then(
                (v) => v, (e) => [e.code, e.message]);
            return { lost, after };
        }"""
    )
    assert "got no answer" in result["lost"]
    # Not a reconnect whose every call the core refuses as out of sequence: a clear stop.
    code, message = result["after"]
    assert code == "internal" and "Reload the page" in message, result
    assert message.startswith("'greet' cannot be answered: the connection"), message
    page.reload()
    page.wait_for_function("() => window.__APP__ !== undefined")
    assert page.evaluate(INVOKE, ["greet", {"name": "reloaded"}]) == "Hello, reloaded!"
    # The same when the lost message's call had given up waiting before the connection went:
    # its number is missing all the same.
    result = page.evaluate(
        """async () => {
            const { invoke } = window.__APP__.core;
            const send = WebSocket.prototype.send;
            let dropped = null;
            WebSocket.prototype.send = function (data) {
                WebSocket.prototype.send = send;
                dropped = this;
            };
            const lost = await invoke('greet', { name: 'lost' }, { timeoutMs: 5 }).then(
                (v) => v, (e) => e.code);
            dropped.close();
            await new Promise((resolve) => dropped.addEventListener('close', resolve));
            const after = await invoke('greet', { name: 'after' }).then(
                (v) => v, (e) => [e.code, e.message]);
            return { lost, after };
        }"""
    )
    assert result["lost"] == "timeout"
    code, message = result["after"]
    assert code == "internal" and "Reload the page" in message, result


def test_thousands_of_calls_in_one_turn_are_sealed_in_groups_the_core_takes(
    browser: Browser, app_dir: Path
) -> None:
    """The core opens at most 4096 messages sealed together (what waits for its envelopes is
    kept); the frame seals at most 1024 together, however many the hook lets through at once."""
    with serving(isolation_config(app_dir), windows=2) as served:
        page = open_page(browser, served.urls["main"])
        greeted = page.evaluate(
            """() => Promise.all(Array.from({ length: 5000 }, (_, i) =>
                window.__APP__.core.invoke('greet', { name: String(i) })
                    .then((v) => v, (e) => e.code + ': ' + e.message)))"""
        )
        assert greeted == [f"Hello, {i}!" for i in range(5000)], greeted[:3]


def test_messages_of_one_turn_reach_the_core_in_their_order_whatever_they_carry(
    browser: Browser, app_dir: Path
) -> None:
    """A message with bytes is sealed alone; the text messages after it in the same turn were
    sealed with those before it, and reached the core before it."""
    config = isolation_config(app_dir)
    loaded = json.loads(config.read_text())
    loaded["app"]["security"]["capabilities"][0]["permissions"].append("allow-order-seen")
    config.write_text(json.dumps(loaded))
    with serving(config, windows=2, env={"APP_MODULE": "tests.e2e.order_app"}) as served:
        page = open_page(browser, served.urls["main"])
        page.evaluate("""() => {
            const { emit } = window.__APP__.event;
            const bytes = (n) => ({ n, b: new Uint8Array([n]) });
            return Promise.all([emit('order', { n: 1 }), emit('order', bytes(2)),
                emit('order', { n: 3 }), emit('order', bytes(4)), emit('order', { n: 5 })]);
        }""")
        assert page.evaluate(INVOKE, ["order_seen", {}]) == [1, 2, 3, 4, 5]


# Counts the buffers the page hands its isolation frame: a message's binary values go in one
# buffer of their own, however many there are (each in a buffer of its own, 100,000 small ones
# took postMessage 2 s).
COUNT_MOVED = """(() => {
    const post = MessagePort.prototype.postMessage;
    window.__moved = [];
    MessagePort.prototype.postMessage = function (message, transfer, ...rest) {
        if (message && message.requests) window.__moved.push(transfer ? transfer.length : 0);
        return post.call(this, message, transfer, ...rest);
    };
})();"""


def test_many_binary_values_reach_the_frame_in_one_buffer(browser: Browser, hooked: Served) -> None:
    page = open_page(browser, hooked.urls["main"], COUNT_MOVED)
    page.evaluate(INVOKE, ["greet", {"name": "ready"}])  # (the page's own first calls)
    before = page.evaluate("window.__moved.length")
    back = page.evaluate("""async () => {
        const items = Array.from({ length: 1000 }, (_, i) => new Uint8Array([i & 255, 7]));
        const back = await window.__APP__.core.invoke('echo', { value: items });
        return back.map((b) => Array.from(b));
    }""")
    assert back == [[i & 255, 7] for i in range(1000)]
    assert page.evaluate("window.__moved").pop() == 1
    assert page.evaluate("window.__moved.length") == before + 1
