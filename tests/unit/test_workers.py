"""The worker pool: a job whose caller gave up keeps its thread, and the pool makes up for it."""

from __future__ import annotations

import asyncio
import threading

from app.core.workers import SPARES, WorkerPool


async def wait_until(predicate, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_abandoned_jobs_get_spares_and_the_spares_end_afterwards() -> None:
    pool = WorkerPool(2, name="test-pool")
    pool.start(asyncio.get_running_loop())
    gate = threading.Event()
    started = threading.Semaphore(0)

    def stuck() -> str:
        started.release()
        gate.wait(30)
        return "late"

    try:
        held = [pool.submit(stuck) for _ in range(2)]
        for _ in held:
            assert await asyncio.to_thread(started.acquire, True, 10)
        for job in held:  # as a time limit does
            job.cancel()
            pool.given_up(job)
        assert pool.threads == 4
        # The pool still has its two threads' worth of room for new calls.
        assert await asyncio.wait_for(pool.submit(lambda: "fresh"), 10) == "fresh"
        gate.set()
        await wait_until(lambda: pool.threads == 2)
        assert await asyncio.wait_for(pool.submit(lambda: "again"), 10) == "again"
    finally:
        gate.set()
        pool.shutdown()


async def test_spares_are_bounded() -> None:
    pool = WorkerPool(1, name="test-pool")
    pool.start(asyncio.get_running_loop())
    gate = threading.Event()
    started = threading.Semaphore(0)

    def stuck() -> None:
        started.release()
        gate.wait(30)

    try:
        for _ in range(SPARES * 3):
            job = pool.submit(stuck)
            if not await asyncio.to_thread(started.acquire, True, 2):
                job.cancel()  # no thread left to take it: the bound was reached
                pool.given_up(job)
                break
            job.cancel()
            pool.given_up(job)
        assert pool.threads == SPARES
    finally:
        gate.set()
        pool.shutdown()


async def test_a_job_cancelled_before_it_started_takes_no_spare() -> None:
    pool = WorkerPool(1, name="test-pool")
    pool.start(asyncio.get_running_loop())
    gate = threading.Event()
    started = threading.Semaphore(0)

    def stuck() -> None:
        started.release()
        gate.wait(30)

    try:
        first = pool.submit(stuck)
        assert await asyncio.to_thread(started.acquire, True, 10)
        queued = pool.submit(stuck)
        queued.cancel()
        pool.given_up(queued)
        assert pool.threads == 1
        gate.set()
        await first
    finally:
        gate.set()
        pool.shutdown()


async def test_a_job_that_ends_before_its_caller_is_counted_out_keeps_the_count_right() -> None:
    """Cancelled, then finished on its thread before ``given_up`` ran: no spare, and no drift
    (the next abandoned job still gets its spare, and the pool keeps its size)."""
    pool = WorkerPool(1, name="test-pool")
    pool.start(asyncio.get_running_loop())
    go = threading.Event()
    started = threading.Semaphore(0)

    def waits() -> None:
        started.release()
        go.wait(30)

    try:
        job = pool.submit(waits)
        assert await asyncio.to_thread(started.acquire, True, 10)
        job.cancel()
        go.set()
        await wait_until(lambda: job not in pool._running)
        pool.given_up(job)
        assert pool.threads == 1
        assert await asyncio.wait_for(pool.submit(lambda: "ok"), 10) == "ok"

        go.clear()
        held = pool.submit(waits)
        assert await asyncio.to_thread(started.acquire, True, 10)
        held.cancel()
        pool.given_up(held)
        assert pool.threads == 2
        go.set()
        await wait_until(lambda: pool.threads == 1)
    finally:
        go.set()
        pool.shutdown()
