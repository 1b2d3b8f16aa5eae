"""The loop's inbox: calls from other threads run on the loop in order, a burst wakes it once."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.core.inbox import BATCH, BATCH_BYTES, LoopInbox


class CountingLoop:
    """Counts the wake-ups the inbox asks of a real loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.wakes = 0

    def call_soon_threadsafe(self, func, *args):  # type: ignore[no-untyped-def]
        self.wakes += 1
        return self.loop.call_soon_threadsafe(func, *args)

    def call_soon(self, func, *args):  # type: ignore[no-untyped-def]
        return self.loop.call_soon(func, *args)


async def test_calls_from_threads_run_on_the_loop_in_order_with_one_wake_for_a_burst() -> None:
    loop = asyncio.get_running_loop()
    counting = CountingLoop(loop)
    inbox = LoopInbox(counting)  # type: ignore[arg-type]
    ran: list[tuple[int, bool]] = []
    done = asyncio.Event()
    loop_thread = threading.get_ident()

    def record(i: int) -> None:
        ran.append((i, threading.get_ident() == loop_thread))
        if i == 999:
            done.set()

    def burst() -> None:
        for i in range(1000):
            inbox.put(record, i)

    await asyncio.to_thread(burst)
    await asyncio.wait_for(done.wait(), 10)
    assert ran == [(i, True) for i in range(1000)]
    # The loop could not run while the thread put them all (it was waiting for the thread):
    # far fewer wake-ups than calls.
    assert counting.wakes < 100, counting.wakes


async def test_a_failing_call_is_logged_and_the_rest_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = LoopInbox(asyncio.get_running_loop())
    ran: list[str] = []
    done = asyncio.Event()

    def broken() -> None:
        raise ValueError("broken call")

    def put_all() -> None:
        inbox.put(ran.append, "a")
        inbox.put(broken)
        inbox.put(ran.append, "b")
        inbox.put(done.set)

    with caplog.at_level(logging.ERROR, logger="app.core"):
        await asyncio.to_thread(put_all)
        await asyncio.wait_for(done.wait(), 10)
    assert ran == ["a", "b"]
    assert "broken call" in caplog.text


def test_a_call_that_ends_the_loop_leaves_the_rest_for_when_it_goes_on() -> None:
    def scenario() -> list[str]:
        loop = asyncio.new_event_loop()
        try:
            inbox = LoopInbox(loop)
            ran: list[str] = []

            def stop() -> None:
                raise KeyboardInterrupt

            inbox.put(ran.append, "a")
            inbox.put(stop)
            inbox.put(ran.append, "b")
            with pytest.raises(KeyboardInterrupt):
                loop.run_forever()
            assert ran == ["a"]
            loop.call_soon(loop.stop)
            loop.run_forever()
            return ran
        finally:
            loop.close()

    # On a thread of its own: the test session may have a loop running on this one.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(scenario).result(timeout=10) == ["a", "b"]


def test_a_closed_loop_is_said() -> None:
    loop = asyncio.new_event_loop()
    inbox = LoopInbox(loop)
    loop.close()
    with pytest.raises(RuntimeError):
        inbox.put(print)


async def test_a_thread_that_floods_the_loop_waits_for_it_to_take_each_batch() -> None:
    """A thread emitting events in a loop never waits for anything: without pacing, it would
    keep the GIL and what it handed would wait for the loop's turns."""
    inbox = LoopInbox(asyncio.get_running_loop())
    ran = 0
    ran_while_putting = 0
    putting = True
    done = asyncio.Event()
    count = 20 * BATCH

    def record() -> None:
        nonlocal ran, ran_while_putting
        ran += 1
        ran_while_putting += putting
        if ran == count:
            done.set()

    def flood() -> None:
        nonlocal putting
        for _ in range(count):
            inbox.put(record)
        putting = False

    await asyncio.to_thread(flood)
    await asyncio.wait_for(done.wait(), 10)
    # The thread waited for the loop at each BATCH: all but the last batches ran meanwhile.
    assert ran_while_putting >= count - 2 * BATCH


async def test_calls_carrying_many_bytes_are_paced_by_their_bytes() -> None:
    """Events of 1 MB from a thread: 64 of them (64 MB) waited for the loop, which the pages'
    backlogs never counted, so a thread's emits could not wait for a page in time."""
    inbox = LoopInbox(asyncio.get_running_loop())
    ran = 0
    most_waiting = 0
    puts = 0

    def record() -> None:
        nonlocal ran, most_waiting
        ran += 1
        most_waiting = max(most_waiting, puts - ran + 1)

    def flood() -> None:
        nonlocal puts
        for _ in range(40):
            puts += 1
            inbox.put(record, size=1_000_000)

    await asyncio.to_thread(flood)
    await asyncio.wait_for(_until(lambda: ran == 40), 10)
    assert most_waiting <= BATCH_BYTES // 1_000_000 + 1, most_waiting


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)
