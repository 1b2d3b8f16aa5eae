"""``python -m app permissions``: every command, who may call it, from where, and why.

For each command (and each event permission) it lists the windows and origins that capabilities
name, with the verdict there: allowed (by which capability, with which scope) or denied (by
which capability's ``deny-`` rule). Capabilities of every platform are listed; those limited to
some platforms say so.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..acl.compiled import CompiledCapability, Rule, compile_capability
from ..acl.origin import Caller, Origin
from ..acl.permissions import EVENT_PERMISSIONS, PermissionSets, command_permissions
from ..acl.urls import SERVED_HOST
from ..app import App
from ..commands import Command
from .common import summary

__all__ = ["permissions_report", "signature"]


def _annotation(value: Any) -> str:
    if isinstance(value, str):  # postponed annotations: the text as written
        return value
    if isinstance(value, type):
        return value.__name__
    return str(value).replace("typing.", "")


def signature(command: Command) -> str:
    """``read_file(path: str) -> str``: the arguments a page sends (injected ones left out)."""
    params = []
    for name, param in command.signature.parameters.items():
        if name in command.injected:
            continue
        text = name
        if param.annotation is not param.empty:
            text += f": {_annotation(param.annotation)}"
        if param.default is not param.empty:
            text += f" = {param.default!r}"
        params.append(text)
    returns = command.signature.return_annotation
    tail = "" if returns is inspect.Signature.empty else f" -> {_annotation(returns)}"
    return f"{command.name}({', '.join(params)}){tail}"


def _example(glob: str) -> str:
    """A name ``glob`` matches (its wildcards filled in), to ask other globs about: ``**`` as
    two folders deep, so that what names only one level (``/widgets/*``) does not cover it."""

    def filled(match: re.Match[str]) -> str:
        if match.group(0) == "**":
            return "x/x"
        if not match.group(0).startswith("["):
            return "x"
        if match.group(1) == "":  # a set: its first member
            return match.group(2) or "x"
        return next(c for c in "xyz0_" if c not in match.group(0))  # not one of those named

    return re.sub(r"\[(!?)([^\]]?)[^\]]*\]|\*\*|[*?]", filled, glob)


def _example_origin(pattern: str) -> Origin:
    """A page a ``remote.urls`` pattern names: a sub-frame of the app's for a path, else a
    remote page (a port written as a wildcard gets one)."""
    if pattern.startswith("/"):
        return Origin("subframe", f"http://{SERVED_HOST}:1{_example(pattern)}")
    return Origin("remote", _example(re.sub(r":\*(?=/|$)", ":1", pattern, count=1)))


@dataclass(frozen=True)
class _Subject:
    """A window (a configured label, or a glob no configured window matches) at an origin."""

    window: str
    is_glob: bool
    origin: str  # "local" or a remote.urls pattern

    def covered_by(self, capability: CompiledCapability) -> bool:
        """Whether the capability applies to this window and origin: it names them as written,
        or it applies to a window and page they name (the runtime asks of a caller whether
        each capability applies, not what it wrote: a deny for /** holds for /widgets/**)."""
        named = (
            any(text == self.window for text, _ in capability.windows)
            if self.is_glob else capability.matches_window(self.window)
        ) and (
            capability.local if self.origin == "local"
            else any(pattern.text == self.origin for pattern in capability.urls)
        )
        if named:
            return True
        window = _example(self.window) if self.is_glob else self.window
        origin = (Origin("local", f"http://{SERVED_HOST}") if self.origin == "local"
                  else _example_origin(self.origin))
        return capability.applies(Caller(window, origin))

    def label(self) -> str:
        # (A glob may also be a label no configured window has: one window, opened later.)
        many = self.is_glob and any(c in self.window for c in "*?[")
        window = f"windows '{self.window}'" if many else f"window '{self.window}'"
        origin = "local frontend" if self.origin == "local" else self.origin
        return f"{window}, {origin}"


def _subjects(capabilities: list[CompiledCapability], labels: list[str]) -> list[_Subject]:
    found: dict[_Subject, None] = {}
    for capability in capabilities:
        origins = (["local"] if capability.local else []) + [p.text for p in capability.urls]
        windows: list[tuple[str, bool]] = []
        for text, regex in capability.windows:
            matched = [label for label in labels if regex.match(label)]
            windows += [(label, False) for label in matched] if matched else [(text, True)]
        for window, is_glob in windows:
            for origin in origins:
                found[_Subject(window, is_glob, origin)] = None
    return list(found)


def _platforms(capability: CompiledCapability) -> str:
    platforms = capability.source.capability.platforms
    return f", only on {', '.join(platforms)}" if platforms is not None else ""


def _rule(rule: Rule, capability: CompiledCapability) -> str:
    via = f" through '{rule.via}'" if rule.via else ""
    return f"capability '{rule.capability}'{via} ({rule.location}{_platforms(capability)})"


def _scope(rules: list[Rule]) -> str:
    parts = []
    allow = [str(e.value.get("path", e.value)) for r in rules for e in r.allow]
    deny = [str(e.value.get("path", e.value)) for r in rules for e in r.deny]
    if allow:
        parts.append("allow " + ", ".join(allow))
    if deny:
        parts.append("deny " + ", ".join(deny))
    return "; ".join(parts)


def _rows(
    target: str, capabilities: list[CompiledCapability], subjects: list[_Subject]
) -> Iterator[str]:
    for subject in subjects:
        covering = [c for c in capabilities if subject.covered_by(c)]
        rules = [(r, c) for c in covering for r in c.rules.get(target, ())]
        denies = [(r, c) for r, c in rules if r.effect == "deny"]
        # A deny of some platforms only: denied there, and what allows it holds elsewhere.
        everywhere = [(r, c) for r, c in denies if c.source.capability.platforms is None]
        allows = [(r, c) for r, c in rules if r.effect == "allow"]
        for rule, capability in everywhere[:1] or denies:
            yield f"  denied   {subject.label()}: {rule.permission} in {_rule(rule, capability)}"
        if allows and not everywhere:
            why = "; ".join(_rule(r, c) for r, c in allows)
            elsewhere = " (on the other platforms)" if denies else ""
            yield f"  allowed  {subject.label()}{elsewhere}: by {why}"
            scope = _scope([r for r, _ in rules if r.effect in ("allow", "restrict")])
            if scope:
                yield f"           scope: {scope}"


def _section(
    title: str,
    doc: str,
    target: str,
    capabilities: list[CompiledCapability],
    subjects: list[_Subject],
) -> list[str]:
    lines = [title]
    if doc:
        lines.append(f"  {doc}")
    rows = list(_rows(target, capabilities, subjects))
    lines += rows or [f'  no window may use it: no capability grants "{target}"']
    return lines


def permissions_report(app: App) -> str:
    """The whole report, as text."""
    security = app.config.model.app.security
    sets = PermissionSets(security.set_members())
    capabilities = [compile_capability(s, sets) for s in app.config.capabilities]
    labels = [w.label for w in app.config.model.app.windows]
    subjects = _subjects(capabilities, labels)
    lines: list[str] = []
    for command in app.registry:
        allow = command_permissions(command.name)[0]
        lines += _section(signature(command), summary(command), allow, capabilities, subjects)
        lines.append("")
    lines.append("Events")
    for what, permission in EVENT_PERMISSIONS.items():
        title = f"  {permission} ({what.replace('_', ' ')})"
        section = _section(title, "", permission, capabilities, subjects)
        lines += [title] + ["  " + line for line in section[1:]]
    return "\n".join(lines) + "\n"
