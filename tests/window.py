"""The real pywebview Qt window (offscreen), driven with Playwright over CDP.

``open_window(config)`` starts ``python -m app --config <config>`` with Qt WebEngine's remote
debugging on a free loopback port, connects Playwright to it and yields the window's page once
its runtime is up. On exit the process gets SIGTERM, which closes the windows; the test can
check ``window.exit_code`` afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class NativeWindow:
    process: subprocess.Popen[str]
    cdp_url: str
    log: list[str] = field(default_factory=list)
    exit_code: int | None = None
    browser: Browser | None = None

    def pages(self) -> list[Page]:
        assert self.browser is not None
        return [p for c in self.browser.contexts for p in c.pages]

    def page(self, label: str = "main", timeout: float = START_TIMEOUT) -> Page:
        """The page of window ``label``, once its runtime has defined ``window.__APP__``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for page in self.pages():
                try:
                    if page.evaluate("window.__APP__ && window.__APP__.window.label") == label:
                        return page
                except Exception:  # page still navigating
                    continue
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise TimeoutError(f"window {label!r} did not come up:\n" + "\n".join(self.log[-30:]))

    def page_processes(self) -> list[int]:
        """The processes of the window's pages: Qt WebEngine's renderers, which its zygote
        process (a child of the app's) starts."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:  # ended meanwhile
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        zygotes = {pid for pid, parent in parents.items() if parent == self.process.pid}
        return [pid for pid, parent in parents.items() if parent in zygotes]

    def attach_again(self, playwright: Playwright) -> None:
        """Connect to the window anew over CDP: Playwright gives up on a page whose process
        ended, even once the window has loaded it again."""
        self.browser = playwright.chromium.connect_over_cdp(self.cdp_url, no_defaults=True)

    def wait_closed(self, label: str, timeout: float = 30) -> None:
        """Wait until no page is window ``label`` any more (a closing page may fail to answer,
        which counts as not being that window)."""
        deadline = time.monotonic() + timeout
        while True:
            labels = []
            for page in self.pages():
                if page.is_closed():
                    continue
                try:
                    labels.append(page.evaluate("window.__APP__ && window.__APP__.window.label"))
                except Exception:  # closing, or closed under our feet
                    continue
            if label not in labels:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"window {label!r} did not close:\n" + "\n".join(self.log[-30:]))
            time.sleep(0.1)


def _wait_for_cdp(window: NativeWindow) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if window.process.poll() is not None:
            raise RuntimeError(
                "the app exited before its window came up:\n" + "\n".join(window.log)
            )
        try:
            with urllib.request.urlopen(window.cdp_url + "/json/version", timeout=1) as response:
                json.load(response)
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("Qt WebEngine's remote debugging did not answer:\n" + "\n".join(window.log))


def launch(
    config: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], int]:
    """Start ``python -m app --config <config>`` offscreen, its output (stdout and stderr) on
    the process's stdout; return it and the port of Qt WebEngine's remote debugging."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "QTWEBENGINE_DISABLE_SANDBOX": "1",
            "QTWEBENGINE_REMOTE_DEBUGGING": f"127.0.0.1:{port}",
            **(env or {}),
        },
    )
    return process, port


def read_output(
    process: subprocess.Popen[str], log: list[str], each: Callable[[str], None] | None = None
) -> threading.Thread:
    """Append the lines ``process`` writes to ``log`` (then call ``each`` with each), on a
    thread of its own; return the thread, which ends when the output does."""

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line.rstrip())
            if each is not None:
                each(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return reader


@contextmanager
def open_window(
    config: Path, env: dict[str, str] | None = None, playwright: Playwright | None = None
) -> Iterator[NativeWindow]:
    """Run the app in its real Qt window and connect to it over CDP."""
    owned = sync_playwright().start() if playwright is None else None
    pw = owned or playwright
    assert pw is not None
    process, port = launch(config, env)
    window = NativeWindow(process, f"http://127.0.0.1:{port}")
    reader = read_output(process, window.log)
    try:
        _wait_for_cdp(window)
        # Over CDP into Qt WebEngine, Playwright must not manage contexts, and the
        # connection must not be closed from here (it would take the window with it).
        window.browser = pw.chromium.connect_over_cdp(window.cdp_url, no_defaults=True)
        yield window
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            window.exit_code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            window.exit_code = process.wait(timeout=10)
        reader.join(timeout=10)  # the log is whole once the process's output has ended
        if owned is not None:
            owned.stop()
