from __future__ import annotations

import os
import signal
import sys


def _stop(*_: object) -> None:
    # Until the app sets its own handlers (it closes its windows, or stops serving): a SIGTERM
    # while it starts ends it as Ctrl-C does.
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _stop)

# pydantic looks for plugins by reading the metadata of every installed package when the first
# model is built: about 60 ms of start-up here. Set PYDANTIC_DISABLE_PLUGINS= (empty) to use them.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

try:
    from app.core.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) before the app was up: it ends, quietly
    code = 0
sys.exit(code)
