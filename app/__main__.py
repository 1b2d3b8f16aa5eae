from __future__ import annotations

import os
import signal
import sys
import threading


def _exit_now(*_: object) -> None:
    # While the modules load, on two threads: a SIGTERM or Ctrl-C ends the process at once, as
    # nothing has started yet. Raising KeyboardInterrupt here instead could land inside the
    # import machinery (in a module lock's callback, which swallows it with the lock held)
    # and leave the other thread's import, and then this one's, waiting for ever.
    os._exit(0)


def _stop(*_: object) -> None:
    # Until the app sets its own handlers (it closes its windows, or stops serving): a SIGTERM
    # while it starts ends it as Ctrl-C does.
    raise KeyboardInterrupt


def _load_transport() -> None:
    # aiohttp builds its default TLS contexts as it is loaded, reading the system's CA store
    # (about 45 ms here) with the GIL released: loaded on a thread of its own from the start,
    # that reading overlaps the imports of the rest of the core on this one.
    try:
        import aiohttp.web  # noqa: F401
    except Exception:  # the core's own import of it says what is wrong
        pass


signal.signal(signal.SIGTERM, _exit_now)
signal.signal(signal.SIGINT, _exit_now)

# pydantic looks for plugins by reading the metadata of every installed package when the first
# model is built: about 60 ms of start-up here. Set PYDANTIC_DISABLE_PLUGINS= (empty) to use them.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

preload = threading.Thread(target=_load_transport, name="app-preload", daemon=True)
preload.start()
from app.core.cli import main  # noqa: E402

preload.join()
signal.signal(signal.SIGTERM, _stop)
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    code = main()
except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) before the app was up: it ends, quietly
    code = 0
sys.exit(code)
