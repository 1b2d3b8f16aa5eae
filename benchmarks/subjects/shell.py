"""Drivers of the shell itself: invoke() in the brownfield and in the isolation pattern."""

from __future__ import annotations

from pathlib import Path

from ..process import Launch
from .base import Host, Subject

__all__ = ["BROWNFIELD", "ISOLATION", "ShellSubject"]

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


class ShellSubject(Subject):
    binary = True
    variants = ("async",)

    def __init__(self, pattern: str) -> None:
        self.name = pattern
        self.title = f"shell, {pattern}"
        self.config = CONFIGS / f"{pattern}.conf.json"

    def launch(self, host: Host) -> Launch:
        command = ["run"] if host == "qt" else ["serve"]
        return Launch(["-m", "app", *command, "--config", str(self.config)],
                      {"APP_MODULE": "benchmarks.subjects.shell_app"})


BROWNFIELD = ShellSubject("brownfield")
ISOLATION = ShellSubject("isolation")
