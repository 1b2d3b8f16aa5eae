"""Deny-by-default access control: which window, at which origin, may do what.

The capabilities are compiled once. What a caller (window label and origin) may do is worked
out the first time it asks and kept, so ``authorize`` on the IPC path costs a dictionary lookup
or two. A window opened later resolves the same way from its label: it gets exactly the
capabilities whose globs match it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

from ..config import CapabilitySource, Config
from ..errors import Forbidden
from .compiled import compile_capability
from .context import Context, build_context
from .explain import explain
from .model import current_platform
from .origin import Caller, Origin
from .permissions import EVENT_PERMISSIONS, PermissionSets, required_permission
from .scope import Scope

__all__ = ["EVENT_PERMISSIONS", "Authority", "required_permission"]

log = logging.getLogger("app.core.acl")


class Authority:
    """Decides every invoke, emit, emitTo and listen: the request's scope, or ``Forbidden``."""

    def __init__(
        self,
        capabilities: Sequence[CapabilitySource],
        permission_sets: Mapping[str, Sequence[str]] | None = None,
        *,
        platform: str | None = None,
        cache_size: int = 512,
        variables: Mapping[str, str] | None = None,
        commands: Callable[[str], bool] | None = None,
    ) -> None:
        self.platform = platform or current_platform()
        self.sets = PermissionSets(permission_sets)
        # What cannot be compiled fails closed; the core logs it as it starts (with the rest
        # of what 'python -m app check' reports).
        self.compiled = tuple(compile_capability(s, self.sets) for s in capabilities)
        self.active = tuple(
            c for c in self.compiled if c.source.capability.on_platform(self.platform)
        )
        # Sub-frame origins carry the page's URL, so there can be many: keep the recent ones.
        self._contexts: OrderedDict[Caller, Context] = OrderedDict()
        self._cache_size = cache_size
        self.variables = dict(variables or {})
        """What ``$APP``, ``$APPDATA``... stand for in the scopes this authority hands out."""
        self.commands = commands or (lambda name: False)
        """Whether a command of that name is registered (for denial messages only)."""

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        platform: str | None = None,
        commands: Callable[[str], bool] | None = None,
    ) -> Authority:
        from ..paths import app_dirs

        sets = config.model.app.security.set_members()
        return cls(
            config.capabilities,
            sets,
            platform=platform,
            variables=app_dirs(config),
            commands=commands,
        )

    def context(self, caller: Caller) -> Context:
        """What ``caller`` may do, worked out once per window and origin."""
        context = self._contexts.get(caller)
        if context is not None:
            self._contexts.move_to_end(caller)  # least recently used goes first
            return context
        context = build_context(caller, self.active, self.variables)
        self._contexts[caller] = context
        if len(self._contexts) > self._cache_size:
            self._contexts.popitem(last=False)
        return context

    def covers(self, window: str, origin: Origin) -> bool:
        """Whether any capability applies to pages at ``origin`` in window ``window``."""
        return bool(self.context(Caller(window, origin)).capabilities)

    def authorize(self, caller: Caller, kind: str, name: str, *, has_target: bool = False) -> Scope:
        """Return the scope of an allowed request; raise ``Forbidden`` saying why not."""
        permission = required_permission(kind, name, has_target=has_target)
        context = self.context(caller)
        scope = context.scopes.get(permission)
        if scope is not None:
            return scope
        message, data = explain(
            context,
            kind,
            name,
            permission,
            has_target=has_target,
            everywhere=self.compiled,
            platform=self.platform,
            commands=self.commands,
        )
        log.warning("denied: %s", message)
        raise Forbidden(message, data)
