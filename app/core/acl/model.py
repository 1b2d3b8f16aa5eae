"""Capability files and inline capabilities, as pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..models import ConfigModel


class PermissionEntry(ConfigModel):
    """A permission with scope entries, e.g. ``{"identifier": "allow-read-file", "allow": [...]}``."""

    identifier: str = Field(min_length=1)
    allow: list[dict[str, Any]] = Field(default_factory=list)
    deny: list[dict[str, Any]] = Field(default_factory=list)


class RemoteConfig(ConfigModel):
    urls: list[str] = Field(default_factory=list)


class Capability(ConfigModel):
    """A set of permissions granted to windows (by label glob) for local and/or remote origins."""

    identifier: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_:.\-]+$")
    description: str = ""
    windows: list[str] = Field(default_factory=list)
    remote: RemoteConfig | None = None
    local: bool = True
    permissions: list[str | PermissionEntry] = Field(default_factory=list)
    platforms: list[str] | None = None
