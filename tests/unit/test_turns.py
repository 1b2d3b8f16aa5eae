"""The thread that takes several owners' jobs in turn."""

from __future__ import annotations

import asyncio
import threading
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
