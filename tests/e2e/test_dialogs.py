"""A page's JavaScript dialogs in the real Qt window, answered with key presses under Xvfb.

They are modal to the whole app, and a page could show them without end, with no way to stop
it: pywebview's alert() does not even wait for its answer, so a loop of them opened as many
dialogs, one inside another."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from tests.conftest import wait_for_log
from tests.window import NativeWindow, open_window
from tests.xdisplay import XVFB_ENV, answer_dialog, shown

from .conftest import main_window_config
from .test_isolation_browser import examples_app

pytestmark = pytest.mark.window

# "Don't let this page show more dialogs", checked (from the OK button, which has the focus;
# its Alt+D does not work here: with no window manager, Qt does not take the dialog for active)
STOP = ("shift+Tab", "space")


@pytest.fixture
def window(app_dir: Path, display: str, playwright: Playwright) -> Iterator[NativeWindow]:
    """The app with window "main", on the virtual display."""
    env = {"DISPLAY": display, **XVFB_ENV}
    with open_window(main_window_config(app_dir), env=env, playwright=playwright) as opened:
        yield opened


def test_a_page_showing_dialogs_without_end_can_be_stopped(
    window: NativeWindow, display: str
) -> None:
    page = window.page("main")
    page.evaluate("setTimeout(() => { window.typed = prompt('Who?', 'x'); })")
    answer_dialog(display, "shift+a", "d", "a", "Return", title="^Javascript Prompt")  # not 'x'
    page.wait_for_function("window.typed !== undefined")
    assert page.evaluate("window.typed") == "Ada"
    page.evaluate("""setTimeout(() => {
        const answers = [];
        for (let i = 0; i < 50; i++) answers.push(confirm('Again ' + i));
        window.answers = answers;
    })""")
    answer_dialog(display, "Escape")
    answer_dialog(display, *STOP, "Return")  # stop them, and accept this one
    page.wait_for_function("window.answers !== undefined", timeout=10_000)
    assert page.evaluate("window.answers") == [False, True] + [False] * 48
    wait_for_log(window.log, "window 'main': the dialogs of its pages are stopped")
    # For good: a page that found its dialogs stopped could reload itself to start over, or go
    # to another origin.
    page.evaluate("location.reload()")
    page = window.page("main")
    page.wait_for_function("window.__APP__ && !window.answers")  # the new page
    assert page.evaluate("[confirm('Back?'), prompt('?', 'x'), alert('!')]") == [False, None, None]
    with elsewhere() as other:  # a server of another origin, that the page goes to
        page.evaluate(f"location = {other!r}")
        page.wait_for_url(other)
        assert page.evaluate("confirm('From elsewhere?')") is False


@contextmanager
def elsewhere() -> Iterator[str]:
    """A page of another origin (another port), served while the context lasts; its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>elsewhere</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_pywebviews_alerts_come_one_at_a_time_and_can_be_stopped(
    window: NativeWindow, display: str
) -> None:
    """pywebview replaces a page's alert() with a call of its own that does not wait."""
    page = window.page("main")
    # pywebview's alert() goes through its QWebChannel, which may connect after the page has
    # loaded; before, it throws (and the loop below would show nothing).
    page.wait_for_function("String(window.alert).includes('pywebview') && "
                           "window.pywebview._QWebChannel?.objects?.external !== undefined")
    # (After the evaluation's answer: a dialog holds up what CDP answers until it closes.)
    page.evaluate("setTimeout(() => { for (let i = 0; i < 30; i++) alert('Number ' + i); })")
    title = answer_dialog(display, "Return", title="^Javascript Alert")
    assert title.startswith("Javascript Alert - http://127.0.0.1:")
    assert len(shown(display, "^Javascript Alert")) <= 1
    answer_dialog(display, *STOP, "Return", title="^Javascript Alert")
    wait_for_log(window.log, "window 'main': the dialogs of its pages are stopped")
    assert shown(display, "^Javascript Alert") == []
    # The rest were not shown; confirm() is answered at once too.
    assert page.evaluate("confirm('Still there?')") is False


def test_a_page_that_stops_its_own_dialogs_leaves_the_isolation_hooks_alone(
    app_dir: Path, display: str, playwright: Playwright
) -> None:
    """The hook's confirm() is the app's: a page that shows dialogs until the user stops them
    does not silence it (its calls would be refused with no dialog)."""
    env = {"DISPLAY": display, **XVFB_ENV}
    with open_window(examples_app(app_dir, "validation"), env=env,
                     playwright=playwright) as window:
        page = window.page("main")
        page.evaluate("setTimeout(() => { window.answers = [confirm('1'), confirm('2')]; })")
        answer_dialog(display, "Return")
        answer_dialog(display, *STOP, "Return")
        page.wait_for_function("window.answers !== undefined")
        page.evaluate("""() => { window.deleting = window.__APP__.core.invoke('delete_item',
            { id: 1 }).then((v) => v, (e) => e.code); }""")
        answer_dialog(display, "Return")  # the hook's, shown
        assert page.evaluate("window.deleting") == {"deleted": 1, "name": "Apples"}
