"""Denial messages: which request, which window and origin, and what would allow it, and where.

Only denials come here, so the work of finding the best hint is off the hot path.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from ..errors import shown
from .compiled import CompiledCapability
from .context import Context
from .origin import Origin
from .urls import DEFAULT_PORTS, SERVED_HOST, url_form

__all__ = ["explain"]


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


def _origins(capability: CompiledCapability) -> str:
    found = ["the local frontend"] if capability.local else []
    found += [pattern.text for pattern in capability.urls]
    return " and ".join(found) or "no origin"


def _hints(
    context: Context, permission: str, everywhere: Sequence[CompiledCapability], platform: str
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
    written = {r.permission: r for c in context.capabilities for rs in c.rules.values() for r in rs}
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
    if context.capabilities:
        target = context.capabilities[0]
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
        example = next((c for c in everywhere if c.matches_window(caller.window)), None)
        named = f" (e.g. '{example.identifier}' in {example.where})" if example else ""
        message = (
            f"{what} is not allowed in {where}: sub-frames and pages other than the local "
            "frontend get no IPC unless a capability names their URL. To allow it, add "
            f'{json.dumps(url_suggestion(caller.origin))} to "remote.urls" of a capability '
            f"whose windows match '{caller.window}'{named}, with {quoted} in its permissions."
        )
    return message + _hints(context, permission, everywhere, platform), data
