"""A virtual X display (Xvfb) for the real window, and xdotool to find and answer its dialogs.

Qt WebEngine does not report JavaScript dialogs over CDP (nor take Page.handleJavaScriptDialog),
so a test answers the window's dialogs as a user would, with key presses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

XVFB_ENV = {"QT_QPA_PLATFORM": "xcb"}


@contextmanager
def virtual_display() -> Iterator[str]:
    """Start Xvfb; yield its ``DISPLAY``."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.skip("answering the real window's dialogs needs Xvfb and xdotool (apt)")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as numbers:
        number = numbers.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def xdotool(display: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
        text=True, timeout=30, check=check,
    )


def shown(display: str, title: str) -> list[str]:
    """The windows shown now whose title matches the regular expression ``title``."""
    return xdotool(display, "search", "--onlyvisible", "--name", title, check=False).stdout.split()


def answer_dialog(display: str, *keys: str, title: str = "^Javascript Confirm") -> str:
    """Wait for a window whose title matches ``title`` (the window's JavaScript dialog), press
    ``keys`` in it; return its title."""
    found = xdotool(display, "search", "--sync", "--onlyvisible", "--name", title).stdout.split()
    name = xdotool(display, "getwindowname", found[0]).stdout.strip()
    xdotool(display, "windowfocus", "--sync", found[0], "key", *keys)
    return name
