"""A subject's own Python process: started, watched for its URL line, measured, stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ROOT", "Launch", "SubjectProcess"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Launch:
    """How to start a subject: ``python <args>`` in the repository, with extra environment."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)


class SubjectProcess:
    """The process under test. ``started`` is the wall clock (ms) just before it was spawned."""

    def __init__(self, process: asyncio.subprocess.Process, started: float) -> None:
        self.process = process
        self.started = started
        self.log: deque[str] = deque(maxlen=200)
        self.urls: dict[str, str] = {}
        self._url_seen = asyncio.Event()
        self._readers = [
            asyncio.ensure_future(self._read(process.stdout, parse=True)),
            asyncio.ensure_future(self._read(process.stderr, parse=False)),
        ]

    @classmethod
    async def start(cls, launch: Launch) -> SubjectProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **launch.env}
        started = time.time() * 1000
        process = await asyncio.create_subprocess_exec(
            sys.executable, *launch.args, cwd=ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        return cls(process, started)

    async def _read(self, stream: asyncio.StreamReader | None, *, parse: bool) -> None:
        assert stream is not None
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            self.log.append(text)
            words = text.split()
            # The shell's `serve` and the bare echo print `window <label> <url>`, flushed.
            if parse and len(words) == 3 and words[0] == "window":
                self.urls[words[1]] = words[2]
                self._url_seen.set()

    async def url(self, timeout: float) -> str:
        """The first window's URL, once the process has printed it."""
        waiter = asyncio.ensure_future(self._url_seen.wait())
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait({waiter, exited}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        exited.cancel()
        if waiter not in done:
            raise RuntimeError(f"the subject printed no URL ({self.why()})")
        return next(iter(self.urls.values()))

    def alive(self) -> bool:
        return self.process.returncode is None

    def why(self) -> str:
        state = "still running" if self.alive() else f"exited with {self.process.returncode}"
        tail = "\n".join(list(self.log)[-15:])
        return f"{state}; last output:\n{tail}"

    def memory_mb(self) -> tuple[float, float]:
        """(resident now, resident peak) of the process, from /proc, in MB."""
        values: dict[str, float] = {}
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) / 1024
        return values["VmRSS"], values["VmHWM"]

    async def stop(self, grace: float = 10.0) -> int:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        for reader in self._readers:
            reader.cancel()
        return self.process.returncode if self.process.returncode is not None else -1
