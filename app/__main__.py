from __future__ import annotations

import os
import sys

# pydantic looks for plugins by reading the metadata of every installed package when the first
# model is built: about 60 ms of start-up here. Set PYDANTIC_DISABLE_PLUGINS= (empty) to use them.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from app.core.cli import main

sys.exit(main())
