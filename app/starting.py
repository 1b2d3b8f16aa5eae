"""The process's start and end: stop signals that come while ``python -m app`` starts (before
the run takes the signals) and after it has ended, and the garbage collector while it starts.

``python -m app`` sets ``note`` for SIGTERM and SIGINT as its first act. The first such signal
is noted, and the run acts on it as soon as it takes the signals itself (it then ends at once,
quietly): raised as a KeyboardInterrupt there and then, it could land inside the import
machinery or in code that namedtuple or a dataclass runs with ``eval``, where CPython either
ends the process with SIGINT though it is caught, or leaves the import lock held for ever. A
second signal is raised at once, for a start that hangs (an app's ``create_app`` that waits
for ever, say).

Once the run has ended, a stop signal ends the process at once with the run's exit status
(``ending``): nothing is left but the interpreter's own teardown (a Qt window's takes tens of
ms). Python puts the default handlers back as it finalizes, which made a second Ctrl-C or
SIGTERM then end the process *by* the signal, a failure status after a clean run; from the
interpreter's exit functions on, stop signals are ignored.

A program that runs an app itself (``App.run()``) has its own handlers, and notes nothing.

Python's cyclic garbage collector runs every few hundred new objects, and as the app's modules,
its transport and the GUI toolkit load it ran a few hundred times for nothing (they make no
garbage to speak of): 30-40 ms of a start of 400 ms here. It is paused while they load
(``pause_collector``) and set going again (``resume_collector``) as the windows open, or before
the app's own ``on_start`` work, which may make garbage. Paused by its first threshold (0: no
collection), not ``gc.disable()``: an app that turns the collector off, or sets thresholds of
its own, as it loads keeps what it chose.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType

__all__ = [
    "end_before_teardown",
    "ending",
    "note",
    "noted",
    "pause_collector",
    "resume_collector",
]

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_noted = threading.Event()


def note(signum: int, frame: FrameType | None) -> None:
    if _noted.is_set():
        raise KeyboardInterrupt
    _noted.set()


def noted() -> bool:
    """Whether a stop signal came while the app started."""
    return _noted.is_set()


_thresholds: tuple[int, int, int] | None = None
"""The collector's thresholds before ``pause_collector``, while it is paused."""


def pause_collector() -> None:
    """Pause the garbage collector's runs while the app starts."""
    global _thresholds
    now = gc.get_threshold()
    if _thresholds is None and now[0] != 0:
        _thresholds = now
        gc.set_threshold(0, now[1], now[2])


def resume_collector() -> None:
    """Let the collector run again as it did (from any thread), unless the app has set
    thresholds of its own meanwhile."""
    global _thresholds
    paused, _thresholds = _thresholds, None
    if paused is not None and gc.get_threshold()[0] == 0:
        gc.set_threshold(*paused)


_ended_with: int | None = None
"""The run's exit status, once it has ended (see ``end_before_teardown``)."""


def end_before_teardown() -> None:
    """Have the process end, once the run has ended, after Python's own end (the threads that
    are not daemons waited for, then the exit functions), but before the interpreter's
    teardown, which ends the daemon threads still running: Python 3.11 ends each with
    ``pthread_exit``, and one that is inside a Rust or C++ extension then (pydantic-core,
    orjson, Qt) aborts the whole process ("FATAL: exception not rethrown", status -6, after
    the core had stopped). Registered first, so that its exit function runs last."""
    atexit.register(_end_now)


def _end_now() -> None:
    if _ended_with is None:  # (the run did not end: an error's traceback, say)
        return
    logging.shutdown()  # (its own exit function was registered before this one)
    _exit(_ended_with)


def _exit(code: int) -> None:
    """End the process now, with what was written to its standard streams flushed."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # closed, or gone: nothing more can be said on it
            pass
    os._exit(code)


def ending(code: int) -> None:
    """The run is over, with exit status ``code``: take the stop signals for the process's end."""
    global _ended_with
    _ended_with = code

    def stop_now(signum: int, frame: FrameType | None) -> None:
        _exit(code)

    for sig in _STOP_SIGNALS:
        signal.signal(sig, stop_now)
    atexit.register(_ignore_stops)
    threading.Thread(target=_say_what_holds_the_end, name="app-ending", daemon=True).start()


HELD_FOR = 1.0
"""How long the process may wait for threads at its end before it says which (seconds)."""


def _say_what_holds_the_end() -> None:
    """Python waits for the threads that are not daemons before the process ends: if that takes
    a while, say which, or it seems to hang for no reason. (Said only then: idle pool threads
    end as the interpreter finalizes, and hold nothing up.)"""
    time.sleep(HELD_FOR)  # (a process that ends meanwhile ends this thread with it)
    main = threading.main_thread()
    held = [t.name for t in threading.enumerate()
            if t is not main and t is not threading.current_thread() and not t.daemon
            and t.is_alive()]
    if held:
        logging.getLogger("app.core").warning(
            "the app has ended, but the process waits for threads that are still running: %s "
            "(Python waits for every thread that is not a daemon: start them with daemon=True, "
            "or have them end with the app; a stop signal ends the process now)",
            ", ".join(held),
        )


def _ignore_stops() -> None:
    # Ignored, not handled: Python only keeps an ignored signal ignored as it finalizes.
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
