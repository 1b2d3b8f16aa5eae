"""The shell subject's app: echo, binary both ways and a burst of events.

Started by the CLI as ``APP_MODULE=benchmarks.subjects.shell_app python -m app [serve] --config
benchmarks/configs/<pattern>.conf.json``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from app.core import App, load_config

from .host_env import plain_pages
from .payload import blob

__all__ = ["create_app"]


def create_app(config: str | Path) -> App:
    loaded = load_config(config)
    if plain_pages():  # the configs' cross-origin isolation headers, left out
        security = loaded.model.app.security.model_copy(update={"headers": {}})
        section = loaded.model.app.model_copy(update={"security": security})
        loaded = dataclasses.replace(
            loaded, model=loaded.model.model_copy(update={"app": section})
        )
    app = App(loaded)

    # Sync commands, as most apps write them: they run on the core's thread pool, like
    # pywebview runs js_api methods on threads of their own.
    @app.command
    def echo(value: Any) -> Any:
        return value

    @app.command
    async def echo_async(value: Any) -> Any:
        # Runs on the core's loop: set against ``echo`` it shows what the thread hop costs.
        return value

    @app.command
    def clock() -> float:
        # The page puts its clock on Python's with it (events' delivery, start-up).
        return time.time() * 1000

    @app.command
    def upload(data: bytes) -> int:
        return len(data)

    @app.command
    def download(size: int) -> bytes:
        return blob(size)

    @app.command
    def emit_events(count: int, interval_ms: float = 0) -> int:
        # A worker thread pushing events, as a backend job reporting progress would.
        for i in range(count):
            app.emit("bench-event", {"e": 1, "i": i, "t": time.time() * 1000})
            if interval_ms:
                time.sleep(interval_ms / 1000)
        return count

    return app
