"""Capabilities as written in ``app.conf.json`` or ``capabilities/<identifier>.json``.

These models check the shape only. What the strings mean (permission identifiers, window globs,
URL patterns, scope paths) is checked by ``python -m app check`` against the registered
commands, and compiled by :mod:`app.core.acl.compiled`.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

from pydantic import Field

from ..models import ConfigModel

__all__ = [
    "IDENTIFIER_PATTERN",
    "Capability",
    "PermissionEntry",
    "Platform",
    "RemoteConfig",
    "current_platform",
]

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_:.\-]+$"
Platform = Literal["linux", "macOS", "windows", "iOS", "android"]


def current_platform() -> str:
    """The running platform, named as in a capability's ``platforms`` list."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macOS"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    return sys.platform


class PermissionEntry(ConfigModel):
    """A permission with scope entries, e.g. {"identifier": "allow-read-file", "allow": [...]}.

    On an allow- permission, "allow" entries say what the command may use and "deny" entries
    carve exceptions out of them. On a deny- permission, "deny" entries narrow the command's
    scope in this capability's windows and origins without denying the command itself.
    """

    identifier: str = Field(
        min_length=1, description="A permission identifier, e.g. allow-read-file."
    )
    allow: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Scope entries the command may use, e.g. {"path": "$APP/data/**"}.',
    )
    deny: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Scope entries the command may not use; they win over allow entries.",
    )


class RemoteConfig(ConfigModel):
    urls: list[str] = Field(
        default_factory=list,
        description=(
            "URL patterns of the pages this capability applies to besides the local frontend: "
            "https://*.example.com/docs/** for remote pages, /widgets/** for sub-frames the "
            "app serves itself."
        ),
    )


class Capability(ConfigModel):
    """A set of permissions granted to windows (by label glob) for local and/or remote origins."""

    schema_: str | None = Field(default=None, alias="$schema")
    identifier: str = Field(
        min_length=1,
        pattern=IDENTIFIER_PATTERN,
        description="The capability's name; a capability file must be named <identifier>.json.",
    )
    description: str = ""
    windows: list[str] = Field(
        default_factory=list,
        description="Labels of the windows it applies to; '*' and '?' are wildcards.",
    )
    remote: RemoteConfig | None = Field(
        default=None, description="Pages other than the local frontend it applies to."
    )
    local: bool = Field(default=True, description="Whether it applies to the local frontend.")
    permissions: list[str | PermissionEntry] = Field(
        default_factory=list,
        description="Permissions it grants or denies: identifiers, or objects with scope entries.",
    )
    platforms: list[Platform] | None = Field(
        default=None, description="Only on these platforms (default: all)."
    )

    def on_platform(self, platform: str) -> bool:
        """Whether this capability applies on ``platform`` (see ``current_platform``)."""
        return self.platforms is None or platform in self.platforms
