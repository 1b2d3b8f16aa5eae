"""Where a request comes from: the window's label, and the origin of the document that made it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Origin:
    """``local``: the top-level document of the app's own frontend. ``subframe``: a frame inside
    it. ``remote``: a page from elsewhere. ``url`` is the document's URL (or origin)."""

    kind: Literal["local", "subframe", "remote"]
    url: str

    def __str__(self) -> str:
        return self.kind if self.kind == "local" else f"{self.kind} {self.url}"


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a window label and an origin."""

    window: str
    origin: Origin
