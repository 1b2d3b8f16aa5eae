"""What the subjects' own processes share: the web folder, and Qt WebEngine's environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["PLAIN_PAGES", "WEB", "plain_pages", "qt_environment"]

WEB = Path(__file__).resolve().parent.parent / "web"

PLAIN_PAGES = {"BENCH_PLAIN_PAGES": "1"}
"""The environment of a launch whose pages are not cross-origin isolated (for start-up)."""


def plain_pages() -> bool:
    """Whether this launch's pages go without the cross-origin isolation headers: measured, a
    page with them costs a load a renderer of its own, which js_api's page does not pay."""
    return os.environ.get("BENCH_PLAIN_PAGES") == "1"


def qt_environment() -> None:
    """Set what Qt WebEngine needs on this machine, as the shell's native module does."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
