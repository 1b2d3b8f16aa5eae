"""Native windows: pywebview on the main thread, the core's loop on a thread of its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

from ..starting import noted, pause_collector, resume_collector
from . import certs, looprun, qtguard
from .errors import CommandError

if TYPE_CHECKING:
    from .app import App
    from .config import WindowConfig

__all__ = ["prepare_environment", "run_native"]

log = logging.getLogger("app.core.native")

SHUTDOWN_WAIT = 10.0
"""How long the app waits for the core to end (seconds): an app's on_start or a command may
never return."""


def prepare_environment() -> Literal["qt"] | None:
    """Pick the GUI backend and set what Qt WebEngine needs here; return pywebview's ``gui``."""
    if not sys.platform.startswith("linux"):
        return None  # pywebview picks the platform's own webview
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to run its sandbox as root.
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        if "QT_QPA_PLATFORM" not in os.environ:
            log.warning("no display found: the window runs offscreen (QT_QPA_PLATFORM=offscreen)")
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return "qt"


class _CoreThread(threading.Thread):
    """Runs the core's loop until told to stop."""

    def __init__(self, app: App) -> None:
        super().__init__(name="app-core", daemon=True)
        self.app = app
        self.ready = threading.Event()
        self.urls: dict[str, str] = {}
        self.error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._halt: asyncio.Event | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        certs.wait()  # none of the app's code runs before aiohttp's TLS contexts are whole
        looprun.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._halt = asyncio.Event()
        try:
            try:
                # Told to stop while an on_start function runs (on its thread, it runs on
                # until it returns): the core stops without waiting for it.
                started = await looprun.unless_stopped(self.app.start(), self._halt)
                if started:
                    self.urls = {
                        w.label: self.app.launch_url(w.label)
                        for w in self.app.config.model.app.windows
                    }
            except BaseException as exc:
                self.error = exc
                self.ready.set()
                return
            if not started:
                return
            self.ready.set()
            if not self._stopping.is_set():  # told to stop while it started
                await self._halt.wait()
        finally:
            await self.app.stop()

    def shutdown(self, hurry: threading.Event) -> None:
        """Stop the core and wait for it, at most ``SHUTDOWN_WAIT`` seconds, and not once
        ``hurry`` is set (a second stop signal: the app ends at once)."""
        self._stopping.set()
        if self.loop is not None and self._halt is not None:
            try:
                self.loop.call_soon_threadsafe(self._halt.set)
            except RuntimeError:  # its loop has ended already: the core did not start
                pass
        if self.ident is None:  # not started
            return
        deadline = time.monotonic() + SHUTDOWN_WAIT
        # In steps: the main thread runs the signal handlers between them.
        while self.is_alive() and not hurry.is_set() and time.monotonic() < deadline:
            self.join(timeout=0.05)


def open_native(app: App, config: WindowConfig, url: str) -> Any:
    """Create the pywebview window of ``config`` at ``url`` (before or after ``start``)."""
    import webview

    if app.native_windows and not webview.windows:
        # The last window is closing (pywebview has let it go, the app not yet): its GUI loop
        # ends, and a window made now would be taken for the first one, on the wrong thread.
        raise CommandError(
            f"window {config.label!r} was not opened: the app's last window has closed, and "
            "the app is ending"
        )

    window = webview.create_window(
        config.title or app.config.model.product_name,
        url=url,
        width=config.width,
        height=config.height,
        resizable=config.resizable,
        fullscreen=config.fullscreen,
    )
    if window is None:
        raise RuntimeError(f"pywebview could not create window {config.label!r}")
    app.native_windows[config.label] = window
    window.events.closed += lambda *_: _closed(app, config.label, window)
    window.events.before_show += functools.partial(qtguard.prepare_page, app, config.label)
    # pywebview runs event handlers on threads that the interpreter waits for at exit, and
    # asking a window for its URL blocks until the GUI answers, which a window closing at that
    # moment never does: the check runs on a daemon thread, so it cannot keep the app alive.
    window.events.loaded += lambda: threading.Thread(
        target=_on_loaded, args=(app, config.label, window), name="app-loaded", daemon=True
    ).start()
    return window


def _closed(app: App, label: str, window: Any) -> None:
    """A native window closed (on a thread of pywebview's): the app and the core forget it, so
    that its label may be opened again. Not if a new window of that label took its place."""
    view = getattr(window, "native", None)
    _keep_script_waits(window)
    _delete_on_gui_thread(view)
    if app.native_windows.get(label) is not window:
        return
    del app.native_windows[label]
    core = app.core
    if core is not None and core.loop is not None and not core.loop.is_closed():
        try:
            removal = asyncio.run_coroutine_threadsafe(core.remove_window(label), core.loop)
        except RuntimeError:  # the loop ended meanwhile: the app is ending
            return
        removal.add_done_callback(functools.partial(_report_removal, label))


