"""Capabilities in Chromium: two windows with different grants, sub-frames, scopes and events.

The app is the demo's commands with a config of its own: window "main" holds the inline
capability "main-window", window "settings" the shipped file capabilities/settings-window.json,
and the sub-frame /widget.html of "main" holds "widgets" (greet, delete_item) and the deny of
"widget-limits" (delete_item), which must not reach main's own page.
"""

from __future__ import annotations

import asyncio
import json
import queue
import re
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page

from app.demo import create_app
from tests.conftest import ROOT, Served, serving, wait_for_log

PAGE = "<!doctype html><html><head><title>{}</title></head><body></body></html>"
CALL = """([cmd, args]) => window.__APP__.core.invoke(cmd, args).then(
    (value) => ({ value }),
    (e) => ({ code: e.code, message: e.message, data: e.data ?? null,
              isError: e instanceof Error }))"""


def make_app(folder: Path, capabilities: list[Any], windows: list[str]) -> Path:
    web = folder / "web"
    (web / "secret").mkdir(parents=True)
    for name in ("index", "widget", "other"):
        (web / f"{name}.html").write_text(PAGE.format(name))
    (web / "hello.txt").write_text("hello from web")
    (web / "secret" / "key.txt").write_text("the key")
    (folder / "outside.txt").write_text("outside")
    (web / "link-out.txt").symlink_to(folder / "outside.txt")
    (web / "alias").symlink_to(web / "secret")
    shutil.copytree(ROOT / "capabilities", folder / "capabilities")
    config = {
        "identifier": "com.example.acl",
        "build": {"frontendDist": "web"},
        "app": {
            "windows": [{"label": label, "url": "index.html"} for label in windows],
            "security": {"capabilities": capabilities},
        },
    }
    path = folder / "app.conf.json"
    path.write_text(json.dumps(config))
    return path


MAIN_WINDOW = {
    "identifier": "main-window",
    "windows": ["main"],
    "permissions": [
        "allow-greet", "allow-list-items", "allow-delete-item",
        {"identifier": "allow-read-file", "allow": [{"path": "$APP/web/**"}],
         "deny": [{"path": "$APP/web/secret/**"}]},
        "core:event:default",
    ],
}
WIDGETS = {"identifier": "widgets", "windows": ["main"], "local": False,
           "remote": {"urls": ["/widget.html"]},
           "permissions": ["allow-greet", "allow-delete-item"]}
WIDGET_LIMITS = {"identifier": "widget-limits", "windows": ["*"], "local": False,
                 "remote": {"urls": ["/widget.html"]}, "permissions": ["deny-delete-item"]}


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    config = make_app(tmp_path, [MAIN_WINDOW, WIDGETS, WIDGET_LIMITS, "settings-window"],
                      ["main", "settings"])
    with serving(config, windows=2) as served:
        yield served


