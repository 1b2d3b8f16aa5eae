"""Where a subject's page runs: a real pywebview Qt window over CDP, or headless Chromium.

Either way the runner gets a Playwright ``Page`` whose measuring script is up and whose first
call has resolved (or failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, Playwright
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from .process import SubjectProcess
from .subjects.base import Host

__all__ = [
    "CHROMIUM", "CHROMIUM_ARGS", "Detach", "HeadlessChromium", "PageHost", "QtWindow", "wait_ready",
]

# Debian's Chromium where it is installed; otherwise Playwright's own build (None).
CHROMIUM = os.environ.get("CHROMIUM") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

Detach = Callable[[], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _status(page: Page) -> dict[str, Any] | None:
    try:
        status = await page.evaluate("window.__BENCH__ ? window.__BENCH__.status() : null")
    except Exception:  # the page is navigating (the shell's launch URL redirects)
        return None
    return status if isinstance(status, dict) else None


async def wait_ready(page: Page, process: SubjectProcess, timeout: float) -> dict[str, Any]:
    """Wait for the page's first call to resolve; return ``__BENCH__.status()``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await _status(page)
        if status and status.get("failure"):
            raise RuntimeError(f"the page's first call failed: {status['failure']}")
        if status and status.get("first"):
            return status
        if not process.alive():
            break
        await asyncio.sleep(0.02)
    raise RuntimeError(f"the page's first call did not resolve ({process.why()})")


class PageHost(ABC):
    name: Host

    def env(self) -> dict[str, str]:
        """Environment for the next subject process started on this host."""
        return {}

    @abstractmethod
    async def attach(self, process: SubjectProcess, timeout: float) -> tuple[Page, Detach]:
        """The subject's page, and how to let go of it."""


class HeadlessChromium(PageHost):
    """One headless Chromium for the whole run; each subject gets a fresh context."""

    name: Host = "headless"

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self.browser: Browser | None = None

    async def start(self) -> None:
        self.browser = await self.playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )

    async def close(self) -> None:
        if self.browser is not None:
            await self.browser.close()

    async def attach(self, process: SubjectProcess, timeout: float) -> tuple[Page, Detach]:
        assert self.browser is not None, "start() the host first"
        url = await process.url(timeout)
        context = await self.browser.new_context()
        page = await context.new_page()
        await page.goto(url)
        return page, context.close


class QtWindow(PageHost):
    """The subject opens its own pywebview Qt window; Playwright attaches over CDP."""

    name: Host = "qt"

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self.port = 0

    def env(self) -> dict[str, str]:
        self.port = free_port()
        env = {"QTWEBENGINE_REMOTE_DEBUGGING": f"127.0.0.1:{self.port}"}
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            env["QT_QPA_PLATFORM"] = "offscreen"
        return env

    async def _wait_for_cdp(self, process: SubjectProcess, deadline: float) -> str:
        url = f"http://127.0.0.1:{self.port}"
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline and process.alive():
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(url + "/json/version",
                                        timeout=aiohttp.ClientTimeout(total=1)) as response:
                        if response.status == 200:
                            return url
                await asyncio.sleep(0.05)
        raise RuntimeError(f"Qt WebEngine's remote debugging did not answer ({process.why()})")

    async def _connect(self, url: str, deadline: float) -> Browser:
        """Playwright on the window's CDP. An attempt that lands while a cross-origin isolated
        page swaps its renderer can wait for ever in Qt WebEngine: it is given up and made
        again (three times at most)."""
        for attempt in range(3):
            left = max(1.0, min(10.0, deadline - time.monotonic()))
            try:
                return await self.playwright.chromium.connect_over_cdp(
                    url, no_defaults=True, timeout=left * 1000
                )
            except PlaywrightTimeoutError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _wait_for_page(self, url: str, process: SubjectProcess, deadline: float) -> None:
        """Until the window shows its page. The pages are cross-origin isolated: loading one
        swaps the window's renderer, and Playwright attaching in the middle of that swap in Qt
        WebEngine waits for ever."""
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline and process.alive():
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(url + "/json/list",
                                        timeout=aiohttp.ClientTimeout(total=1)) as response:
                        targets = await response.json()
                    if any(t.get("type") == "page" and t.get("url", "").startswith("http")
                           and "/__app__/launch/" not in t["url"] for t in targets):
                        return
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the window did not show its page ({process.why()})")

    async def attach(self, process: SubjectProcess, timeout: float) -> tuple[Page, Detach]:
        deadline = time.monotonic() + timeout
        url = await self._wait_for_cdp(process, deadline)
        await self._wait_for_page(url, process, deadline)
        # Qt WebEngine does not let Playwright manage contexts (no_defaults), and closing
        # this connection would close the window: it is left to end with the process.
        browser = await self._connect(url, deadline)
        while time.monotonic() < deadline and process.alive():
            for context in browser.contexts:
                for page in context.pages:
                    if await _status(page) is not None:
                        return page, _nothing
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the window's page did not load the measuring script ({process.why()})")


async def _nothing() -> None:
    return None
