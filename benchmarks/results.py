"""The numbers of one benchmark run, as written to and read from ``results/latest.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["Results", "Run"]

Status = Literal["ok", "n/a", "error"]


@dataclass
class Run:
    """One subject on one host."""

    subject: str
    host: str
    status: Status = "ok"
    reason: str | None = None
    """Why the run is n/a or failed."""
    values: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    """Figure key -> why its measurement failed."""
    not_applicable: dict[str, str] = field(default_factory=dict)
    """Figure key -> why this subject has no such figure (js_api has no binary values)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Raw page results per measurement, for whoever wants more than the table."""

    @property
    def column(self) -> str:
        return f"{self.subject}/{self.host}"

    def value(self, key: str) -> float | None:
        return None if self.status == "n/a" else self.values.get(key)


@dataclass
class Results:
    meta: dict[str, Any]
    plan: dict[str, Any]
    figures: list[dict[str, Any]]
    runs: list[Run]
    targets: list[dict[str, Any]] = field(default_factory=list)

    def run(self, subject: str, host: str) -> Run | None:
        return next((r for r in self.runs if r.subject == subject and r.host == host), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")
