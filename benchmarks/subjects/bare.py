"""Driver of the bare aiohttp WebSocket echo: the transport's floor."""

from __future__ import annotations

from ..process import Launch
from .base import Host, Subject

__all__ = ["BARE"]


class BareEcho(Subject):
    name = "bare"
    title = "bare WebSocket echo"
    binary = True

    def launch(self, host: Host) -> Launch:
        return Launch(["-m", "benchmarks.subjects.bare_app",
                       "window" if host == "qt" else "serve"])


BARE = BareEcho()
