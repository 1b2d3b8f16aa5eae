"""The demo, with a record of the "order" events that reach the core, in the order they reach
it (``order_seen``). Started with ``APP_MODULE=tests.e2e.order_app``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core import App, Event
from app.demo import create_app as demo_app


def create_app(config: str | Path) -> App:
    app = demo_app(config)
    seen: list[Any] = []

    async def note(event: Event) -> None:  # on the loop, in the order they came
        seen.append(event.payload["n"])

    app.listen("order", note)

    @app.command
    def order_seen() -> list[Any]:
        return seen

    return app
