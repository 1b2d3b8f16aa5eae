"""Denial messages: which request, which window and origin, and what would allow it, and where.

Only denials come here, so the work of finding the best hint is off the hot path.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import shown
from .compiled import CompiledCapability, command_of
from .context import Context
from .origin import Origin
from .permissions import EVENT_PERMISSIONS
from .urls import DEFAULT_PORTS, SERVED_HOST, url_form

__all__ = ["explain"]

EVENT_TARGETS = frozenset(EVENT_PERMISSIONS.values())


def _what(kind: str, name: str, has_target: bool) -> str:
    name = shown(name, 120)
    if kind == "invoke":
        return f"'{name}'"
    if kind == "emit":
        return f"Emitting event '{name}'" + (" to another window" if has_target else "")
    return f"Listening to event '{name}'"


def url_suggestion(origin: Origin) -> str:
    """The ``remote.urls`` entry that would name exactly this page."""
    form = url_form(origin.url)
    if form is None:
        return origin.url
    if origin.kind == "subframe" and form.host == SERVED_HOST:
        return form.path or "/"
    port = "" if DEFAULT_PORTS[form.scheme] == form.port else f":{form.port}"
    return f"{form.scheme}://{form.host}{port}{form.path or '/'}"


def _narrowest(
    capabilities: Sequence[CompiledCapability], window: str
) -> CompiledCapability | None:
    """Of the capabilities whose windows match ``window``, the one that names it most closely:
    the place where a permission added grants it to the fewest other windows. A capability that
    names the window as it is comes first, then the one whose matching glob has the most
    literal characters (``tool-*`` before ``*``); the earliest written, among equals."""

    def closeness(capability: CompiledCapability) -> tuple[int, int]:
        globs = [text for text, regex in capability.windows if regex.fullmatch(window)]
        if window in globs:
            return (1, 0)
        literal = max((len(re.sub(r"[*?\[\]]", "", text)) for text in globs), default=-1)
        return (0, literal)

    matching = [c for c in capabilities if c.matches_window(window)]
    return max(matching, key=closeness, default=None)


def _origins(capability: CompiledCapability) -> str:
    found = ["the local frontend"] if capability.local else []
    found += [pattern.text for pattern in capability.urls]
    return " and ".join(found) or "no origin"


def _hints(
    context: Context,
    permission: str,
    everywhere: Sequence[CompiledCapability],
    platform: str,
    commands: Callable[[str], bool],
) -> str:
    caller = context.caller
    hints = []
    for capability in everywhere:
        if capability in context.capabilities or permission not in capability.rules:
            continue
        if not capability.matches_window(caller.window):
            continue
        if not any(r.effect == "allow" for r in capability.rules[permission]):
            continue
        if not capability.source.capability.on_platform(platform):
            platforms = ", ".join(capability.source.capability.platforms or [])
            hints.append(
                f"Capability '{capability.identifier}' grants it, but only on {platforms}."
            )
        else:
            hints.append(
                f"Capability '{capability.identifier}' grants it to this window, but only for "
                f"{_origins(capability)}."
            )
    # Only what grants nothing can be a misspelling: a permission that exists is written on
    # purpose, even when it is close to this one (core:event:allow-emit and -emit-to).
    written = {
        r.permission: r
        for c in context.capabilities
        for rs in c.rules.values()
        for r in rs
        if not (r.target in EVENT_TARGETS or commands(command_of(r.target)))
    }
    for close in difflib.get_close_matches(permission, written, n=1, cutoff=0.8):
        if close != permission:
            rule = written[close]
            hints.append(f"'{close}' at {rule.location} looks like a misspelling of it.")
    return "".join(" " + h for h in hints[:2])


def explain(
    context: Context,
    kind: str,
    name: str,
    permission: str,
    *,
    has_target: bool = False,
    everywhere: Sequence[CompiledCapability] = (),
    platform: str = "",
    commands: Callable[[str], bool] = lambda name: False,
) -> tuple[str, dict[str, Any]]:
    """The message and the data of a ``Forbidden`` for this denied request."""
    caller = context.caller
    what = _what(kind, name, has_target)
    # Only an unknown command's name can be long (event names are checked before), and the
    # lookups below stay exact: only what is shown is cut.
    shown_permission = shown(permission, 120)
    where = caller.describe()
    data: dict[str, Any] = {
        "permission": shown_permission,
        "window": caller.window,
        "origin": caller.origin.url,
        "originKind": caller.origin.kind,
    }
    rule = context.denied.get(permission)
    if rule is not None:
        via = f" (in the set '{rule.via}')" if rule.via else ""
        data["capability"] = rule.capability
        message = (
            f"{what} is not allowed in {where}: capability '{rule.capability}' denies it with "
            f"'{rule.permission}'{via} at {rule.location}. A deny wins over every allow for the "
            f"same window and origin; remove it there, and '{shown_permission}' allows this."
        )
        return message, data
    quoted = json.dumps(shown_permission)
    target = _narrowest(context.capabilities, caller.window)
    if target is not None:
        data["capability"] = target.identifier
        message = (
            f"{what} is not allowed in {where}: no capability for this window and origin "
            f"grants '{shown_permission}'. To allow it, add {quoted} to the permissions of "
            f"capability '{target.identifier}' ({target.where})."
        )
    elif caller.origin.kind == "local":
        message = (
            f"{what} is not allowed in {where}: no capability applies to this window. To allow "
            f'it, add a capability with "windows": ["{caller.window}"] and {quoted} in its '
            "permissions (a file capabilities/<identifier>.json named in "
            "app.security.capabilities)."
        )
    else:
        example = _narrowest(everywhere, caller.window)
        named = f" (e.g. '{example.identifier}' in {example.where})" if example else ""
        message = (
            f"{what} is not allowed in {where}: sub-frames and pages other than the local "
            "frontend get no IPC unless a capability names their URL. To allow it, add "
            f'{json.dumps(url_suggestion(caller.origin))} to "remote.urls" of a capability '
            f"whose windows match '{caller.window}'{named}, with {quoted} in its permissions."
        )
    return message + _hints(context, permission, everywhere, platform, commands), data
