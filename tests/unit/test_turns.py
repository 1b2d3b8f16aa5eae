"""The thread that takes several owners' jobs in turn."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import weakref
from concurrent.futures import CancelledError, Future

import pytest

from app.core.turns import InTurn


def _holding(turns: InTurn, owner: str, held: threading.Event) -> Future[bool]:
    """A job of ``owner`` that holds the thread until ``held`` is set, once it has begun."""
    began = threading.Event()

    def hold() -> bool:
        began.set()
        return held.wait(10)

    future = turns.submit(owner, hold)
    assert began.wait(10)
    return future


def test_owners_jobs_are_taken_in_turn_each_owners_in_order() -> None:
    turns = InTurn("test-turns")
    held, ran = threading.Event(), []
    first = _holding(turns, "a", held)  # holds the thread while the others come
    futures = [turns.submit(owner, ran.append, f"{owner}{n}")
               for owner, n in [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("c", 1), ("b", 2)]]
    held.set()
    for future in [first, *futures]:
        future.result(timeout=10)
    assert ran == ["a1", "b1", "c1", "a2", "b2", "a3"]
    turns.shutdown()


def test_a_job_given_up_before_it_began_is_skipped_and_errors_reach_the_caller() -> None:
    turns = InTurn("test-turns")
    held = threading.Event()
    _holding(turns, "a", held)
    skipped = turns.submit("a", pytest.fail, "a cancelled job ran")
    failing = turns.submit("b", int, "not a number")
    assert skipped.cancel()
    held.set()
    with pytest.raises(ValueError, match="not a number"):
        failing.result(timeout=10)
    turns.shutdown()
    with pytest.raises(RuntimeError, match="test-turns has been shut down"):
        turns.submit("a", int, "1")


async def test_shut_down_it_cancels_what_has_not_begun() -> None:
    turns = InTurn("test-turns")
    held = threading.Event()
    running = _holding(turns, "a", held)
    waiting = asyncio.ensure_future(turns.run("b", int, "1"))
    await asyncio.sleep(0)  # (submitted)
    turns.shutdown()
    with pytest.raises((CancelledError, asyncio.CancelledError)):
        await waiting
    held.set()
    assert running.result(timeout=10) is True


def test_a_failed_jobs_arguments_are_let_go_without_the_cycle_collector() -> None:
    """A refused large frame (the job raised) stayed in memory, with its connection, until
    Python's cycle collector ran: the exception's traceback held the thread's frame, which held
    the future, which held the exception."""

    class Frame:
        pass

    def refuse(frame: Frame) -> None:
        raise ValueError("not a frame the core can read")

    turns = InTurn("test-turns")
    frame = Frame()
    left = weakref.ref(frame)
    gc.disable()
    try:
        future = turns.submit("a", refuse, frame)
        del frame
        with pytest.raises(ValueError, match="not a frame"):
            future.result(timeout=10)
        del future
        deadline = time.monotonic() + 10
        while left() is not None and time.monotonic() < deadline:  # (the thread lets it go)
            time.sleep(0.01)
        assert left() is None
    finally:
        gc.enable()
        turns.shutdown()
