"""The core's loop: its end, and what its exception handler says."""

from __future__ import annotations

import errno
import logging
import threading

import pytest

from app.core import looprun


def test_running_out_of_file_descriptors_is_said_once_in_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """asyncio reports every accept that failed for want of file descriptors, ever more of them
    while it lasts: the log says so once, with a count, not a traceback each time. Other
    exceptions still go to asyncio's own handler."""

    async def main() -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        for _ in range(1000):
            loop.call_exception_handler({
                "message": "socket.accept() out of system resource",
                "exception": OSError(errno.EMFILE, "Too many open files"),
            })
        loop.call_exception_handler({"message": "something else went wrong"})

    with caplog.at_level(logging.ERROR):
        # On a thread of its own: this one may have a loop running (Playwright's sync API).
        runner = threading.Thread(target=looprun.run, args=(main(),))
        runner.start()
        runner.join(30)
        assert not runner.is_alive()
    said = [r.getMessage() for r in caplog.records if "file descriptors" in r.getMessage()]
    assert len(said) == 1, said
    assert "Too many open files" in said[0] and "since the last report: 1)" in said[0]
    assert any("something else went wrong" in r.getMessage() for r in caplog.records)
    assert not any("out of system resource" in r.getMessage() for r in caplog.records)