def _report_removal(label: str, removal: concurrent.futures.Future[None]) -> None:
    """Log what went wrong as the core let a closed window go (nothing else would say it)."""
    if not removal.cancelled() and removal.exception() is not None:
        log.error("window %s closed, and the core failed to let it go", label,
                  exc_info=removal.exception())


_pending_scripts: list[dict[str, Any]] = []
"""pywebview's tables of the scripts whose results closed windows wait for (by id), for
``_release_script_waits``; those that are empty when a window closes are dropped."""
_pending_lock = threading.Lock()


def _delete_on_gui_thread(view: Any) -> None:
    """Have the GUI thread delete a closed window's Qt window (pywebview's, which Python owns
    and which no one holds any more): let go, it would be deleted by Python's collector on
    whichever thread it runs, and Qt's widgets may only be deleted on the GUI thread."""
    try:
        from qtpy import sip
        from qtpy.QtWidgets import QWidget
    except ImportError:  # another GUI
        return
    if isinstance(view, QWidget):
        sip.transferto(view, None)  # type: ignore[arg-type]  # Qt's to delete, not Python's
        view.deleteLater()  # (safe from any thread: the GUI thread does it)


def _keep_script_waits(window: Any) -> None:
    """Keep the table of the scripts whose results ``window`` (closed, or left open by a GUI
    that ended) is waited for, for ``_release_script_waits``."""
    pending = getattr(getattr(window, "native", None), "_js_results", None)
    if isinstance(pending, dict):  # (not with another backend, or another pywebview)
        # Only the table: the window itself, kept, held its page, its renderer's shared memory
        # and sockets (about 7 file descriptors and 2.5 MB each) until the app ended.
        with _pending_lock:  # (windows closing at once do so on threads of their own)
            _pending_scripts[:] = [table for table in _pending_scripts if table]
            _pending_scripts.append(pending)


def _forget_windows(app: App) -> None:
    """The GUI has ended: the app's windows are gone. Those it left open (its display went
    away, say) have their waits for scripts let go with the closed ones' (a thread of
    pywebview's own waiting in one kept the process up for ever, 1 run in 5 or so)."""
    for window in app.native_windows.values():
        _keep_script_waits(window)
        # As pywebview does for a window that closes: a script run in it later (its thread's
        # next one) returns at once instead of waiting for a GUI that is gone.
        instances = getattr(type(getattr(window, "native", None)), "instances", None)
        if isinstance(instances, dict):
            instances.pop(getattr(window, "uid", None), None)
    app.native_windows.clear()


def _release_script_waits() -> None:
    """Let go of the threads still waiting for a script's result in a closed window; call once
    the GUI's loop has ended, when no result can come any more (one coming after the release
    would find its wait gone, and an error in Qt's callback aborts the process).

    pywebview's Qt window waits for the result of a script with no time limit, and a window
    closed first never gives it. pywebview runs such a script itself as every page loads (it
    puts its own API into the page), on a thread that is not a daemon: a window closed just
    after its page loaded kept the app's process from ending, for ever. Released, such a wait
    returns an empty result, and scripts run later in a closed window return at once.
    """
    while _pending_scripts:
        for result in list(_pending_scripts.pop().values()):
            semaphore = result.get("semaphore") if isinstance(result, dict) else None
            if semaphore is not None:
                log.debug("a script's result in a closed window is no longer waited for")
                semaphore.release()


def _on_loaded(app: App, label: str, window: Any) -> None:
    """A page finished loading in ``window`` (on a thread of pywebview's): if it is a page from
    elsewhere that a capability names, run the core's runtime in it, with a ticket of its own."""
    core = app.core
    if core is None or core.loop is None:
        return
    came_from: str | None = None
    load: int | None = None
    if qtguard.prepared(window):
        addresses = qtguard.page_addresses(window)
        if addresses is None:
            log.info("window %s: its page's address could not be read, or another load is under "
                     "way: it gets no runtime now", label)
            return
        url, came_from, load = addresses
    elif qtguard.is_qt(window):  # (its set-up failed, and logged so)
        return
    else:  # another GUI: the address it shows
        url = window.get_current_url()
    if not url:
        return

    async def script() -> bytes | None:
        return core.server.remote_script(label, url, came_from)

    try:
        runtime = asyncio.run_coroutine_threadsafe(script(), core.loop).result(timeout=10)
    except Exception:
        log.exception("could not prepare the runtime for %s in window %s", url, label)
        return
    if runtime is None:
        return
    if load is not None:
        qtguard.run_in_load(window, runtime.decode(), load)
    else:
        window.run_js(runtime.decode())


_gui_ran = threading.Event()
"""Set once pywebview's GUI loop has run in this process: it cannot run again (Qt's crashes)."""


