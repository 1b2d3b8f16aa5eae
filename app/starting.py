"""Stop signals that come while ``python -m app`` starts, before the run takes the signals, and
after it has ended.

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
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType

__all__ = ["ending", "note", "noted"]

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_noted = threading.Event()


def note(signum: int, frame: FrameType | None) -> None:
    if _noted.is_set():
        raise KeyboardInterrupt
    _noted.set()


def noted() -> bool:
    """Whether a stop signal came while the app started."""
    return _noted.is_set()


def ending(code: int) -> None:
    """The run is over, with exit status ``code``: take the stop signals for the process's end."""

    def stop_now(signum: int, frame: FrameType | None) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # closed, or gone: nothing more can be said on it
                pass
        os._exit(code)

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