def open_window(browser: Browser, url: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(url)
    page.wait_for_function("() => window.__APP__ !== undefined")
    return page


def call(where: Page | Frame, cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = where.evaluate(CALL, [cmd, args or {}])
    return result


def add_frame(page: Page, src: str) -> Frame:
    page.evaluate("(src) => { const f = document.createElement('iframe'); f.src = src; "
                  "document.body.append(f); }", src)
    page.wait_for_function("(src) => [...document.querySelectorAll('iframe')].some("
                           "(f) => f.contentWindow && f.contentWindow.__APP__ !== undefined "
                           "&& f.getAttribute('src') === src)", arg=src)
    frame = next(f for f in page.frames if f.url.endswith("/" + src))
    return frame


def test_each_window_gets_only_its_own_capabilities(browser: Browser, served: Served) -> None:
    main = open_window(browser, served.urls["main"])
    settings = open_window(browser, served.urls["settings"])
    assert call(main, "greet", {"name": "main"}) == {"value": "Hello, main!"}
    assert call(settings, "greet", {"name": "settings"}) == {"value": "Hello, settings!"}
    assert "theme" in call(settings, "read_config")["value"]
    assert call(main, "delete_item", {"id": 1})["value"] == {"deleted": 1, "name": "Apples"}

    denied = call(settings, "delete_item", {"id": 2})
    assert denied["code"] == "forbidden" and denied["isError"]
    message = denied["message"]
    origin = settings.evaluate("location.origin")
    for part in ("'delete_item'", "window 'settings'", f"the local frontend, {origin}",
                 '"allow-delete-item"', "capability 'settings-window'",
                 "capabilities/settings-window.json"):
        assert part in message
    assert denied["data"]["permission"] == "allow-delete-item"
    # Item 2 is still there: the denied call did not run.
    assert {"id": 2, "name": "Pears"} in call(main, "list_items")["value"]
    # Authorization comes before argument checks: bad arguments still get 'forbidden'.
    assert call(settings, "delete_item", {"id": "not a number"})["code"] == "forbidden"
    assert call(settings, "read_file", {"path": "web/hello.txt"})["code"] == "forbidden"
    wait_for_log(served.log, re.escape("denied: 'delete_item' is not allowed in window 'settings'"))


def test_events_follow_each_windows_capabilities(browser: Browser, served: Served) -> None:
    main = open_window(browser, served.urls["main"])
    settings = open_window(browser, served.urls["settings"])
    main.evaluate("window.__APP__.event.listen('note', (e) => { window.got = e.payload; })")
    settings.evaluate("window.__APP__.event.emitTo('main', 'note', {from: 'settings'})")
    main.wait_for_function("() => window.got !== undefined")
    assert main.evaluate("window.got") == {"from": "settings"}


def test_a_subframe_gets_only_what_a_capability_names(browser: Browser, served: Served) -> None:
    main = open_window(browser, served.urls["main"])
    widget = add_frame(main, "widget.html")
    assert call(widget, "greet", {"name": "widget"}) == {"value": "Hello, widget!"}

    # The deny of widget-limits applies in the widget's context...
    denied = call(widget, "delete_item", {"id": 3})
    assert denied["code"] == "forbidden"
    assert "capability 'widget-limits' denies it with 'deny-delete-item'" in denied["message"]
    assert "a sub-frame at http://127.0.0.1:" in denied["message"]
    assert "and 'allow-delete-item' allows this" in denied["message"]
    # ... and only there: main's own page may still delete.
    assert call(main, "delete_item", {"id": 3})["value"]["deleted"] == 3

    not_granted = call(widget, "list_items")
    assert not_granted["code"] == "forbidden"
    assert "no capability for this window and origin grants 'allow-list-items'" in \
        not_granted["message"]
    listen = widget.evaluate("window.__APP__.event.listen('clock', () => {}).then("
                             "() => 'listening', (e) => e.code + ': ' + e.message)")
    assert listen.startswith("forbidden: Listening to event 'clock'")

    other = add_frame(main, "other.html")
    unnamed = call(other, "greet", {"name": "other"})
    assert unnamed["code"] == "forbidden"
    assert "get no IPC unless a capability names their URL" in unnamed["message"]
    assert 'add "/other.html" to "remote.urls"' in unnamed["message"]
    # It may send only small messages (its calls are all denied): its runtime says so.
    large = call(other, "greet", {"name": "x" * 100_000})
    assert large["code"] == "invalid_args", large
    assert large["message"].endswith("over the limit of 65536 bytes for a page that no "
                                     "capability covers, whose calls are all denied."), large


def test_a_sandboxed_subframe_is_told_it_gets_no_ipc(browser: Browser, served: Served) -> None:
    """A frame sandboxed without allow-same-origin has an opaque origin, which no capability
    can name (widget.html is granted greet as a frame of the app's origin): its calls are
    forbidden at once, saying why, where and in which window, and the core logs the denial."""
    main = open_window(browser, served.urls["main"])
    with main.expect_event("framenavigated",
                           predicate=lambda f: f.url.endswith("/widget.html")) as navigated:
        main.evaluate("() => { const f = document.createElement('iframe'); "
                      "f.src = 'widget.html'; f.sandbox = 'allow-scripts'; "
                      "document.body.append(f); }")
    frame = navigated.value
    frame.wait_for_function("() => window.__APP__ !== undefined")
    assert frame.evaluate("window.origin") == "null"
    widget = frame.url.split("?")[0]
    for _ in range(2):  # the same answer once the core has refused the socket
        refused = call(frame, "greet", {"name": "sandboxed"})
        assert refused["code"] == "forbidden", refused
        assert refused["message"].startswith(
            f"'greet' is not allowed in window 'main' from a sandboxed frame at {widget}: its "
            "origin is opaque, so no capability can allow it"), refused
        assert refused["data"] == {"window": "main", "origin": widget, "originKind": "subframe",
                                   "opaque": True}, refused
        wait_for_log(served.log, f"denied: IPC of window 'main' from a sub-frame at {widget}, "
                                 "which is sandboxed: its origin is opaque")
    assert call(main, "greet", {"name": "main"}) == {"value": "Hello, main!"}


def test_a_page_of_another_local_server_cannot_frame_or_open_a_window(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    """Another server on 127.0.0.1 is another origin but the same site: the browser sends it,
    and the pages it serves, the window's cookie. Its page frames the widget (which a capability
    names) and opens the frontend in the window's own browser: neither gets the runtime."""
    context = browser.new_context()
    main = context.new_page()
    main.goto(served.urls["main"])
    main.wait_for_function("() => window.__APP__ !== undefined")
    origin = main.evaluate("location.origin")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(
        f'<!doctype html><iframe src="{origin}/widget.html"></iframe>'
    )
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path / "site"))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        other = context.new_page()
        with other.expect_response(f"{origin}/widget.html") as framed:
            other.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        assert framed.value.status == 403
        frame = next(f for f in other.frames if f.url == f"{origin}/widget.html")
        assert frame.evaluate("typeof window.__APP__") == "undefined"
        with context.expect_page() as opened:
            other.evaluate("(url) => { window.open(url); }", f"{origin}/index.html")
        popup = opened.value
        popup.wait_for_load_state()
        assert popup.evaluate("typeof window.__APP__") == "undefined"
        assert "open it through the window's launch URL" in popup.content()
    finally:
        server.shutdown()
        server.server_close()
    # The window itself goes on.
    assert call(main, "greet", {"name": "main"}) == {"value": "Hello, main!"}


READS = {
    "web/hello.txt": True,
    "web//hello.txt": True,
    "web/secret/../hello.txt": True,
    "web/secret/key.txt": False,
    "web/alias/key.txt": False,
    "web/link-out.txt": False,
    "web/../outside.txt": False,
    "app.conf.json": False,
}


def test_read_file_stays_in_its_scope(browser: Browser, served: Served) -> None:
    main = open_window(browser, served.urls["main"])
    where = f"window 'main' (the local frontend, {main.evaluate('location.origin')})"
    for path, allowed in READS.items():
        result = call(main, "read_file", {"path": path})
        if allowed:
            assert result == {"value": "hello from web"}, path
        else:
            assert result["code"] == "forbidden", (path, result)
            assert f"'read_file' in {where} may not use" in result["message"], result


def test_a_window_opened_later_gets_the_capabilities_its_label_matches(
    browser: Browser, tmp_path: Path
) -> None:
    tools = {"identifier": "tools", "windows": ["tool-*"], "permissions": ["allow-list-items"]}
    app = create_app(make_app(tmp_path, [MAIN_WINDOW, tools], ["main"]))
    ready: queue.Queue[dict[str, str]] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=app.serve, kwargs={"on_ready": ready.put, "stop": stop})
    thread.start()
    try:
        ready.get(timeout=30)
        assert app.core is not None and app.core.loop is not None
        opened = asyncio.run_coroutine_threadsafe(app.open_window("tool-1"), app.core.loop)
        url = opened.result(timeout=30)
        tool = open_window(browser, url)
        assert tool.evaluate("window.__APP__.window.label") == "tool-1"
        assert len(call(tool, "list_items")["value"]) == 4
        denied = call(tool, "greet", {"name": "tool"})
        assert denied["code"] == "forbidden" and "window 'tool-1'" in denied["message"]
        assert "capability 'tools' (app.conf.json $.app.security.capabilities[1])" in \
            denied["message"]
    finally:
        stop.set()
        thread.join(timeout=30)
