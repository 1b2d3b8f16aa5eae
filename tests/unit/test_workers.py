"""The worker pool: a job whose caller gave up keeps its thread, and the pool makes up for it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.core.workers import SPARES, WorkerPool


async def wait_until(predicate, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


class Gated:
    """A started pool, and jobs that hold their thread until ``gate`` is set."""

    def __init__(self, size: int) -> None:
        self.pool = WorkerPool(size, name="test-pool")
        self.gate = threading.Event()
        self._started = threading.Semaphore(0)

    def _stuck(self) -> str:
        self._started.release()
        self.gate.wait(30)
        return "late"

    async def running(self) -> asyncio.Future[Any]:
        """A job that holds a thread (returned once it runs)."""
        job = self.pool.submit(self._stuck)
        assert await asyncio.to_thread(self._started.acquire, True, 10), "the job never ran"
        return job

    def abandon(self, job: asyncio.Future[Any]) -> None:
        """As a time limit does: cancel, then tell the pool."""
        job.cancel()
        self.pool.given_up(job)


@asynccontextmanager
async def gated(size: int) -> AsyncIterator[Gated]:
    pool = Gated(size)
    pool.pool.start(asyncio.get_running_loop())
    try:
        yield pool
    finally:
        pool.gate.set()
        pool.pool.shutdown()


async def test_abandoned_jobs_get_spares_and_the_spares_end_afterwards() -> None:
    async with gated(2) as g:
        for job in [await g.running(), await g.running()]:
            g.abandon(job)
        assert g.pool.threads == 4
        # The pool still has its two threads' worth of room for new calls.
        assert await asyncio.wait_for(g.pool.submit(lambda: "fresh"), 10) == "fresh"
        g.gate.set()
        await wait_until(lambda: g.pool.threads == 2)
        assert await asyncio.wait_for(g.pool.submit(lambda: "again"), 10) == "again"


async def test_spares_are_bounded() -> None:
    async with gated(1) as g:
        for expected in range(2, SPARES + 1):
            g.abandon(await g.running())
            assert g.pool.threads == expected
        # The last thread takes a job too; abandoned, it gets no spare past the bound.
        g.abandon(await g.running())
        assert g.pool.threads == SPARES


async def test_a_job_cancelled_before_it_started_takes_no_spare() -> None:
    async with gated(1) as g:
        first = await g.running()
        queued = g.pool.submit(lambda: "never")
        g.abandon(queued)
        assert g.pool.threads == 1
        g.gate.set()
        assert await first == "late"


async def test_a_job_that_ends_before_its_caller_is_counted_out_keeps_the_count_right() -> None:
    """Cancelled, then finished on its thread before ``given_up`` ran: no spare, and no drift
    (the next abandoned job still gets its spare, and the pool keeps its size)."""
    async with gated(1) as g:
        job = await g.running()
        job.cancel()
        g.gate.set()
        await wait_until(lambda: job not in g.pool._running)
        g.pool.given_up(job)
        assert g.pool.threads == 1
        assert await asyncio.wait_for(g.pool.submit(lambda: "ok"), 10) == "ok"

        g.gate.clear()
        g.abandon(await g.running())
        assert g.pool.threads == 2
        g.gate.set()
        await wait_until(lambda: g.pool.threads == 1)
