from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Factory = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> Factory:
    """Write an app.conf.json (plus a frontend folder) in tmp_path; return its path."""

    def write(data: dict[str, Any] | None = None, raw: str | None = None) -> Path:
        (tmp_path / "frontend").mkdir(exist_ok=True)
        (tmp_path / "frontend" / "index.html").write_text("<!doctype html><title>t</title>")
        path = tmp_path / "app.conf.json"
        path.write_text(raw if raw is not None else json.dumps(data or {}))
        return path

    return write


def grant_all(*permissions: str, windows: list[str] | None = None) -> dict[str, Any]:
    """A config granting ``permissions`` to the windows (default: main)."""
    return {
        "app": {
            "windows": [{"label": w} for w in (windows or ["main"])],
            "security": {
                "capabilities": [
                    {
                        "identifier": "test",
                        "windows": windows or ["main"],
                        "permissions": list(permissions),
                    }
                ]
            },
        }
    }
