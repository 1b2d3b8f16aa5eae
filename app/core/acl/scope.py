"""The permission scope a command receives: the ``allow``/``deny`` entries that granted it."""

from __future__ import annotations

import fnmatch
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Scope"]


@dataclass(frozen=True)
class Scope:
    """Inject with a ``scope: Scope`` parameter. Deny entries win over allow entries."""

    allow: list[dict[str, Any]] = field(default_factory=list)
    deny: list[dict[str, Any]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    def with_variables(self, variables: dict[str, str]) -> Scope:
        return Scope(self.allow, self.deny, variables)

    def _expand(self, pattern: str) -> str:
        values = {
            "$HOME": str(Path.home()),
            "$TEMP": tempfile.gettempdir(),
            **self.variables,
        }
        for name in sorted(values, key=len, reverse=True):
            pattern = pattern.replace(name, values[name])
        return os.path.normpath(pattern)

    def _matches(self, entries: list[dict[str, Any]], path: str) -> bool:
        for entry in entries:
            pattern = entry.get("path")
            if isinstance(pattern, str):
                expanded = self._expand(pattern)
                if fnmatch.fnmatchcase(path, expanded) or path == expanded.rstrip("/*"):
                    return True
        return False

    def allows_path(self, path: str | os.PathLike[str]) -> bool:
        """True when the resolved ``path`` matches an allow entry and no deny entry."""
        resolved = str(Path(path).resolve())
        return self._matches(self.allow, resolved) and not self._matches(self.deny, resolved)
