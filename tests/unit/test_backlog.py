"""A thread emitting events waits for a page that is far behind while it reads, and not for
one that takes nothing (``backlog.wait_for_readers``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from app.core.transport import backlog as backlog_module
from app.core.transport.backlog import Backlog, wait_for_readers


def _waiting(backlog: Backlog, timeout: float = 30) -> tuple[threading.Thread, threading.Event]:
    """An emitter's wait, on a thread of its own; the event is set when it has returned."""
    done = threading.Event()

    def wait() -> None:
        wait_for_readers([backlog], timeout)
        done.set()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread, done


def test_an_emitter_goes_on_at_once_while_the_page_is_not_far_behind() -> None:
    backlog = Backlog(high=100, limit=1000)
    backlog.add(100)
    _, done = _waiting(backlog)
    assert done.wait(5)


def test_an_emitter_waits_while_the_page_reads_until_it_has_caught_up() -> None:
    backlog = Backlog(high=100, limit=1000)
    backlog.add(300)
    _, done = _waiting(backlog)
    # The page takes 50 bytes every 0.1 s, well within the patience: the emitter waits on.
    for _ in range(3):
        assert not done.wait(0.1)
        backlog.written(50)
    assert not done.wait(0.1)  # 150 bytes behind still
    backlog.written(50)
    assert done.wait(5)


def test_a_page_that_takes_nothing_is_waited_for_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backlog_module, "READER_PATIENCE", 0.2)
    backlog = Backlog(high=100, limit=1000)
    backlog.add(300)
    _, done = _waiting(backlog)
    assert done.wait(5)
    # Found not reading: the next emits do not wait for it at all (not even the patience)...
    monkeypatch.setattr(backlog_module, "READER_PATIENCE", 3600)
    _, done = _waiting(backlog)
    assert done.wait(5)
    # ...until it takes something: then they wait for it again.
    backlog.written(10)
    _, done = _waiting(backlog)
    assert not done.wait(0.3)
    backlog.written(200)
    assert done.wait(5)


def test_a_time_limit_under_the_patience_still_finds_a_page_not_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each emit waits for a page at most the command time limit: when that was under the
    patience, the page was never found not reading, and every emit waited all of it."""
    monkeypatch.setattr(backlog_module, "READER_PATIENCE", 3600)
    backlog = Backlog(high=100, limit=1000)
    backlog.add(300)
    _, done = _waiting(backlog, timeout=0.2)
    assert done.wait(5)
    # Found not reading within that limit: the next emit does not wait for it.
    _, done = _waiting(backlog, timeout=3600)
    assert done.wait(5)


@pytest.mark.parametrize("taking", [True, False])
def test_a_page_taking_from_its_socket_is_reading(
    monkeypatch: pytest.MonkeyPatch, taking: bool
) -> None:
    """The backlog shrinks a chunk at a time, once the socket has taken it all; a page that
    takes from the socket meanwhile is reading (the emitter waits up to its time limit), one
    whose socket holds as much as before is not."""
    monkeypatch.setattr(backlog_module, "READER_PATIENCE", 0.3)
    held = [10_000_000]

    def socket_buffer() -> int:
        if taking:
            held[0] -= 1000
        return held[0]

    backlog = Backlog(high=100, limit=1000, socket_buffer=socket_buffer)
    backlog.add(300)
    thread, done = _waiting(backlog, timeout=1.0)
    assert done.wait(10)
    thread.join()
    assert backlog._unread is not taking


@pytest.mark.parametrize("end", [Backlog.close, lambda b: b.written(10_000)])
def test_a_waiting_emitter_goes_on_when_the_connection_closes_or_the_page_caught_up(
    monkeypatch: pytest.MonkeyPatch, end: Callable[[Backlog], None]
) -> None:
    monkeypatch.setattr(backlog_module, "READER_PATIENCE", 3600)
    backlog = Backlog(high=100, limit=1000)
    backlog.add(300)
    _, done = _waiting(backlog)
    assert not done.wait(0.2)
    end(backlog)
    assert done.wait(5)


def test_several_pages_that_take_nothing_hold_the_emitter_up_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """They are waited for together: ten stuck connections of one window held a thread's emits
    (and with them every other window's events) up ten times the patience."""
    monkeypatch.setattr(backlog_module, "READER_PATIENCE", 1.0)
    stuck = [Backlog(high=100, limit=1000) for _ in range(3)]
    reading = Backlog(high=100, limit=1000)
    for backlog in (*stuck, reading):
        backlog.add(300)
    done = threading.Event()
    threading.Thread(
        target=lambda: (wait_for_readers([*stuck, reading], 30), done.set()), daemon=True
    ).start()
    start = time.monotonic()
    for _ in range(4):  # the one that reads is waited for as long as it reads
        reading.written(10)
        assert not done.wait(0.2)
    reading.written(1000)
    assert done.wait(5)
    assert time.monotonic() - start < 2.5  # 3 x 1 s one after another, at least
    assert all(b._unread for b in stuck) and not reading._unread


def test_a_page_fetching_a_large_frame_piece_by_piece_is_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large frame goes over HTTP and counts as written only once fetched whole: a page
    fetching 4 MiB at 0.6 MB/s showed no progress for longer than the patience, was taken for
    one that does not read, and was flooded and cut off. Each piece it takes counts."""
    monkeypatch.setattr(backlog_module, "READER_PATIENCE", 1.0)
    backlog = Backlog(high=100, limit=1000)
    backlog.add(300)
    done = threading.Event()
    threading.Thread(target=lambda: (wait_for_readers([backlog], 30), done.set()),
                     daemon=True).start()
    for _ in range(8):  # 1.6 s of pieces, each well within the patience
        backlog.moved()
        assert not done.wait(0.2)
    assert not backlog._unread
    backlog.written(300)
    assert done.wait(5)


def test_the_largest_message_waiting_is_forgotten_once_it_has_left() -> None:
    """Left out of the hard limit while it waits; once written, the burst behind it counts
    whole again (it stayed left out, and 233 MiB of small messages piled up uncut)."""
    backlog = Backlog(high=100, limit=1000)
    backlog.add(200_000)
    backlog.add(20_000)
    assert backlog.largest == 200_000
    backlog.written(150_000)  # part of it
    assert backlog.largest == 200_000
    backlog.written(50_000)  # the rest: it has left, the 20,000 behind it has not
    assert backlog.largest == 0 and backlog.bytes == 20_000
    backlog.add(30)
    assert backlog.largest == 30
