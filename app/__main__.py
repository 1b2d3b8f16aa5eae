from __future__ import annotations

import os
import signal
import sys


def _stop(*_: object) -> None:
    # Until the app sets its own handlers (it closes its windows, or stops serving): a SIGTERM
    # while it starts ends it as Ctrl-C does.
    raise KeyboardInterrupt


# While the core's modules load, a stop signal is noted and acted on once they have: raised
# there, a KeyboardInterrupt lands inside their import (in code that namedtuple or a dataclass
# makes with eval, say), and CPython then ends the process with SIGINT even though it is
# caught. They load in a fixed, short time; the app's own code is interrupted as usual.
_asked: list[int] = []
signal.signal(signal.SIGTERM, lambda signum, _: _asked.append(signum))
signal.signal(signal.SIGINT, lambda signum, _: _asked.append(signum))

# pydantic looks for plugins by reading the metadata of every installed package when the first
# model is built: about 60 ms of start-up here. Set PYDANTIC_DISABLE_PLUGINS= (empty) to use them.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from app.core.cli import main  # noqa: E402

if _asked:  # nothing has started yet
    sys.exit(0)
signal.signal(signal.SIGTERM, _stop)
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    code = main()
except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) before the app was up: it ends, quietly
    code = 0
sys.exit(code)
