"""The isolation pattern in the real pywebview Qt window (offscreen), driven over CDP."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from tests.window import open_window
from tests.xdisplay import XVFB_ENV, answer_dialog

from .test_isolation_attacks import CUT_OFF_CALLS, HOSTILE, INVOKE, add_cut_off_page
from .test_isolation_browser import examples_app
from .test_isolation_core import isolation_config

pytestmark = pytest.mark.window

OUTCOME = (
    "([cmd, args]) => window.__APP__.core.invoke(cmd, args).then((v) => ({ value: v }), "
    "(e) => ({ code: e.code, message: e.message }))"
)


def test_the_validation_example_and_its_confirm_dialog_in_the_real_window(
    app_dir: Path, display: str, playwright: Playwright
) -> None:
    env = {"DISPLAY": display, **XVFB_ENV}
    with open_window(examples_app(app_dir, "validation"), env=env, playwright=playwright) as window:
        page = window.page("main")
        assert page.evaluate(INVOKE, ["greet", {"name": "Qt"}]) == "Hello, Qt!"
        outside = page.evaluate(OUTCOME, ["read_file", {"path": "frontend/hello.txt"}])
        assert outside["code"] == "blocked"
        start = (
            "(id) => { window.deleting = window.__APP__.core.invoke('delete_item', { id })"
            ".then((v) => ({ value: v }), (e) => ({ code: e.code })); }"
        )
        page.evaluate(start, 1)
        assert "Javascript Confirm" in answer_dialog(display, "Escape")
        assert page.evaluate("window.deleting") == {"code": "blocked"}
        page.evaluate(start, 1)
        answer_dialog(display, "Return")
        assert page.evaluate("window.deleting") == {"value": {"deleted": 1, "name": "Apples"}}
        assert 1 not in [item["id"] for item in page.evaluate(INVOKE, ["list_items", {}])]


def test_a_hostile_script_in_the_real_window_gets_around_nothing(
    app_dir: Path, playwright: Playwright
) -> None:
    with open_window(examples_app(app_dir, None), playwright=playwright) as window:
        page = window.page("main")
        page.evaluate(HOSTILE)
        assert page.evaluate(INVOKE, ["greet", {"name": "first"}]) == "Hello, first!"
        sealed = page.evaluate("window.hostile.sealed()[0]")
        other = window.page("other")
        other.evaluate(HOSTILE)
        assert other.evaluate(INVOKE, ["greet", {"name": "other"}]) == "Hello, other!"
        # Sealed in the other window and held back there, so that it is still unused.
        other.evaluate(
            """() => { window.hostile.holding = true;
                       window.listing = window.__APP__.core.invoke('list_items', {}); }"""
        )
        other.wait_for_function("() => window.hostile.held.length > 0")
        stolen = other.evaluate("JSON.parse(window.hostile.held[0])[0]")
        assert stolen["kind"] == "sealed" and "ct" in stolen
        attempts = [
            {"id": 900001, "kind": "invoke", "cmd": "delete_item", "args": {"id": 2}},
            {"id": 900002, "kind": "invoke", "cmd": "read_config"},
            {"id": 900003},
            {
                "id": 900004,
                "kind": "sealed",
                "kid": sealed["kid"],
                "seq": sealed["seq"] + 1,
                "ct": "",
            },
            sealed,
            {**sealed, "id": 900005},
            {**stolen, "id": 900006},
        ]
        replies = page.evaluate("(m) => window.hostile.send(m)", attempts)
        assert [r["error"]["code"] for r in replies] == ["protocol"] * len(attempts), replies
        assert "made for another window" in replies[-1]["error"]["message"], replies[-1]
        # Refused on main's socket, it was not spent: released, the other window's call runs.
        other.evaluate("window.hostile.release()")
        assert {"id": 2, "name": "Pears"} in other.evaluate("window.listing")
        assert 2 in [item["id"] for item in page.evaluate(INVOKE, ["list_items", {}])]
        frame = page.evaluate(
            """() => { const f = document.querySelector('iframe');
                       let document_ = 'readable';
                       try { f.contentWindow.document; } catch (e) { document_ = e.name; }
                       return [f.contentDocument === null, document_]; }"""
        )
        assert frame == [True, "SecurityError"]
        removed = page.evaluate(
            """() => { document.querySelector('iframe').remove();
                       return window.__APP__.core.invoke('greet', { name: 'x' })
                           .catch((e) => e.code); }"""
        )
        assert removed == "blocked"
        assert other.evaluate(INVOKE, ["greet", {"name": "still"}]) == "Hello, still!"


def test_a_script_cannot_cut_the_page_off_from_its_frame_in_the_real_window(
    app_dir: Path, playwright: Playwright
) -> None:
    """As in Chromium (test_isolation_attacks.py): a page script that would take the frame's
    channel, or stop what is posted on channels, leaves no call waiting."""
    add_cut_off_page(app_dir / "frontend")
    with open_window(examples_app(app_dir, None), playwright=playwright) as window:
        page = window.page("main")
        page.on("dialog", lambda dialog: dialog.dismiss())
        page.goto(page.url.rsplit("/", 1)[0] + "/cut-off.html")
        page.wait_for_function("() => window.__APP__ !== undefined")
        assert page.evaluate(CUT_OFF_CALLS) == ["Hello, x!", "blocked"]
        assert page.evaluate("window.stolen") == 0


def test_a_hook_that_awaits_a_timer_is_not_slowed_in_the_real_window(
    app_dir: Path, playwright: Playwright
) -> None:
    """Chromium slows the timers of a cross-origin frame that is not rendered, or out of sight,
    to one a second: with the frame display: none, every call of a hook that awaited a 100 ms
    timer took 1 s in the Qt window, and with hookTimeoutMs 800 was blocked."""
    hook = """window.__ISOLATION_HOOK__ = (payload) =>
        new Promise((resolve) => setTimeout(() => resolve(payload), 100));"""
    config = isolation_config(app_dir, hook, hook_timeout_ms=800)
    with open_window(config, playwright=playwright) as window:
        page = window.page("main")
        outcomes = [page.evaluate(OUTCOME, ["greet", {"name": str(n)}]) for n in range(4)]
        assert outcomes == [{"value": f"Hello, {n}!"} for n in range(4)], outcomes
        # Nor when the page's style sheet would move or clip the frame out of sight.
        page.evaluate("""() => { const style = document.createElement('style');
            style.textContent = 'iframe { margin: -5px; transform: translate(-5px, -5px); '
                + 'clip-path: inset(50%) }';
            document.head.append(style); }""")
        outcomes = [page.evaluate(OUTCOME, ["greet", {"name": str(n)}]) for n in range(4)]
        assert outcomes == [{"value": f"Hello, {n}!"} for n in range(4)], outcomes
