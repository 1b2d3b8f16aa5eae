"""What every subject's driver provides to the runner."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

from ..process import Launch

__all__ = ["HOSTS", "Host", "Subject"]

Host = Literal["qt", "headless"]
HOSTS: tuple[Host, ...] = ("qt", "headless")


class Subject(ABC):
    name: str
    """Short key in the JSON and the table: jsapi, bare, brownfield, isolation."""
    title: str
    binary: bool
    """Whether it carries binary values (bytes / Uint8Array) at all."""
    variants: tuple[str, ...] = ()
    """Other ways its page can make the echo call (``window.__BENCH__`` adapters' variants)."""

    def unavailable(self, host: Host) -> str | None:
        """Why this subject cannot run on ``host`` here, or ``None`` when it can."""
        return None

    @abstractmethod
    def launch(self, host: Host) -> Launch:
        """The process to start. On ``headless`` it must print ``window <label> <url>``."""
