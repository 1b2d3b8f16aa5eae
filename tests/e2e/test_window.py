"""The shell in its real pywebview Qt window (offscreen), driven over CDP."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.window import open_window

from .conftest import brownfield_config

pytestmark = pytest.mark.window


def test_invoke_and_events_in_the_real_window_then_close_it(app_dir: Path) -> None:
    config = brownfield_config(app_dir)
    with open_window(config) as window:
        page = window.page("main")
        assert page.evaluate("window.__APP__.core.invoke('greet', {name: 'Qt'})") == "Hello, Qt!"
        clock = page.evaluate(
            "new Promise((r) => window.__APP__.event.once('clock', (e) => r(e.payload)))")
        assert "now" in clock
        pong = page.evaluate(
            """new Promise(async (r) => {
                await window.__APP__.event.listen('pong', (e) => r(e.payload));
                await window.__APP__.event.emit('ping', 'from Qt');
            })""")
        assert pong == {"received": "from Qt", "from": "main"}
        settings = window.page("settings")
        assert settings.evaluate("window.__APP__.window.label") == "settings"
        # Closing one window leaves the app running; Ctrl-C then ends it cleanly.
        page.evaluate("setTimeout(() => window.__APP__.core.invoke('close_window'), 0)")
        # One window is still open: the app goes on, and that window still gets answers.
        assert settings.evaluate("window.__APP__.core.invoke('greet', {name: 'y'})") == "Hello, y!"
        assert window.process.poll() is None
        window.process.send_signal(signal.SIGINT)
        assert window.process.wait(timeout=30) == 0


def test_closing_the_last_window_ends_the_app(app_dir: Path) -> None:
    config = app_dir / "app.conf.json"
    brownfield_config(app_dir)
    data = json.loads(config.read_text())
    data["app"]["windows"] = data["app"]["windows"][:1]
    config.write_text(json.dumps(data))
    with open_window(config) as window:
        page = window.page("main")
        page.evaluate("setTimeout(() => window.__APP__.core.invoke('close_window'), 0)")
        assert window.process.wait(timeout=30) == 0
    assert "Traceback" not in "\n".join(window.log)
