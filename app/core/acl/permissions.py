"""Permission identifiers: what each command and the event system have, and sets of them.

- A command ``do_thing`` has ``allow-do-thing`` and ``deny-do-thing``; a command with a prefix,
  ``files:read_text``, has ``files:allow-read-text`` and ``files:deny-read-text``.
- Events: ``core:event:allow-listen``, ``core:event:allow-emit``, ``core:event:allow-emit-to``,
  their ``deny-`` twins, and the set ``core:event:default`` (the three allows).
- A permission set (``app.security.permissionSets``) names a list of permissions, sets included.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "EVENT_DEFAULT",
    "EVENT_PERMISSIONS",
    "Catalogue",
    "PermissionSets",
    "command_permissions",
    "deny_of",
    "required_permission",
    "split",
]

EVENT_PERMISSIONS = {
    "listen": "core:event:allow-listen",
    "emit": "core:event:allow-emit",
    "emit_to": "core:event:allow-emit-to",
}
EVENT_DEFAULT = "core:event:default"
_EVENT_HELP = {
    "core:event:allow-listen": "Lets the page listen to events (listen, once).",
    "core:event:allow-emit": "Lets the page emit events to every listener (emit).",
    "core:event:allow-emit-to": "Lets the page emit events to one window (emitTo).",
}
_SHAPE = re.compile(r"^(?:(?P<prefix>[^:]+(?::[^:]+)*):)?(?P<effect>allow|deny)-(?P<rest>.+)$")


def command_permissions(command: str) -> tuple[str, str]:
    """``read_file`` -> ``("allow-read-file", "deny-read-file")``; a prefix ``ns:`` stays first."""
    prefix, _, base = command.rpartition(":")
    head = prefix + ":" if prefix else ""
    base = base.replace("_", "-")
    return f"{head}allow-{base}", f"{head}deny-{base}"


def required_permission(kind: str, name: str, *, has_target: bool = False) -> str:
    """The permission a request needs: ``allow-greet``, ``core:event:allow-emit``..."""
    if kind == "invoke":
        return command_permissions(name)[0]
    if kind == "emit":
        return EVENT_PERMISSIONS["emit_to" if has_target else "emit"]
    return EVENT_PERMISSIONS["listen"]


def deny_of(allow: str) -> str:
    """``allow-x`` -> ``deny-x``, ``core:event:allow-emit`` -> ``core:event:deny-emit``."""
    prefix, _, base = allow.rpartition(":")
    return (prefix + ":" if prefix else "") + "deny-" + base.removeprefix("allow-")


def split(identifier: str) -> tuple[Literal["allow", "deny"], str] | None:
    """``("allow"|"deny", the allow identifier)`` of a plain permission; ``None`` for others."""
    match = _SHAPE.match(identifier)
    if match is None:
        return None
    prefix = match["prefix"]
    allow = (prefix + ":" if prefix else "") + "allow-" + match["rest"]
    return ("allow" if match["effect"] == "allow" else "deny"), allow


class PermissionSets:
    """The built-in and the app's permission sets, and their expansion to plain permissions."""

    def __init__(self, sets: Mapping[str, Sequence[str]] | None = None) -> None:
        self.members: dict[str, tuple[str, ...]] = {
            EVENT_DEFAULT: tuple(EVENT_PERMISSIONS.values()),
            **{name: tuple(members) for name, members in (sets or {}).items()},
        }

    def __contains__(self, identifier: object) -> bool:
        return identifier in self.members

    def expand(self, identifier: str) -> list[tuple[str, str | None]]:
        """``identifier`` flattened: each plain permission with the set it came through.

        A set that includes itself (directly or not) stops at the repeat; ``check`` reports it.
        """
        out: list[tuple[str, str | None]] = []

        def walk(name: str, via: str | None, seen: frozenset[str]) -> None:
            members = self.members.get(name)
            if members is None:
                out.append((name, via))
                return
            if name in seen:
                return
            for member in members:
                walk(member, via or name, seen | {name})

        walk(identifier, None, frozenset())
        return out

    def cycle(self, identifier: str) -> list[str] | None:
        """A chain of sets that leads from ``identifier`` back to itself, if there is one."""

        def walk(name: str, path: list[str]) -> list[str] | None:
            for member in self.members.get(name, ()):
                if member == identifier:
                    return [*path, member]
                if member in self.members and member not in path:
                    found = walk(member, [*path, member])
                    if found:
                        return found
            return None

        return walk(identifier, [identifier])


@dataclass(frozen=True)
class Permission:
    """One identifier a capability may use, with a line for people (editors show it)."""

    identifier: str
    description: str
    command: str | None = None


class Catalogue:
    """Every permission identifier an app knows: its commands', the core's and its sets."""

    def __init__(
        self,
        commands: Iterable[tuple[str, str]],
        sets: Mapping[str, Sequence[str]] | None = None,
        set_descriptions: Mapping[str, str] | None = None,
    ) -> None:
        """``commands`` gives ``(name, summary)`` of each registered command."""
        self.sets = PermissionSets(sets)
        entries: list[Permission] = []
        for name, summary in commands:
            allow, deny = command_permissions(name)
            hint = f" {summary}" if summary else ""
            entries.append(Permission(allow, f"Allows the command {name}.{hint}", name))
            entries.append(Permission(deny, f"Denies the command {name}.{hint}", name))
        for allow, text in _EVENT_HELP.items():
            entries.append(Permission(allow, text))
            entries.append(Permission(deny_of(allow), "Denies: " + text[0].lower() + text[1:]))
        entries.append(Permission(EVENT_DEFAULT, "Listen, emit and emitTo (all three)."))
        descriptions = set_descriptions or {}
        for name, members in (sets or {}).items():
            text = descriptions.get(name) or "Permission set"
            entries.append(Permission(name, f"{text.rstrip('.')}: {', '.join(members)}."))
        self.entries = {p.identifier: p for p in entries}
        self.commands = {p.command for p in entries if p.command}

    def __contains__(self, identifier: object) -> bool:
        return identifier in self.entries

    def suggest(self, identifier: str) -> str | None:
        """The known identifier closest to a misspelt one, if any is close. A command's own name
        (``clear_notes``, ``files:read-text``) is taken for its allow permission: the closest
        by spelling could be its deny."""
        if split(identifier) is None and "*" not in identifier:
            allow = command_permissions(identifier)[0]
            if allow in self.entries:
                return allow
        close = difflib.get_close_matches(identifier, self.entries, n=1, cutoff=0.6)
        return close[0] if close else None
