"""The native window's side of pywebview that the e2e window tests reach only by chance."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from app.core import native


def _waiting_window() -> tuple[Any, threading.Thread, list[Any]]:
    """A closed window as pywebview's Qt backend leaves it: a thread (not a daemon) waits for a
    script's result that will never come, the way pywebview's own injection waits."""
    semaphore = threading.Semaphore(0)
    window = SimpleNamespace(native=SimpleNamespace(_js_results={
        "a1": {"semaphore": semaphore, "result": "", "parse_json": True},
    }))
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(semaphore.acquire(timeout=30)))
    waiter.start()
    return window, waiter, got


def test_waits_for_scripts_in_closed_windows_are_let_go_once_the_gui_ends() -> None:
    window, waiter, got = _waiting_window()
    app = SimpleNamespace(native_windows={"main": window}, core=None)
    native._closed(app, "main", window)  # type: ignore[arg-type]
    assert waiter.is_alive()  # closing alone lets nothing go: a result may still come
    native._release_script_waits()
    waiter.join(timeout=10)
    assert got == [True]
    assert native._pending_scripts == []


def test_waits_for_scripts_in_windows_the_gui_left_open_are_let_go_too() -> None:
    """Its display went away: the GUI's loop ended with the window never closed, and
    pywebview's thread injecting its API into the page waited for ever, keeping the process."""
    window, waiter, got = _waiting_window()

    class View(SimpleNamespace):  # pywebview's Qt window keeps its open ones by uid
        instances: ClassVar[dict[str, Any]] = {}

    window.native = View(_js_results=window.native._js_results)
    window.uid = "w1"
    View.instances["w1"] = window.native
    app = SimpleNamespace(native_windows={"main": window}, core=None)
    native._forget_windows(app)  # type: ignore[arg-type]
    assert app.native_windows == {}
    # Gone as a closed window's is: the thread's next script returns at once, not waiting.
    assert View.instances == {}
    native._release_script_waits()
    waiter.join(timeout=10)
    assert got == [True]


def test_closed_windows_are_not_kept() -> None:
    """Only their tables of scripts waited for, and those while a script is waited for."""
    window, waiter, _ = _waiting_window()
    native._closed(SimpleNamespace(native_windows={}, core=None), "main", window)  # type: ignore[arg-type]
    assert native._pending_scripts == [window.native._js_results]
    native._release_script_waits()
    waiter.join(timeout=10)
    done = SimpleNamespace(native=SimpleNamespace(_js_results={}))
    window.native._js_results.clear()  # (its thread took its result)
    native._pending_scripts.append(window.native._js_results)
    native._closed(SimpleNamespace(native_windows={}, core=None), "other", done)  # type: ignore[arg-type]
    assert native._pending_scripts == [{}]  # the closing window's own, empty: dropped next time
    assert native._pending_scripts[0] is done.native._js_results
    native._release_script_waits()


def test_windows_of_other_backends_are_left_alone() -> None:
    for window in (SimpleNamespace(native=object()), SimpleNamespace()):
        native._closed(SimpleNamespace(native_windows={}, core=None), "x", window)  # type: ignore[arg-type]
    assert native._pending_scripts == []
    native._release_script_waits()


def test_no_window_is_made_once_the_last_one_has_closed() -> None:
    # pywebview has let go of its last window while the app has not heard yet: a window made
    # then would be taken for the app's first, on a thread that is not the GUI's.
    import webview

    from app.core.config import WindowConfig
    from app.core.errors import CommandError

    assert webview.windows == []
    app = SimpleNamespace(native_windows={"main": object()})
    with pytest.raises(CommandError, match="'settings' was not opened: the app's last window"):
        native.open_native(app, WindowConfig(label="settings", url="index.html"), "http://x/")  # type: ignore[arg-type]
    assert webview.windows == []


def test_a_stop_signal_while_the_core_starts_ends_the_run_before_any_window(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run's handlers are set before the core starts: a stop then is noted, not raised as a
    # KeyboardInterrupt (which, landing in the import machinery while two threads load modules,
    # could leave both waiting for ever), and no window is made.
    import os
    import signal
    import time

    import webview

    from app.core import App, load_config

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    app = App(load_config(write_config({})))
    started = threading.Event()

    @app.on_start
    def slow(_: App) -> None:  # holds the core's start until the signal has come
        started.set()
        time.sleep(1.0)

    def stop() -> None:
        started.wait(30)
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    threading.Thread(target=stop, daemon=True).start()
    begun = time.monotonic()
    native.run_native(app)  # returns; raises nothing
    assert time.monotonic() - begun < 10
    assert app.native_windows == {} and webview.windows == []
    assert app.core is None  # stopped
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_start_that_fails_is_raised_as_it_is(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core's loop has closed by the time the run stops it: that must not replace the
    start's own error (it did, with 'Event loop is closed', in 3 runs of 15)."""
    from app.core import App, StartError, load_config

    app = App(load_config(write_config({})))

    @app.on_start
    def boom(_: App) -> None:
        raise ValueError("nope")

    core = native._CoreThread(app)
    core.start()
    core.join(30)  # its loop is closed now
    assert not core.is_alive()
    assert isinstance(core.error, StartError)
    core.shutdown(threading.Event())  # raises nothing
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    with pytest.raises(StartError, match=r"on_start function .*boom failed"):
        native.run_native(app)


def test_a_second_stop_signal_ends_the_wait_for_a_core_that_does_not_start(
    write_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import time

    from app.core import App, load_config

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(native, "SHUTDOWN_WAIT", 120.0)
    app = App(load_config(write_config({})))
    started, release, returned = threading.Event(), threading.Event(), threading.Event()

    @app.on_start
    def stuck(_: App) -> None:  # a start that does not end by itself
        started.set()
        release.wait(300)

    def stop() -> None:
        started.wait(30)
        while not returned.wait(0.05):  # Ctrl-C, again and again
            os.kill(os.getpid(), signal.SIGTERM)

    # What the run puts back as it returns: a signal sent just then must not end the tests.
    before = signal.signal(signal.SIGTERM, lambda *_: None)
    stopper = threading.Thread(target=stop, daemon=True)
    stopper.start()
    begun = time.monotonic()
    try:
        native.run_native(app)
    finally:
        returned.set()
        release.set()
        stopper.join(10)
        signal.signal(signal.SIGTERM, before)
    assert time.monotonic() - begun < 60  # not SHUTDOWN_WAIT
