"""pywebview's own bridge, the baseline: a Qt window whose ``js_api`` echoes.

``python -m benchmarks.subjects.jsapi_app`` opens it; there is no headless form (the bridge
only exists inside a pywebview window).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from typing import Any

import webview

from .host_env import WEB, qt_environment

__all__ = ["Api", "main"]


class Api:
    """What the page sees as ``window.pywebview.api``; names with ``_`` stay private."""

    def __init__(self) -> None:
        self._window: Any = None

    def echo(self, value: Any) -> Any:
        return value

    def clock(self) -> float:
        return time.time() * 1000

    def emit_events(self, count: int, interval_ms: float = 0) -> int:
        threading.Thread(target=self._emit, args=(count, interval_ms), daemon=True).start()
        return count

    def _emit(self, count: int, interval_ms: float) -> None:
        # evaluate_js is how pywebview code pushes to the page; each call waits for the page.
        for i in range(count):
            event = json.dumps({"e": 1, "i": i, "t": time.time() * 1000})
            self._window.evaluate_js(f"window.__benchSink({event})")
            if interval_ms:
                time.sleep(interval_ms / 1000)


def main() -> None:
    qt_environment()
    api = Api()
    window = webview.create_window("IPC benchmark: js_api", url=str(WEB / "jsapi.html"),
                                   js_api=api, width=800, height=600)
    assert window is not None
    api._window = window
    signal.signal(signal.SIGTERM, lambda *_: window.destroy())
    webview.start(gui="qt", private_mode=True)


if __name__ == "__main__":
    main()
