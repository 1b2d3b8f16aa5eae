"""Shared fixtures: the app served in a subprocess, and Playwright on Debian's Chromium."""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks.hosts import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests on a fresh event loop in a thread of their own.

    Playwright's sync API keeps an event loop running in the main thread for the whole session,
    so a coroutine test cannot get a loop of its own there.
    """
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(pyfuncitem.obj(**kwargs))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, name=f"test:{pyfuncitem.name}")
    thread.start()
    thread.join()
    if outcome:
        raise outcome[0]
    return True


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:  # type: ignore[type-arg]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _close_own_contexts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close the browser contexts a test opened itself (``browser.new_context()``) as it ends.
    Left open, each kept its pages' renderer processes alive for the rest of the session: some
    250 by the end of it, which slowed every later test that starts a browser or a window."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    before = set(browser.contexts)
    yield
    for context in browser.contexts:
        if context not in before:
            context.close()


def wait_for_log(log: list[str], pattern: str, timeout: float = 30, count: int = 1) -> str:
    """The first line of ``log`` that matches ``pattern`` (the ``count``-th), once one does.

    The log of a served app or a native window is filled by a background thread, so a line
    the app writes just after answering a call may not be there yet when the answer is.
    """
    deadline = time.monotonic() + timeout
    while True:
        matching = [line for line in list(log) if re.search(pattern, line)]
        if len(matching) >= count:
            return matching[count - 1]
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no log line matched {pattern!r}:\n" + "\n".join(log[-30:]))
        time.sleep(0.05)


@dataclass
class Served:
    """A ``python -m app serve`` process and the launch URL it printed for each window."""

    process: subprocess.Popen[str]
    urls: dict[str, str]
    log: list[str] = field(default_factory=list)
    drained: threading.Event = field(default_factory=threading.Event)
    """Set once all the process wrote to its log has been read into ``log``."""

    def origin(self, label: str) -> str:
        return self.urls[label].split("/__app__/")[0]

    def stop(self) -> int:
        """SIGTERM, as a user's service manager would: serve must end cleanly, with status 0,
        having run until now (a crash earlier, or a status other than 0, fails the test)."""
        died_before = self.process.poll() is not None
        if not died_before:
            self.process.terminate()
        status = self.process.wait(timeout=20)
        self.drained.wait(10)  # what it wrote last is in the log too
        if died_before or status != 0:
            how = "had already exited" if died_before else "ended on SIGTERM"
            raise AssertionError(
                f"serve {how} with status {status}:\n" + "\n".join(self.log[-40:])
            )
        return status


def serve(config: Path, windows: int = 1, env: dict[str, str] | None = None) -> Served:
    """Start ``serve`` and wait for its ``window <label> <url>`` lines."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    served = Served(process, {})

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            served.log.append(line.rstrip())
        served.drained.set()

    threading.Thread(target=drain, daemon=True).start()
    assert process.stdout is not None
    while len(served.urls) < windows:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            raise RuntimeError("serve exited early:\n" + "\n".join(served.log))
        kind, label, url = line.split()
        assert kind == "window"
        served.urls[label] = url
    return served


@contextmanager
def serving(config: Path, windows: int = 1, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``serve`` for the length of a ``with`` block, then ``stop`` (which checks the exit)."""
    served = serve(config, windows, env)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """A copy of the demo app's files, free to change."""
    for name in ("frontend", "dist-isolation", "capabilities"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "app.conf.json", tmp_path / "app.conf.json")
    return tmp_path


@pytest.fixture
def demo() -> Iterator[Served]:
    """The demo app as shipped, served."""
    with serving(ROOT / "app.conf.json") as served:
        yield served
