"""The demo, with commands that show on which thread pywebview's Qt windows are deleted.
Started with ``APP_MODULE=tests.e2e.qt_deletions_app``."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from app.core import App
from app.demo import create_app as demo_app


def create_app(config: str | Path) -> App:
    app = demo_app(config)
    deleted_on: list[str] = []
    watched: set[int] = set()

    @app.command
    def watch_windows() -> int:
        """Note the thread on which each Qt window of pywebview's that exists now is deleted."""
        from qtpy.QtCore import Qt
        from webview.platforms.qt import BrowserView

        views = [o for o in gc.get_objects() if isinstance(o, BrowserView)]
        for view in views:
            if id(view) not in watched:
                watched.add(id(view))
                # (Qt's signal: Python's collector, deleting a window it owns, sends none.)
                view.destroyed.connect(
                    lambda *_: deleted_on.append(threading.current_thread().name),
                    Qt.ConnectionType.DirectConnection,
                )
        return len(views)

    @app.command
    def collect_garbage() -> list[str]:
        """Run Python's collector here, on a command thread; the threads windows died on."""
        gc.collect()
        return deleted_on

    return app
