from __future__ import annotations

import os
import signal
import sys

from app.starting import end_before_teardown, ending, note, noted, pause_collector

end_before_teardown()  # first: see app/starting.py
# A stop signal from here on is noted, and the run acts on it once it takes the signals (see
# app/starting.py); a second one ends the start at once.
signal.signal(signal.SIGTERM, note)
signal.signal(signal.SIGINT, note)
pause_collector()  # until the windows open (see app/starting.py)

# pydantic looks for plugins by reading the metadata of every installed package when the first
# model is built: about 60 ms of start-up here. Set PYDANTIC_DISABLE_PLUGINS= (empty) to use them.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

try:
    from app.core.cli import main

    code = 0 if noted() else main()  # (nothing has started yet)
except KeyboardInterrupt:  # a second stop signal while the app started: it ends, quietly
    code = 0
ending(code)
sys.exit(code)
