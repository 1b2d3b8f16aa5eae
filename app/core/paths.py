"""The folders that scope variables name: ``$APP``, ``$APPDATA``, ``$HOME``, ``$TEMP``."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config

__all__ = ["app_dirs", "dirs_of", "user_dirs"]


def _data_home() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))


def app_dirs(config: Config) -> dict[str, str]:
    """``$APP`` is the folder of app.conf.json; ``$APPDATA`` the app's data folder by identifier."""
    return dirs_of(config.root, config.model.identifier)


def dirs_of(root: Path, identifier: str) -> dict[str, str]:
    """The scope variables of an app whose app.conf.json is in ``root``."""
    return {
        "$APP": str(root.resolve()),
        "$APPDATA": str(_data_home() / identifier),
        **user_dirs(),
    }


def user_dirs() -> dict[str, str]:
    """The variables that name the user's folders, whatever the app: ``$HOME``, ``$TEMP``."""
    return {"$HOME": str(Path.home()), "$TEMP": tempfile.gettempdir()}
