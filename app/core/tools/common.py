"""What the tools share: the app's permission catalogue, and paths shown as people read them."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

from ..acl.permissions import Catalogue
from ..app import App
from ..commands import Command

__all__ = ["catalogue_of", "show", "source_of", "summary"]


def summary(command: Command) -> str:
    """The first line of a command's docstring."""
    return command.doc.strip().splitlines()[0] if command.doc.strip() else ""


def catalogue_of(app: App) -> Catalogue:
    """Every permission identifier ``app`` knows, with a description of each."""
    security = app.config.model.app.security
    return Catalogue(
        [(command.name, summary(command)) for command in app.registry],
        security.set_members(),
        {s.identifier: s.description for s in security.permission_sets},
    )


def show(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)
    return str(path) if relative.startswith("..") else relative


def source_of(command: Command) -> str:
    """``file:line`` where the command's function is defined, when Python knows it."""
    try:
        file = inspect.getsourcefile(command.func)
        line = inspect.getsourcelines(command.func)[1]
    except (OSError, TypeError):
        return ""
    return f"{show(Path(file))}:{line}" if file else ""
