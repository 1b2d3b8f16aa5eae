"""Deny-by-default access control: which window, at which origin, may do what.

A capability grants its permissions to the windows whose labels match its globs, for the local
frontend (``local``, default true) and for the remote URLs it lists. A deny in a capability that
applies to the caller beats any allow for that caller; a deny written for another window or
origin has no effect here.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..config import CapabilitySource
from ..errors import Forbidden
from .model import PermissionEntry
from .origin import Caller
from .scope import Scope

__all__ = ["Authority", "Grant", "EVENT_PERMISSIONS", "required_permission"]

log = logging.getLogger("app.core.acl")

EVENT_PERMISSIONS = {
    "listen": "core:event:allow-listen",
    "emit": "core:event:allow-emit",
    "emit_to": "core:event:allow-emit-to",
}
BUILTIN_SETS = {"core:event:default": list(EVENT_PERMISSIONS.values())}


def required_permission(kind: str, name: str, *, has_target: bool = False) -> str:
    """The ``allow-`` permission a request needs: ``allow-greet``, ``core:event:allow-emit``..."""
    if kind == "invoke":
        return "allow-" + name.replace("_", "-")
    if kind == "emit":
        return EVENT_PERMISSIONS["emit_to" if has_target else "emit"]
    return EVENT_PERMISSIONS["listen"]


@dataclass(frozen=True)
class Grant:
    """One permission, as granted (or denied) by one capability."""

    permission: str
    source: CapabilitySource
    allow: tuple[dict[str, Any], ...] = ()
    deny: tuple[dict[str, Any], ...] = ()


@dataclass
class Authority:
    capabilities: list[CapabilitySource]
    permission_sets: dict[str, list[str]] = field(default_factory=dict)
    local_origins: Iterable[str] = ()

    def expand(self, permission: str, _seen: frozenset[str] = frozenset()) -> list[str]:
        """A permission or set, flattened to plain permissions."""
        members = BUILTIN_SETS.get(permission) or self.permission_sets.get(permission)
        if members is None or permission in _seen:
            return [permission]
        out: list[str] = []
        for member in members:
            out += self.expand(member, _seen | {permission})
        return out

    def applies(self, source: CapabilitySource, caller: Caller) -> bool:
        capability = source.capability
        if not any(fnmatch.fnmatchcase(caller.window, glob) for glob in capability.windows):
            return False
        if caller.origin.kind == "local":
            return capability.local
        urls = capability.remote.urls if capability.remote else []
        return any(fnmatch.fnmatchcase(caller.origin.url, pattern) for pattern in urls)

    def grants(self, caller: Caller) -> list[Grant]:
        """Every permission the capabilities that apply to ``caller`` grant or deny."""
        out = []
        for source in self.capabilities:
            if not self.applies(source, caller):
                continue
            for entry in source.capability.permissions:
                if isinstance(entry, PermissionEntry):
                    for permission in self.expand(entry.identifier):
                        out.append(
                            Grant(permission, source, tuple(entry.allow), tuple(entry.deny))
                        )
                else:
                    out += [Grant(p, source) for p in self.expand(entry)]
        return out

    def authorize(self, caller: Caller, kind: str, name: str, *, has_target: bool = False) -> Scope:
        """Return the scope of an allowed request; raise ``Forbidden`` with the reason."""
        allow = required_permission(kind, name, has_target=has_target)
        deny = allow.replace("allow-", "deny-", 1)
        grants = self.grants(caller)
        denied = [g for g in grants if g.permission == deny]
        allowed = [g for g in grants if g.permission == allow]
        what = f"'{name}'" if kind == "invoke" else f"{kind} of event '{name}'"
        where = f"window '{caller.window}' (origin {caller.origin})"
        if denied:
            source = denied[0].source
            message = (
                f"{what} is not allowed in {where}: capability "
                f"'{source.capability.identifier}' ({source.file.name}) denies it with '{deny}'."
            )
        elif not allowed:
            message = (
                f"{what} is not allowed in {where}: no capability for this window grants "
                f"'{allow}'. Add \"{allow}\" to the permissions of a capability whose windows "
                f"match '{caller.window}'{self._hint(caller)}."
            )
        else:
            return Scope(
                allow=[e for g in allowed for e in g.allow],
                deny=[e for g in allowed for e in g.deny],
            )
        log.warning("denied: %s", message)
        raise Forbidden(message, {"permission": allow, "window": caller.window,
                                  "origin": caller.origin.url})

    def _hint(self, caller: Caller) -> str:
        for source in self.capabilities:
            capability = source.capability
            if any(fnmatch.fnmatchcase(caller.window, g) for g in capability.windows):
                if caller.origin.kind != "local":
                    return (
                        f" and whose remote.urls match '{caller.origin.url}' "
                        f"(e.g. {source.file.name})"
                    )
                return f" (e.g. capability '{capability.identifier}' in {source.file.name})"
        return " (in capabilities/<name>.json or app.security.capabilities)"
