"""The folders that scope variables name: ``$APP``, ``$APPDATA``, ``$HOME``, ``$TEMP``."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .config import Config

__all__ = ["app_dirs"]


def _data_home() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))


def app_dirs(config: Config) -> dict[str, str]:
    """``$APP`` is the folder of app.conf.json; ``$APPDATA`` the app's data folder by identifier."""
    return {
        "$APP": str(config.root.resolve()),
        "$APPDATA": str(_data_home() / config.model.identifier),
        "$HOME": str(Path.home()),
        "$TEMP": tempfile.gettempdir(),
    }
