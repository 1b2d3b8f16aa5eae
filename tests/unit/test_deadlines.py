"""The commands' time limits, one timer for all of them (app/core/deadlines.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from app.core.deadlines import Deadlines, Limit


async def _run(deadlines: Deadlines, seconds: float) -> str:
    """A call that takes ``seconds``, under its limit: how it ended."""
    try:
        with deadlines.limit():
            await asyncio.sleep(seconds)
    except TimeoutError:
        return "timeout"
    return "done"


async def test_each_call_ends_at_its_own_limit_whatever_the_others_do() -> None:
    """Calls that started at different times each time out at their own limit from their
    start, not at the first one's, while quick calls come and go among them."""
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(0.3)
    ended: dict[str, float] = {}

    async def slow(name: str) -> str:
        started = loop.time()
        outcome = await _run(deadlines, 5)
        ended[name] = loop.time() - started
        return outcome

    first = asyncio.create_task(slow("first"))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(slow("second"))
    quick = [await _run(deadlines, 0.01) for _ in range(5)]
    assert quick == ["done"] * 5
    assert await first == "timeout"
    assert await second == "timeout"
    for name in ("first", "second"):  # the second's, at the first's limit, would be 0.2 s
        assert 0.3 <= ended[name] < 2.5, ended
    assert not deadlines._limits  # nothing is kept for calls that ended


async def test_calls_made_one_at_a_time_leave_nothing_behind() -> None:
    """A finished call is dropped as it ends when it is the first: a long limit (300 s) does
    not make thousands of sequential calls pile up until it."""
    deadlines = Deadlines(300)
    for _ in range(1000):
        with deadlines.limit():
            await asyncio.sleep(0)
    assert len(deadlines._limits) == 0


async def test_a_call_that_raises_timeout_error_itself_is_not_taken_for_its_limit() -> None:
    deadlines = Deadlines(5)
    with pytest.raises(TimeoutError) as raised:
        with deadlines.limit() as limit:
            raise TimeoutError("the command's own")
    assert not limit.expired
    assert str(raised.value) == "the command's own"


async def test_a_call_cancelled_from_elsewhere_as_well_stays_cancelled() -> None:
    """As with asyncio.timeout: a cancellation that did not come from the limit alone (its page
    went away as its time ran out) is not turned into a timeout."""
    deadlines = Deadlines(60)
    limits = []

    async def call() -> None:
        with deadlines.limit() as limit:
            limits.append(limit)
            await asyncio.sleep(5)

    for also_cancelled in (False, True):
        task = asyncio.create_task(call())
        await asyncio.sleep(0)  # it is in its block now
        limits[-1].expire()  # what the timer does when its time is up
        if also_cancelled:
            task.cancel()
        outcome = await asyncio.gather(task, return_exceptions=True)
        expected = asyncio.CancelledError if also_cancelled else TimeoutError
        assert isinstance(outcome[0], expected), (also_cancelled, outcome)


async def test_a_limit_is_for_a_task() -> None:
    """Outside a task (a loop's callback) there is no call to cancel: said at once."""
    deadlines = Deadlines(1)
    loop = asyncio.get_running_loop()
    said: asyncio.Future[str] = loop.create_future()

    def callback() -> None:
        try:
            deadlines.limit()
        except RuntimeError as exc:
            said.set_result(str(exc))
        else:
            said.set_result("no error")

    loop.call_soon(callback)
    assert await said == "a time limit is for a call running in a task"


async def test_a_long_call_in_front_does_not_keep_the_quick_ones_behind_it() -> None:
    """The queue is dropped from the front; a call that runs long there would keep every call
    after it until it ends (five minutes of 40,000 calls a second: twelve million)."""
    deadlines = Deadlines(300)
    long_call = asyncio.create_task(_run(deadlines, 300))
    await asyncio.sleep(0)  # in its block, at the front
    for _ in range(5000):
        with deadlines.limit():
            pass
    assert len(deadlines._limits) <= 2 + 64
    long_call.cancel()
    await asyncio.gather(long_call, return_exceptions=True)
    assert len(deadlines._limits) == 0


async def test_limits_of_a_loop_that_ended_do_not_count_on_the_next() -> None:
    """The app started again on a new loop: a call of the old one that ends late changes
    nothing of the new one's count."""
    deadlines = Deadlines(300)

    async def on_old_loop() -> Limit:
        return deadlines.limit()

    stale = await asyncio.to_thread(asyncio.run, on_old_loop())  # a loop that has ended
    with deadlines.limit():
        stale.__exit__(None, None, None)  # the old loop's call ends now
        assert deadlines._running == 1
    assert deadlines._running == 0 and len(deadlines._limits) == 0


async def test_a_call_given_up_behind_a_long_one_is_let_go() -> None:
    """A call cancelled from elsewhere (its page went away) while a long call holds the front
    is not kept until that one ends: its task holds its traceback, and through it the call's
    frames and arguments (megabytes each, for up to the time limit)."""
    deadlines = Deadlines(60)
    long = asyncio.create_task(_run(deadlines, 5))
    await asyncio.sleep(0)

    async def call(data: bytes) -> None:
        with deadlines.limit():
            await asyncio.sleep(5)

    task = asyncio.create_task(call(b"x" * 1000))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait([task])
    assert task.cancelled()
    gone = weakref.ref(task)
    del task
    gc.collect()
    assert len(deadlines._limits) == 2  # still behind the long call
    assert gone() is None, "the limit of a call that ended keeps its task"
    long.cancel()
    await asyncio.wait([long])


async def test_a_closed_watch_leaves_no_timer_and_ends_nothing() -> None:
    """The core stops on a loop that runs on (an app's own): its time limits' timer went on,
    and cancelled calls of that run later."""
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(0.1)
    started = asyncio.Event()

    async def running() -> str:
        with deadlines.limit():
            started.set()
            await asyncio.sleep(0.3)
        return "done"

    call = asyncio.create_task(running())
    await started.wait()
    deadlines.close()
    assert not [h for h in loop._scheduled if not h.cancelled()  # type: ignore[attr-defined]
                and getattr(h._callback, "__self__", None) is deadlines]  # type: ignore[attr-defined]
    assert await call == "done"  # past its 0.1 s: no one cancels it any more
    assert await _run(deadlines, 0.3) == "timeout"  # a new run watches afresh
