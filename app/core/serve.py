"""``serve``: the core with no native window, for a browser or for tests."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..starting import noted, pause_collector, resume_collector
from . import looprun
from .errors import StartError

if TYPE_CHECKING:
    from .app import App

__all__ = ["serve"]

WATCH_EVERY = 0.5
"""How often the thread that waits for ``serve``'s ``stop`` looks whether the app has ended
another way (seconds)."""


def serve(
    app: App,
    *,
    port: int | None = None,
    on_ready: Callable[[dict[str, str]], Any] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run until SIGINT or SIGTERM (or until ``stop`` is set), then shut down cleanly.

    ``port`` is the first window's port; further windows take the ports after it.
    """

    labels = [w.label for w in app.config.model.app.windows]
    if port and port + len(labels) - 1 > 65535:  # before any window is served
        raise StartError(
            f"the app's {len(labels)} windows take the ports from {port} on, past 65535; "
            f"give a first port of at most {65536 - len(labels)}"
        )
    handled = False  # whether the loop takes the stop signals yet
    ended = threading.Event()

    async def main() -> None:
        nonlocal handled
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, done.set)
            handled = True
            if noted():  # stopped while the app was made (python -m app): nothing starts
                return
        if stop is not None:

            def watch(stop: threading.Event) -> None:
                # Until the app ends, whichever way: a thread per serve() left waiting for a
                # stop that no one would set any more.
                while not stop.wait(WATCH_EVERY):
                    if ended.is_set():
                        return
                with contextlib.suppress(RuntimeError):  # the app ended first: its loop is gone
                    loop.call_soon_threadsafe(done.set)

            threading.Thread(target=watch, args=(stop,), name="app-serve-stop",
                             daemon=True).start()
        ports = {label: port + i for i, label in enumerate(labels)} if port else None
        try:
            # Stopped while an on_start function runs, the app ends without waiting for it (on
            # its thread, it runs on until it returns, or the process ends).
            if not await looprun.unless_stopped(app.start(ports), done):
                return
            core = app.core
            if core is None:  # an on_start coroutine stopped the app already
                return
            resume_collector()
            urls = {label: app.launch_url(label) for label in labels}
            if on_ready is not None:
                on_ready(urls)
            # Until a stop signal, or the app stopped some other way (a Quit command).
            await looprun.unless_stopped(core.over.wait(), done)
        finally:
            ended.set()
            resume_collector()
            await app.stop()

    pause_collector()  # while the transport loads (see app/starting.py)
    running = main()
    try:
        looprun.run(running)
    except KeyboardInterrupt:
        running.close()
        if not handled:  # while the loop was being made: it ends as if the app were not up
            raise
        sys.exit(130)  # a second Ctrl-C during shutdown
