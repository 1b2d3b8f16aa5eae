"""What a connection has queued for its page and not yet written, and the limits on it.

A page that stops reading its socket (busy, frozen, or hostile) must not make the core hold
everything meant for it: a channel's sender (a command's thread) waits while the backlog is
high, then gives up; a thread emitting events waits while the backlog is high and the page reads
(``wait_for_readers``); over its limit, the session cuts off a page that makes no progress, and
one that lets four times the limit pile up (see ``Session.deliver_encoded``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..protocol import Encoded

__all__ = [
    "HIGH_WATER", "READER_PATIENCE", "Backlog", "await_readers", "size_of", "wait_for_readers",
]

HIGH_WATER = 8 * 1024 * 1024
"""Bytes waiting for the page above which a channel's sender, or a thread emitting events,
waits for it to read."""

READER_PATIENCE = 5.0
"""How long a thread emitting events waits for a page over ``HIGH_WATER`` that takes nothing
(seconds). A page found not reading is not waited for again until it takes something: the
events of the other windows are held up once, by this long, and the session's own limits deal
with the page. A page's reading shows in bursts (the browser and the kernel buffer megabytes; a
large frame is fetched whole over HTTP): one that reads a few megabytes a second may show
nothing for a second or two."""

_LOOK_EVERY = 0.05
"""How often a waiting emitter looks whether the page took something from the socket (s)."""


MESSAGE_BYTES = 160
"""What a queued message costs beyond its own bytes (its objects and their bookkeeping),
counted with it so that many small messages are held to the limits as their memory is."""


def size_of(encoded: Encoded) -> int:
    return MESSAGE_BYTES + len(encoded.json) + sum(len(blob) for blob in encoded.blobs)


class Backlog:
    """Bytes queued for one page; thread-safe (channels add to it from worker threads)."""

    def __init__(
        self, high: int, limit: int, socket_buffer: Callable[[], int | None] | None = None
    ) -> None:
        self.high = high
        """Above this, channel senders and threads emitting events wait for the page to read."""
        self.limit = limit
        """Above this, a page that does not read is cut off."""
        self.hard = 4 * limit
        """Above this (the largest message waiting not counted), a page is cut off whether it
        reads or not."""
        self._socket_buffer = socket_buffer
        """What the connection's socket holds that the page has not taken yet, if known."""
        self._bytes = 0
        self.largest = 0
        """The largest message waiting (of those counted since the last such one left)."""
        self._largest_end = 0  # where it ends, in all the bytes ever counted
        self._taken = 0  # bytes written to the page in all (it grows while the page reads)
        self._moved = 0  # pieces of a large frame the page has fetched (see moved)
        self._unread = False  # an emitter found the page taking nothing (see wait_for_readers)
        self._closed = False
        self._cond = threading.Condition(threading.Lock())

    @property
    def bytes(self) -> int:
        return self._bytes

    def add(self, size: int) -> bool:
        """Count ``size`` more bytes; False when that puts the backlog over its limit."""
        with self._cond:
            self._bytes += size
            self._note_largest(size)
            return self._bytes <= self.limit

    def _note_largest(self, size: int) -> None:
        if size > self.largest:
            self.largest, self._largest_end = size, self._taken + self._bytes

    def wait_and_add(self, size: int, timeout: float) -> bool:
        """Wait (up to ``timeout`` s) until the backlog is at most ``high``, then count ``size``
        bytes; False when the time ran out or the connection closed meanwhile."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or self._bytes <= self.high, timeout):
                return False
            if self._closed:
                return False
            self._bytes += size
            self._note_largest(size)
            return True

    def _behind(self) -> bool:
        """Over ``high``, for a page an emitter is to wait for (read without the lock)."""
        return self._bytes > self.high and not self._unread and not self._closed

    def moved(self) -> None:
        """The page took a piece of a large frame it fetches over HTTP (on the core's loop):
        reading, though the frame counts as written only once it has all of it."""
        self._moved += 1

    def _progress(self) -> tuple[int, int | None]:
        """What the page has taken so far: from the backlog and the frames it fetches, and from
        its socket."""
        return self._taken + self._moved, (
            self._socket_buffer() if self._socket_buffer is not None else None
        )

    def written(self, size: int) -> None:
        with self._cond:
            was_high = self._bytes > self.high
            self._bytes = max(0, self._bytes - size)
            self._taken += size
            if self._taken >= self._largest_end:  # it has left
                self.largest = 0
            self._unread = False
            if was_high and self._bytes <= self.high:
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed


class _Readers:
    """The pages an emit waits for, looked at again and again (see ``wait_for_readers``)."""

    def __init__(self, backlogs: list[Backlog], timeout: float) -> None:
        self.behind = [b for b in backlogs if b._behind()]
        start = time.monotonic()
        self.deadline = start + timeout
        # A time limit shorter than the patience would end every wait first, and the page
        # would never be found not reading: each emit would wait for it again, all its time.
        self._patience = min(READER_PATIENCE, timeout)
        self._seen = {b: (b._progress(), start) for b in self.behind}

    def done(self) -> bool:
        """Look at each page again; True once none is to be waited for any more."""
        now = time.monotonic()
        for backlog in list(self.behind):
            (was_taken, was_buffered), since = self._seen[backlog]
            taken, buffered = backlog._progress()
            if taken > was_taken or (
                was_buffered is not None and buffered is not None and buffered < was_buffered
            ):
                since = now
            self._seen[backlog] = (taken, buffered), since
            if not backlog._behind():
                self.behind.remove(backlog)
            elif now - since >= self._patience:
                backlog._unread = True
                self.behind.remove(backlog)
        return not self.behind or now >= self.deadline

    def pause(self) -> float:
        return max(0.0, min(_LOOK_EVERY, self.deadline - time.monotonic()))


def wait_for_readers(backlogs: list[Backlog], timeout: float) -> None:
    """Wait (on a thread emitting an event for these pages) while more than ``high`` bytes wait
    for a page that is reading them: until each is down to ``high`` or has taken nothing,
    neither from its backlog nor from its socket, for ``READER_PATIENCE`` (or ``timeout``, if
    shorter), or ``timeout`` (s) passes. A page found not reading is not waited for again
    until it takes something. The pages are waited for together: several stuck ones hold the
    emitter up once, not once each."""
    readers = _Readers(backlogs, timeout)
    while not readers.done():
        first = readers.behind[0]  # woken as soon as it catches up; the others looked at meanwhile
        with first._cond:
            if first._behind():
                first._cond.wait(readers.pause())


async def await_readers(backlogs: list[Backlog], timeout: float) -> None:
    """``wait_for_readers`` for a page's emit, on the core's loop: the emitting page's emit
    waits, and with it (its calls in flight being bounded) the page itself."""
    readers = _Readers(backlogs, timeout)
    while not readers.done():
        await asyncio.sleep(readers.pause())
