"""The demo, with a command that writes what a page tells it to the log: a page in the real
window reports through it when no CDP client may be attached. Started with
``APP_MODULE=tests.e2e.notes_app``."""

from __future__ import annotations

import logging
from pathlib import Path

from app.core import App
from app.demo import create_app as demo_app

log = logging.getLogger("tests.notes")


def create_app(config: str | Path) -> App:
    app = demo_app(config)

    @app.command
    def note(text: str) -> None:
        log.warning("note: %s", text)

    return app
