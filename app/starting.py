"""A stop signal that comes while ``python -m app`` starts, before the run takes the signals.

``python -m app`` sets ``note`` for SIGTERM and SIGINT as its first act. The first such signal
is noted, and the run acts on it as soon as it takes the signals itself (it then ends at once,
quietly): raised as a KeyboardInterrupt there and then, it could land inside the import
machinery or in code that namedtuple or a dataclass runs with ``eval``, where CPython either
ends the process with SIGINT though it is caught, or leaves the import lock held for ever. A
second signal is raised at once, for a start that hangs (an app's ``create_app`` that waits
for ever, say).

A program that runs an app itself (``App.run()``) has its own handlers, and notes nothing.
"""

from __future__ import annotations

import threading
from types import FrameType

__all__ = ["note", "noted"]

_noted = threading.Event()


def note(signum: int, frame: FrameType | None) -> None:
    if _noted.is_set():
        raise KeyboardInterrupt
    _noted.set()


def noted() -> bool:
    """Whether a stop signal came while the app started."""
    return _noted.is_set()
