"""Where a request comes from: the window's label, and the origin of the document that made it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["Caller", "Origin", "origin_of"]


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, as browsers send it in ``Origin``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class Origin:
    """``local``: the top-level document of the app's own frontend. ``subframe``: a frame inside
    it. ``remote``: a page from elsewhere. ``url`` is the document's URL (or origin)."""

    kind: Literal["local", "subframe", "remote"]
    url: str

    def __str__(self) -> str:
        return self.kind if self.kind == "local" else f"{self.kind} {self.url}"

    def describe(self) -> str:
        """As a denial message names it."""
        if self.kind == "local":
            return f"the local frontend, {self.url}" if self.url else "the local frontend"
        if self.kind == "subframe":
            return f"a sub-frame at {self.url}"
        return f"a remote page at {self.url}"


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a window label and an origin."""

    window: str
    origin: Origin

    def describe(self) -> str:
        """As a denial message names it: ``window 'main' (the local frontend, http://...)``."""
        return f"window '{self.window}' ({self.origin.describe()})"
