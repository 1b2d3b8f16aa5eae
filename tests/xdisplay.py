"""A virtual X display (Xvfb) for the real window, and xdotool to find and answer its dialogs.

Qt WebEngine does not report JavaScript dialogs over CDP (nor take Page.handleJavaScriptDialog),
so a test answers the window's dialogs as a user would, with key presses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
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
    done = subprocess.run(
        ["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
        text=True, timeout=30,
    )
    if check and done.returncode:
        raise RuntimeError(f"xdotool {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


def shown(display: str, title: str) -> list[str]:
    """The windows shown now whose title matches the regular expression ``title``.

    A window that goes away while xdotool looks at it (a dialog that was just answered) kills
    xdotool with an X error (BadWindow); that search is made again.
    """
    for _ in range(20):
        done = xdotool(display, "search", "--onlyvisible", "--name", title, check=False)
        if "X Error" in done.stderr:
            continue
        if done.returncode and done.stderr.strip():  # not "none found": the display, say
            raise RuntimeError(f"xdotool could not search the windows of {display}: "
                               f"{done.stderr}")
        return done.stdout.split()
    raise RuntimeError(f"xdotool could not search the windows of {display}: {done.stderr}")


def wait_for_window(display: str, title: str, timeout: float = 30) -> str:
    """The first window shown whose title matches ``title``, once there is one."""
    deadline = time.monotonic() + timeout
    while not (found := shown(display, title)):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no window titled {title!r} was shown within {timeout} s")
        time.sleep(0.05)
    return found[0]


def answer_dialog(display: str, *keys: str, title: str = "^Javascript Confirm") -> str:
    """Wait for a window whose title matches ``title`` (the window's JavaScript dialog), press
    ``keys`` in it, and wait for it to close; return its title."""
    window = wait_for_window(display, title)
    name = xdotool(display, "getwindowname", window).stdout.strip()
    xdotool(display, "windowfocus", "--sync", window, "key", *keys)
    deadline = time.monotonic() + 30
    while window in shown(display, title):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"dialog {name!r} stayed open after the keys {keys}")
        time.sleep(0.05)
    return name
