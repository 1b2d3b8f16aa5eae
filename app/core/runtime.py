"""The running core: the pieces of one app run, wired together on one asyncio loop."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import TYPE_CHECKING, Any

from .acl.authority import Authority
from .config import WindowConfig
from .dispatch import Dispatcher
from .inbox import LoopInbox
from .pipeline import build_pipeline
from .transport.credentials import Credentials
from .transport.server import Server
from .turns import InTurn
from .workers import WorkerPool

if TYPE_CHECKING:
    from .app import App

__all__ = ["Core"]

log = logging.getLogger("app.core")

_FROZEN = threading.Event()
"""Set once a core's start has frozen what the process held (see ``Core.start``)."""

REPORT_DELAY = 1.0
"""Seconds after the start when the configuration's problems are logged."""


class Core:
    """Owns the loop-side state of a run: server, credentials, dispatcher, isolation."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.config = app.config
        self.registry = app.registry
        self.events = app.events
        ipc = self.config.model.app.ipc
        self.workers = WorkerPool(ipc.threads)
        self.dispatcher = Dispatcher(self.workers, ipc.command_timeout_ms / 1000)
        self.authority = Authority.from_config(
            self.config, commands=lambda name: self.registry.get(name) is not None
        )
        self.credentials = Credentials()
        self.server = Server(self, self.credentials)
        self.isolation = None
        if self.config.isolation is not None:
            from .isolation import Isolation

            self.isolation = Isolation(self)
        self.pipeline, self.unsealed_pipeline = build_pipeline(self)
        """``unsealed_pipeline`` skips isolation's stage: the test client has no hook frame."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.inbox: LoopInbox | None = None
        """How other threads hand work to the loop (results, events, channel messages)."""
        self.windows: dict[str, WindowConfig] = {}
        self.large_frames = InTurn("app-large-frames")
        """The thread that reads large frames: one at a time, the windows' in turn, whether or
        not its connection is still there to wait for it (see turns.py)."""
        self.background: set[asyncio.Future[object]] = set()
        self.stopping: asyncio.Future[None] | None = None
        """Made as ``App.stop`` begins, done when the core has stopped: a second stop meanwhile
        waits for it."""
        self.over = asyncio.Event()
        """Set as the core begins to stop, however it was asked to (``serve`` waits for it)."""
        self._report: asyncio.TimerHandle | None = None

    async def start(self, ports: dict[str, int] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.inbox = LoopInbox(self.loop)
        self.workers.start(self.loop, self.inbox)
        self.events.bind(self.loop, self.workers)
        self.registry.prepare_all()
        await self.server.start()
        if self.isolation is not None:
            await self.isolation.start()
        for window in self.config.model.app.windows:
            await self.add_window(window, (ports or {}).get(window.label, 0))
        # What exists now lives as long as the app: keep the collector from walking it again.
        # (Without a collection first: one took 35-45 ms of the start-up here and found a few
        # dozen unreachable objects.) Once a process: a later start (a test's, an app's on
        # its own loop) would keep what the cores before it left, for good.
        if not _FROZEN.is_set():
            _FROZEN.set()
            gc.freeze()
        # What 'check' would report goes to the log too, so a mistake that lets more through
        # than meant (a deny entry's "Path") shows where it runs. On a worker thread, once the
        # windows have had time to open: loading and running the check takes 20-30 ms of CPU,
        # which the windows' first page loads need more.
        self._report = self.loop.call_later(
            REPORT_DELAY, self.workers.submit, self._report_problems
        )

    def _report_problems(self) -> None:
        from .tools.check import check

        try:
            problems = [p for p in check(self.app) if not p.note]
        except Exception:  # the report is a courtesy; the app runs without it
            log.exception("the configuration could not be checked")
            return
        for problem in problems:
            log.error("%s (as written, it does not do what it says; run 'python -m app check')",
                      problem)

    async def add_window(self, window: WindowConfig, port: int = 0) -> int:
        if window.label in self.windows:
            raise ValueError(
                f"there is already a window labelled {window.label!r}; app.window_labels() "
                "lists the open ones"
            )
        self.windows[window.label] = window
        try:
            port = await self.server.add_window(window.label, port)
        except BaseException:  # not served: not open
            del self.windows[window.label]
            raise
        log.info("window %s served at http://127.0.0.1:%d", window.label, port)
        return port

    async def remove_window(self, label: str) -> None:
        """Window ``label`` closed: the core forgets it, and the label may be opened again."""
        if self.windows.pop(label, None) is not None:
            # What the core keeps for a window goes with it (an app opening windows under new
            # labels would gather it for ever), before a window of that label may open again.
            self.dispatcher.forget(label)
            self.events.forget(label)
            if self.isolation is not None:
                self.isolation.keys.forget(label)
            await self.server.remove_window(label)
            log.info("window %s closed", label)

    async def stop(self, spare: asyncio.Future[Any] | None = None) -> None:
        """Stop serving; what still runs is cancelled, but ``spare`` (the call that stops the
        app, which returns once it has)."""
        self.over.set()
        if self._report is not None:
            self._report.cancel()
        try:
            await self.server.stop(spare)
        finally:
            self.dispatcher.close()
            self.workers.shutdown()
            self.large_frames.shutdown()
        log.info("the core has stopped")
