"""Drivers of the shell itself: invoke() in the brownfield and in the isolation pattern."""

from __future__ import annotations

import importlib
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
        # Isolation is built alongside the benchmark: until it works, its column reads n/a.
        self.optional = pattern == "isolation"

    def unavailable(self, host: Host) -> str | None:
        if self.name != "isolation":
            return None
        try:
            module = importlib.import_module("app.core.isolation")
        except Exception as exc:  # a half-built module fails in any way
            return f"the isolation pattern cannot be imported here ({type(exc).__name__}: {exc})"
        if not hasattr(module, "Isolation"):
            return "the isolation pattern is not in this tree yet (no app.core.isolation.Isolation)"
        return None

    def launch(self, host: Host) -> Launch:
        command = ["run"] if host == "qt" else ["serve"]
        return Launch(["-m", "app", *command, "--config", str(self.config)],
                      {"APP_MODULE": "benchmarks.subjects.shell_app"})


BROWNFIELD = ShellSubject("brownfield")
ISOLATION = ShellSubject("isolation")
