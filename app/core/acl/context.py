"""What one caller (a window label at an origin) may do: the capabilities that apply, merged.

Merging: nothing is allowed unless a rule allows it; a ``deny-`` rule of any
capability that applies to this caller beats every allow for it; a deny written for another
window or origin never reaches here. Scope entries of all allowing rules merge, and their deny
entries (with those of ``deny-`` rules that restrict the scope) win over allow entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .compiled import CompiledCapability, Rule, command_of
from .origin import Caller
from .scope import Scope

__all__ = ["Context", "build_context"]


@dataclass(frozen=True)
class Context:
    caller: Caller
    capabilities: tuple[CompiledCapability, ...]
    """The capabilities that apply to the caller, in configuration order."""
    scopes: Mapping[str, Scope]
    """Each allowed permission and the scope it comes with."""
    denied: Mapping[str, Rule]
    """Each denied permission and the first rule that denies it."""


def build_context(
    caller: Caller,
    capabilities: Iterable[CompiledCapability],
    variables: Mapping[str, str] | None = None,
) -> Context:
    """Merge what applies to ``caller``; scopes get ``variables`` ($APP...) for their paths."""
    applying = tuple(c for c in capabilities if c.applies(caller))
    by_target: dict[str, list[Rule]] = {}
    for capability in applying:
        for target, found in capability.rules.items():
            by_target.setdefault(target, []).extend(found)
    scopes: dict[str, Scope] = {}
    denied: dict[str, Rule] = {}
    for target, rules in by_target.items():
        deny = next((r for r in rules if r.effect == "deny"), None)
        if deny is not None:
            denied[target] = deny
            continue
        allows = [r for r in rules if r.effect == "allow"]
        if not allows:
            continue
        restricts = [r for r in rules if r.effect == "restrict"]
        scopes[target] = Scope(
            allow=tuple(e for r in allows for e in r.allow),
            deny=tuple(e for r in [*allows, *restricts] for e in r.deny),
            variables=variables or {},
            command="" if target.startswith("core:event:") else command_of(target),
            caller=caller.describe(),
            denial_data={
                "permission": target,
                "window": caller.window,
                "origin": caller.origin.url,
                "originKind": caller.origin.kind,
                "capability": allows[0].capability,
            },
            granted_in=f"capability '{allows[0].capability}' ({allows[0].location})",
        )
    return Context(caller, applying, scopes, denied)
