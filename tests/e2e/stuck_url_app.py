"""The demo in a window whose GUI never tells its URL (as when the window closes while the
question is on its way). Started with ``APP_MODULE=tests.e2e.stuck_url_app``."""

from __future__ import annotations

import threading
from pathlib import Path

import webview

from app.core import App
from app.demo import create_app as demo_app


def create_app(config: str | Path) -> App:
    def never_answered(self: webview.Window) -> str:
        threading.Event().wait()  # the GUI's answer that never comes
        raise AssertionError("unreachable")

    webview.Window.get_current_url = never_answered  # type: ignore[method-assign]
    return demo_app(config)