def run_native(app: App, *, debug: bool = False) -> None:
    if _gui_ran.is_set():
        raise RuntimeError(
            "app.run() opens windows once per process: the GUI toolkit cannot start again "
            "once its loop has ended (Qt's crashes the process). Keep the first run going, "
            "with app.open_window() for windows opened later, or start a new process."
        )
    pause_collector()  # while the transport and the GUI toolkit load (see app/starting.py)
    stop_asked = threading.Event()  # before the GUI starts: it never will
    starting = threading.Event()  # from then on, a stop closes the windows
    ended = threading.Event()  # the GUI is over, and the core is being stopped
    hurry = threading.Event()  # a stop signal came after the first: end at once

    def close_all(*_: Any) -> None:
        # The last opened first: each waits until its window is shown, and pywebview ends its
        # GUI loop when the windows it has made are all closed, even with one still on its way
        # (closed first, the first window would end the app while the others are being made).
        for window in reversed(list(app.native_windows.values())):
            try:
                window.destroy()
            except Exception:  # already gone
                pass

    def on_stop_signal(*_: Any) -> None:
        if ended.is_set() or (stop_asked.is_set() and not starting.is_set()):
            hurry.set()  # a second one, while the app waits for its core to end
            return
        if not starting.is_set():
            stop_asked.set()
            return
        # The handler runs on the GUI thread, and destroy() waits for that thread: hand it off.
        threading.Thread(target=close_all, name="app-close", daemon=True).start()

    # The handlers are set before anything starts: a KeyboardInterrupt raised while this thread
    # and the core's both load modules could land in the import machinery's locks and leave
    # them waiting for ever (seen: 1 launch in 36 with SIGTERM 0.15-0.5 s after the start).
    main = threading.current_thread() is threading.main_thread()
    restore: dict[int, Any] = {}
    if main:
        restore = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        signal.signal(signal.SIGTERM, on_stop_signal)
        signal.signal(signal.SIGINT, on_stop_signal)
        if noted():  # stopped while the app was made (python -m app)
            stop_asked.set()
    patched: list[tuple[Any, str, Any]] = []  # pywebview's own, put back as the run ends

    def patch(owner: Any, name: str, value: Any) -> None:
        patched.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)
    # The core's modules (its transport) load first, on this thread; then the core starts on
    # its own while this one loads the GUI toolkit (and aiohttp's TLS contexts read the
    # system's certificates meanwhile: see certs). Loaded on the core's thread beside the
    # toolkit, the modules took turns at the interpreter's lock at every file they read: both
    # took longer, and the windows waited 80-90 ms for the core. Opening windows blank and
    # navigating later was measured slower too: two page loads.
    core = _CoreThread(app)
    with app._native_lock:
        app._native_later = []  # what on_start opens waits for the configured windows
    try:
        with certs.read_later():  # (read beside the GUI toolkit's loading: see certs)
            from . import runtime  # noqa: F401

        if not stop_asked.is_set():
            core.start()
        gui = prepare_environment()
        import webview

        if gui == "qt":
            import webview.platforms.qt as qt_backend

        # In steps, so that a stop signal ends the wait (the app's on_start may take long); and
        # one that came while the toolkit loaded (its handler runs once the import returns,
        # which may be after the core is ready) makes no window either.
        while not core.ready.wait(0.05):
            if stop_asked.is_set():
                return
        if stop_asked.is_set():
            return
        if core.error is not None:
            raise core.error
        if gui == "qt":
            qtguard.harden(app, patch)
            if main:
                # pywebview's Qt window sets a Ctrl-C handler of its own as it makes the first
                # window, which quits the GUI loop; one that comes before the loop runs (while
                # the window is being made, a few hundred ms) was lost, and the app ran on.
                # Ctrl-C closes the windows as SIGTERM does instead: that waits for the loop.
                patch(qt_backend, "_sigint_handler", on_stop_signal)
        for config in app.config.model.app.windows:
            open_native(app, config, core.urls[config.label])
        with app._native_lock:
            later, app._native_later = app._native_later or [], None
        # The last of a label (one may have been opened, closed and opened again), if open.
        for config, url in {config.label: (config, url) for config, url in later}.values():
            if app.core is not None and config.label in app.core.windows:
                try:
                    open_native(app, config, url)
                except Exception:  # that window is not shown; the others are
                    log.exception("window %r, opened as the app started, could not be shown",
                                  config.label)
        starting.set()  # (then the check: a stop between the two is not lost)
        if stop_asked.is_set():
            return
        resume_collector()
        _gui_ran.set()
        webview.start(gui=gui, debug=debug, private_mode=True)
    finally:
        resume_collector()
        ended.set()
        with app._native_lock:
            app._native_later = None
        _forget_windows(app)
        core.shutdown(hurry)
        _release_script_waits()
        for sig, handler in restore.items():
            signal.signal(sig, handler)
        for owner, name, value in patched:
            setattr(owner, name, value)
