"""What a connection has queued for its page and not yet written, and the limits on it.

A page that stops reading its socket (busy, frozen, or hostile) must not make the core hold
everything meant for it: a channel's sender (a command's thread) waits while the backlog is
high, then gives up; over its limit, the session cuts off a page that makes no progress, and one
that lets four times the limit pile up (see ``Session.deliver_encoded``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..protocol import Encoded

__all__ = ["HIGH_WATER", "Backlog", "size_of"]

HIGH_WATER = 8 * 1024 * 1024
"""Bytes waiting for the page above which a channel's sender waits for it to read."""


MESSAGE_BYTES = 160
"""What a queued message costs beyond its own bytes (its objects and their bookkeeping),
counted with it so that many small messages are held to the limits as their memory is."""


def size_of(encoded: Encoded) -> int:
    return MESSAGE_BYTES + len(encoded.json) + sum(len(blob) for blob in encoded.blobs)


class Backlog:
    """Bytes queued for one page; thread-safe (channels add to it from worker threads)."""

    def __init__(self, high: int, limit: int) -> None:
        self.high = high
        """Above this, channel senders wait for the page to read."""
        self.limit = limit
        """Above this, a page that does not read is cut off."""
        self.hard = 4 * limit
        """Above this, a page is cut off whether it reads or not."""
        self._bytes = 0
        self._closed = False
        self._cond = threading.Condition(threading.Lock())

    @property
    def bytes(self) -> int:
        return self._bytes

    def add(self, size: int) -> bool:
        """Count ``size`` more bytes; False when that puts the backlog over its limit."""
        with self._cond:
            self._bytes += size
            return self._bytes <= self.limit

    def wait_and_add(self, size: int, timeout: float) -> bool:
        """Wait (up to ``timeout`` s) until the backlog is at most ``high``, then count ``size``
        bytes; False when the time ran out or the connection closed meanwhile."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or self._bytes <= self.high, timeout):
                return False
            if self._closed:
                return False
            self._bytes += size
            return True

    def written(self, size: int) -> None:
        with self._cond:
            was_high = self._bytes > self.high
            self._bytes = max(0, self._bytes - size)
            if was_high and self._bytes <= self.high:
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
