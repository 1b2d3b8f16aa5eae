"""Capabilities compiled once: globs and URL patterns to regexes, permission sets expanded.

A compiled capability answers two questions fast: does it apply to a caller (window label and
origin), and which rules does it hold for a permission. What cannot be compiled (a bad glob or
URL pattern) is kept as a ``Problem`` and fails closed: a bad window glob or URL pattern
matches nothing, a ``deny-`` permission with ``allow`` entries denies the whole command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..config import CapabilitySource
from .glob import PatternError, compile_label_glob
from .model import PermissionEntry
from .origin import Caller, Origin
from .permissions import PermissionSets, split
from .scope import ScopeEntry
from .urls import UrlPattern, compile_url_pattern

__all__ = ["CompiledCapability", "Problem", "Rule", "command_of", "compile_capability", "display"]

Effect = Literal["allow", "deny", "restrict"]


def display(file: Path) -> str:
    """A capability's file as messages name it: ``app.conf.json``, ``capabilities/x.json``."""
    return f"{file.parent.name}/{file.name}" if file.parent.name == "capabilities" else file.name


def command_of(allow: str) -> str:
    """``allow-read-file`` -> ``read_file``; ``files:allow-read`` -> ``files:read``."""
    prefix, _, base = allow.rpartition(":")
    return (prefix + ":" if prefix else "") + base.removeprefix("allow-").replace("-", "_")


@dataclass(frozen=True)
class Problem:
    """Something in a capability that cannot be used as written (or, as a note, that is valid
    but probably not what was meant)."""

    file: Path
    json_path: str
    message: str
    note: bool = False

    def __str__(self) -> str:
        return f"{display(self.file)}: {self.json_path}: {self.message}"


@dataclass(frozen=True)
class Rule:
    """One plain permission as one capability writes it.

    ``allow``: grants ``target`` with its scope entries. ``deny``: denies ``target`` outright.
    ``restrict``: a ``deny-`` permission with ``deny`` entries; they join ``target``'s scope.
    """

    effect: Effect
    permission: str
    target: str
    capability: str
    location: str
    via: str | None = None
    allow: tuple[ScopeEntry, ...] = ()
    deny: tuple[ScopeEntry, ...] = ()


@dataclass(frozen=True)
class CompiledCapability:
    source: CapabilitySource
    windows: tuple[tuple[str, re.Pattern[str]], ...]
    """Each usable window glob, as written and compiled."""
    urls: tuple[UrlPattern, ...]
    rules: Mapping[str, tuple[Rule, ...]]
    """Rules by the ``allow-`` permission they concern."""
    problems: tuple[Problem, ...] = field(default=())

    @property
    def identifier(self) -> str:
        return self.source.capability.identifier

    @property
    def local(self) -> bool:
        return self.source.capability.local

    @property
    def where(self) -> str:
        """``file`` or ``file $.json.path``: where to edit this capability."""
        path = self.source.json_path
        return display(self.source.file) + ("" if path == "$" else f" {path}")

    def matches_window(self, label: str) -> bool:
        return any(regex.match(label) for _, regex in self.windows)

    def matches_origin(self, origin: Origin) -> bool:
        if origin.kind == "local":
            return self.local
        return any(pattern.matches(origin) for pattern in self.urls)

    def applies(self, caller: Caller) -> bool:
        return self.matches_window(caller.window) and self.matches_origin(caller.origin)


def _scope_entries(
    values: list[dict[str, object]], capability: str, location: str
) -> tuple[ScopeEntry, ...]:
    return tuple(
        ScopeEntry(value, capability, f"{location}[{i}]") for i, value in enumerate(values)
    )


def compile_capability(source: CapabilitySource, sets: PermissionSets) -> CompiledCapability:
    """Compile one capability; what cannot be used is reported in ``problems``."""
    capability = source.capability
    base = source.json_path
    file = display(source.file)
    problems: list[Problem] = []
    windows = []
    for i, glob in enumerate(capability.windows):
        try:
            windows.append((glob, compile_label_glob(glob)))
        except PatternError as exc:
            problems.append(Problem(source.file, f"{base}.windows[{i}]", str(exc)))
    urls = []
    for i, text in enumerate(capability.remote.urls if capability.remote else []):
        try:
            urls.append(compile_url_pattern(text))
        except PatternError as exc:
            problems.append(Problem(source.file, f"{base}.remote.urls[{i}]", str(exc)))
    rules: dict[str, list[Rule]] = {}
    for i, entry in enumerate(capability.permissions):
        path = f"{base}.permissions[{i}]"
        location = f"{file} {path}"
        identifier = entry.identifier if isinstance(entry, PermissionEntry) else entry
        allow: tuple[ScopeEntry, ...] = ()
        deny: tuple[ScopeEntry, ...] = ()
        if isinstance(entry, PermissionEntry):
            allow = _scope_entries(entry.allow, capability.identifier, f"{location}.allow")
            deny = _scope_entries(entry.deny, capability.identifier, f"{location}.deny")
        misplaced = False
        for permission, via in sets.expand(identifier):
            shape = split(permission)
            if shape is None:
                continue  # unknown identifier: grants nothing (check reports it)
            effect, target = shape
            # Scope entries on an object are for the permission it names. Through a set, they
            # are for its allow- members: a deny- member of the set still denies its command.
            named = via is None
            kind: Effect = (
                "restrict" if effect == "deny" and named and deny and not allow else effect
            )
            if effect == "deny" and named and allow and not misplaced:
                misplaced = True
                problems.append(
                    Problem(
                        source.file,
                        f"{path}.allow",
                        f'\'{permission}\' takes only "deny" entries; with "allow" entries '
                        "it denies the whole command. Move them to an allow- permission.",
                    )
                )
            rule = Rule(
                kind,
                permission,
                target,
                capability.identifier,
                location,
                via,
                allow if kind == "allow" else (),
                deny if kind in ("allow", "restrict") else (),
            )
            rules.setdefault(target, []).append(rule)
    return CompiledCapability(
        source,
        tuple(windows),
        tuple(urls),
        {target: tuple(found) for target, found in rules.items()},
        tuple(problems),
    )
