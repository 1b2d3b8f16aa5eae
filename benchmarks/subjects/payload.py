"""What Python sends back for a binary download: the same bytes for every subject."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["blob"]


@lru_cache(maxsize=2)
def blob(size: int) -> bytes:
    """``size`` bytes of a repeating pattern, made once so that the transport is what is timed."""
    pattern = bytes(range(256))
    return (pattern * (size // 256 + 1))[:size]
