"""The demo, with 150 ms between a remote page's address check and its runtime's run, as when
the core's loop is busy: it makes the race of a page that moves on in between show every time.
Started with ``APP_MODULE=tests.e2e.slow_runtime_app``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.core import App, qtguard
from app.demo import create_app as demo_app

_run_in_load = qtguard.run_in_load


def _later(window: Any, script: str, load: int) -> None:
    time.sleep(0.15)
    _run_in_load(window, script, load)


qtguard.run_in_load = _later


def create_app(config: str | Path) -> App:
    return demo_app(config)
