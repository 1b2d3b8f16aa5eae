"""The core's loop: its end, and what its exception handler says."""

from __future__ import annotations

import errno
import logging
import threading

import pytest

from app.core import looprun


def test_running_out_of_file_descriptors_is_said_once_in_a_while(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncio reports every accept that failed for want of file descriptors, ever more of them
    while it lasts: the log says so at once, then counts, and says the count when its time
    comes, even if no more come; not a traceback each time. Other exceptions still go to
    asyncio's own handler."""
    monkeypatch.setattr(looprun, "OUT_OF_FILES_EVERY", 0.1)

    def said() -> list[str]:
        return [r.getMessage() for r in caplog.records if "file descriptors" in r.getMessage()]

    async def main() -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        for _ in range(1000):
            loop.call_exception_handler({
                "message": "socket.accept() out of system resource",
                "exception": OSError(errno.EMFILE, "Too many open files"),
            })
        loop.call_exception_handler({"message": "something else went wrong"})
        for _ in range(250):  # until the rest are counted in a line, at most 5 s
            if len(said()) == 2:
                break
            await asyncio.sleep(0.02)

    with caplog.at_level(logging.ERROR):
        # On a thread of its own: this one may have a loop running (Playwright's sync API).
        runner = threading.Thread(target=looprun.run, args=(main(),))
        runner.start()
        runner.join(30)
        assert not runner.is_alive()
    lines = said()
    assert len(lines) == 2, lines
    assert "Too many open files" in lines[0] and "since the last report: 1)" in lines[0]
    assert "since the last report: 999)" in lines[1]
    assert any("something else went wrong" in r.getMessage() for r in caplog.records)
    assert not any("out of system resource" in r.getMessage() for r in caplog.records)
